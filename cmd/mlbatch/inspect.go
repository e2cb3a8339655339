package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/mlbatch/mlbatch/internal/mlerr"
	"github.com/mlbatch/mlbatch/model"
	"github.com/mlbatch/mlbatch/model/pickle"
	"github.com/mlbatch/mlbatch/model/sklearn"
)

// inspectOptions holds the flags of `mlbatch inspect`.
type inspectOptions struct {
	TrackingURI   string
	ArtifactsRoot string
	CacheDir      string
	Output        string
	Proba         bool
	JSON          bool
	Stdout        io.Writer
	Stderr        io.Writer
}

// columnInfo is one column of a model's inputs or outputs, or of an output file.
type columnInfo struct {
	Name     string `json:"name"`
	Type     string `json:"type"`
	Optional bool   `json:"optional,omitempty"`
}

// modelReport is what `mlbatch inspect MODEL` shows.
type modelReport struct {
	URI           string   `json:"uri"`
	Location      string   `json:"location"`
	Flavors       []string `json:"flavors"` // as listed in MLmodel
	Flavor        string   `json:"flavor,omitempty"`
	Estimator     string   `json:"estimator,omitempty"`
	MLflowVersion string   `json:"mlflow_version,omitempty"`
	RunID         string   `json:"run_id,omitempty"`
	ModelUUID     string   `json:"model_uuid,omitempty"`
	ModelID       string   `json:"model_id,omitempty"`
	Created       string   `json:"utc_time_created,omitempty"`
	// InputsFrom says where the input columns come from: "signature",
	// "feature_names_in_" (the fitted estimator) or "positional".
	InputsFrom string       `json:"inputs_from"`
	Inputs     []columnInfo `json:"inputs"`
	Outputs    []columnInfo `json:"outputs"`
	Scorable   bool         `json:"scorable"`
	// Reason names what mlbatch lacks when Scorable is false (a flavor, class or
	// feature).
	Reason string `json:"reason,omitempty"`
	// Tree is the whole scikit-learn model, every class marked supported or
	// not (sklearn flavor only).
	Tree *sklearn.Tree `json:"tree,omitempty"`
	// TreeError says why the tree could not be read.
	TreeError string `json:"tree_error,omitempty"`
}

const inspectExamples = `  # What does the demo model need, and can mlbatch score it?
  mlbatch inspect --tracking-uri testdata/demo/mlruns runs:/d050509c3eccff80e45131fc149d7535/model

  # The same, as JSON
  mlbatch inspect --json testdata/models/dtree_clf_iris

  # Where did this output come from?
  mlbatch inspect --output /tmp/preds.parquet`

func newInspectCmd(e env) *cobra.Command {
	o := &inspectOptions{Stdout: e.stdout, Stderr: e.stderr}
	cmd := &cobra.Command{
		Use:   "inspect MODEL-URI | inspect --output FILE.parquet",
		Short: "Show what a model needs and produces, or where an output came from",
		Long: `inspect MODEL-URI resolves the model (with the same URIs and stores as score) and
shows its resolved location, flavor, estimator, input columns with types in order,
output columns, MLflow version and run id, and whether mlbatch can score it. When
it cannot, the reason names the flavor, class or feature that is missing, and the
exit code is 3.

For a scikit-learn model it also shows the whole tree: Pipeline steps,
ColumnTransformer transformers with their column selections, FeatureUnion parts,
nested meta-estimators and the final estimator, each with a few key
hyper-parameters, then every class the file names, marked supported or MISSING.
The file is decoded for this with every class let through as inert data, so one
missing class does not hide the next; nothing in it is ever run.

inspect --output FILE reads back the provenance mlbatch writes into every Parquet
output: mlbatch.model_uri, mlbatch.run_id, mlbatch.model_uuid or mlbatch.model_id,
mlbatch.flavor, mlbatch.estimator, mlbatch.version, mlbatch.inputs (a JSON list of
the input paths) and mlbatch.created_at.

` + exitCodesHelp,
		Example: inspectExamples,
		Args: func(cmd *cobra.Command, args []string) error {
			if o.Output != "" {
				if len(args) > 0 {
					return mlerr.Errorf(mlerr.Usage, "give a model URI or --output, not both")
				}
				return nil
			}
			if len(args) != 1 {
				return mlerr.Errorf(mlerr.Usage, "inspect takes one model URI (or --output FILE)")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.Output != "" {
				return runInspectOutput(o)
			}
			o.TrackingURI = firstNonEmpty(o.TrackingURI, os.Getenv("MLFLOW_TRACKING_URI"))
			o.ArtifactsRoot = firstNonEmpty(o.ArtifactsRoot, os.Getenv("MLBATCH_ARTIFACTS_ROOT"))
			o.CacheDir = firstNonEmpty(o.CacheDir, os.Getenv("MLBATCH_CACHE_DIR"))
			return runInspectModel(cmd.Context(), o, args[0])
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.TrackingURI, "tracking-uri", "", "tracking store for runs:/ and models:/ URIs (default $MLFLOW_TRACKING_URI, else ./mlruns or ./mlflow.db)")
	f.StringVar(&o.ArtifactsRoot, "artifacts-root", "", "folder holding a tracking server's mlflow-artifacts:/ files (default $MLBATCH_ARTIFACTS_ROOT)")
	f.StringVar(&o.CacheDir, "cache-dir", "", "where models downloaded from a tracking server are kept (default $MLBATCH_CACHE_DIR)")
	f.StringVar(&o.Output, "output", "", "a Parquet file written by mlbatch score: show its provenance instead of a model")
	f.BoolVar(&o.Proba, "proba", false, "show the outputs of score --proba (one probability column per class)")
	f.BoolVar(&o.JSON, "json", false, "print JSON")
	return cmd
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

func typeName(c model.Column) string {
	if c.Type == nil {
		return "any"
	}
	return c.Type.String()
}

func runInspectModel(ctx context.Context, o *inspectOptions, uri string) error {
	dir, err := model.Resolve(uri, model.ResolveOptions{TrackingURI: o.TrackingURI, ArtifactsRoot: o.ArtifactsRoot, CacheDir: o.CacheDir, Context: ctx})
	if err != nil {
		return err
	}
	m, mm, loadErr := model.Load(dir, model.LoadOptions{Proba: o.Proba})
	if mm == nil {
		return loadErr
	}
	r := modelReport{URI: uri, Location: dir, MLflowVersion: mm.MLflowVersion, RunID: mm.RunID,
		ModelUUID: mm.ModelUUID, ModelID: mm.ModelID, Created: mm.UTCTimeCreated, Scorable: loadErr == nil}
	for f := range mm.Flavors {
		r.Flavors = append(r.Flavors, f)
	}
	slices.Sort(r.Flavors)
	if _, ok := mm.Flavors["sklearn"]; ok && (loadErr != nil || m.Info().Flavor == "sklearn") {
		if t, err := sklearn.Inspect(mm); err != nil {
			r.TreeError = err.Error()
		} else {
			r.Tree = t
		}
	}
	var inputs, outputs []model.Column
	if loadErr == nil {
		r.Flavor, r.Estimator = m.Info().Flavor, m.Info().Estimator
		inputs, outputs = m.Inputs(), m.Outputs()
	} else {
		r.Reason = loadErr.Error()
		inputs, _ = model.SignatureInputs(mm)
		if mm.Signature != nil && mm.Signature.Outputs != nil {
			for _, c := range mm.Signature.Outputs.Columns {
				typ, _ := model.ArrowType(c.Type)
				outputs = append(outputs, model.Column{Name: c.Name, Type: typ})
			}
		}
	}
	switch {
	case len(inputs) > 0 && inputs[0].Signature:
		r.InputsFrom = "signature"
	case len(inputs) > 0 && !model.Positional(inputs):
		r.InputsFrom = "feature_names_in_"
	default:
		r.InputsFrom = "positional"
	}
	r.Inputs, r.Outputs = []columnInfo{}, []columnInfo{}
	for _, c := range inputs {
		r.Inputs = append(r.Inputs, columnInfo{Name: c.Name, Type: typeName(c), Optional: !c.Required && c.Signature})
	}
	for _, c := range outputs {
		r.Outputs = append(r.Outputs, columnInfo{Name: c.Name, Type: typeName(c)})
	}
	if o.JSON {
		if err := writeJSONTo(o.Stdout, r); err != nil {
			return err
		}
	} else {
		r.writeText(o.Stdout)
	}
	if loadErr != nil {
		return loadErr
	}
	return nil
}

func writeJSONTo(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return mlerr.Wrap(mlerr.IO, err)
	}
	return nil
}

func (r *modelReport) writeText(w io.Writer) {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(tw, "%s\t%s\n", k, v)
		}
	}
	row("model", r.URI)
	row("location", r.Location)
	flavor := r.Flavor
	if flavor == "" {
		flavor = "(not loaded)"
	}
	row("flavor", fmt.Sprintf("%s (MLmodel has %s)", flavor, strings.Join(r.Flavors, ", ")))
	row("estimator", r.Estimator)
	row("mlflow", r.MLflowVersion)
	row("run id", r.RunID)
	row("model uuid", r.ModelUUID)
	row("model id", r.ModelID)
	row("created", r.Created)
	if r.Scorable {
		row("scorable", "yes")
	} else {
		row("scorable", "no: "+r.Reason)
	}
	if r.Tree != nil && !r.Scorable {
		row("missing", r.Tree.Reason())
	}
	tw.Flush()
	fmt.Fprintf(&b, "inputs (%d, %s):\n", len(r.Inputs), map[string]string{
		"signature":         "by name from the signature, in this order",
		"feature_names_in_": "by name from the estimator's feature_names_in_",
		"positional":        "by position: the input's columns in order",
	}[r.InputsFrom])
	tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	for i, c := range r.Inputs {
		name := c.Name
		if name == "" {
			name = fmt.Sprintf("(column %d)", i+1)
		}
		opt := ""
		if c.Optional {
			opt = "optional"
		}
		fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\n", i+1, name, c.Type, opt)
	}
	tw.Flush()
	fmt.Fprintf(&b, "outputs (%d):\n", len(r.Outputs))
	tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	for _, c := range r.Outputs {
		fmt.Fprintf(tw, "  %s\t%s\n", c.Name, c.Type)
	}
	tw.Flush()
	if r.TreeError != "" {
		fmt.Fprintf(&b, "model tree: cannot be read: %s\n", r.TreeError)
	}
	if r.Tree != nil {
		writeTree(&b, r.Tree)
	}
	io.WriteString(w, b.String())
}

func runInspectOutput(o *inspectOptions) error {
	info, err := readOutputInfo(o.Output)
	if err != nil {
		return err
	}
	if o.JSON {
		return writeJSONTo(o.Stdout, info)
	}
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "file\t%s\n", info.Path)
	fmt.Fprintf(tw, "rows\t%d in %d row groups\n", info.Rows, info.RowGroups)
	fmt.Fprintf(tw, "created by\t%s\n", info.CreatedBy)
	if len(info.Provenance) == 0 {
		fmt.Fprintf(tw, "provenance\tnone (not written by mlbatch, or by a version before provenance)\n")
	}
	for _, k := range sortedProvenanceKeys(info.Provenance) {
		fmt.Fprintf(tw, "%s\t%s\n", k, info.Provenance[k])
	}
	tw.Flush()
	fmt.Fprintf(&b, "columns (%d):\n", len(info.Columns))
	tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	for _, c := range info.Columns {
		fmt.Fprintf(tw, "  %s\t%s\n", c.Name, c.Type)
	}
	tw.Flush()
	_, err = io.WriteString(o.Stdout, b.String())
	return err
}

// withInspectHint adds to a model load error caused by a class or function
// mlbatch does not rebuild a pointer to inspect, which shows the whole model
// with every class marked supported or not. The error keeps its kind (model).
func withInspectHint(err error, uri string) error {
	var u *pickle.UnsupportedError
	if !errors.As(err, &u) && !strings.Contains(err.Error(), "cannot run arbitrary Python code") {
		return err
	}
	return mlerr.Wrap(mlerr.Model, fmt.Errorf("%w; run \"mlbatch inspect %s\" to see where it sits in the model and which of its classes mlbatch supports", err, uri))
}
