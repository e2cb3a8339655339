package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/mlbatch/mlbatch/dataset"
	"github.com/mlbatch/mlbatch/internal/mlerr"
	"github.com/mlbatch/mlbatch/readers"
)

// mlbatch plan: how a dataset splits into shards, without a model and without
// reading any data (Parquet footers and CSV headers only), so a user can check
// the balance before launching N pods.

type planOptions struct {
	Ins              []string
	InFormat         string
	PartitionColumns bool
	ShardCount       int
	Shard            string
	JSON             bool
}

// planJSON is `mlbatch plan --json`. Field names are a stable interface.
type planJSON struct {
	Inputs           []string    `json:"inputs"`
	Format           string      `json:"format"`
	Files            int         `json:"files"`
	Rows             int64       `json:"rows"` // -1 when unknown (CSV)
	Bytes            int64       `json:"bytes"`
	PartitionColumns []planCol   `json:"partition_columns,omitempty"`
	ShardCount       int         `json:"shard_count"`
	Shards           []planShard `json:"shards"`
}

type planCol struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

type planShard struct {
	Index     int        `json:"index"`
	Files     int        `json:"files"`
	RowGroups int        `json:"row_groups"` // Parquet row groups (0 for CSV)
	Rows      int64      `json:"rows"`       // -1 when unknown (CSV)
	Bytes     int64      `json:"bytes"`
	Units     []planUnit `json:"units"`
}

type planUnit struct {
	File      string `json:"file"`
	RowGroups []int  `json:"row_groups,omitempty"` // absent: the whole file
	FirstRow  int64  `json:"first_row"`            // the unit's first row is first_row+1 of the file
	Rows      int64  `json:"rows"`
	Bytes     int64  `json:"bytes"`
}

func newPlanCmd(e env) *cobra.Command {
	o := &planOptions{}
	cmd := &cobra.Command{
		Use:   "plan --in DATASET [--shard-count N]",
		Short: "Print how a dataset splits into shards, without scoring",
		Long: `Print how score --shard i/n would split a dataset: per shard its files and
Parquet row groups, rows and bytes. Only Parquet footers and CSV headers are
read; no model is needed. The split is the one every score process of a
sharded run computes: contiguous runs of pieces (one per Parquet row group, one
per CSV file), balanced by rows for Parquet and by bytes for CSV.

` + exitCodesHelp,
		Example: `  # How would 8 pods share last night's partitions?
  mlbatch plan --in 'events/date=2024-01-0*' --shard-count 8

  # What does pod 3 of 8 read, as JSON
  mlbatch plan --in events/ --shard 3/8 --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runPlan(cmd, o, e.stdout)
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&o.Ins, "in", nil, "input (required): a file, a folder, a glob; repeat the flag or separate with commas for several")
	f.StringVar(&o.InFormat, "in-format", "", "input format: csv, parquet, arrow or jsonl (default: from the extensions)")
	f.BoolVar(&o.PartitionColumns, "partition-columns", false, "show the Hive partition columns (key=value/) and their types")
	f.IntVar(&o.ShardCount, "shard-count", 1, "the number of shards")
	f.StringVar(&o.Shard, "shard", "", "show only shard i of n (i/n), with its files")
	f.BoolVar(&o.JSON, "json", false, "print the plan as JSON")
	return cmd
}

func runPlan(cmd *cobra.Command, o *planOptions, stdout io.Writer) error {
	if len(o.Ins) == 0 {
		return mlerr.Errorf(mlerr.Usage, "required flag(s) --in not set")
	}
	for _, in := range o.Ins {
		if in == streamName {
			return mlerr.Errorf(mlerr.Usage, "plan: --in - (stdin) is not a dataset")
		}
	}
	count, only := o.ShardCount, -1
	if o.Shard != "" {
		i, n, err := dataset.ParseShard(o.Shard)
		if err != nil {
			return err
		}
		if cmd.Flags().Changed("shard-count") && o.ShardCount != n {
			return mlerr.Errorf(mlerr.Usage, "--shard %s and --shard-count %d disagree", o.Shard, o.ShardCount)
		}
		count, only = n, i
	}
	if count < 1 {
		return mlerr.Errorf(mlerr.Usage, "--shard-count must be at least 1, got %d", count)
	}
	switch o.InFormat {
	case "", "csv", "parquet", "arrow", "jsonl":
	default:
		return mlerr.Errorf(mlerr.Usage, "--in-format %q: want csv, parquet, arrow or jsonl", o.InFormat)
	}
	ctx := cmd.Context()
	ds, err := dataset.Find(ctx, o.Ins, dataset.FindOptions{Format: o.InFormat, PartitionColumns: o.PartitionColumns})
	if err != nil {
		return err
	}
	if err := ds.Inspect(ctx, readers.Options{}); err != nil {
		return classify(mlerr.IO, err)
	}
	p := planJSON{Inputs: o.Ins, Format: ds.Format, Files: len(ds.Files), ShardCount: count}
	for _, f := range ds.Files {
		p.Bytes += f.Size
	}
	whole := ds.Split(0, 1)
	p.Rows = whole.Rows()
	for k, key := range ds.PartitionKeys {
		p.PartitionColumns = append(p.PartitionColumns, planCol{Name: key, Type: ds.PartitionTypes[k].String()})
	}
	for i := range count {
		if only >= 0 && i != only {
			continue
		}
		s := ds.Split(i, count)
		ps := planShard{Index: i, Rows: s.Rows(), Bytes: s.Bytes(), Units: []planUnit{}}
		last := -1
		for _, u := range s.Units {
			f := ds.Files[u.File]
			if u.File != last {
				ps.Files++
				last = u.File
			}
			if f.Format == "parquet" {
				if u.Groups == nil {
					ps.RowGroups += len(f.RowGroups)
				} else {
					ps.RowGroups += len(u.Groups)
				}
			}
			ps.Units = append(ps.Units, planUnit{File: f.Name, RowGroups: u.Groups, FirstRow: u.FirstRow, Rows: u.Rows, Bytes: u.Bytes})
		}
		p.Shards = append(p.Shards, ps)
	}
	if o.JSON {
		data, err := json.MarshalIndent(p, "", "  ")
		if err != nil {
			return mlerr.Wrap(mlerr.Internal, err)
		}
		_, err = stdout.Write(append(data, '\n'))
		return err
	}
	p.writeText(stdout, only >= 0)
	return nil
}

func fmtRows(n int64) string {
	if n < 0 {
		return "?"
	}
	return fmt.Sprint(n)
}

func (p *planJSON) writeText(w io.Writer, units bool) {
	var b strings.Builder
	fmt.Fprintf(&b, "dataset  %s: %d %s files, %s rows, %s on disk\n", strings.Join(p.Inputs, ", "), p.Files, p.Format, fmtRows(p.Rows), fmtBytes(p.Bytes))
	if len(p.PartitionColumns) > 0 {
		var cols []string
		for _, c := range p.PartitionColumns {
			cols = append(cols, c.Name+" "+c.Type)
		}
		fmt.Fprintf(&b, "partition columns  %s\n", strings.Join(cols, ", "))
	}
	fmt.Fprintf(&b, "shards   %d\n", p.ShardCount)
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "shard\tfiles\trow groups\trows\tbytes\tshare\t")
	for _, s := range p.Shards {
		share := "?"
		switch {
		case p.Rows > 0 && s.Rows >= 0:
			share = fmt.Sprintf("%.1f%%", 100*float64(s.Rows)/float64(p.Rows))
		case p.Rows < 0 && p.Bytes > 0:
			share = fmt.Sprintf("%.1f%%", 100*float64(s.Bytes)/float64(p.Bytes))
		}
		fmt.Fprintf(tw, "%d\t%d\t%d\t%s\t%s\t%s\t\n", s.Index, s.Files, s.RowGroups, fmtRows(s.Rows), fmtBytes(s.Bytes), share)
	}
	tw.Flush()
	if units {
		for _, s := range p.Shards {
			fmt.Fprintf(&b, "shard %d reads:\n", s.Index)
			if len(s.Units) == 0 {
				b.WriteString("  nothing (fewer pieces than shards): it writes an empty part and its marker\n")
			}
			for _, u := range s.Units {
				what := "whole file"
				if u.RowGroups != nil {
					what = fmt.Sprintf("row groups %d-%d", u.RowGroups[0], u.RowGroups[len(u.RowGroups)-1])
				}
				fmt.Fprintf(&b, "  %s  %s, rows %s from row %d\n", u.File, what, fmtRows(u.Rows), u.FirstRow+1)
			}
		}
	}
	io.WriteString(w, b.String())
}
