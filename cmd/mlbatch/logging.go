package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/mlbatch/mlbatch/internal/mlerr"
)

// logState holds the global --log-format and --log-level flags and the logger
// built from them once the flags are parsed.
type logState struct {
	Format string
	Level  string
	w      io.Writer
	logger *slog.Logger
}

func (l *logState) addFlags(f *pflag.FlagSet) {
	f.StringVar(&l.Format, "log-format", "text", "log format on stderr: text (mlbatch: level: message) or json (one slog record a line)")
	f.StringVar(&l.Level, "log-level", "info", "least severe log level shown: debug, info, warn or error (-v is debug)")
}

// setup builds the logger; verbose lowers the level to debug.
func (l *logState) setup(verbose bool) error {
	var level slog.Level
	if err := level.UnmarshalText([]byte(l.Level)); err != nil {
		return mlerr.Errorf(mlerr.Usage, "--log-level %q: want debug, info, warn or error", l.Level)
	}
	if verbose {
		level = min(level, slog.LevelDebug)
	}
	switch l.Format {
	case "text":
		l.logger = slog.New(&plainHandler{w: l.w, level: level, mu: &sync.Mutex{}})
	case "json":
		l.logger = slog.New(slog.NewJSONHandler(l.w, &slog.HandlerOptions{Level: level}))
	default:
		return mlerr.Errorf(mlerr.Usage, "--log-format %q: want text or json", l.Format)
	}
	return nil
}

// get returns the logger (a text one at info level before setup).
func (l *logState) get() *slog.Logger {
	if l.logger == nil {
		w := l.w
		if w == nil {
			w = os.Stderr
		}
		return slog.New(&plainHandler{w: w, level: slog.LevelInfo, mu: &sync.Mutex{}})
	}
	return l.logger
}

// plainHandler writes "mlbatch: warning: message key=value" lines, the form
// mlbatch's notes had before slog; info records carry no level word.
type plainHandler struct {
	w     io.Writer
	level slog.Level
	attrs []slog.Attr
	mu    *sync.Mutex
}

func (h *plainHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level }

func (h *plainHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString("mlbatch: ")
	switch {
	case r.Level >= slog.LevelError:
		b.WriteString("error: ")
	case r.Level >= slog.LevelWarn:
		b.WriteString("warning: ")
	case r.Level < slog.LevelInfo:
		b.WriteString("debug: ")
	}
	b.WriteString(r.Message)
	write := func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value.Resolve())
		return true
	}
	for _, a := range h.attrs {
		write(a)
	}
	r.Attrs(write)
	b.WriteByte('\n')
	h.mu.Lock()
	defer h.mu.Unlock()
	_, err := io.WriteString(h.w, b.String())
	return err
}

func (h *plainHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	c := *h
	c.attrs = append(append([]slog.Attr(nil), h.attrs...), attrs...)
	return &c
}

func (h *plainHandler) WithGroup(string) slog.Handler { return h }

// applyEnv sets every flag of cmd the command line left unset from its MLBATCH_*
// environment variable (--batch-size from MLBATCH_BATCH_SIZE): explicit flags win.
func applyEnv(cmd *cobra.Command, getenv func(string) string) error {
	var err error
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if err != nil || f.Changed || f.Name == "help" {
			return
		}
		name := envName(f.Name)
		v := getenv(name)
		if v == "" {
			return
		}
		if serr := cmd.Flags().Set(f.Name, v); serr != nil {
			err = mlerr.Errorf(mlerr.Usage, "%s=%q: %v", name, v, serr)
		}
	})
	return err
}

func envName(flag string) string {
	return "MLBATCH_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}
