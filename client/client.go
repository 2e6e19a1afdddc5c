// Package client calls qun's Wildfire-style signed HTTP APIs from Go: the
// Admin API (signed with the admin secret) and the Robot API (signed with a
// robot's id and secret). Call sends any call; typed helpers (CreateUser,
// CreateRobot, CreateGroup, SendMessage, Messages, ...) cover the common ones
// and go to whichever door the client signs for. The qun command's client
// subcommands, qun's tests and its benchmarks are built on it.
//
// It imports only the standard library, so that it signs exactly as an
// outside SDK does rather than sharing the server's code.
package client

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Client calls one API as one signer. Its fields may be changed before use.
type Client struct {
	// BaseURL is the server's root, e.g. "http://127.0.0.1:8080".
	BaseURL string
	// RobotID is sent as the rid header; empty for the Admin API.
	RobotID string
	// Secret signs every request.
	Secret string
	// HTTP sends the requests; nil means http.DefaultClient.
	HTTP *http.Client
	// Now gives the timestamp header; nil means time.Now.
	Now func() time.Time
	// Nonce gives the nonce header; nil means a random decimal number.
	Nonce func() string
}

// NewRobot returns a client of the Robot API signing as robot rid.
func NewRobot(baseURL, rid, secret string) *Client {
	return &Client{BaseURL: strings.TrimSuffix(baseURL, "/"), RobotID: rid, Secret: secret}
}

// NewAdmin returns a client of the Admin API.
func NewAdmin(baseURL, secret string) *Client {
	return &Client{BaseURL: strings.TrimSuffix(baseURL, "/"), Secret: secret}
}

// Sign returns a Wildfire signature: lower-case hex SHA-1 of nonce|secret|timestamp.
func Sign(nonce, secret, timestamp string) string {
	sum := sha1.Sum([]byte(nonce + "|" + secret + "|" + timestamp))
	return hex.EncodeToString(sum[:])
}

// Error is a call answered with a non-zero Wildfire code.
type Error struct {
	Code int
	Msg  string
}

func (e *Error) Error() string { return fmt.Sprintf("wildfire: %d %s", e.Code, e.Msg) }

// Response is a decoded Wildfire envelope.
type Response struct {
	Code   int             `json:"code"`
	Msg    string          `json:"msg"`
	Result json.RawMessage `json:"result,omitempty"`
}

// Call posts body (marshalled as JSON; nil sends an empty body) to path,
// signed, and decodes the envelope's result into result (if not nil). It
// returns the Wildfire code; a non-zero code comes with an *Error, a
// transport failure or a status other than 200 with code -1.
func (c *Client) Call(ctx context.Context, path string, body any, result any) (int, error) {
	var raw []byte
	if body != nil {
		var err error
		if raw, err = json.Marshal(body); err != nil {
			return -1, fmt.Errorf("client: marshal %s body: %w", path, err)
		}
	}
	resp, err := c.Post(ctx, path, raw)
	if err != nil {
		return -1, err
	}
	if resp.Code != 0 {
		return resp.Code, &Error{Code: resp.Code, Msg: resp.Msg}
	}
	if result != nil && len(resp.Result) > 0 {
		if err := json.Unmarshal(resp.Result, result); err != nil {
			return resp.Code, fmt.Errorf("client: decode %s result: %w", path, err)
		}
	}
	return resp.Code, nil
}

// CallRaw posts raw, a body already in JSON (sent as is, even if malformed),
// to path, signed, and returns the envelope's result as qun sent it. A
// non-zero code comes as an *Error.
func (c *Client) CallRaw(ctx context.Context, path string, body []byte) (json.RawMessage, error) {
	resp, err := c.Post(ctx, path, body)
	if err != nil {
		return nil, err
	}
	if resp.Code != 0 {
		return nil, &Error{Code: resp.Code, Msg: resp.Msg}
	}
	return resp.Result, nil
}

// Post sends raw bytes to path, signed, and decodes the envelope.
func (c *Client) Post(ctx context.Context, path string, raw []byte) (Response, error) {
	req, err := c.NewRequest(ctx, path, raw)
	if err != nil {
		return Response{}, err
	}
	status, body, err := c.Do(req)
	if err != nil {
		return Response{}, err
	}
	if status != http.StatusOK {
		return Response{Code: -1}, fmt.Errorf("client: %s: HTTP %d: %s", path, status, body)
	}
	var resp Response
	if err := json.Unmarshal(body, &resp); err != nil {
		return Response{Code: -1}, fmt.Errorf("client: %s: decode envelope: %w", path, err)
	}
	return resp, nil
}

// NewRequest returns a signed POST of raw to path, for callers (tests) that
// want to change headers before sending it with Do.
func (c *Client) NewRequest(ctx context.Context, path string, raw []byte) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.BaseURL+path, bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	nonce := randomNonce()
	if c.Nonce != nil {
		nonce = c.Nonce()
	}
	ts := strconv.FormatInt(now().UnixMilli(), 10)
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("nonce", nonce)
	req.Header.Set("timestamp", ts)
	req.Header.Set("sign", Sign(nonce, c.Secret, ts))
	if c.RobotID != "" {
		req.Header.Set("rid", c.RobotID)
	}
	return req, nil
}

// Do sends req and returns the status and the whole body.
func (c *Client) Do(req *http.Request) (int, []byte, error) {
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("client: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, nil, fmt.Errorf("client: read %s: %w", req.URL.Path, err)
	}
	return resp.StatusCode, body, nil
}

// randomNonce returns a random decimal number; 2^62 values make a repeat
// within one timestamp (and so a replay refusal) practically impossible.
func randomNonce() string {
	n, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		panic("client: crypto/rand failed: " + err.Error())
	}
	return n.String()
}
