package main

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"go.yaml.in/yaml/v3"
)

// TestDeployManifests parses every YAML file under deploy/, finds the mlbatch
// command lines in their containers (args lists, and shell scripts calling
// mlbatch), and checks that every flag they use exists on that command, and that
// Indexed Jobs have as many completions as shards.
func TestDeployManifests(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "deploy", "*", "*.yaml"))
	if len(files) < 3 {
		t.Fatalf("found %d manifests under deploy/", len(files))
	}
	root := newRootCmd(env{stdout: io.Discard, stderr: io.Discard, mem: memory.DefaultAllocator})
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(data))
		docs := 0
		for {
			var doc map[string]any
			if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			docs++
			if doc["apiVersion"] == nil || doc["kind"] == nil {
				t.Errorf("%s: no apiVersion or kind", file)
			}
			var lines [][]string
			walkContainers(doc, func(c map[string]any) {
				lines = append(lines, commandLines(c)...)
			})
			if len(lines) == 0 {
				t.Errorf("%s: no mlbatch command found", file)
			}
			shardCount := 0
			for _, line := range lines {
				sub, _, err := root.Find(line[:1])
				if err != nil || sub == root {
					t.Errorf("%s: unknown command %q", file, line[0])
					continue
				}
				for k, tok := range line[1:] {
					if !strings.HasPrefix(tok, "--") {
						continue
					}
					name, val, hasVal := strings.Cut(strings.TrimPrefix(tok, "--"), "=")
					if !hasVal && k+2 < len(line) {
						val = line[k+2]
					}
					if sub.Flags().Lookup(name) == nil && sub.InheritedFlags().Lookup(name) == nil {
						t.Errorf("%s: mlbatch %s has no flag --%s", file, line[0], name)
					}
					if name == "shard-count" {
						shardCount, _ = strconv.Atoi(val)
					}
				}
				t.Logf("%s: mlbatch %s", filepath.Base(file), strings.Join(line, " "))
			}
			// An Indexed Job must run one pod per shard.
			walkKey(doc, "completionMode", func(parent map[string]any) {
				if parent["completionMode"] != "Indexed" {
					return
				}
				c, p := parent["completions"], parent["parallelism"]
				if shardCount == 0 || c != shardCount || p != shardCount {
					t.Errorf("%s: completions %v, parallelism %v, --shard-count %d: they must agree", file, c, p, shardCount)
				}
			})
		}
		if docs == 0 {
			t.Errorf("%s: empty", file)
		}
	}
}

// walkContainers calls fn for every map under a "containers" list or a
// "container" key (Kubernetes pods, Argo templates).
func walkContainers(v any, fn func(map[string]any)) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			switch k {
			case "containers":
				if l, ok := x.([]any); ok {
					for _, c := range l {
						if m, ok := c.(map[string]any); ok {
							fn(m)
						}
					}
				}
			case "container":
				if m, ok := x.(map[string]any); ok {
					fn(m)
				}
			}
			walkContainers(x, fn)
		}
	case []any:
		for _, x := range v {
			walkContainers(x, fn)
		}
	}
}

func walkKey(v any, key string, fn func(map[string]any)) {
	switch v := v.(type) {
	case map[string]any:
		if _, ok := v[key]; ok {
			fn(v)
		}
		for _, x := range v {
			walkKey(x, key, fn)
		}
	case []any:
		for _, x := range v {
			walkKey(x, key, fn)
		}
	}
}

// commandLines returns the mlbatch command lines of a container: its args when
// they start with an mlbatch command, or the words after "mlbatch" in a shell
// script.
func commandLines(c map[string]any) [][]string {
	var args []string
	for _, key := range []string{"command", "args"} {
		if l, ok := c[key].([]any); ok {
			for _, a := range l {
				if s, ok := a.(string); ok {
					args = append(args, s)
				}
			}
		}
	}
	if len(args) > 0 && (args[0] == "score" || args[0] == "plan" || args[0] == "inspect") {
		return [][]string{args}
	}
	var out [][]string
	for _, a := range args {
		words := strings.Fields(strings.NewReplacer("\\\n", " ", `"`, "", "'", "").Replace(a))
		for i, w := range words {
			if w == "mlbatch" && i+1 < len(words) {
				line := []string{}
				for _, x := range words[i+1:] {
					if x == "&&" || x == ";" || x == "|" {
						break
					}
					line = append(line, x)
				}
				out = append(out, line)
			}
		}
	}
	return out
}
