package upgrade

import (
	"fmt"

	"github.com/meshdoctor/meshdoctor/internal/mesh"
)

// KubernetesSource is where the table of supported Kubernetes versions
// comes from (rendered from istio.io's data/compatibility/supportStatus.yml).
const KubernetesSource = "https://istio.io/latest/docs/releases/supported-releases/#support-status-of-istio-releases"

// kubernetesSupport is the Kubernetes minor versions each Istio minor
// release supports (1.x: from, to), as istio.io lists them. Versions
// outside it may work ("tested, but not supported") but are not
// supported.
var kubernetesSupport = map[int][2]int{
	20: {25, 29},
	21: {26, 29},
	22: {27, 30},
	23: {27, 30},
	24: {28, 31},
	25: {29, 32},
	26: {29, 33},
	27: {29, 33},
	28: {30, 34},
	29: {31, 35},
	30: {32, 36},
}

// Kubernetes is the target release's support for the cluster's
// Kubernetes version.
type Kubernetes struct {
	// Version is the cluster's ("" when unknown) and Source where it
	// comes from.
	Version string `json:"version,omitempty"`
	Source  string `json:"source,omitempty"`
	// Supported is the range the target release supports ("" when the
	// table has no row for it).
	Supported string `json:"supported,omitempty"`
	// Problem says why the cluster's version is outside the range, ""
	// when it is inside or cannot be told.
	Problem string `json:"problem,omitempty"`
	Note    string `json:"note,omitempty"`
	Ref     string `json:"reference"`
}

// KubernetesRange is the Kubernetes minor versions Istio release to
// supports; ok is false when the table has no row for it.
func KubernetesRange(to mesh.Version) (from, through mesh.Version, ok bool) {
	r, ok := kubernetesSupport[to.Minor]
	if to.Major != 1 || !ok {
		return mesh.Version{}, mesh.Version{}, false
	}
	return mesh.Version{Major: 1, Minor: r[0]}, mesh.Version{Major: 1, Minor: r[1]}, true
}

// CheckKubernetes compares the cluster's Kubernetes version (nil when
// unknown) with what Istio release to supports.
func CheckKubernetes(to mesh.Version, kube *mesh.Version, source string) Kubernetes {
	k := Kubernetes{Ref: KubernetesSource}
	lo, hi, ok := KubernetesRange(to)
	if ok {
		k.Supported = fmt.Sprintf("%s to %s", lo.MinorString(), hi.MinorString())
	}
	switch {
	case kube == nil:
		k.Note = "the cluster's Kubernetes version is not known (read from a live cluster, or give it)"
		return k
	case !ok:
		k.Note = fmt.Sprintf("meshdoctor's table has no row for Istio %s", to.MinorString())
	}
	k.Version, k.Source = kube.MinorString(), source
	if !ok {
		return k
	}
	switch {
	case kube.Major != 1:
		k.Problem = fmt.Sprintf("Istio %s supports Kubernetes %s only", to.MinorString(), k.Supported)
	case kube.Minor < lo.Minor:
		k.Problem = fmt.Sprintf("Istio %s supports Kubernetes %s: upgrade Kubernetes to %s or newer first (it is %s)", to.MinorString(), k.Supported, lo.MinorString(), kube.MinorString())
	case kube.Minor > hi.Minor:
		k.Problem = fmt.Sprintf("Istio %s supports Kubernetes up to %s, the cluster runs %s: choose a newer Istio release", to.MinorString(), hi.MinorString(), kube.MinorString())
	}
	return k
}
