package wildfire

import (
	"bytes"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/qun-chat/qun/internal/access"
	"github.com/qun-chat/qun/internal/group"
)

// domainCodeConstants returns every constant of type group.Code declared in
// the domain's source, so that a code added there fails this test until it
// is mapped here.
func domainCodeConstants(t *testing.T) []group.Code {
	t.Helper()
	files, err := filepath.Glob("../group/*.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("domain sources: %v %v", files, err)
	}
	var codes []group.Code
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, s := range gd.Specs {
				vs := s.(*ast.ValueSpec)
				if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "Code" {
					continue
				}
				for _, v := range vs.Values {
					lit, ok := v.(*ast.BasicLit)
					if !ok || lit.Kind != token.STRING {
						t.Fatalf("group.Code constant with a non-literal value: %v", v)
					}
					s, _ := strconv.Unquote(lit.Value)
					codes = append(codes, group.Code(s))
				}
			}
		}
	}
	return codes
}

func TestEveryDomainCodeMapped(t *testing.T) {
	codes := domainCodeConstants(t)
	if len(codes) < 16 {
		t.Fatalf("found only %d group.Code constants: %v", len(codes), codes)
	}
	for _, c := range codes {
		wc, ok := domainCodes[c]
		if !ok {
			t.Errorf("group.Code %q has no Wildfire code", c)
			continue
		}
		if _, ok := codeMessages[wc]; !ok {
			t.Errorf("group.Code %q maps to %d, which has no msg", c, wc)
		}
	}
	if len(domainCodes) != len(codes) {
		t.Errorf("domainCodes has %d entries for %d domain codes", len(domainCodes), len(codes))
	}
}

func TestWireCode(t *testing.T) {
	cases := []struct {
		err   error
		code  int
		known bool
	}{
		{group.Errorf(group.ENotExist, "no group g"), 253, true},
		{group.Errorf(group.EInvalidData, "type 9"), 2, true},
		{invalid("x is missing"), 251, true},
		{errAuth(244, "sign mismatch"), 244, true},
		{group.Errorf(group.EInternal, "disk full"), 4, false},
		{group.Errorf("brand_new", "x"), 4, false},
		{errors.New("sqlite: locked"), 4, false},
	}
	for _, c := range cases {
		code, known := wireCode(c.err)
		if code != c.code || known != c.known {
			t.Errorf("wireCode(%v) = %d, %v; want %d, %v", c.err, code, known, c.code, c.known)
		}
	}
}

// newTestAPI returns an api with a log buffer and no service.
func newTestAPI() (*api, *bytes.Buffer) {
	var logs bytes.Buffer
	return newAPI(nil, nil, slog.New(slog.NewTextHandler(&logs, nil)), nil, 0, 0), &logs
}

func TestUnknownErrorIsLoggedNotLeaked(t *testing.T) {
	a, logs := newTestAPI()
	// reply as the door calls it: inside the access record, which logs.
	replyWith := func(err error) string {
		h := access.Door{Name: "robot", Log: a.log}.Wrap(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			a.reply(w, nil, err)
		}))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/robot/x", nil))
		return w.Body.String()
	}
	if got := replyWith(group.Errorf("brand_new", "internal detail 42")); got != `{"code":4,"msg":"server error"}` {
		t.Errorf("body %s", got)
	}
	if !strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), "internal detail 42") {
		t.Errorf("log %q lacks the error", logs.String())
	}
	// A mapped domain error says why after the table's msg.
	if got := replyWith(group.Errorf(group.ENotRight, "only the owner dismisses the group")); got != `{"code":248,"msg":"no right to operate: only the owner dismisses the group"}` {
		t.Errorf("body %s", got)
	}
	// An internal error wrapped around a domain error is still a server error.
	if got := replyWith(fmt.Errorf("sqlite: disk I/O: %w", group.Errorf(group.EInternal, "SELECT 1"))); got != `{"code":4,"msg":"server error"}` {
		t.Errorf("body %s", got)
	}
}

func TestRecoverPanics(t *testing.T) {
	a, logs := newTestAPI()
	h := a.recoverPanics(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") }))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/robot/profile", nil))
	if w.Code != http.StatusOK || w.Body.String() != `{"code":4,"msg":"server error"}` {
		t.Errorf("HTTP %d %s", w.Code, w.Body.String())
	}
	if cl := w.Header().Get("Content-Length"); cl != strconv.Itoa(w.Body.Len()) {
		t.Errorf("Content-Length %q, body %d bytes", cl, w.Body.Len())
	}
	if !strings.Contains(logs.String(), "boom") {
		t.Errorf("log %q lacks the panic", logs.String())
	}
}

func TestTooDeep(t *testing.T) {
	cases := []struct {
		body string
		deep bool
	}{
		{`{}`, false},
		{`{"a":` + strings.Repeat("[", MaxBodyDepth-1) + strings.Repeat("]", MaxBodyDepth-1) + `}`, false},
		{`{"a":` + strings.Repeat("[", MaxBodyDepth) + strings.Repeat("]", MaxBodyDepth) + `}`, true},
		{`{"a":"` + strings.Repeat("[", 100) + `"}`, false},   // inside a string
		{`{"a":"\"` + strings.Repeat("{", 100) + `"}`, false}, // after an escaped quote
		{`{"a":"\\"` + strings.Repeat("{", 100) + `}`, true},  // after an escaped backslash
		{strings.Repeat("[", 100_000), true},
	}
	for _, c := range cases {
		if got := tooDeep([]byte(c.body), MaxBodyDepth); got != c.deep {
			t.Errorf("tooDeep(%.60s) = %v, want %v", c.body, got, c.deep)
		}
	}
}
