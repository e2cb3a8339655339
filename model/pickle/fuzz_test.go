package pickle

import (
	"os"
	"path/filepath"
	"testing"
)

// noRecover lets panics escape Unmarshal while a test runs, so that bugs
// are not hidden by the safety net.
func noRecover() func() {
	recoverPanics = false
	return func() { recoverPanics = true }
}

// exercise walks a decoded value without recursion, visiting each pointer
// once, and calls every accessor on what it finds: none may panic or hang.
func exercise(v any) {
	seen := map[any]bool{}
	todo := []any{v}
	for len(todo) > 0 {
		x := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		_ = typeName(x)
		switch x := x.(type) {
		case *List, *Dict, *Set, *Object, *NDArray, *DType, *Slice:
			if seen[x] {
				continue
			}
			seen[x] = true
		}
		switch x := x.(type) {
		case Tuple:
			todo = append(todo, x...)
		case *List:
			todo = append(todo, x.Items...)
		case *Set:
			todo = append(todo, x.Items...)
		case *Slice:
			todo = append(todo, x.Start, x.Stop, x.Step)
		case *Dict:
			todo = append(todo, x.Keys()...)
			todo = append(todo, x.Values()...)
			for _, k := range x.Keys() {
				x.Get(k)
			}
		case *Object:
			todo = append(todo, x.Args, x.State)
			if x.Kwargs != nil {
				todo = append(todo, x.Kwargs)
			}
			if x.DictItems != nil {
				todo = append(todo, x.DictItems)
			}
			todo = append(todo, x.ListItems...)
			for _, k := range x.Keys {
				todo = append(todo, x.Dict[k])
				x.Float(k)
				x.Int(k)
				x.Bool(k)
				x.String(k)
				x.Array(k)
				x.Object(k)
				x.Items(k)
				x.Mapping(k)
			}
		case *DType:
			_ = x.String()
			for _, f := range x.Fields {
				todo = append(todo, f.DType)
			}
			if x.Sub != nil {
				todo = append(todo, x.Sub.Base)
			}
		case *NDArray:
			_ = x.Len()
			x.Float64s()
			x.Int64s()
			x.Strings()
			x.Values()
			todo = append(todo, x.Objects...)
			if x.DType != nil {
				todo = append(todo, x.DType)
				for _, name := range x.DType.Names {
					if f, err := x.Field(name); err == nil {
						f.Float64s()
						f.Int64s()
					}
				}
			}
		}
	}
}

func FuzzUnmarshal(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.pkl")
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err == nil && len(data) <= 24<<10 {
			f.Add(data)
		}
	}
	opts := Options{
		Allow:    allowPrefixes([]string{"sklearn.", "numpy.random.", "x."}),
		MaxDepth: 1 << 12,
		MaxMemo:  1 << 12,
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		defer noRecover()()
		v, err := Unmarshal(data, opts)
		if err != nil {
			if v != nil {
				t.Fatalf("value %v with error %v", v, err)
			}
			_ = err.Error()
			return
		}
		exercise(v)
	})
}
