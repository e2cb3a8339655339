package dataset

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/mlbatch/mlbatch/internal/mlerr"
)

// Hive partitions
//
// A directory named key=value below a spec's root becomes a column "key" whose
// value is the same for every row of the files under it (as Hive and Spark lay
// out partitioned tables). Every file of the dataset must sit under the same keys
// in the same order. Values are URL-unescaped (Hive writes %XX for special
// characters) and __HIVE_DEFAULT_PARTITION__ is null.
//
// Types follow Spark's partition discovery (partitionColumnTypeInference), taken
// over all the values of a column in the whole dataset, so every shard of a run
// infers the same types: int64 when every value is an integer that fits, else
// float64 when every value is a number, else date32 when every value is a
// yyyy-mm-dd date, else string. Spark would pick int32 for small integers and
// decimals for some numbers; mlbatch keeps to int64 and float64, the types its
// models take. A column of nulls only is a string column.

// HiveNull is the directory value Hive writes for a null partition value.
const HiveNull = "__HIVE_DEFAULT_PARTITION__"

// partitions parses the key=value segments of each file's relative path (all but
// the last segment).
func partitions(rels []string, name func(int) string) ([]string, [][]string, error) {
	var keys []string
	values := make([][]string, len(rels))
	for i, rel := range rels {
		segs := strings.Split(rel, "/")
		var ks, vs []string
		for _, seg := range segs[:len(segs)-1] {
			k, v, ok := strings.Cut(seg, "=")
			if !ok {
				continue
			}
			if k == "" {
				return nil, nil, mlerr.Errorf(mlerr.Schema, "%s: partition directory %q has no column name", name(i), seg)
			}
			if u, err := url.PathUnescape(k); err == nil {
				k = u
			}
			if u, err := url.PathUnescape(v); err == nil {
				v = u
			}
			ks = append(ks, k)
			vs = append(vs, v)
		}
		if i == 0 {
			keys = ks
			if len(keys) == 0 {
				return nil, nil, mlerr.Errorf(mlerr.Schema, "--partition-columns: %s is not under a key=value directory", name(i))
			}
			seen := map[string]bool{}
			for _, k := range keys {
				if seen[k] {
					return nil, nil, mlerr.Errorf(mlerr.Schema, "%s: partition column %q appears twice in the path", name(i), k)
				}
				seen[k] = true
			}
		} else if strings.Join(ks, "/") != strings.Join(keys, "/") || len(ks) != len(keys) {
			return nil, nil, mlerr.Errorf(mlerr.Schema, "%s: partition directories %s differ from %s of %s (every file must sit under the same keys, in the same order)",
				name(i), fmtKeys(ks), fmtKeys(keys), name(0))
		}
		values[i] = vs
	}
	return keys, values, nil
}

func fmtKeys(ks []string) string {
	if len(ks) == 0 {
		return "(none)"
	}
	return strings.Join(ks, "=.../") + "=..."
}

type partKind int

const (
	kindInt partKind = iota
	kindFloat
	kindDate
	kindString
)

func kindOf(v string) partKind {
	if _, err := strconv.ParseInt(v, 10, 64); err == nil {
		return kindInt
	}
	if _, err := strconv.ParseFloat(v, 64); err == nil && !strings.ContainsAny(v, "xXpP_") {
		return kindFloat
	}
	if _, err := time.Parse(time.DateOnly, v); err == nil {
		return kindDate
	}
	return kindString
}

func inferPartitionTypes(keys []string, values [][]string) []arrow.DataType {
	types := make([]arrow.DataType, len(keys))
	for k := range keys {
		kind, any := kindInt, false
		for _, vs := range values {
			v := vs[k]
			if v == HiveNull {
				continue
			}
			vk := kindOf(v)
			switch {
			case !any:
				kind = vk
			case kind == vk:
			case (kind == kindInt && vk == kindFloat) || (kind == kindFloat && vk == kindInt):
				kind = kindFloat
			default:
				kind = kindString
			}
			any = true
		}
		if !any {
			kind = kindString
		}
		types[k] = [...]arrow.DataType{arrow.PrimitiveTypes.Int64, arrow.PrimitiveTypes.Float64, arrow.FixedWidthTypes.Date32, arrow.BinaryTypes.String}[kind]
	}
	return types
}

// partitionArray is a column of n copies of a partition value.
func partitionArray(mem memory.Allocator, t arrow.DataType, v string, n int) (arrow.Array, error) {
	b := array.NewBuilder(mem, t)
	defer b.Release()
	b.Reserve(n)
	if v == HiveNull {
		b.AppendNulls(n)
		return b.NewArray(), nil
	}
	switch b := b.(type) {
	case *array.Int64Builder:
		x, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, err
		}
		for range n {
			b.Append(x)
		}
	case *array.Float64Builder:
		x, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return nil, err
		}
		for range n {
			b.Append(x)
		}
	case *array.Date32Builder:
		t, err := time.Parse(time.DateOnly, v)
		if err != nil {
			return nil, err
		}
		x := arrow.Date32FromTime(t)
		for range n {
			b.Append(x)
		}
	case *array.StringBuilder:
		for range n {
			b.Append(v)
		}
	default:
		return nil, fmt.Errorf("partition type %s", t)
	}
	return b.NewArray(), nil
}
