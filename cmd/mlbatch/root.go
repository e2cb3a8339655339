package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/spf13/cobra"

	"github.com/mlbatch/mlbatch/internal/bufpool"
	"github.com/mlbatch/mlbatch/internal/mlerr"
	_ "github.com/mlbatch/mlbatch/model/lightgbm" // registers the lightgbm flavor
	_ "github.com/mlbatch/mlbatch/model/sklearn"  // registers the sklearn flavor
	_ "github.com/mlbatch/mlbatch/model/xgboost"  // registers the xgboost flavor
)

const exitCodesHelp = `Exit codes:
  0    success
  1    internal error (a bug: please report it)
  2    usage: a bad flag or argument
  3    model: the model URI cannot be resolved or the model cannot be loaded
  4    schema: the input's columns do not fit the model
  5    data: a bad value in the input (--on-error=fail), or more rejected rows
       than --max-rejects allows (--on-error=skip)
  6    I/O: the input cannot be read or the output cannot be written
  130  interrupted by SIGINT or SIGTERM (temporary files are removed)`

// env is what a command run talks to; tests substitute buffers and a checked
// allocator.
type env struct {
	stdout, stderr io.Writer
	mem            memory.Allocator
	// logs holds --log-format and --log-level and the logger built from them.
	logs *logState
	// prof holds the hidden profiling flags.
	prof *profiles
}

// run executes the command line and returns the process exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return runEnv(ctx, args, env{stdout: stdout, stderr: stderr, mem: bufpool.New()})
}

func runEnv(ctx context.Context, args []string, e env) int {
	stderr := e.stderr
	if e.prof == nil {
		e.prof = &profiles{}
	}
	root := newRootCmd(e)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	e.prof.stop(stderr)
	if err == nil {
		return 0
	}
	if !mlerr.Classified(err) {
		// Errors cobra raises itself (unknown flag, bad argument count).
		err = mlerr.Wrap(mlerr.Usage, err)
	}
	if ctx.Err() != nil && errors.Is(err, context.Canceled) {
		err = mlerr.Wrap(mlerr.Interrupted, err)
	}
	fmt.Fprintf(stderr, "mlbatch: %v\n", err)
	return mlerr.KindOf(err).ExitCode()
}

func newRootCmd(e env) *cobra.Command {
	root := &cobra.Command{
		Use:   "mlbatch",
		Short: "Batch-score MLflow models over CSV and Parquet",
		Long: `mlbatch scores MLflow models (scikit-learn and more) over CSV and Parquet files,
without Python, Spark or a JVM. It streams the input as Arrow record batches, fans
them across a worker pool and writes the predictions in input order. A failed run
never leaves a partial output under the final name.

Every flag can also be set from an environment variable named MLBATCH_ and the
flag's name in capitals with - as _ (MLBATCH_WORKERS=4 for --workers 4); a flag
given on the command line wins.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	if e.logs == nil {
		e.logs = &logState{w: e.stderr}
	}
	e.logs.addFlags(root.PersistentFlags())
	if e.prof == nil {
		e.prof = &profiles{}
	}
	e.prof.addFlags(root.PersistentFlags())
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		if err := applyEnv(cmd, os.Getenv); err != nil {
			return err
		}
		verbose := false
		if f := cmd.Flags().Lookup("verbose"); f != nil {
			verbose = f.Value.String() == "true"
		}
		if err := e.logs.setup(verbose); err != nil {
			return err
		}
		return e.prof.start()
	}
	root.SetOut(e.stdout)
	root.SetErr(e.stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return mlerr.Wrap(mlerr.Usage, err)
	})
	root.AddCommand(newScoreCmd(e), newVersionCmd(e.stdout))
	root.AddCommand(newInspectCmd(e), newCompletionCmd(e))
	root.AddCommand(newServeCmd(e), newPlanCmd(e))
	return root
}
