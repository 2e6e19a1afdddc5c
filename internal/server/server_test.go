package server

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// start opens and serves s until the returned stop is called.
func start(t *testing.T, s *Server) (stop func() error) {
	t.Helper()
	if err := s.Open(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()
	return func() error { cancel(); return <-done }
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, body := getResponse(t, url)
	return resp.StatusCode, body
}

func getResponse(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestHealthzOnBothListeners(t *testing.T) {
	pub := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("public")) })
	adm := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("admin")) })
	s := &Server{PublicAddr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0", Public: pub, Admin: adm}
	stop := start(t, s)
	defer stop()
	p, a := s.Addrs()
	for _, tc := range []struct{ url, want string }{
		{"http://" + p + "/healthz", `{"status":"ok"}` + "\n"},
		{"http://" + a + "/healthz", `{"status":"ok"}` + "\n"},
		{"http://" + p + "/x", "public"},
		{"http://" + a + "/x", "admin"},
	} {
		if code, body := get(t, tc.url); code != 200 || body != tc.want {
			t.Errorf("GET %s = %d %q, want 200 %q", tc.url, code, body, tc.want)
		}
	}
	// Unclean paths are the door's to answer: no redirect.
	for _, path := range []string{"//healthz", "/./healthz", "/healthz/", "/x/../healthz", "//"} {
		if code, body := get(t, "http://"+p+path); code != 200 || body != "public" {
			t.Errorf("GET %s = %d %q, want the public handler's answer", path, code, body)
		}
	}
	for _, addr := range []string{p, a} {
		resp, body := getResponse(t, "http://"+addr+"/healthz")
		if cl, ct := resp.Header.Get("Content-Length"), resp.Header.Get("Content-Type"); cl != strconv.Itoa(len(body)) || ct != "application/json" {
			t.Errorf("healthz: Content-Length %q, Content-Type %q, body %q", cl, ct, body)
		}
	}
}

// A request in flight when shutdown begins completes, and OnShutdown runs
// after it: its write is not lost.
func TestShutdownWaitsForRequestsInFlight(t *testing.T) {
	entered := make(chan struct{})
	release := make(chan struct{})
	var finished, shutdownAfter atomic.Bool
	pub := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
		finished.Store(true)
		w.Write([]byte("committed"))
	})
	s := &Server{PublicAddr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0", Public: pub,
		OnShutdown: func() { shutdownAfter.Store(finished.Load()) }}
	stop := start(t, s)
	p, _ := s.Addrs()
	got := make(chan string, 1)
	go func() {
		resp, err := http.Get("http://" + p + "/write")
		if err != nil {
			got <- err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		got <- string(b)
	}()
	<-entered
	stopped := make(chan error, 1)
	go func() { stopped <- stop() }()
	select {
	case <-stopped:
		t.Fatal("Serve returned while a request was in flight")
	case <-time.After(100 * time.Millisecond): // gives shutdown a chance to be wrong
	}
	close(release)
	if body := <-got; body != "committed" {
		t.Fatalf("in-flight request got %q", body)
	}
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	if !shutdownAfter.Load() {
		t.Fatal("OnShutdown ran before the request in flight finished")
	}
}
