// Package upgrade holds meshdoctor's knowledge of Istio behaviour changes,
// release by release (changes.yaml, reviewed like code), and evaluates a
// configuration against every change an upgrade crosses: which resources
// it affects, what happens to them, and the fix to apply before upgrading.
//
// Each change names a check registered in checks.go; checks ask the mesh
// model (internal/mesh) and never re-derive Istio semantics.
package upgrade

import (
	_ "embed"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"

	"github.com/meshdoctor/meshdoctor/internal/manifest"
	"github.com/meshdoctor/meshdoctor/internal/mesh"
)

//go:embed changes.yaml
var changesYAML []byte

// Kinds of change.
const (
	KindDefaultFlip = "default-flip" // a feature flag's or value's default changed
	KindRemoval     = "removal"      // a flag, profile, label or behaviour was removed
	KindAPIRemoval  = "api-removal"  // an API version or field is no longer served
	KindEnvoy       = "envoy"        // a change of the Envoy release shipped
)

// Change is one behaviour change of an Istio release.
type Change struct {
	ID            string   `yaml:"id" json:"id"`
	Release       string   `yaml:"release" json:"release"`
	Kind          string   `yaml:"kind" json:"kind"`
	Flag          string   `yaml:"flag" json:"flag"`
	Old           string   `yaml:"old" json:"old"`
	New           string   `yaml:"new" json:"new"`
	OptOutRemoved string   `yaml:"optOutRemoved" json:"optOutRemoved,omitempty"`
	Compatibility bool     `yaml:"compatibility" json:"compatibility"`
	Title         string   `yaml:"title" json:"title"`
	Sources       []string `yaml:"sources" json:"sources"`
	Mechanism     string   `yaml:"mechanism" json:"mechanism"`
	Symptom       string   `yaml:"symptom" json:"symptom"`
	Fix           string   `yaml:"fix" json:"fix"`
	Affects       string   `yaml:"affects" json:"affects"`
	Check         string   `yaml:"check" json:"check"`
	// Severity of analyze --upgrade-to findings: warning by default; info
	// for changes that touch many resources without breaking them
	// (a retry no longer hiding a 503).
	Severity string `yaml:"severity" json:"severity,omitempty"`

	release, optOutRemoved mesh.Version
}

// ReleaseVersion is the release the change happened in.
func (c *Change) ReleaseVersion() mesh.Version { return c.release }

// OptOutRemovedVersion is the release whose opt-out disappears (ok false
// when there is none).
func (c *Change) OptOutRemovedVersion() (mesh.Version, bool) {
	return c.optOutRemoved, c.OptOutRemoved != ""
}

// NewestReviewed is the newest Istio release whose upgrade notes the
// catalog was reviewed against: changes of later releases are unknown.
var NewestReviewed = mesh.Version{Major: 1, Minor: 31}

// catalog is changes.yaml, parsed on first use rather than at start-up:
// every command would otherwise pay for it (3 ms, the largest of
// meshdoctor's own package initialisations). Its test checks it parses.
var catalog = sync.OnceValue(func() []*Change {
	cs, err := parseCatalog(changesYAML)
	if err != nil {
		panic("internal/upgrade/changes.yaml: " + err.Error())
	}
	return cs
})

func parseCatalog(b []byte) ([]*Change, error) {
	var cs []*Change
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	if err := dec.Decode(&cs); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, c := range cs {
		if c.ID == "" || seen[c.ID] {
			return nil, fmt.Errorf("entry %q: missing or duplicate id", c.ID)
		}
		seen[c.ID] = true
		v, ok := mesh.ParseVersion(c.Release)
		if !ok {
			return nil, fmt.Errorf("%s: release %q is not a version", c.ID, c.Release)
		}
		c.release = mesh.Version{Major: v.Major, Minor: v.Minor}
		if c.OptOutRemoved != "" {
			v, ok := mesh.ParseVersion(c.OptOutRemoved)
			if !ok {
				return nil, fmt.Errorf("%s: optOutRemoved %q is not a version", c.ID, c.OptOutRemoved)
			}
			c.optOutRemoved = mesh.Version{Major: v.Major, Minor: v.Minor}
		}
		switch c.Kind {
		case KindDefaultFlip, KindRemoval, KindAPIRemoval, KindEnvoy:
		default:
			return nil, fmt.Errorf("%s: unknown kind %q", c.ID, c.Kind)
		}
		if checks[c.Check] == nil {
			return nil, fmt.Errorf("%s: no check registered as %q", c.ID, c.Check)
		}
	}
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].release.Less(cs[j].release) })
	return cs, nil
}

// Changes returns the catalog in release order. The slice is shared.
func Changes() []*Change { return catalog() }

// Resource is one place in the configuration a change affects.
type Resource struct {
	Resource manifest.Ref      `json:"resource"`
	Origin   manifest.Position `json:"origin"`
	// Detail says what happens to this resource.
	Detail string `json:"detail"`
}

// Result is one change crossed by an upgrade, evaluated on a configuration.
type Result struct {
	Change *Change `json:"change"`
	// Crossed says which boundary the upgrade crosses: "release" (the
	// default changes), "opt-out-removed" (the way to keep the old
	// behaviour disappears), or both.
	Crossed   []string   `json:"crossed"`
	Affected  bool       `json:"affected"`
	Resources []Resource `json:"resources,omitempty"`
	// OptedOut explains why resources the change would touch are not
	// affected: the install keeps the old behaviour at the target version.
	OptedOut string `json:"optedOut,omitempty"`
	// Notes qualify the answer (what the input could not tell).
	Notes []string `json:"notes,omitempty"`
}

// Context is what a check gets: the model as read, the model as the target
// version sees it (the change's own flag at its new default), and the
// versions.
type Context struct {
	// Model is the configuration as read (the current version).
	Model *mesh.Model
	// At is the same configuration under the target version, with the
	// change's flag at its new default (opt-outs are judged by Evaluate).
	At       *mesh.Model
	From, To mesh.Version
	Change   *Change

	resources []Resource
	notes     []string
}

// Affect records a resource the change affects, at the field path.
func (c *Context) Affect(o *manifest.Object, detail string, path ...any) {
	c.resources = append(c.resources, Resource{Resource: o.Ref(), Origin: o.Pos(path...), Detail: detail})
}

// AffectAt records a resource at an explicit position.
func (c *Context) AffectAt(o *manifest.Object, pos manifest.Position, detail string) {
	c.resources = append(c.resources, Resource{Resource: o.Ref(), Origin: pos, Detail: detail})
}

// Note qualifies the answer.
func (c *Context) Note(format string, args ...any) {
	c.notes = append(c.notes, fmt.Sprintf(format, args...))
}

// CheckFunc tells which resources of a configuration a change affects.
type CheckFunc func(c *Context)

// crosses reports from < v <= to by major.minor.
func crosses(from, to, v mesh.Version) bool {
	return !from.AtLeast(v.Major, v.Minor) && to.AtLeast(v.Major, v.Minor)
}

// Evaluate evaluates every change with from < release <= to (or whose
// opt-out disappears in that range) on m, in release order.
func Evaluate(m *mesh.Model, from, to mesh.Version) []Result {
	var out []Result
	for _, ch := range catalog() {
		var crossed []string
		if crosses(from, to, ch.release) {
			crossed = append(crossed, "release")
		}
		removal, hasRemoval := ch.OptOutRemovedVersion()
		if hasRemoval && crosses(from, to, removal) {
			crossed = append(crossed, "opt-out-removed")
		}
		if len(crossed) == 0 {
			continue
		}
		ctx := &Context{Model: m, At: atVersion(m, to, ch.Flag), From: from, To: to, Change: ch}
		checks[ch.Check](ctx)
		r := Result{Change: ch, Crossed: crossed, Resources: ctx.resources, Notes: ctx.notes}
		if len(r.Resources) > 0 {
			r.OptedOut = optedOut(m, to, ch)
		}
		if hasRemoval && !to.AtLeast(removal.Major, removal.Minor) && r.OptedOut != "" {
			r.Notes = append(r.Notes, fmt.Sprintf("the opt-out is removed in Istio %s: the change applies then", removal.MinorString()))
		}
		r.Affected = len(r.Resources) > 0 && r.OptedOut == ""
		out = append(out, r)
	}
	return out
}

// atVersion is m as istiod at version to would read it, with flag (when it
// is an istiod feature flag) left at the version's default rather than an
// override: checks ask what the new default does, opt-outs are judged
// apart. The model's indexes are shared (read-only).
func atVersion(m *mesh.Model, to mesh.Version, flag string) *mesh.Model {
	at := *m
	at.Istio.Version, at.Istio.VersionKnown = to, true
	at.Istio.VersionSource = "the upgrade target"
	at.Istio.Compatibility = nil
	if _, set := m.Istio.Env[flag]; set {
		env := make(map[string]string, len(m.Istio.Env))
		for k, v := range m.Istio.Env {
			if k != flag {
				env[k] = v
			}
		}
		at.Istio.Env = env
	}
	return &at
}

// optedOut says why the install keeps the old behaviour at version to: the
// flag set to its old value in istiod's environment, or a compatibility
// version older than the change that to still honours. "" when neither
// (or the opt-out no longer exists at to).
func optedOut(m *mesh.Model, to mesh.Version, ch *Change) string {
	if ch.Kind != KindDefaultFlip {
		return ""
	}
	if r, ok := ch.OptOutRemovedVersion(); ok && to.AtLeast(r.Major, r.Minor) {
		return ""
	}
	if v, ok := m.Istio.Env[ch.Flag]; ok && sameValue(v, ch.Old) {
		return fmt.Sprintf("%s=%s in %s keeps the old behaviour", ch.Flag, v, m.Istio.EnvSource)
	}
	// A release honours the compatibility profiles of its last three
	// minors (1.24 dropped 1.20), as the model's Flag does.
	if c := m.Istio.Compatibility; ch.Compatibility && c != nil && c.Major == to.Major &&
		!c.AtLeast(ch.release.Major, ch.release.Minor) && to.Minor-c.Minor <= 3 {
		return fmt.Sprintf("compatibilityVersion %s keeps the old behaviour on Istio %s", c.MinorString(), to.MinorString())
	}
	return ""
}

func sameValue(a, b string) bool {
	ab, errA := strconv.ParseBool(a)
	bb, errB := strconv.ParseBool(b)
	if errA == nil && errB == nil {
		return ab == bb
	}
	return strings.EqualFold(strings.TrimSpace(a), strings.TrimSpace(b))
}
