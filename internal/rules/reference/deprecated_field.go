package reference

import (
	"fmt"

	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/manifest"
	"github.com/meshdoctor/meshdoctor/internal/mesh"
	"github.com/meshdoctor/meshdoctor/internal/rules"
)

// DeprecatedField: an Istio resource sets a field (or enum value) the Istio
// API marks deprecated. Most still work and are information; those istiod
// no longer reads are warnings, since the setting silently does nothing.
var DeprecatedField = &rules.Rule{
	Code: "MD5060", Name: "deprecated-field", Severity: finding.Info, Area: "reference",
	Summary: "An Istio resource sets a deprecated field; a warning when istiod no longer reads it at all.",
	Needs:   []string{"VirtualService", "DestinationRule", "Gateway", "Sidecar", "ServiceEntry", "EnvoyFilter", "PeerAuthentication", "AuthorizationPolicy", "RequestAuthentication", "Telemetry", "WasmPlugin", "ProxyConfig", "WorkloadEntry"},
	Since:   "0.3.0",
	IST:     []string{"IST0002"},
	Doc: rules.Doc{
		Mechanism: "The Istio API keeps deprecated fields in its schema so old manifests still apply, and flags them deprecated. istiod translates most of them as before (mirrorPercent, corsPolicy.allowOrigin, fault.delay.percent, minimumRingSize, LEAST_CONN), but some are accepted and then never read: outlierDetection.consecutiveErrors (Envoy's default of 5 consecutive 5xx applies instead) and a Gateway or Sidecar port's targetPort. meshdoctor reads the deprecation flag from the schema itself, so every deprecated field is found, and says for the ones it knows whether istiod still honours them, what happens instead and what to write. Unlike istioctl's deprecation analyzer (which knows fault.delay.percent and Sidecar egressProxy by hand), it does not report egressProxy: istiod still reads it (pilot/pkg/networking/core/httproute.go).",
		Symptom:   "For an ignored field, the behaviour it configures does not happen (hosts are ejected after Envoy's default 5 errors, not the number written); for the others, nothing yet, but the field may be removed in a later API version and the manifest then fails to apply.",
		Fix:       "Write the replacement field the message names and remove the deprecated one.",
		Before:    "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: reviews\nspec:\n  host: reviews\n  trafficPolicy:\n    outlierDetection:\n      consecutiveErrors: 1\n",
		After:     "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: reviews\nspec:\n  host: reviews\n  trafficPolicy:\n    outlierDetection:\n      consecutiveGatewayErrors: 1\n",
		Sources: []string{
			"https://istio.io/latest/docs/reference/config/networking/destination-rule/#OutlierDetection",
			"https://istio.io/latest/docs/reference/config/analysis/ist0002/",
		},
	},
	Run: runDeprecatedField,
}

func runDeprecatedField(p *rules.Pass) {
	for _, o := range p.Model.Objects {
		for _, d := range mesh.DeprecatedFieldsOf(o) {
			f := rules.At(o, d.Path...)
			what := "field " + manifest.PathString(d.Path)
			if d.Value != "" {
				what = fmt.Sprintf("value %s of %s", d.Value, manifest.PathString(d.Path))
			}
			k := d.Known
			f.Message = fmt.Sprintf("%s %s/%s sets deprecated %s", o.Kind, o.Namespace, o.Name, what)
			switch {
			case k.Ignored:
				f.Severity = finding.Warning
				f.Message += ", which istiod no longer reads"
				f.Symptom = k.Effect
			default:
				f.Message += "; istiod still honours it"
				f.Symptom = "none today; a later API version may drop the field, and the manifest then fails to apply"
			}
			switch {
			case k.Replacement != "":
				f.Fix = "use " + k.Replacement + " instead"
			case k.Ignored:
				f.Fix = "remove the field: nothing replaces it"
			default:
				f.Fix = "replace it as the Istio reference for " + o.Kind + " says (the field is marked deprecated in istio.io/api)"
			}
			if k.Source != "" {
				f.Fix += " (Istio source: " + k.Source + ")"
			}
			p.Report(f)
		}
	}
}
