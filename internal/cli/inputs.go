package cli

import (
	"os"

	"github.com/meshdoctor/meshdoctor/internal/mesh"
)

// meshOptions checks the model flags every command shares, before anything
// is loaded: a --istio-version that is no version or a --mesh-config that
// is no MeshConfig ends the run with one line and exit 2, never silence.
func meshOptions(istioVersion, meshConfig string) (mesh.Options, error) {
	var o mesh.Options
	if istioVersion != "" {
		if _, ok := mesh.ParseVersion(istioVersion); !ok {
			return o, usageErr("--istio-version: %q is not a version (want e.g. 1.22.2)", istioVersion)
		}
		o.IstioVersion = istioVersion
	}
	if meshConfig != "" {
		b, err := os.ReadFile(meshConfig)
		if err != nil {
			return o, usageErr("--mesh-config: %v", err)
		}
		if err := mesh.CheckMeshConfig(b); err != nil {
			return o, usageErr("--mesh-config %s: %s", meshConfig, oneLine(err.Error()))
		}
		o.MeshConfig = b
	}
	return o, nil
}
