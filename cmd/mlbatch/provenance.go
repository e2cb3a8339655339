package main

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/parquet/file"

	"github.com/mlbatch/mlbatch/internal/mlerr"
)

// Provenance keys written into the footer of every Parquet output. The values are
// strings; mlbatch.inputs is a JSON array of the input paths as given.
const (
	provModelURI  = "mlbatch.model_uri"
	provLocation  = "mlbatch.model_location"
	provRunID     = "mlbatch.run_id"
	provModelUUID = "mlbatch.model_uuid"
	provModelID   = "mlbatch.model_id"
	provFlavor    = "mlbatch.flavor"
	provEstimator = "mlbatch.estimator"
	provVersion   = "mlbatch.version"
	provInputs    = "mlbatch.inputs"
	provCreated   = "mlbatch.created_at"
)

// provenanceKeys lists the keys in the order inspect shows them.
var provenanceKeys = []string{provModelURI, provLocation, provRunID, provModelUUID, provModelID,
	provFlavor, provEstimator, provVersion, provInputs, provCreated}

// creationTime is now, or SOURCE_DATE_EPOCH (seconds since 1970) when set, so that
// a rerun over the same input can give byte-identical output.
func creationTime() time.Time {
	if s := os.Getenv("SOURCE_DATE_EPOCH"); s != "" {
		if sec, err := strconv.ParseInt(s, 10, 64); err == nil {
			return time.Unix(sec, 0).UTC()
		}
	}
	return time.Now().UTC()
}

// provenance is the key-value metadata for an output written by this run.
func provenance(s *runSummary) map[string]string {
	inputs, _ := json.Marshal(inputPaths(s.Inputs))
	md := map[string]string{
		provModelURI:  s.Model.URI,
		provLocation:  s.Model.Location,
		provRunID:     s.Model.RunID,
		provModelUUID: s.Model.ModelUUID,
		provModelID:   s.Model.ModelID,
		provFlavor:    s.Model.Flavor,
		provEstimator: s.Model.Estimator,
		provVersion:   versionString(),
		provInputs:    string(inputs),
		provCreated:   creationTime().Format(time.RFC3339),
	}
	for k, v := range md {
		if v == "" {
			delete(md, k)
		}
	}
	return md
}

func inputPaths(ins []summaryInput) []string {
	out := make([]string, 0, len(ins))
	for _, in := range ins {
		out = append(out, in.Path)
	}
	return out
}

// outputInfo is what `mlbatch inspect --output` shows about a Parquet file.
type outputInfo struct {
	Path       string            `json:"path"`
	Rows       int64             `json:"rows"`
	RowGroups  int               `json:"row_groups"`
	CreatedBy  string            `json:"created_by"`
	Columns    []columnInfo      `json:"columns"`
	Provenance map[string]string `json:"provenance"`
	// Inputs is mlbatch.inputs decoded.
	Inputs []string `json:"inputs,omitempty"`
}

// readOutputInfo reads a Parquet file's footer.
func readOutputInfo(path string) (info *outputInfo, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = mlerr.Errorf(mlerr.IO, "%s: not a readable Parquet file: %v", path, p)
		}
	}()
	r, err := file.OpenParquetFile(path, false)
	if err != nil {
		return nil, mlerr.Wrap(mlerr.IO, fmt.Errorf("%s: %w", path, err))
	}
	defer r.Close()
	md := r.MetaData()
	info = &outputInfo{Path: path, Rows: md.NumRows, RowGroups: md.NumRowGroups(), CreatedBy: md.GetCreatedBy(),
		Provenance: map[string]string{}}
	schema := md.Schema
	for i := range schema.NumColumns() {
		c := schema.Column(i)
		typ := c.PhysicalType().String()
		if lt := c.LogicalType(); lt != nil && !lt.IsNone() {
			typ = lt.String()
		}
		info.Columns = append(info.Columns, columnInfo{Name: c.Path(), Type: typ})
	}
	kv := md.KeyValueMetadata()
	for i, k := range kv.Keys() {
		if strings.HasPrefix(k, "mlbatch.") {
			info.Provenance[k] = kv.Values()[i]
		}
	}
	if s, ok := info.Provenance[provInputs]; ok {
		json.Unmarshal([]byte(s), &info.Inputs)
	}
	return info, nil
}

// sortedProvenanceKeys gives the known keys first, in their order, then any other.
func sortedProvenanceKeys(md map[string]string) []string {
	var out, rest []string
	for _, k := range provenanceKeys {
		if _, ok := md[k]; ok {
			out = append(out, k)
		}
	}
	for k := range md {
		if !slices.Contains(provenanceKeys, k) {
			rest = append(rest, k)
		}
	}
	slices.Sort(rest)
	return append(out, rest...)
}
