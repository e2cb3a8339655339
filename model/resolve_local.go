package model

import (
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// localArtifacts finds artifact locations recorded in a store on local disk.
// Stores are often copied from another machine or committed to git: a recorded
// absolute location (file:///C:/Users/..., /workspaces/..., percent-encoded) is
// re-rooted onto the local store by the longest suffix of its path that exists.
type localArtifacts struct {
	storeDir string   // the file store folder, or the folder holding mlflow.db
	bases    []string // folders tried as re-rooting bases, best first
	root     string   // where mlflow-artifacts:/ paths live
	trash    string   // the file store's .trash folder ("" for SQL stores)
	opts     ResolveOptions
}

// newLocalArtifacts sets up re-rooting around a store folder. parentToo adds the
// folder above it (a file store's mlruns/ sits in the project folder whose other
// folders may hold artifacts).
func newLocalArtifacts(storeDir string, parentToo bool, opts ResolveOptions) *localArtifacts {
	a := &localArtifacts{storeDir: storeDir, opts: opts}
	beside := filepath.Dir(filepath.Clean(storeDir))
	if !parentToo {
		beside = storeDir
	}
	a.root = opts.ArtifactsRoot
	if a.root == "" {
		a.root = filepath.Join(beside, "mlartifacts")
		if !isDir(a.root) && isDir(filepath.Join(beside, "mlflow-artifacts")) {
			a.root = filepath.Join(beside, "mlflow-artifacts")
		}
	}
	a.bases = []string{storeDir}
	if parentToo {
		a.bases = append(a.bases, beside)
	}
	a.bases = append(a.bases, a.root)
	for _, d := range []string{"mlartifacts", "mlflow-artifacts"} {
		if p := filepath.Join(beside, d); p != a.root {
			a.bases = append(a.bases, p)
		}
	}
	return a
}

// candidates lists local folders where an artifact location may be found, best
// first: the recorded path when it exists here, the artifacts root for
// mlflow-artifacts:/ locations, the store's own folder for it, and the recorded
// path re-rooted onto the store.
func (a *localArtifacts) candidates(loc artLoc) []string {
	var out []string
	add := func(p string) {
		if !contains(out, p) {
			out = append(out, p)
		}
	}
	local, comps, artifactsPath := locationPath(loc.uri)
	if local != "" && isDir(local) {
		add(local)
	}
	if artifactsPath != "" {
		if p := filepath.Join(a.root, filepath.FromSlash(artifactsPath)); isDir(p) {
			add(p)
		}
	}
	if loc.def != "" && isDir(loc.def) {
		add(loc.def)
	}
	if p := a.reroot(comps); p != "" {
		if !contains(out, p) {
			a.opts.debugf("re-rooted %s onto %s", loc.uri, p)
			add(p)
		}
	}
	if len(out) == 0 && loc.def != "" {
		add(loc.def)
	}
	return out
}

// reroot finds the longest suffix (at least two components) of comps that exists
// under one of the bases.
func (a *localArtifacts) reroot(comps []string) string {
	for i := 0; i < len(comps)-1; i++ {
		suffix := filepath.Join(comps[i:]...)
		for _, b := range a.bases {
			if p := filepath.Join(b, suffix); isDir(p) {
				return p
			}
		}
	}
	return ""
}

// inTrash reports where under the file store's .trash the location's files are,
// when its experiment was deleted.
func (a *localArtifacts) inTrash(loc artLoc) string {
	if a.trash == "" || !isDir(a.trash) {
		return ""
	}
	_, comps, _ := locationPath(loc.uri)
	for i := 0; i < len(comps)-1; i++ {
		if p := filepath.Join(a.trash, filepath.Join(comps[i:]...)); isDir(p) {
			return p
		}
	}
	return ""
}

func (a *localArtifacts) has(loc artLoc, sub string) (bool, error) {
	for _, c := range a.candidates(loc) {
		if exists(filepath.Join(c, filepath.FromSlash(sub), "MLmodel")) {
			return true, nil
		}
	}
	if blobScheme(loc.uri) {
		return (&blobArtifacts{opts: a.opts}).has(loc, sub)
	}
	return false, nil
}

// remote reports whether loc is in an object store and has no local copy (a
// store copied with its artifacts is read from disk, as before).
func (a *localArtifacts) remote(loc artLoc) bool {
	if !blobScheme(loc.uri) {
		return false
	}
	for _, c := range a.candidates(loc) {
		if isDir(c) {
			return false
		}
	}
	return true
}

func (a *localArtifacts) fetch(loc artLoc, sub string) (string, error) {
	if a.remote(loc) {
		return (&blobArtifacts{opts: a.opts}).fetch(loc, sub)
	}
	cands := a.candidates(loc)
	for _, c := range cands {
		dir := filepath.Join(c, filepath.FromSlash(sub))
		if exists(filepath.Join(dir, "MLmodel")) {
			if a.trash != "" && within(a.trash, dir) {
				return "", fmt.Errorf("%s is in %s: its experiment was deleted: %w", dir, a.trash, errDeletedExperiment)
			}
			return dir, nil
		}
	}
	if t := a.inTrash(loc); t != "" {
		return "", fmt.Errorf("%s is in %s: its experiment was deleted: %w", loc.uri, t, errDeletedExperiment)
	}
	what := loc.uri
	if sub != "" {
		what += " path " + sub
	}
	for _, c := range cands {
		if isDir(filepath.Join(c, filepath.FromSlash(sub))) {
			return "", notFoundf("no MLmodel file at %s (looked in %s)", what, a.describeLoc(loc))
		}
	}
	return "", notFoundf("no model found at %s (looked in %s)", what, a.describeLoc(loc))
}

func (a *localArtifacts) scan(loc artLoc, depth int) ([]string, error) {
	if a.remote(loc) {
		return (&blobArtifacts{opts: a.opts}).scan(loc, depth)
	}
	var out []string
	seen := map[string]bool{}
	for _, art := range a.candidates(loc) {
		_ = filepath.WalkDir(art, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			rel, _ := filepath.Rel(art, path)
			if d.IsDir() && strings.Count(rel, string(filepath.Separator)) >= depth {
				return filepath.SkipDir
			}
			if !d.IsDir() && d.Name() == "MLmodel" {
				p := filepath.ToSlash(filepath.Dir(rel))
				if p != "." && !seen[p] {
					seen[p] = true
					out = append(out, p)
				}
			}
			return nil
		})
	}
	return out, nil
}

func (a *localArtifacts) describeLoc(loc artLoc) string {
	if a.remote(loc) {
		return (&blobArtifacts{opts: a.opts}).describeLoc(loc)
	}
	cands := a.candidates(loc)
	if len(cands) == 0 {
		if _, _, ap := locationPath(loc.uri); ap != "" {
			return loc.uri + " under the artifacts root " + a.root + " (set --artifacts-root or MLBATCH_ARTIFACTS_ROOT)"
		}
		return loc.uri + " and its re-rootings under " + a.storeDir
	}
	return strings.Join(cands, ", ")
}

// locationPath decodes an artifact location: its local path (when it is one),
// its path components for re-rooting, and for mlflow-artifacts: URIs the path
// under the artifacts root.
func locationPath(location string) (local string, comps []string, artifactsPath string) {
	if location == "" {
		return "", nil, ""
	}
	p := location
	switch scheme := uriScheme(location); scheme {
	case "":
		local = location
		if q, err := url.PathUnescape(location); err == nil && q != location && !exists(location) {
			p = q
		}
	default:
		u, err := url.Parse(location)
		if err != nil {
			return "", nil, ""
		}
		p = u.Path
		if p == "" {
			p = u.Opaque
			if q, err := url.PathUnescape(p); err == nil {
				p = q
			}
		}
		switch scheme {
		case "file":
			if lp, err := fileURIPath(location); err == nil {
				local = lp
			}
		case "mlflow-artifacts":
			artifactsPath = strings.Trim(p, "/")
		}
	}
	p = strings.ReplaceAll(p, `\`, "/")
	for _, c := range strings.Split(p, "/") {
		if c != "" && c != "." && c != ".." && !(len(c) == 2 && c[1] == ':') {
			comps = append(comps, c)
		}
	}
	if artifactsPath != "" {
		artifactsPath = strings.Join(comps, "/")
	}
	return local, comps, artifactsPath
}

// within reports whether path is inside dir.
func within(dir, path string) bool {
	a, err1 := filepath.Abs(dir)
	b, err2 := filepath.Abs(path)
	if err1 != nil || err2 != nil {
		return false
	}
	rel, err := filepath.Rel(a, b)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

func readFileTrim(p string) (string, bool) {
	data, err := os.ReadFile(p)
	if err != nil {
		return "", false
	}
	return strings.TrimSpace(string(data)), true
}

func contains(ss []string, s string) bool {
	for _, q := range ss {
		if q == s {
			return true
		}
	}
	return false
}
