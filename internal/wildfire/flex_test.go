package wildfire

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestFlexInt(t *testing.T) {
	cases := []struct {
		in   string
		want int
		ok   bool
	}{
		{`0`, 0, true}, {`42`, 42, true}, {`-7`, -7, true}, {`"0"`, 0, true}, {`"123"`, 123, true},
		{`1.0`, 1, true}, {`1e2`, 100, true}, {`"2147483647"`, 2147483647, true}, {`-2147483648`, -2147483648, true},
		{`null`, 5, true}, // absent: the field keeps its value
		{`2147483648`, 0, false}, {`1.5`, 0, false}, {`""`, 0, false}, {`"abc"`, 0, false}, {`" 1"`, 0, false},
		{`true`, 0, false}, {`[1]`, 0, false}, {`{}`, 0, false}, {`"NaN"`, 0, false}, {`"Inf"`, 0, false},
		{`1e400`, 0, false}, {`"9223372036854775808"`, 0, false},
	}
	for _, c := range cases {
		v := flexInt(5)
		err := json.Unmarshal([]byte(c.in), &v)
		if (err == nil) != c.ok || (c.ok && int(v) != c.want) {
			t.Errorf("flexInt %s = %d, %v; want %d, ok %v", c.in, v, err, c.want, c.ok)
		}
	}
}

func TestFlexLong(t *testing.T) {
	cases := []struct {
		in   string
		want int64
		ok   bool
	}{
		{`1700000000000`, 1700000000000, true}, {`"1700000000000"`, 1700000000000, true},
		{`9223372036854775807`, 9223372036854775807, true}, {`-9223372036854775808`, -9223372036854775808, true},
		{`9223372036854775808`, 0, false}, {`9.3e18`, 0, false}, {`-9.3e18`, 0, false}, {`"x"`, 0, false},
	}
	for _, c := range cases {
		var v flexLong
		err := json.Unmarshal([]byte(c.in), &v)
		if (err == nil) != c.ok || (c.ok && int64(v) != c.want) {
			t.Errorf("flexLong %s = %d, %v; want %d, ok %v", c.in, v, err, c.want, c.ok)
		}
	}
}

func TestFlexBool(t *testing.T) {
	cases := []struct {
		in       string
		want, ok bool
	}{
		{`true`, true, true}, {`false`, false, true}, {`"true"`, true, true}, {`"FALSE"`, false, true},
		{`"True"`, true, true}, {`null`, true, true},
		{`1`, false, false}, {`0`, false, false}, {`"yes"`, false, false}, {`""`, false, false}, {`[]`, false, false},
	}
	for _, c := range cases {
		v := flexBool(true)
		err := json.Unmarshal([]byte(c.in), &v)
		if (err == nil) != c.ok || (c.ok && bool(v) != c.want) {
			t.Errorf("flexBool %s = %v, %v; want %v, ok %v", c.in, v, err, c.want, c.ok)
		}
	}
}

func TestFlexString(t *testing.T) {
	cases := []struct {
		in, want string
		ok       bool
	}{
		{`"a"`, "a", true}, {`"\u00e9\n"`, "é\n", true}, {`12`, "12", true}, {`-1.50`, "-1.50", true},
		{`1e3`, "1e3", true}, {`true`, "true", true}, {`false`, "false", true}, {`null`, "keep", true},
		{`[]`, "", false}, {`{"a":1}`, "", false},
	}
	for _, c := range cases {
		v := flexString("keep")
		err := json.Unmarshal([]byte(c.in), &v)
		if (err == nil) != c.ok || (c.ok && string(v) != c.want) {
			t.Errorf("flexString %s = %q, %v; want %q, ok %v", c.in, v, err, c.want, c.ok)
		}
	}
}

// In a struct, null leaves a pointer nil: "null = absent" for required fields.
func TestFlexNullIsAbsent(t *testing.T) {
	var body struct {
		Type  *flexInt    `json:"type"`
		Value *flexString `json:"value"`
		On    *flexBool   `json:"on"`
	}
	if err := json.Unmarshal([]byte(`{"type":null,"value":null,"on":null}`), &body); err != nil {
		t.Fatal(err)
	}
	if body.Type != nil || body.Value != nil || body.On != nil {
		t.Errorf("null fields set: %+v", body)
	}
}

func TestArrayLen(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int
	}{
		{`[]`, 0}, {`[ ]`, 0}, {"[\n\t]", 0}, {`[0]`, 1}, {`[{}]`, 1}, {`[[]]`, 1}, {`[1,2,3]`, 3},
		{`[{"a":1,"b":[1,2]},[3,4],"x,y"]`, 3}, {`["\"",","]`, 2}, {`["\\",","]`, 2}, {`[ "a" , {"b":"]"} ]`, 2},
	} {
		if got := arrayLen([]byte(c.in)); got != c.want {
			t.Errorf("arrayLen(%s) = %d, want %d", c.in, got, c.want)
		}
	}
}

func TestListDecode(t *testing.T) {
	const max = 3
	for _, c := range []struct {
		in   string
		want []string // nil: absent
		ok   bool
	}{
		{`null`, nil, true},
		{`[]`, []string{}, true},
		{`["a",1,true]`, []string{"a", "1", "true"}, true},
		{`["a","b","c","d"]`, nil, false}, // over the bound
		{`["a",{}]`, nil, false},          // a wrong element
		{`"a"`, nil, false}, {`{}`, nil, false}, {`1`, nil, false},
	} {
		var body struct {
			L list[flexString] `json:"l"`
		}
		err := json.Unmarshal([]byte(`{"l":`+c.in+`}`), &body)
		var got []string
		if err == nil {
			got, err = flexStrings("l", body.L, max)
		}
		if (err == nil) != c.ok || (c.ok && (got == nil) != (c.want == nil)) || len(got) != len(c.want) {
			t.Errorf("list %s = %q, %v; want %q, ok %v", c.in, got, err, c.want, c.ok)
			continue
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("list %s = %q, want %q", c.in, got, c.want)
			}
		}
	}
}

// An over-long list is refused without allocating anything per element: it
// is counted, never decoded.
func TestOverLongListAllocatesNothing(t *testing.T) {
	var body struct {
		Members list[memberIn] `json:"members"`
	}
	raw := []byte(`{"members":[{}` + strings.Repeat(`,{}`, 100_000) + `]}`)
	if err := json.Unmarshal(raw, &body); err != nil {
		t.Fatal(err)
	}
	// Refusing it allocates only its 251 (the error, its reason and the two
	// numbers in it), the same whatever the list's length.
	refuse := func(l list[memberIn]) float64 {
		return testing.AllocsPerRun(10, func() {
			_, err := l.decode("members", 1000)
			if we, ok := err.(*wireError); !ok || we.Code != CodeInvalidParameter {
				t.Fatalf("decode = %v, want a 251", err)
			}
		})
	}
	var short struct {
		Members list[memberIn] `json:"members"`
	}
	if err := json.Unmarshal([]byte(`{"members":[{}`+strings.Repeat(`,{}`, 1000)+`]}`), &short); err != nil {
		t.Fatal(err)
	}
	if long, short := refuse(body.Members), refuse(short.Members); long != short || long > 4 {
		t.Errorf("refusing 100,001 members allocated %v times, 1,001 members %v times; want the same, at most 4", long, short)
	}
	// Keeping the list undecoded costs the same allocations (one copy of its
	// text among them) whatever its length.
	unmarshal := func(raw []byte) float64 {
		return testing.AllocsPerRun(10, func() {
			var b struct {
				Members list[memberIn] `json:"members"`
			}
			if err := json.Unmarshal(raw, &b); err != nil {
				t.Fatal(err)
			}
		})
	}
	if long, short := unmarshal(raw), unmarshal([]byte(`{"members":[{}]}`)); long > short {
		t.Errorf("a body of 100,001 members allocated %v times, one of 1 member %v times", long, short)
	}
}
