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

// commit is the git commit make build passes with -ldflags "-X main.commit=..."
// ("<sha>" or "<sha>-dirty"), for builds without Go's VCS stamping.
var commit = ""

// revision is the commit the binary was built from and whether the tree had
// changes: Go's VCS stamp, else the commit make build passed in.
func revision(settings map[string]string) (rev string, modified bool) {
	if rev = settings["vcs.revision"]; rev != "" {
		return rev, settings["vcs.modified"] == "true"
	}
	rev, dirty := strings.CutSuffix(commit, "-dirty")
	return rev, dirty
}

func buildSettings() map[string]string {
	settings := map[string]string{}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			settings[s.Key] = s.Value
		}
	}
	return settings
}

func versionString() string {
	v := version
	if v == "" {
		v = "devel"
		if bi, ok := debug.ReadBuildInfo(); ok {
			if bi.Main.Version != "" && bi.Main.Version != "(devel)" {
				v = bi.Main.Version
			}
			if rev, _ := revision(buildSettings()); len(rev) >= 12 && !strings.Contains(v, rev[:12]) {
				v += "+" + rev[:12]
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
	settings := buildSettings()
	if rev, modified := revision(settings); rev != "" {
		if modified {
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
