package wildfire

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"
)

// The flex types decode JSON as leniently as gson, which every Wildfire SDK
// and server uses: a number may come as a numeric string ("type":"0"), a string
// as a number or boolean, a boolean as "true"/"false", and null means absent.
// Anything else is an error, which the door answers with 251.

// errFlex is returned for a value no flex type accepts.
var errFlex = errors.New("wildfire: value of the wrong JSON type")

// flexInt is a Java int: a JSON integer, or a string holding one, in int32 range.
type flexInt int

// UnmarshalJSON implements json.Unmarshaler.
func (f *flexInt) UnmarshalJSON(b []byte) error {
	v, null, err := parseFlexInt(b, math.MinInt32, math.MaxInt32)
	if err != nil || null {
		return err
	}
	*f = flexInt(v)
	return nil
}

// flexLong is a Java long: a JSON integer, or a string holding one.
type flexLong int64

// UnmarshalJSON implements json.Unmarshaler.
func (f *flexLong) UnmarshalJSON(b []byte) error {
	v, null, err := parseFlexInt(b, math.MinInt64, math.MaxInt64)
	if err != nil || null {
		return err
	}
	*f = flexLong(v)
	return nil
}

// parseFlexInt parses a JSON integer or numeric string within lo..hi. As
// gson's JsonReader.nextInt does, it also takes an integral number written
// with a fraction or exponent ("1.0", "1e2").
func parseFlexInt(b []byte, lo, hi int64) (v int64, null bool, err error) {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0:
		return 0, false, errFlex
	case string(b) == "null":
		return 0, true, nil
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return 0, false, err
		}
		b = []byte(s)
	case b[0] != '-' && (b[0] < '0' || b[0] > '9'):
		return 0, false, errFlex
	}
	s := string(b)
	if v, err := strconv.ParseInt(s, 10, 64); err == nil {
		if v < lo || v > hi {
			return 0, false, errFlex
		}
		return v, false, nil
	}
	fv, err := strconv.ParseFloat(s, 64)
	// The bounds are checked as floats before converting: float64(MaxInt64)
	// rounds up to 2^63, which no int64 holds.
	if err != nil || fv != math.Trunc(fv) || fv < float64(lo) || fv >= -float64(math.MinInt64) || fv > float64(hi) {
		return 0, false, errFlex
	}
	return int64(fv), false, nil
}

// flexBool is a JSON boolean, or the string "true" or "false" (any case).
type flexBool bool

// UnmarshalJSON implements json.Unmarshaler.
func (f *flexBool) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch string(b) {
	case "null":
		return nil
	case "true":
		*f = true
		return nil
	case "false":
		*f = false
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		switch strings.ToLower(s) {
		case "true":
			*f = true
			return nil
		case "false":
			*f = false
			return nil
		}
	}
	return errFlex
}

// flexString is a JSON string; a number gives its literal text and a boolean
// "true" or "false", as gson's string adapter does.
type flexString string

// UnmarshalJSON implements json.Unmarshaler.
func (f *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0:
		return errFlex
	case string(b) == "null":
		return nil
	case string(b) == "true" || string(b) == "false":
		*f = flexString(b)
		return nil
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
		return nil
	case b[0] == '-' || (b[0] >= '0' && b[0] <= '9'):
		// encoding/json has validated the number already.
		*f = flexString(b)
		return nil
	}
	return errFlex
}

// list is a JSON array whose elements are decoded only once its length is
// known to be within the call's bound (see decode): a body of a few hundred
// thousand tiny elements must cost about its own size, not the tens of times
// it takes once every element is a struct. null means absent.
type list[T any] struct {
	raw []byte // the array's JSON text; nil when absent
}

// UnmarshalJSON implements json.Unmarshaler: it keeps the array undecoded.
func (l *list[T]) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case string(b) == "null":
		return nil
	case len(b) == 0 || b[0] != '[':
		return errFlex
	}
	l.raw = append(l.raw[:0], b...)
	return nil
}

// decode returns the elements, nil when the list is absent. More than max
// elements is errInvalid, found by counting before any element is decoded.
func (l list[T]) decode(max int) ([]T, error) {
	if l.raw == nil {
		return nil, nil
	}
	n := arrayLen(l.raw)
	if n > max {
		return nil, errInvalid
	}
	out := make([]T, 0, n)
	if err := json.Unmarshal(l.raw, &out); err != nil {
		return nil, errInvalid
	}
	return out, nil
}

// arrayLen returns the number of elements of b, a JSON array encoding/json
// has validated already. It allocates nothing.
func arrayLen(b []byte) int {
	if len(bytes.TrimSpace(b[1:len(b)-1])) == 0 {
		return 0
	}
	n, depth, inString, escaped := 1, 0, false, false
	for _, c := range b {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			depth--
		case c == ',' && depth == 1:
			n++
		}
	}
	return n
}

// flexStrings decodes a list of at most max strings.
func flexStrings(l list[flexString], max int) ([]string, error) {
	fs, err := l.decode(max)
	if fs == nil || err != nil {
		return nil, err
	}
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = string(f)
	}
	return out, nil
}

// flexInts decodes a list of at most max ints.
func flexInts(l list[flexInt], max int) ([]int, error) {
	fs, err := l.decode(max)
	if fs == nil || err != nil {
		return nil, err
	}
	out := make([]int, len(fs))
	for i, f := range fs {
		out[i] = int(f)
	}
	return out, nil
}
