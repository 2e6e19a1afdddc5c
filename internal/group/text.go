package group

import (
	"strings"
	"unicode/utf8"
)

// Text rule. Every string the model keeps as text (ids, names, profile and
// group fields, aliases, extras, secrets, payload strings) is valid UTF-8
// without a NUL character, whatever the store: PostgreSQL cannot keep a NUL
// in text at all and refuses invalid UTF-8, and data written on one store
// must move to the other as is. The Service refuses other text with
// EInvalidParam before it reads or writes anything; a store refuses a write
// of it with EInvalidParam too and finds nothing when asked for it (no such
// key can exist). Binary data (Payload.Data) is not text.

// ValidText reports whether s is valid UTF-8 without a NUL character.
func ValidText(s string) bool {
	return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0
}

// ValidText reports whether every string of p is valid text.
func (p Payload) ValidText() bool {
	for _, s := range []string{p.SearchableContent, p.PushContent, p.PushData, p.Content, p.RemoteMediaURL, p.Extra} {
		if !ValidText(s) {
			return false
		}
	}
	for _, s := range p.MentionedTarget {
		if !ValidText(s) {
			return false
		}
	}
	return true
}

// checkText returns EInvalidParam naming what unless every s is valid text.
func checkText(what string, ss ...string) error {
	for _, s := range ss {
		if !ValidText(s) {
			return Errorf(EInvalidParam, "%s holds a NUL character or invalid UTF-8", what)
		}
	}
	return nil
}

// checkPayload returns EInvalidParam naming what unless p's strings are valid text.
func checkPayload(what string, p Payload) error {
	if !p.ValidText() {
		return Errorf(EInvalidParam, "%s holds a NUL character or invalid UTF-8", what)
	}
	return nil
}

// checkActor validates the id of a user the Admin API acts for (its
// operator field); a robot's id comes from its signature.
func checkActor(a Actor) error {
	return checkText("operator", a.UserID)
}
