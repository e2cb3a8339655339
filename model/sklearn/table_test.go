package sklearn

import (
	"math"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

func TestPyFloat(t *testing.T) {
	for s, want := range map[string]float64{
		"1.5": 1.5, " 2 ": 2, "-3e2": -300, "1_000.5": 1000.5, "+.5": 0.5,
		"inf": math.Inf(1), "-Infinity": math.Inf(-1), "1e400": math.Inf(1),
	} {
		if got, ok := pyFloat(s); !ok || got != want {
			t.Errorf("pyFloat(%q) = %v, %v; want %v", s, got, ok, want)
		}
	}
	if got, ok := pyFloat("NaN"); !ok || !math.IsNaN(got) {
		t.Errorf("pyFloat(NaN) = %v, %v", got, ok)
	}
	for _, s := range []string{"", "abc", "1__0", "_1", "1_", "--1", "0x10", "1,5"} {
		if _, ok := pyFloat(s); ok {
			t.Errorf("pyFloat(%q) accepted", s)
		}
	}
}

func TestPyReprs(t *testing.T) {
	for s, want := range map[string]string{
		"Paris": "'Paris'", "it's": `"it's"`, `a"b'c`: `'a"b\'c'`, "a\nb": `'a\nb'`, `\`: `'\\'`,
	} {
		if got := pyStrRepr(s); got != want {
			t.Errorf("pyStrRepr(%q) = %s, want %s", s, got, want)
		}
	}
	for f, want := range map[float64]string{1: "1.0", 0.1: "0.1", 1e16: "1e+16", 1e-5: "1e-05", -2.5: "-2.5"} {
		if got := pyReprFloat(f); got != want {
			t.Errorf("pyReprFloat(%v) = %s, want %s", f, got, want)
		}
	}
	if v := numValue(3); v.text() != "3" || v.repr() != "3" {
		t.Errorf("3 prints as %s / %s", v.text(), v.repr())
	}
	if nanValue.text() != "nan" || (value{k: vNone}).repr() != "None" || strValue("x").repr() != "'x'" {
		t.Error("nan, None or str print wrong")
	}
}

// TestCatIndex: Python's dict equality (1 == 1.0 == True), NaN found as NaN,
// None only as None, str never equal to a number.
func TestCatIndex(t *testing.T) {
	ix := newCatIndex([]value{numValue(0), numValue(1), strValue("1"), {k: vNone}, nanValue})
	for _, c := range []struct {
		v    value
		want int
	}{
		{numValue(1), 1}, {numValue(0), 0}, {numValue(math.Copysign(0, -1)), 0}, {strValue("1"), 2},
		{value{k: vNone}, 3}, {numValue(math.NaN()), 4}, {strValue("nan"), -1}, {numValue(2), -1},
	} {
		if got := ix.find(c.v); got != c.want {
			t.Errorf("find(%s) = %d, want %d", c.v.repr(), got, c.want)
		}
	}
	if got := newCatIndex([]value{strValue("a")}).find(nanValue); got != -1 {
		t.Errorf("NaN found among %d", got)
	}
}

// TestTableFromArrow: the Arrow types a reader gives become pandas-like columns.
func TestTableFromArrow(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)

	ls := array.NewLargeStringBuilder(mem)
	ls.Append("a")
	ls.AppendNull()
	large := ls.NewArray()
	ls.Release()
	defer large.Release()

	db := array.NewDictionaryBuilder(mem, &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int8, ValueType: arrow.BinaryTypes.String})
	sb := db.(*array.BinaryDictionaryBuilder)
	sb.AppendString("x")
	sb.AppendNull()
	dict := db.NewArray()
	db.Release()
	defer dict.Release()

	bb := array.NewBooleanBuilder(mem)
	bb.AppendValues([]bool{true, false}, []bool{true, false})
	boolean := bb.NewArray()
	bb.Release()
	defer boolean.Release()

	ib := array.NewInt64Builder(mem)
	ib.AppendValues([]int64{7, 0}, []bool{true, false})
	ints := ib.NewArray()
	ib.Release()
	defer ints.Release()

	tb, err := tableFrom([]arrow.Array{large, dict, boolean, ints, nil}, 2, []string{"l", "d", "b", "i", "absent"})
	if err != nil {
		t.Fatal(err)
	}
	c := tb.cols
	if !c[0].isObj() || c[0].obj[0] != strValue("a") || !c[0].obj[1].isNaN() {
		t.Errorf("large string: %+v", c[0])
	}
	if !c[1].isObj() || c[1].obj[0] != strValue("x") || !c[1].obj[1].isNaN() {
		t.Errorf("dictionary: %+v", c[1])
	}
	if c[2].num[0] != 1 || !math.IsNaN(c[2].num[1]) {
		t.Errorf("bool: %v", c[2].num)
	}
	if c[3].num[0] != 7 || !math.IsNaN(c[3].num[1]) {
		t.Errorf("int: %v", c[3].num)
	}
	if !math.IsNaN(c[4].num[0]) || len(c[4].num) != 2 {
		t.Errorf("absent: %v", c[4].num)
	}
	// Text where numbers are needed is a row error naming the cell.
	if _, err := tb.numeric(0, "StandardScaler"); err == nil || err.Error() != `row 1: column "l": value "a": StandardScaler: could not convert string to float: 'a'` {
		t.Errorf("numeric of text: %v", err)
	}
}
