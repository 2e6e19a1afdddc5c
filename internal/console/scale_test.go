package console_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/qun-chat/qun/internal/console"
	"github.com/qun-chat/qun/internal/group"
	"github.com/qun-chat/qun/internal/store/sqlite"
)

// scaleRows is the size the console must serve: 100,000 members and
// 100,000 timeline messages in one group.
const scaleRows = 100_000

// BenchmarkGroupPageAtScale reads a group's page (a members page and a
// timeline page) at its start and at its far end in a group of 100,000
// members and 100,000 messages: read by key, the far end costs what the
// start does.
//
//	go test -run '^$' -bench GroupPageAtScale ./internal/console/
func BenchmarkGroupPageAtScale(b *testing.B) {
	st, svc := benchStore(b)
	now := time.Now().Truncate(time.Millisecond)
	if _, err := svc.PutUser(b.Context(), group.User{ID: "alice", Name: "alice"}); err != nil {
		b.Fatal(err)
	}
	if _, err := svc.CreateGroup(b.Context(), group.Admin, group.CreateGroupInput{Group: group.Group{ID: "big", Owner: "alice"}}); err != nil {
		b.Fatal(err)
	}
	putRows(b, st, func(tx group.Tx, i int) error {
		if err := tx.PutMember(group.Member{GroupID: "big", UserID: fmt.Sprintf("u%06d", i), JoinedAt: now, UpdatedAt: now}); err != nil {
			return err
		}
		_, err := tx.AppendMessage(group.Message{GroupID: "big", Sender: "alice", CreatedAt: now,
			Payload: group.Payload{Type: group.ContentText, SearchableContent: fmt.Sprint("message ", i)}})
		return err
	})
	base, cookie := benchConsole(b, svc)

	// The members' far end: the key after the last page's start.
	ms, _, err := svc.MembersPage(b.Context(), group.Admin, "big", 0, group.MaxMembersPage)
	if err != nil {
		b.Fatal(err)
	}
	firstPos := ms[0].Pos
	benchPages(b, base+"/groups/big", cookie, []benchPage{
		{"start", "", "message 99999"},
		{"far-end", fmt.Sprintf("?before=%d&members_after=%d", console.DefaultTimelinePage+1, firstPos+scaleRows-console.DefaultPage-1), "message 0<"},
	})
}

// putRows writes scaleRows rows straight through the store, put(tx, i)
// each, in batches: the domain's member limit and per-call bounds would make
// the setup slow, not the reads the benchmarks measure.
func putRows(b *testing.B, st *sqlite.Store, put func(tx group.Tx, i int) error) {
	const batch = 10_000
	for start := 0; start < scaleRows; start += batch {
		err := st.Update(b.Context(), func(tx group.Tx) error {
			for i := start; i < start+batch; i++ {
				if err := put(tx, i); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// benchStore opens a SQLite store, closed when the benchmark ends, and a service over it.
func benchStore(b *testing.B) (*sqlite.Store, *group.Service) {
	st, err := sqlite.Open(b.Context(), filepath.Join(b.TempDir(), "qun.db"), sqlite.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	return st, group.NewService(st, group.Config{})
}

// benchConsole serves a console over svc until the benchmark ends and
// returns its address and the operator's session cookie.
func benchConsole(b *testing.B, svc *group.Service) (base, cookie string) {
	c, err := console.New(svc, console.Options{AdminSecret: adminSecret})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(c)
	b.Cleanup(srv.Close)
	return srv.URL, signInForBench(b, srv.URL)
}

// benchPage is a page a benchmark reads: its query, and what it must show.
type benchPage struct{ name, query, want string }

// benchPages reads each page at base plus its query, a sub-benchmark each.
func benchPages(b *testing.B, base, cookie string, pages []benchPage) {
	for _, p := range pages {
		b.Run(p.name, func(b *testing.B) {
			for b.Loop() {
				req, _ := http.NewRequest("GET", base+p.query, nil)
				req.Header.Set("Cookie", cookie)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || !strings.Contains(string(body), p.want) {
					b.Fatalf("HTTP %d, want %q in the page", resp.StatusCode, p.want)
				}
			}
		})
	}
}

// signInForBench signs the operator in and returns the session cookie.
func signInForBench(b *testing.B, base string) string {
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.Get(base + "/signin")
	if err != nil {
		b.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := csrfField.FindStringSubmatch(string(page))
	var signInCookie string
	for _, c := range resp.Cookies() {
		signInCookie = c.Name + "=" + c.Value
	}
	if m == nil || signInCookie == "" {
		b.Fatal("no sign-in form")
	}
	req, _ := http.NewRequest("POST", base+"/signin", strings.NewReader(url.Values{"csrf": {m[1]}, "secret": {adminSecret}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Cookie", signInCookie)
	resp, err = noRedirect.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	resp.Body.Close()
	for _, c := range resp.Cookies() {
		if c.Name == "qun_console" {
			return c.Name + "=" + c.Value
		}
	}
	b.Fatalf("sign-in: HTTP %d", resp.StatusCode)
	return ""
}

// BenchmarkGroupSearchAtScale searches 100,000 groups by a prefix of the
// name and of the id, at the start of the index and at its far end: each
// page is one range of an index, so the far end costs what the start does.
//
//	go test -run '^$' -bench GroupSearchAtScale ./internal/console/
func BenchmarkGroupSearchAtScale(b *testing.B) {
	st, svc := benchStore(b)
	now := time.Now().Truncate(time.Millisecond)
	putRows(b, st, func(tx group.Tx, i int) error {
		return tx.PutGroup(group.Group{ID: fmt.Sprintf("g%06d", i), Name: fmt.Sprintf("Group %06d", i), Owner: "alice", CreatedAt: now, UpdatedAt: now})
	})
	base, cookie := benchConsole(b, svc)
	benchPages(b, base+"/groups", cookie, []benchPage{
		{"name-start", "?by=name&q=Group+0", "g000049"},
		{"name-far-end", "?by=name&q=Group+0999", "g099949"},
		{"name-next-page-far-end", "?by=name&q=Group&after_name=Group+099900&after=g099900", "g099950"},
		{"id-far-end", "?by=id&q=g0999", "g099949"},
	})
}
