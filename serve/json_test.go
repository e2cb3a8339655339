package serve

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParseJSON(t *testing.T) {
	for _, c := range []struct {
		in  string
		ok  bool
		out string // re-serialised, when ok
	}{
		{`{"a": [1, -2.5e3, NaN, -Infinity, Infinity], "b": "x\u00e9\ud83d\ude00\n", "c": null, "d": true, "e": false}`, true, ""},
		{` [ ] `, true, ""},
		{`{}`, true, ""},
		{`{"a": 1, "a": 2}`, true, ""},
		{`[1, 2,]`, false, ""},
		{`{"a" 1}`, false, ""},
		{`{"a": 01}`, false, ""},
		{`{"a": 1.}`, false, ""},
		{`{"a": .5}`, false, ""},
		{`[1] [2]`, false, ""},
		{`"abc`, false, ""},
		{"\"a\x01\"", false, ""},
		{`"\x"`, false, ""},
		{`"\u12"`, false, ""},
		{`nul`, false, ""},
		{``, false, ""},
		{strings.Repeat("[", 600) + strings.Repeat("]", 600), false, ""},
		{strings.Repeat("[", 100) + strings.Repeat("]", 100), true, ""},
		{"\"\xff\"", false, ""},
	} {
		_, err := parseJSON([]byte(c.in), nil)
		if (err == nil) != c.ok {
			t.Errorf("parseJSON(%.40q): err = %v, want ok=%v", c.in, err, c.ok)
		}
	}
}

func TestParseJSONKeepsOrderAndLiterals(t *testing.T) {
	v, err := parseJSON([]byte(`{"z": 1, "a": 12345678901234567890, "m": 1e400, "s": "a\"b", "a": 3}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(v.keys(), ","); got != "z,a,m,s" {
		t.Errorf("keys %s", got)
	}
	a, _ := v.get("a")
	if string(a.s) != "3" || !a.isInt {
		t.Errorf("last duplicate wins: got %s", a.s)
	}
	if z, _ := v.get("z"); !z.isInt {
		t.Errorf("1 is an int literal")
	}
	if m, _ := v.get("m"); m.isInt || string(m.s) != "1e400" {
		t.Errorf("1e400: %+v", m)
	}
	if s, _ := v.get("s"); string(s.s) != `a"b` {
		t.Errorf("escape: %q", s.s)
	}
}

// FuzzDecodeJSON: no body makes the decoder panic, and a body that encoding/json
// accepts is also accepted by the parser.
func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{
		`{"dataframe_split": {"columns": ["a", "b"], "data": [[1, 2], [3]]}}`,
		`{"dataframe_records": [{"a": 1}, {"b": 2.5}]}`,
		`{"instances": [[1, 2], [3, 4]]}`,
		`{"inputs": {"a": [1, 2], "b": [3, 4]}, "params": {"k": 1}}`,
		`{"data": [[0.09178, 0.0, 4.05]]}`,
		`[{"a": 1}, [1, 2]]`,
		`{"inputs": [1, 2, 3]}`,
		`{"dataframe_split": {"data": [1, [2]]}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		_, err := parseJSON(body, nil)
		// Python decodes the body as UTF-8 before parsing it, so invalid
		// UTF-8 is refused even where encoding/json would take it.
		if err != nil && json.Valid(body) && utf8.Valid(body) {
			t.Fatalf("valid JSON refused: %v", err)
		}
		for _, single := range []bool{false, true} {
			ar := getArena()
			req, err := decodeJSON(body, "", single, ar)
			if err == nil && req.frame != nil {
				f := req.frame
				if len(f.cells) != f.rows*f.ncols {
					t.Fatalf("frame %d x %d has %d cells", f.rows, f.ncols, len(f.cells))
				}
			}
			ar.free()
		}
	})
}

func FuzzDecodeCSV(f *testing.F) {
	f.Add([]byte("a,b\n1,2\n3,4\n"))
	f.Add([]byte(",a,b\n0,1,2\n1,3,4\n"))
	f.Add([]byte("a,a,\n\"x\"\"\",2,\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		fr, err := decodeCSV(body)
		if err == nil && len(fr.cells) != fr.rows*fr.ncols {
			t.Fatalf("frame %d x %d has %d cells", fr.rows, fr.ncols, len(fr.cells))
		}
	})
}
