package console

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/qun-chat/qun/internal/group"
)

// Every text has both languages, and every domain error code the console
// shows has a status and a text.
func TestTextsComplete(t *testing.T) {
	for k, v := range texts {
		if v[0] == "" || v[1] == "" {
			t.Errorf("text %q: English %q, Chinese %q", k, v[0], v[1])
		}
	}
	for code := range statusOf {
		if _, ok := refusalTexts[code]; !ok {
			t.Errorf("code %s has a status but no text", code)
		}
	}
	for code, key := range refusalTexts {
		if _, ok := statusOf[code]; !ok {
			t.Errorf("code %s has a text but no status", code)
		}
		if _, ok := texts[key]; !ok {
			t.Errorf("code %s: no text %q", code, key)
		}
	}
}

// TestNoUntranslatedText reads the console's source: every key its Go code
// and templates name is in texts, and a refusal (fail, showError) is made of
// texts, values and punctuation only — never a sentence of its own, which
// the Chinese console would show in English.
func TestNoUntranslatedText(t *testing.T) {
	fset := token.NewFileSet()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[token.Pos]bool{} // a refusal's keys are met twice
	known := func(pos token.Pos, e ast.Expr) {
		if seen[e.Pos()] {
			return
		}
		seen[e.Pos()] = true
		if lit, ok := e.(*ast.BasicLit); ok && lit.Kind == token.STRING {
			key, _ := strconv.Unquote(lit.Value)
			if _, ok := texts[key]; !ok {
				t.Errorf("%s: no text %q", fset.Position(pos), key)
			}
		}
	}
	// keysOf checks the keys of a call to text or fieldText, reporting
	// whether the call is one.
	keysOf := func(call *ast.CallExpr) bool {
		id, ok := call.Fun.(*ast.Ident)
		switch {
		case !ok:
			return false
		case id.Name == "text" && len(call.Args) == 2:
			known(call.Pos(), call.Args[1])
		case id.Name == "fieldText" && len(call.Args) == 3:
			known(call.Pos(), call.Args[1])
			known(call.Pos(), call.Args[2])
		default:
			return false
		}
		return true
	}
	refusals := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			keysOf(call)
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || (sel.Sel.Name != "fail" && sel.Sel.Name != "showError") || len(call.Args) != 5 {
				return true
			}
			refusals++
			ast.Inspect(call.Args[4], func(n ast.Node) bool {
				if c, ok := n.(*ast.CallExpr); ok && keysOf(c) {
					return false // a key, not a sentence
				}
				if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING && strings.ContainsFunc(lit.Value, unicode.IsLetter) {
					t.Errorf("%s: refusal text %s is not in texts", fset.Position(lit.Pos()), lit.Value)
				}
				return true
			})
			return true
		})
	}
	if refusals < 20 {
		t.Errorf("found %d refusals in the source; the test no longer finds them", refusals)
	}

	keys := regexp.MustCompile(`\.T "([^"]+)"`)
	err = fs.WalkDir(assets, "assets/templates", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(assets, p)
		if err != nil {
			return err
		}
		for _, m := range keys.FindAllStringSubmatch(string(b), -1) {
			if _, ok := texts[m[1]]; !ok {
				t.Errorf("%s: no text %q", p, m[1])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range resetNames() { // the template's (print "reset_" $which)
		if _, ok := texts["reset_"+name]; !ok {
			t.Errorf("no text reset_%s", name)
		}
	}
}

// A message the timeline cannot show as text says so in the page's language.
func TestUnshownContentInChinese(t *testing.T) {
	m := group.Message{Seq: 1, Sender: "bob", Payload: group.Payload{Type: 3}}
	if got := render(langZH, m).Text; got != "[消息类型 3]" {
		t.Errorf("zh: %q", got)
	}
	if got := render(langEN, m).Text; got != "[content type 3]" {
		t.Errorf("en: %q", got)
	}
}
