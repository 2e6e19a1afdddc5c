package store

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestPrefixEnd(t *testing.T) {
	for _, tt := range []struct {
		prefix, end string
		ok          bool
	}{
		{"", "", false},
		{"a", "b", true},
		{"team", "tean", true},
		{"Te", "Tf", true},
		{"群", "羥", true},
		{"a\u007f", "a\u0080", true},        // one byte to two
		{"a\U0010FFFF", "b", true},          // carried
		{"\U0010FFFF\U0010FFFF", "", false}, // nothing is greater
		{"x\uD7FF", "x\uE000", true},        // past the surrogates
	} {
		end, ok := PrefixEnd(tt.prefix)
		if end != tt.end || ok != tt.ok {
			t.Errorf("PrefixEnd(%q) = %q, %v; want %q, %v", tt.prefix, end, ok, tt.end, tt.ok)
		}
		if ok && !utf8.ValidString(end) {
			t.Errorf("PrefixEnd(%q) = %q is not UTF-8", tt.prefix, end)
		}
	}
}

// Every string that starts with the prefix is below its end, and every
// string between the prefix and its end starts with it.
func FuzzPrefixEnd(f *testing.F) {
	for _, s := range [][2]string{{"team", "team-a"}, {"a\U0010FFFF", "a\U0010FFFFz"}, {"Te", "Tea"}, {"\uD7FF", "\uE000"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, prefix, s string) {
		if !utf8.ValidString(prefix) || !utf8.ValidString(s) {
			return
		}
		end, ok := PrefixEnd(prefix)
		in := s >= prefix && (!ok || s < end)
		if in != strings.HasPrefix(s, prefix) {
			t.Fatalf("prefix %q end %q (%v): %q in range %v, has prefix %v", prefix, end, ok, s, in, strings.HasPrefix(s, prefix))
		}
	})
}
