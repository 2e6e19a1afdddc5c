package store

import (
	"unicode/utf8"

	"github.com/qun-chat/qun/internal/group"
)

// PrefixEnd returns the least string greater than every string that starts
// with prefix, in byte order (SQLite's BINARY collation, PostgreSQL's "C"):
// the strings starting with prefix are exactly those s with
// prefix <= s < end. The end is valid UTF-8 when prefix is (its last rune
// that is not U+10FFFF is replaced by the next rune, surrogates skipped),
// so PostgreSQL accepts it as text. ok is false when no string is greater:
// prefix is empty or only U+10FFFF, and the range has no upper end.
func PrefixEnd(prefix string) (end string, ok bool) {
	for prefix != "" {
		r, size := utf8.DecodeLastRuneInString(prefix)
		prefix = prefix[:len(prefix)-size]
		switch {
		case r == utf8.MaxRune:
			continue // no rune follows it: carry to the one before
		case r == 0xD7FF:
			r = 0xE000 // past the surrogates, which UTF-8 cannot hold
		default:
			r++
		}
		return prefix + string(r), true
	}
	return "", false
}

// KeyAfter returns where a page of the (name, id) index starts when it
// lists the names starting with prefix after the key (afterName, afterID):
// the later of (prefix, "") and that key. The page includes the key it
// starts at, so the store excludes (afterName, afterID) itself: a range
// start that is one key, whatever the number of groups sharing a name.
func KeyAfter(prefix, afterName, afterID string) group.GroupKey {
	if afterName > prefix || (afterName == prefix && afterID != "") {
		return group.GroupKey{Name: afterName, ID: afterID}
	}
	return group.GroupKey{Name: prefix}
}
