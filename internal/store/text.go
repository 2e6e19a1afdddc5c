package store

import (
	"fmt"
	"reflect"

	"github.com/qun-chat/qun/internal/group"
)

// ValidArgs reports whether every text among a statement's arguments is
// valid (group.ValidText): strings and pointers to them (of any string
// type, such as group.EventType), string slices, and values with a
// ValidText method (the stores' payload columns). Both stores check their
// statements with it, so that a text PostgreSQL would refuse is refused on
// SQLite as well, before any statement runs: a write with it is
// EInvalidParam, a read by it finds nothing.
func ValidArgs(args ...any) bool {
	for _, a := range args {
		switch v := a.(type) {
		case string:
			if !group.ValidText(v) {
				return false
			}
		case *string:
			if !group.ValidText(*v) {
				return false
			}
		case []string:
			for _, s := range v {
				if !group.ValidText(s) {
					return false
				}
			}
		case interface{ ValidText() bool }:
			if !v.ValidText() {
				return false
			}
		case nil, int, int64, *int, *int64, bool, *bool, []int64:
		default:
			if !validValue(reflect.ValueOf(a)) {
				return false
			}
		}
	}
	return true
}

// validValue is ValidArgs for the types it does not name: named string
// types and pointers to them.
func validValue(v reflect.Value) bool {
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return true
		}
		v = v.Elem()
	}
	return v.Kind() != reflect.String || group.ValidText(v.String())
}

// InvalidText is the error of a write whose text is not valid: what the
// store was doing wraps an EInvalidParam whose message, which callers see,
// names no stored id.
func InvalidText(what string) error {
	return fmt.Errorf("%s: %w", what, group.Errorf(group.EInvalidParam, "a text holds a NUL character or invalid UTF-8"))
}
