// Package mlerr classifies mlbatch errors so that the command line can map every
// failure to one documented exit code in one place.
//
// Errors are wrapped once, at the boundary that knows the context (file, row, column),
// with Wrap or a *RowError. KindOf walks the wrap chain with errors.As.
package mlerr

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Kind is the class of a failure; each kind has its own exit code.
type Kind int

const (
	// Internal is a bug or an unclassified failure (exit 1).
	Internal Kind = iota
	// Usage is a bad flag, argument or combination of them (exit 2).
	Usage
	// Model is a model that cannot be found, resolved or loaded (exit 3).
	Model
	// Schema is an input whose columns do not fit the model (exit 4).
	Schema
	// Data is a bad value in the input data (exit 5).
	Data
	// IO is a failure to read the input or write the output (exit 6).
	IO
	// Interrupted is a run stopped by SIGINT or SIGTERM (exit 130).
	Interrupted
)

// ExitCode is the process exit status for an error of this kind.
func (k Kind) ExitCode() int {
	switch k {
	case Usage:
		return 2
	case Model:
		return 3
	case Schema:
		return 4
	case Data:
		return 5
	case IO:
		return 6
	case Interrupted:
		return 130
	default:
		return 1
	}
}

func (k Kind) String() string {
	switch k {
	case Usage:
		return "usage"
	case Model:
		return "model"
	case Schema:
		return "schema"
	case Data:
		return "data"
	case IO:
		return "io"
	case Interrupted:
		return "interrupted"
	default:
		return "internal"
	}
}

// Error attaches a Kind to an error without changing its message.
type Error struct {
	Kind Kind
	Err  error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Wrap classifies err as kind. A nil err stays nil. An error that already carries a
// kind keeps its own: the innermost classification is the most specific.
func Wrap(kind Kind, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Kind: kind, Err: err}
}

// Errorf formats an error of the given kind; %w works as in fmt.Errorf.
func Errorf(kind Kind, format string, args ...any) error {
	return &Error{Kind: kind, Err: fmt.Errorf(format, args...)}
}

// KindOf returns the most specific kind found in err's chain (the innermost *Error or
// *RowError), or Internal.
func KindOf(err error) Kind {
	kind := Internal
	for err != nil {
		switch e := err.(type) {
		case *Error:
			kind = e.Kind
		case *RowError:
			if e.Kind != Internal {
				kind = e.Kind
			} else {
				kind = Data
			}
		}
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			err = u.Unwrap()
		case interface{ Unwrap() []error }:
			errs := u.Unwrap()
			if len(errs) == 0 {
				return kind
			}
			err = errs[0]
		default:
			return kind
		}
	}
	return kind
}

// RowError is a bad value at a known place in the input. Row is the 1-based data row
// within File (the header is not counted); zero when unknown.
type RowError struct {
	File   string
	Row    int64
	Column string
	Value  string
	// Kind defaults to Data when zero.
	Kind Kind
	Err  error
}

func (e *RowError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
	}
	if e.Row > 0 {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString("row ")
		b.WriteString(strconv.FormatInt(e.Row, 10))
	}
	if e.Column != "" {
		if b.Len() > 0 {
			b.WriteString(": ")
		}
		b.WriteString("column ")
		b.WriteString(strconv.Quote(e.Column))
	}
	if e.Value != "" || e.Column != "" {
		if b.Len() > 0 {
			b.WriteString(": ")
		}
		b.WriteString("value ")
		b.WriteString(strconv.Quote(truncate(e.Value, 64)))
	}
	if e.Err != nil {
		if b.Len() > 0 {
			b.WriteString(": ")
		}
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *RowError) Unwrap() error { return e.Err }

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// AsRowError reports the *RowError in err's chain, if any.
func AsRowError(err error) (*RowError, bool) {
	var re *RowError
	ok := errors.As(err, &re)
	return re, ok
}

// Classified reports whether err carries a kind (an *Error or a *RowError).
func Classified(err error) bool {
	var e *Error
	var re *RowError
	return errors.As(err, &e) || errors.As(err, &re)
}
