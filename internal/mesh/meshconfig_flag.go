package mesh

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	//lint:ignore SA1019 the same unmarshaler readMeshConfig (and Istio) uses, so what passes here is what it reads
	"github.com/golang/protobuf/jsonpb"
	meshapi "istio.io/api/mesh/v1alpha1"

	"github.com/meshdoctor/meshdoctor/internal/manifest"
)

// CheckMeshConfig tells why data, given as --mesh-config, is not a
// MeshConfig or an istio ConfigMap with one. readMeshConfig falls back to
// Istio's defaults on anything it cannot read, which is right for what
// the input happens to contain but wrong for a file the user named: the
// findings it should change would silently not change.
func CheckMeshConfig(data []byte) error {
	js, err := manifest.YAMLToJSON(data)
	if err != nil {
		return fmt.Errorf("not YAML: %v", err)
	}
	var probe struct {
		Kind string            `json:"kind"`
		Data map[string]string `json:"data"`
	}
	var top any
	if json.Unmarshal(js, &top) != nil {
		return errors.New("not YAML")
	}
	if _, ok := top.(map[string]any); !ok {
		return errors.New("not a MeshConfig (expected a mapping such as `rootNamespace: istio-system`, or the istio ConfigMap)")
	}
	if err := json.Unmarshal(js, &probe); err != nil {
		return fmt.Errorf("not a MeshConfig: %v", err)
	}
	where := ""
	switch probe.Kind {
	case "":
	case "ConfigMap":
		mesh, ok := probe.Data["mesh"]
		if !ok {
			return errors.New("the ConfigMap has no data.mesh (the istio ConfigMap in istio-system has it)")
		}
		if js, err = manifest.YAMLToJSON([]byte(mesh)); err != nil {
			return fmt.Errorf("data.mesh of the ConfigMap is not YAML: %v", err)
		}
		where = "data.mesh of the ConfigMap: "
	default:
		return fmt.Errorf("a %s, not a MeshConfig or the istio ConfigMap", probe.Kind)
	}
	if err := (&jsonpb.Unmarshaler{AllowUnknownFields: true}).Unmarshal(strings.NewReader(string(js)), &meshapi.MeshConfig{}); err != nil {
		return fmt.Errorf("%snot a MeshConfig: %v", where, err)
	}
	return nil
}
