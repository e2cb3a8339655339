package xgboost

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The fuzzers call the decoders without decodeSafe's recover, so that any
// panic is a finding. Seeds: the tiny models in testdata/xgboost/seeds plus the
// corpus committed in testdata/fuzz/<FuzzName>.

func addSeeds(f *testing.F, ext string) {
	entries, err := os.ReadDir(seedDir)
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ext) {
			data, err := os.ReadFile(filepath.Join(seedDir, e.Name()))
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
}

// exercise runs what a load and a prediction would run on a model that passed
// validation.
func exercise(b *booster) {
	if b.numFeature <= 4096 && b.numOutput <= 4096 {
		probe(b)
	}
	_, _ = readSklearnMeta(b.attributes)
	for rounds := 0; rounds <= len(b.layerEnds)+1; rounds++ {
		_, _ = b.treeEndFor(rounds)
	}
}

func FuzzLoadJSON(f *testing.F) {
	addSeeds(f, ".json")
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := parseJSON(data)
		if err != nil {
			return
		}
		raw, err := fromDocument(doc, "json")
		if err != nil {
			return
		}
		if b, err := build(raw); err == nil {
			exercise(b)
		}
	})
}

func FuzzLoadUBJSON(f *testing.F) {
	addSeeds(f, ".ubj")
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := parseUBJSON(data)
		if err != nil {
			return
		}
		raw, err := fromDocument(doc, "ubjson")
		if err != nil {
			return
		}
		if b, err := build(raw); err == nil {
			exercise(b)
		}
	})
}

func FuzzLoadBinary(f *testing.F) {
	addSeeds(f, ".bin")
	f.Fuzz(func(t *testing.T, data []byte) {
		raw, err := parseBinary(data)
		if err != nil {
			return
		}
		if b, err := build(raw); err == nil {
			exercise(b)
		}
	})
}
