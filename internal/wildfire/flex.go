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

// flexStrings converts a list of flexString.
func flexStrings(fs []flexString) []string {
	if fs == nil {
		return nil
	}
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = string(f)
	}
	return out
}

// flexInts converts a list of flexInt.
func flexInts(fs []flexInt) []int {
	if fs == nil {
		return nil
	}
	out := make([]int, len(fs))
	for i, f := range fs {
		out[i] = int(f)
	}
	return out
}
