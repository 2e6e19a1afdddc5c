package wildfire

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The flex types decode JSON as leniently as gson, which every Wildfire SDK
// and server uses: a number may come as a numeric string ("type":"0"), a string
// as a number or boolean, a boolean as "true"/"false", and null means absent.
// Anything else is an error, which the door answers with 251.

// flexError is what a flex type returns for a value it does not take: a
// *json.UnmarshalTypeError, which encoding/json completes with the path of
// the field ("group.group_info.type"), so that the 251 can name it. want is
// the flex type (see wants).
func flexError(b []byte, want any) error {
	return &json.UnmarshalTypeError{Value: jsonValue(b), Type: reflect.TypeOf(want)}
}

// jsonValue describes a JSON value for an error message, in encoding/json's
// words ("string", "number", "bool", "array", "object"); a number or string
// that has the right JSON type but the wrong content is shown, shortened.
func jsonValue(b []byte) string {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return "nothing"
	}
	if n := len(b); n > maxShownValue {
		n = maxShownValue
		for n > 0 && !utf8.RuneStart(b[n]) {
			n--
		}
		if b[0] == '"' {
			return "string " + string(b[:n]) + `…"`
		}
		b = append(b[:n:n], "…"...)
	}
	switch b[0] {
	case '"':
		return "string " + string(b)
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "bool"
	case 'n':
		return "null"
	}
	return "number " + string(b)
}

// maxShownValue bounds how much of a wrong value a 251's reason repeats.
const maxShownValue = 40

// wanter is implemented by the flex types: what a value of the type must be,
// for the 251's reason.
type wanter interface{ wants() string }

func (flexInt) wants() string    { return "a 32-bit integer" }
func (flexLong) wants() string   { return "a 64-bit integer" }
func (flexBool) wants() string   { return "true or false" }
func (flexString) wants() string { return "a string" }
func (list[T]) wants() string    { return "an array" }

// flexInt is a Java int: a JSON integer, or a string holding one, in int32 range.
type flexInt int

// UnmarshalJSON implements json.Unmarshaler.
func (f *flexInt) UnmarshalJSON(b []byte) error {
	v, null, ok := parseFlexInt(b, math.MinInt32, math.MaxInt32)
	if !ok {
		return flexError(b, *f)
	}
	if !null {
		*f = flexInt(v)
	}
	return nil
}

// flexLong is a Java long: a JSON integer, or a string holding one.
type flexLong int64

// UnmarshalJSON implements json.Unmarshaler.
func (f *flexLong) UnmarshalJSON(b []byte) error {
	v, null, ok := parseFlexInt(b, math.MinInt64, math.MaxInt64)
	if !ok {
		return flexError(b, *f)
	}
	if !null {
		*f = flexLong(v)
	}
	return nil
}

// parseFlexInt parses a JSON integer or numeric string within lo..hi. As
// gson's JsonReader.nextInt does, it also takes an integral number written
// with a fraction or exponent ("1.0", "1e2"). ok is false for anything else.
func parseFlexInt(b []byte, lo, hi int64) (v int64, null, ok bool) {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0:
		return 0, false, false
	case string(b) == "null":
		return 0, true, true
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return 0, false, false
		}
		b = []byte(s)
	case b[0] != '-' && (b[0] < '0' || b[0] > '9'):
		return 0, false, false
	}
	s := string(b)
	if v, err := strconv.ParseInt(s, 10, 64); err == nil {
		if v < lo || v > hi {
			return 0, false, false
		}
		return v, false, true
	}
	fv, err := strconv.ParseFloat(s, 64)
	// The bounds are checked as floats before converting: float64(MaxInt64)
	// rounds up to 2^63, which no int64 holds.
	if err != nil || fv != math.Trunc(fv) || fv < float64(lo) || fv >= -float64(math.MinInt64) || fv > float64(hi) {
		return 0, false, false
	}
	return int64(fv), false, true
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
	return flexError(b, *f)
}

// flexString is a JSON string; a number gives its literal text and a boolean
// "true" or "false", as gson's string adapter does.
type flexString string

// UnmarshalJSON implements json.Unmarshaler.
func (f *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0:
		return flexError(b, *f)
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
	return flexError(b, *f)
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
		return flexError(b, *l)
	}
	l.raw = append(l.raw[:0], b...)
	return nil
}

// decode returns the elements of the list named field, nil when the list is
// absent. More than max elements is a 251, found by counting before any
// element is decoded.
func (l list[T]) decode(field string, max int) ([]T, error) {
	if l.raw == nil {
		return nil, nil
	}
	n := arrayLen(l.raw)
	if n > max {
		// Not invalid's Sprintf: refusing a huge list allocates the least.
		return nil, errCode(CodeInvalidParameter, field+": "+strconv.Itoa(n)+" entries, at most "+strconv.Itoa(max))
	}
	out := make([]T, 0, n)
	if err := json.Unmarshal(l.raw, &out); err != nil {
		return nil, jsonInvalid(field+"[]", &out, err)
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

// flexStrings decodes the list named field of at most max strings.
func flexStrings(field string, l list[flexString], max int) ([]string, error) {
	fs, err := l.decode(field, max)
	if fs == nil || err != nil {
		return nil, err
	}
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = string(f)
	}
	return out, nil
}

// flexInts decodes the list named field of at most max ints.
func flexInts(field string, l list[flexInt], max int) ([]int, error) {
	fs, err := l.decode(field, max)
	if fs == nil || err != nil {
		return nil, err
	}
	out := make([]int, len(fs))
	for i, f := range fs {
		out[i] = int(f)
	}
	return out, nil
}

// jsonInvalid turns the error of decoding into v into the 251 that says
// where and why. within is the path of v ("" for the body).
func jsonInvalid(within string, v any, err error) *wireError {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		if within == "" {
			return invalid("the body is not valid JSON (at byte %d)", se.Offset)
		}
		return invalid("%s is not valid JSON", within)
	case errors.As(err, &te):
		field := jsonPath(reflect.TypeOf(v), te.Field)
		switch {
		case within != "" && field != "":
			field = within + "." + field
		case within != "":
			field = within
		case field == "":
			field = "the body"
		}
		return invalid("%s must be %s, not %s", field, wantOf(te.Type), shownValue(te.Value))
	}
	return invalid("the body does not decode")
}

// wantOf says what a value of type t must be.
func wantOf(t reflect.Type) string {
	if t == nil {
		return "something else"
	}
	if w, ok := reflect.Zero(t).Interface().(wanter); ok {
		return w.wants()
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	}
	return t.Kind().String()
}

// shownValue turns a json.UnmarshalTypeError's Value into words: "a
// string", "an object", or the value itself ("1.5", "\"two\"").
func shownValue(v string) string {
	if rest, ok := strings.CutPrefix(v, "number "); ok {
		return rest
	}
	if rest, ok := strings.CutPrefix(v, "string "); ok {
		return rest
	}
	switch v {
	case "string":
		return "a string"
	case "number":
		return "a number"
	case "bool":
		return "a boolean"
	case "array":
		return "an array"
	case "object":
		return "an object"
	}
	return v
}

// jsonPath turns encoding/json's path of a field in t ("groupRef.group_id":
// it names embedded structs by their Go names) into the body's path
// ("group_id").
func jsonPath(t reflect.Type, path string) string {
	if path == "" {
		return ""
	}
	var out []string
	segs := strings.Split(path, ".")
	for i, seg := range segs {
		for t != nil && (t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			t = t.Elem()
		}
		if t == nil || t.Kind() != reflect.Struct {
			return strings.Join(append(out, segs[i:]...), ".")
		}
		if f, ok := t.FieldByName(seg); ok && f.Anonymous {
			t = f.Type
			continue
		}
		out = append(out, seg)
		t = jsonField(t, seg)
	}
	return strings.Join(out, ".")
}

// jsonField returns the type of t's field whose JSON name is name, promoted
// fields included, or nil.
func jsonField(t reflect.Type, name string) reflect.Type {
	for _, f := range reflect.VisibleFields(t) {
		if tag, _, _ := strings.Cut(f.Tag.Get("json"), ","); tag == name {
			return f.Type
		}
	}
	return nil
}
