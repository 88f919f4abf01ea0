package mesh

import (
	"os"
	"path"
	"sort"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"

	"github.com/meshdoctor/meshdoctor/internal/manifest"
)

// MountedFile is one file a ConfigMap key provides inside a container.
type MountedFile struct {
	// Path is the absolute path of the file in the container.
	Path      string
	ConfigMap *ConfigMap
	Key       string
}

// Content is the file's text.
func (f MountedFile) Content() string { return f.ConfigMap.Data[f.Key] }

// ConfigMapFiles lists the files that ConfigMaps in the input put into a
// container of w (regular or init), following Kubernetes volume semantics:
// a configMap volume (or a projected volume's configMap source) holds every
// key as a file, or only the listed items at their paths; a volumeMount
// places the volume at mountPath, or, with subPath, only that file or
// directory of it. ConfigMaps absent from the input contribute nothing, and
// subPathExpr (resolved at runtime) is skipped.
// https://kubernetes.io/docs/concepts/storage/volumes/#configmap
// https://kubernetes.io/docs/concepts/storage/projected-volumes/
func (m *Model) ConfigMapFiles(w *Workload, c *corev1.Container) []MountedFile {
	// Volume name -> relative path -> source.
	vols := map[string]map[string]MountedFile{}
	for _, v := range w.PodSpec.Volumes {
		files := map[string]MountedFile{}
		addSource := func(name string, items []corev1.KeyToPath) {
			cm := m.ConfigMaps[w.Namespace+"/"+name]
			if cm == nil {
				return
			}
			if len(items) == 0 {
				for k := range cm.Data {
					files[k] = MountedFile{ConfigMap: cm, Key: k}
				}
				return
			}
			for _, it := range items {
				if _, ok := cm.Data[it.Key]; ok && it.Path != "" {
					files[path.Clean(it.Path)] = MountedFile{ConfigMap: cm, Key: it.Key}
				}
			}
		}
		switch {
		case v.ConfigMap != nil:
			addSource(v.ConfigMap.Name, v.ConfigMap.Items)
		case v.Projected != nil:
			for _, s := range v.Projected.Sources {
				if s.ConfigMap != nil {
					addSource(s.ConfigMap.Name, s.ConfigMap.Items)
				}
			}
		}
		if len(files) > 0 {
			vols[v.Name] = files
		}
	}
	var out []MountedFile
	for _, vm := range c.VolumeMounts {
		files := vols[vm.Name]
		if files == nil || vm.SubPathExpr != "" || !strings.HasPrefix(vm.MountPath, "/") {
			continue
		}
		sub := strings.Trim(path.Clean("/"+vm.SubPath), "/")
		for rel, f := range files {
			var p string
			switch {
			case sub == "":
				p = path.Join(vm.MountPath, rel)
			case rel == sub:
				p = path.Clean(vm.MountPath)
			case strings.HasPrefix(rel, sub+"/"):
				p = path.Join(vm.MountPath, strings.TrimPrefix(rel, sub+"/"))
			default:
				continue
			}
			f.Path = p
			out = append(out, f)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// DataLinePos is the position of line n (1-based) of a ConfigMap key's
// value. For a literal block scalar ("|", "|-", "|+") the value starts on
// the line after the indicator; the line is confirmed by finding want on
// it in the source file. Anything else (quoted or folded scalars, JSON
// input, live objects) points at the key.
func (cm *ConfigMap) DataLinePos(key string, n int, want string) manifest.Position {
	keyPos := cm.Pos("data", key)
	vp, ok := cm.ValuePos("data", key)
	if !ok || n < 1 || want == "" {
		return keyPos
	}
	lines := fileLines(cm.File)
	if vp.Line < 1 || vp.Line > len(lines) {
		return keyPos
	}
	// The indicator must be a literal block scalar.
	indicator := lines[vp.Line-1]
	if i := strings.Index(indicator, key); i >= 0 {
		indicator = indicator[i+len(key):]
	}
	indicator = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(strings.TrimLeft(indicator, `"'`)), ":"))
	if !strings.HasPrefix(indicator, "|") {
		return keyPos
	}
	line := vp.Line + n
	if line > len(lines) || !strings.Contains(lines[line-1], want) {
		return keyPos
	}
	return manifest.Position{File: cm.File, Line: line}
}

var (
	fileCacheMu sync.Mutex
	fileCache   = map[string][]string{}
)

// fileLines reads a source file once per process; it returns nil when the
// object did not come from a readable file.
func fileLines(name string) []string {
	fileCacheMu.Lock()
	defer fileCacheMu.Unlock()
	if l, ok := fileCache[name]; ok {
		return l
	}
	var lines []string
	if b, err := os.ReadFile(name); err == nil && len(b) < 64<<20 {
		lines = strings.Split(string(b), "\n")
	}
	fileCache[name] = lines
	return lines
}
