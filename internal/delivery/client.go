package delivery

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"syscall"
	"time"

	"github.com/qun-chat/qun/internal/group"
)

// newClient returns the HTTP client of every delivery: no proxy, no
// redirects, the deny list checked on every dial, a bounded pool.
func newClient(o Options) *http.Client {
	dialer := &net.Dialer{
		Timeout: o.Timeout,
		// Control sees the address actually dialled, after name resolution:
		// a name that resolves to a denied address is refused here even if
		// it resolved elsewhere when the URL was set.
		Control: func(network, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("dial %s: %w", address, err)
			}
			if denied(o.Deny, ap.Addr()) {
				return fmt.Errorf("dial %s: the address is in the callback deny list", address)
			}
			return nil
		},
	}
	return &http.Client{
		Transport: &http.Transport{
			Proxy:                 nil,
			DialContext:           dialer.DialContext,
			MaxIdleConns:          DefaultMaxIdleConns,
			MaxIdleConnsPerHost:   o.MaxConnsPerHost,
			MaxConnsPerHost:       o.MaxConnsPerHost,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   o.Timeout,
			ResponseHeaderTimeout: o.Timeout,
			ForceAttemptHTTP2:     true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// denied reports whether addr is in one of the prefixes.
func denied(deny []netip.Prefix, addr netip.Addr) bool {
	addr = addr.Unmap()
	for _, p := range deny {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// CheckURL checks a callback URL before it is set: at most group.MaxURLLen
// bytes, absolute http(s) with a host, and none of the host's addresses in
// the deny list. The answer is a
// domain EInvalidParam error saying what is wrong.
func (e *Engine) CheckURL(ctx context.Context, raw string) error {
	if len(raw) > group.MaxURLLen {
		return group.Errorf(group.EInvalidParam, "callback URL is longer than %d bytes", group.MaxURLLen)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return group.Errorf(group.EInvalidParam, "callback URL %q does not parse", raw)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return group.Errorf(group.EInvalidParam, "callback URL %q is not http or https", raw)
	}
	if u.Hostname() == "" || u.User != nil {
		return group.Errorf(group.EInvalidParam, "callback URL %q needs a host and no user info", raw)
	}
	if len(e.opts.Deny) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, e.opts.Timeout)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", u.Hostname())
	if err != nil {
		return group.Errorf(group.EInvalidParam, "callback host %q does not resolve: %v", u.Hostname(), err)
	}
	for _, a := range addrs {
		if a = a.Unmap(); denied(e.opts.Deny, a) {
			return group.Errorf(group.EInvalidParam, "callback host %q resolves to %s, which the callback deny list refuses", u.Hostname(), a)
		}
	}
	return nil
}

// Post makes one POST of body to url with header through the delivery
// client (deny list, no redirects, timeout, bounded read) and returns the
// status and at most MaxResponse bytes of the answer. A door uses it for
// requests outside a stream, such as the QQ webhook validation.
func (e *Engine) Post(ctx context.Context, target string, header http.Header, body []byte) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, e.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return 0, nil, fmt.Errorf("request: %w", err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	if req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := e.client.Do(req)
	var ne net.Error
	if err != nil && (errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())) {
		return 0, nil, fmt.Errorf("timeout: no answer within %v", e.opts.Timeout)
	}
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is the stream's, known already
		}
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, e.opts.MaxResponse))
	if err != nil {
		return resp.StatusCode, b, fmt.Errorf("read answer: %w", err)
	}
	return resp.StatusCode, b, nil
}

// post makes one attempt of an item and judges the answer: nil means delivered.
func (e *Engine) post(ctx context.Context, target string, it Item, door Door) (int, error) {
	var h http.Header
	if it.Header != nil {
		h = it.Header(e.opts.Now())
	}
	if it.URL != "" {
		target = it.URL
	}
	status, body, err := e.Post(ctx, target, h, it.Body)
	if err != nil {
		return status, err
	}
	if status < 200 || status > 299 {
		return status, fmt.Errorf("HTTP %d", status)
	}
	if err := door.Check(body); err != nil {
		return status, err
	}
	return status, nil
}
