package client

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestSign(t *testing.T) {
	if got := Sign("76616", "123456", "1558350862502"); got != "b98f9b0717f59febccf1440067a7f50d9b31bdde" {
		t.Errorf("docs vector: %s", got)
	}
	if got := Sign("8169", "secret123", "1795367210383"); got != "f1fae935c3a0fbf898011a98458636d8734d78ce" {
		t.Errorf("Java SDK vector: %s", got)
	}
}

func TestCall(t *testing.T) {
	var got http.Header
	var gotBody string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
		b, _ := io.ReadAll(r.Body)
		gotBody = string(b)
		switch r.URL.Path {
		case "/robot/ok":
			io.WriteString(w, `{"code":0,"msg":"success","result":{"group_id":"g1"}}`)
		case "/robot/refused":
			io.WriteString(w, `{"code":248,"msg":"no right to operate"}`)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()

	c := NewRobot(srv.URL+"/", "robota", "123456")
	c.Now = func() time.Time { return time.UnixMilli(1558350862502) }
	c.Nonce = func() string { return "76616" }
	var res struct {
		GroupID string `json:"group_id"`
	}
	code, err := c.Call(context.Background(), "/robot/ok", map[string]string{"groupId": "g1"}, &res)
	if code != 0 || err != nil || res.GroupID != "g1" {
		t.Fatalf("Call = %d, %v, %+v", code, err, res)
	}
	if got.Get("sign") != "b98f9b0717f59febccf1440067a7f50d9b31bdde" || got.Get("rid") != "robota" ||
		got.Get("nonce") != "76616" || got.Get("timestamp") != "1558350862502" {
		t.Errorf("headers %v", got)
	}
	if gotBody != `{"groupId":"g1"}` {
		t.Errorf("body %s", gotBody)
	}

	code, err = c.Call(context.Background(), "/robot/refused", nil, nil)
	var we *Error
	if code != 248 || !errors.As(err, &we) || we.Msg != "no right to operate" {
		t.Errorf("refused: %d, %v", code, err)
	}
	if gotBody != "" {
		t.Errorf("nil body sent as %q", gotBody)
	}
	if code, err = c.Call(context.Background(), "/robot/missing", nil, nil); code != -1 || err == nil {
		t.Errorf("HTTP 404: %d, %v", code, err)
	}

	admin := NewAdmin(srv.URL, "s")
	if _, err := admin.Call(context.Background(), "/robot/ok", nil, nil); err != nil {
		t.Fatal(err)
	}
	if _, ok := got["Rid"]; ok {
		t.Error("the admin client sent a rid")
	}
}
