// Package deploy holds meshdoctor's Helm chart (helm/meshdoctor) and renders
// it the way `helm template` does, with Helm's own engine: for the plain
// manifests in manifests/ and for the tests that check what the chart
// installs against a real API server. The meshdoctor binary does not
// import it.
package deploy

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	"helm.sh/helm/v3/pkg/releaseutil"
)

//go:embed all:helm/meshdoctor
var chartFiles embed.FS

// ChartDir is the chart's directory inside the embedded files (and the
// repository, relative to this package).
const ChartDir = "helm/meshdoctor"

// Release names the release a render is for, as `helm template NAME -n NS`.
type Release struct{ Name, Namespace string }

// DefaultRelease is what the plain manifests are rendered as.
var DefaultRelease = Release{Name: "meshdoctor", Namespace: "meshdoctor"}

// PlainValues are the values of the plain manifests (manifests/): the
// webhook certificate comes from cert-manager, because a certificate the
// chart generates is different on every render and the committed file
// must be reproducible.
func PlainValues() map[string]any {
	return map[string]any{"certManager": map[string]any{"enabled": true}}
}

// Chart loads the embedded chart.
func Chart() (*chart.Chart, error) {
	var files []*loader.BufferedFile
	err := fs.WalkDir(chartFiles, ChartDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := chartFiles.ReadFile(p)
		if err != nil {
			return err
		}
		files = append(files, &loader.BufferedFile{Name: strings.TrimPrefix(p, ChartDir+"/"), Data: data})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return loader.LoadFiles(files)
}

// Render renders the chart with values over its defaults, validated
// against values.schema.json, into one YAML stream in Helm's install order
// (Namespace-scoped prerequisites first), each document headed by the
// template it came from, like `helm template`. Without a cluster, lookup
// finds nothing.
func Render(rel Release, values map[string]any) (string, error) {
	ch, err := Chart()
	if err != nil {
		return "", err
	}
	vals, err := chartutil.ToRenderValues(ch, values, chartutil.ReleaseOptions{Name: rel.Name, Namespace: rel.Namespace, IsInstall: true, Revision: 1}, chartutil.DefaultCapabilities)
	if err != nil {
		return "", err
	}
	files, err := engine.Render(ch, vals)
	if err != nil {
		return "", err
	}
	for name := range files {
		if path.Base(name) == "NOTES.txt" {
			delete(files, name)
		}
	}
	hooks, manifests, err := releaseutil.SortManifests(files, nil, releaseutil.InstallOrder)
	if err != nil {
		return "", err
	}
	if len(hooks) > 0 {
		return "", fmt.Errorf("the chart has hooks (%s): the plain manifests cannot express them", hooks[0].Path)
	}
	var b strings.Builder
	for _, m := range manifests {
		fmt.Fprintf(&b, "---\n# Source: %s\n%s\n", m.Name, m.Content)
	}
	return b.String(), nil
}

// Objects splits a rendered stream into its objects.
func Objects(stream string) ([]*unstructured.Unstructured, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader([]byte(stream)), 4096)
	var out []*unstructured.Unstructured
	for {
		u := &unstructured.Unstructured{}
		if err := dec.Decode(&u.Object); err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return nil, err
		}
		if len(u.Object) > 0 {
			out = append(out, u)
		}
	}
}
