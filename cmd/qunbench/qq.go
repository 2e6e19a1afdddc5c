package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/coder/websocket"
)

// qqClient is a minimal Bot Open Platform client: token, gateway, members.
type qqClient struct {
	base  string
	http  *http.Client
	tok   string
	wsURL string
}

func (c *qqClient) do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = strings.NewReader(string(b))
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if c.tok != "" {
		req.Header.Set("Authorization", "QQBot "+c.tok)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: %s %s", method, path, resp.Status, b)
	}
	return json.Unmarshal(b, out)
}

func (c *qqClient) token(ctx context.Context, appID, secret string) error {
	var t struct {
		AccessToken string `json:"access_token"`
	}
	if err := c.do(ctx, "POST", "/app/getAppAccessToken", map[string]string{"appId": appID, "clientSecret": secret}, &t); err != nil {
		return err
	}
	c.tok = t.AccessToken
	var g struct {
		URL string `json:"url"`
	}
	if err := c.do(ctx, "GET", "/gateway/bot", nil, &g); err != nil {
		return err
	}
	c.wsURL = g.URL
	return nil
}

func (c *qqClient) membersPage(ctx context.Context, groupOpenID string, start int64, limit int) (next int64, n int, err error) {
	var page struct {
		Members   []json.RawMessage `json:"members"`
		NextIndex int64             `json:"next_index"`
	}
	q := url.Values{"limit": {fmt.Sprint(limit)}, "start_index": {fmt.Sprint(start)}}
	err = c.do(ctx, "GET", "/v2/groups/"+groupOpenID+"/members?"+q.Encode(), nil, &page)
	return page.NextIndex, len(page.Members), err
}

// gateway is one identified gateway session.
type gateway struct {
	conn      *websocket.Conn
	frames    chan frame
	lastSeq   int64
	seqErrors int
}

type frame struct {
	Op  int    `json:"op"`
	S   int64  `json:"s"`
	T   string `json:"t"`
	raw []byte // the whole frame, for data
	at  time.Time
}

// data returns the frame's d, decoding the frame in full: the bot decodes
// only op, s and t of each frame as it reads it (decodeHead), which is all
// the event count and the seq check use, so that the benchmark's own
// client costs the shared cores less.
func (f frame) data() (json.RawMessage, error) {
	var v struct {
		D json.RawMessage `json:"d"`
	}
	err := json.Unmarshal(f.raw, &v)
	return v.D, err
}

// decodeHead reads op, s and t of a frame that begins as the gateway writes
// them ({"op":N,"s":N,"t":"…", in that order, t without escapes); ok is
// false for any other frame, which the caller decodes with encoding/json.
func decodeHead(b []byte) (f frame, ok bool) {
	num := func(key string) (int64, bool) {
		rest, found := bytes.CutPrefix(b, []byte(key))
		if !found {
			return 0, false
		}
		var n int64
		i := 0
		for ; i < len(rest) && rest[i] >= '0' && rest[i] <= '9'; i++ {
			n = n*10 + int64(rest[i]-'0')
		}
		if i == 0 || i > 18 {
			return 0, false
		}
		b = rest[i:]
		return n, true
	}
	op, ok := num(`{"op":`)
	if !ok {
		return f, false
	}
	s, ok := num(`,"s":`)
	if !ok {
		return f, false
	}
	rest, found := bytes.CutPrefix(b, []byte(`,"t":"`))
	if !found {
		return f, false
	}
	end := bytes.IndexByte(rest, '"')
	if end < 0 || bytes.IndexByte(rest[:end], '\\') >= 0 {
		return f, false
	}
	return frame{Op: int(op), S: s, T: string(rest[:end])}, true
}

func (c *qqClient) connect(ctx context.Context) (*gateway, error) {
	conn, _, err := websocket.Dial(ctx, c.wsURL, nil)
	if err != nil {
		return nil, err
	}
	conn.SetReadLimit(1 << 20)
	g := &gateway{conn: conn, frames: make(chan frame, 1<<16)}
	read := func() (frame, error) {
		_, b, err := conn.Read(ctx)
		if err != nil {
			return frame{}, err
		}
		f, ok := decodeHead(b)
		if !ok {
			err = json.Unmarshal(b, &f)
		}
		f.raw, f.at = b, time.Now()
		return f, err
	}
	if _, err := read(); err != nil { // Hello
		return nil, err
	}
	identify, _ := json.Marshal(map[string]any{"op": 2, "d": map[string]any{"token": "QQBot " + c.tok, "intents": 1 << 25, "shard": []int{0, 1}}})
	if err := conn.Write(ctx, websocket.MessageText, identify); err != nil {
		return nil, err
	}
	ready, err := read()
	if err != nil || ready.T != "READY" {
		return nil, fmt.Errorf("identify: %v %s", err, ready.T)
	}
	g.lastSeq = ready.S
	go func() {
		defer close(g.frames)
		for {
			f, err := read()
			if err != nil {
				return
			}
			if f.Op == 0 {
				g.frames <- f
			}
		}
	}()
	go func() { // heartbeat, as a client must
		t := time.NewTicker(30 * time.Second)
		defer t.Stop()
		for range t.C {
			hb, _ := json.Marshal(map[string]any{"op": 1, "d": g.lastSeq})
			if conn.Write(context.Background(), websocket.MessageText, hb) != nil {
				return
			}
		}
	}()
	return g, nil
}

// next returns the next dispatch, checking that seqs only grow by one (one
// bot, one shard, group events only: its log has no gaps).
func (g *gateway) next(ctx context.Context) (frame, error) {
	select {
	case f, ok := <-g.frames:
		if !ok {
			return frame{}, fmt.Errorf("gateway closed")
		}
		if f.S != g.lastSeq+1 {
			g.seqErrors++
		}
		g.lastSeq = f.S
		return f, nil
	case <-ctx.Done():
		return frame{}, ctx.Err()
	}
}
