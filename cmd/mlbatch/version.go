package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = ""

func versionString() string {
	v := version
	if v == "" {
		v = "devel"
		if bi, ok := debug.ReadBuildInfo(); ok {
			if bi.Main.Version != "" && bi.Main.Version != "(devel)" {
				v = bi.Main.Version
			}
			for _, s := range bi.Settings {
				if s.Key == "vcs.revision" && len(s.Value) >= 12 && !strings.Contains(v, s.Value[:12]) {
					v += "+" + s.Value[:12]
				}
			}
		}
	}
	return fmt.Sprintf("mlbatch %s (%s, %s/%s)", v, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

// buildDetails lists the module path and version and the VCS commit from the
// build info, as "key value" lines.
func buildDetails() [][2]string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return nil
	}
	out := [][2]string{{"module", bi.Main.Path + " " + bi.Main.Version}}
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	if rev := settings["vcs.revision"]; rev != "" {
		if settings["vcs.modified"] == "true" {
			rev += " (modified)"
		}
		out = append(out, [2]string{"commit", rev})
	}
	if t := settings["vcs.time"]; t != "" {
		out = append(out, [2]string{"commit time", t})
	}
	return out
}

func newVersionCmd(stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print the mlbatch version, module and commit",
		Example: "  mlbatch version",
		Args:    cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			var b strings.Builder
			fmt.Fprintln(&b, versionString())
			for _, kv := range buildDetails() {
				fmt.Fprintf(&b, "  %-12s%s\n", kv[0], kv[1])
			}
			_, err := io.WriteString(stdout, b.String())
			return err
		},
	}
}
