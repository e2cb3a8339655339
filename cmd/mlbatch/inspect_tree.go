package main

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/mlbatch/mlbatch/model/sklearn"
)

// writeTree prints a scikit-learn model's tree and its classes, as
// `mlbatch inspect` shows them:
//
//	model tree (cloudpickle, testdata/pipelines/titanic_logreg/model.pkl):
//	  Pipeline
//	  ├── prep: ColumnTransformer(remainder='drop')
//	  │   ├── num: SimpleImputer(strategy='median') <- ['age', 'fare']
//	  ...
func writeTree(b *strings.Builder, t *sklearn.Tree) {
	fmt.Fprintf(b, "model tree (%s, %s):\n", t.Format, t.File)
	if t.Root != nil {
		fmt.Fprintf(b, "  %s\n", nodeLine(t.Root))
		writeChildren(b, t.Root.Children, "  ")
	} else {
		fmt.Fprintf(b, "  (not decoded to the end: %s)\n", t.Incomplete)
	}
	missing := len(t.Unsupported)
	verdict := "all supported"
	if missing > 0 {
		verdict = fmt.Sprintf("%d not supported", missing)
	}
	fmt.Fprintf(b, "classes (%d, %s):\n", len(t.Classes), verdict)
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
	for _, c := range t.Classes {
		mark := "supported"
		if !c.Supported {
			mark = "MISSING"
		}
		count := ""
		if c.Count > 0 {
			count = fmt.Sprintf("x%d", c.Count)
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", mark, c.Class, c.Kind, count)
	}
	tw.Flush()
}

func writeChildren(b *strings.Builder, kids []*sklearn.Node, indent string) {
	for i, c := range kids {
		branch, next := "├── ", "│   "
		if i == len(kids)-1 {
			branch, next = "└── ", "    "
		}
		fmt.Fprintf(b, "%s%s%s\n", indent, branch, nodeLine(c))
		writeChildren(b, c.Children, indent+next)
	}
}

// nodeLine is one node: name: Class(key params) <- columns, and for what
// mlbatch lacks the full class name and why.
func nodeLine(n *sklearn.Node) string {
	var b strings.Builder
	if n.Name != "" {
		b.WriteString(n.Name + ": ")
	}
	if n.Count > 1 {
		fmt.Fprintf(&b, "%d x ", n.Count)
	}
	switch {
	case n.Class == "":
		b.WriteString(n.Kind)
	default:
		b.WriteString(n.Class[strings.LastIndexByte(n.Class, '.')+1:])
	}
	if len(n.Params) > 0 {
		parts := make([]string, len(n.Params))
		for i, p := range n.Params {
			parts[i] = p.Name + "=" + p.Value
		}
		b.WriteString("(" + strings.Join(parts, ", ") + ")")
	}
	if n.Columns != "" {
		b.WriteString(" <- " + n.Columns)
	}
	if !n.Supported {
		fmt.Fprintf(&b, "  NOT SUPPORTED: %s", n.Class)
		if n.Kind == "function" {
			b.WriteString(" (a function)")
		}
	}
	if n.Note != "" {
		b.WriteString("  [" + n.Note + "]")
	}
	return b.String()
}
