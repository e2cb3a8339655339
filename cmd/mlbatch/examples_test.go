package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/spf13/cobra"
)

// example is one mlbatch command line from a --help text.
type example struct {
	cmd  string   // the command whose help holds it
	env  []string // VAR=value prefixes
	args []string // after "mlbatch"
}

// helpExamples collects the mlbatch command lines of every command's Example,
// joining continued lines and lines inside an open quote; other programs'
// lines (curl) are left out.
func helpExamples(t *testing.T, root *cobra.Command) []example {
	var out []example
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			walk(sub)
		}
		if c.Example == "" {
			return
		}
		var logical []string
		cur := ""
		for _, line := range strings.Split(c.Example, "\n") {
			line = strings.TrimSpace(line)
			if cur == "" && (line == "" || strings.HasPrefix(line, "#")) {
				continue
			}
			cur += line
			if strings.HasSuffix(cur, `\`) {
				cur = strings.TrimSuffix(cur, `\`) + " "
				continue
			}
			if _, ok := shellWords(cur); !ok {
				cur += " " // an open quote
				continue
			}
			logical = append(logical, cur)
			cur = ""
		}
		for _, l := range logical {
			if i := strings.Index(l, "<(mlbatch "); i >= 0 { // source <(mlbatch completion bash)
				l = strings.TrimSuffix(l[i+2:], ")")
			}
			words, _ := shellWords(l)
			var ex example
			for len(words) > 0 && strings.Contains(words[0], "=") && !strings.HasPrefix(words[0], "-") {
				ex.env, words = append(ex.env, words[0]), words[1:]
			}
			if len(words) == 0 || words[0] != "mlbatch" {
				continue
			}
			for i, w := range words {
				if w == ">" || w == "|" {
					words = words[:i]
					break
				}
			}
			ex.cmd, ex.args = c.CommandPath(), words[1:]
			out = append(out, ex)
		}
	}
	walk(root)
	return out
}

// shellWords splits a line as a POSIX shell would for the quoting used in the
// examples; false when a quote is left open.
func shellWords(s string) ([]string, bool) {
	var words []string
	var b strings.Builder
	inWord := false
	var quote rune
	for _, r := range s {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				b.WriteRune(r)
			}
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == ' ' || r == '\t':
			if inWord {
				words = append(words, b.String())
				b.Reset()
				inWord = false
			}
		default:
			b.WriteRune(r)
			inWord = true
		}
	}
	if inWord {
		words = append(words, b.String())
	}
	return words, quote == 0
}

// TestHelpExamples checks every mlbatch line of every --help: the command and
// each flag exist and the values parse; the examples over the committed
// testdata, and those needing no files, are run and must succeed, with paths
// rewritten to the repository's testdata and /tmp to a temporary folder.
func TestHelpExamples(t *testing.T) {
	root := newRootCmd(env{stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}, mem: memory.DefaultAllocator})
	exs := helpExamples(t, root)
	if len(exs) < 10 {
		t.Fatalf("only %d examples found", len(exs))
	}
	tmp := t.TempDir()
	seen := map[string]bool{}
	ran := 0
	// score first: inspect --output reads what its example writes.
	for _, pass := range []bool{true, false} {
		for _, ex := range exs {
			if (ex.cmd == "mlbatch score") != pass {
				continue
			}
			seen[ex.cmd] = true
			line := "mlbatch " + strings.Join(ex.args, " ")
			fresh := newRootCmd(env{stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}, mem: memory.DefaultAllocator})
			c, rest, err := fresh.Find(ex.args)
			if err != nil || c.CommandPath() != ex.cmd {
				t.Errorf("%s (in %s --help): finds %v: %v", line, ex.cmd, c.CommandPath(), err)
				continue
			}
			if err := c.ParseFlags(rest); err != nil {
				t.Errorf("%s (in %s --help): %v", line, ex.cmd, err)
				continue
			}
			if err := c.ValidateArgs(c.Flags().Args()); err != nil {
				t.Errorf("%s (in %s --help): %v", line, ex.cmd, err)
				continue
			}
			if !runnable(ex) {
				continue
			}
			args := make([]string, len(ex.args))
			for i, a := range ex.args {
				a = strings.ReplaceAll(a, "testdata/", testdata+"/")
				args[i] = strings.ReplaceAll(a, "/tmp/", tmp+"/")
			}
			code, stdout, stderr := cliOut(t, args...)
			if code != 0 {
				t.Errorf("%s (in %s --help): exit %d: %s", line, ex.cmd, code, stderr)
			}
			if stdout == "" && stderr == "" {
				t.Errorf("%s: printed nothing", line)
			}
			ran++
			t.Logf("ran: %s", line)
		}
	}
	for _, c := range []string{"mlbatch score", "mlbatch inspect", "mlbatch version", "mlbatch completion", "mlbatch serve"} {
		if !seen[c] {
			t.Errorf("%s --help has no example", c)
		}
	}
	if ran < 6 {
		t.Errorf("only %d examples ran", ran)
	}
}

// runnable: the example needs only committed testdata (or no file) and ends.
func runnable(ex example) bool {
	if len(ex.env) > 0 || ex.cmd == "mlbatch serve" {
		return false
	}
	for _, a := range ex.args {
		if strings.HasPrefix(a, "testdata/") || strings.HasPrefix(a, "/tmp/") || strings.HasPrefix(a, "runs:/") {
			continue // committed files, outputs, and a run in the committed store
		}
		if strings.Contains(a, "/") || strings.Contains(a, ".csv") || strings.Contains(a, ".parquet") {
			if _, err := os.Stat(filepath.Join(testdata, "..", a)); err != nil {
				return false
			}
		}
	}
	return true
}
