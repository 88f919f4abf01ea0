package reference

import (
	"fmt"

	istiotel "istio.io/client-go/pkg/apis/telemetry/v1"

	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/manifest"
	"github.com/meshdoctor/meshdoctor/internal/rules"
)

// TelemetryAccessLogWithoutProvider: a Telemetry accessLogging entry names
// no provider, so its filter is dropped, or (without a default provider)
// it turns on no access log at all.
var TelemetryAccessLogWithoutProvider = &rules.Rule{
	Code: "MD5071", Name: "telemetry-accesslog-without-provider", Severity: finding.Warning, Area: "reference",
	Summary: "A Telemetry accessLogging entry names no provider: its filter is never applied, and without a default provider it turns on no access log.",
	Needs:   []string{"Telemetry"},
	Since:   "0.4.0",
	IST:     []string{"IST0157"},
	Doc: rules.Doc{
		Mechanism: "istiod computes a proxy's access logs per provider (pilot/pkg/model/telemetry.go, mergeLogs): an accessLogging entry's filter is recorded only for the providers named in the same entry, and an entry without providers inherits the providers of the entry before it (in the same or a parent Telemetry), else the mesh config's defaultProviders.accessLogging. So an enabled entry without providers never applies its filter (the inherited providers keep the filter of the entry that named them, usually none), and when nothing is inherited and the mesh config has no default access log provider it configures nothing: istiod falls back to the legacy meshConfig.accessLogFile, which is off by default. Entries with disabled: true need no provider (they switch the inherited ones off) and are not reported. istioctl analyze (IST0157) reports every enabled entry without providers when the mesh config has no default access log provider; meshdoctor reports an entry with a filter whatever the mesh config says (the filter is dropped either way), and an entry without a filter only when it turns nothing on: no default provider, no earlier entry of the Telemetry and no Telemetry of the root namespace names a provider, and no accessLogFile is set.",
		Symptom:   "Access logs are written for every request instead of only the filtered ones (the filter, e.g. response.code >= 400, has no effect), or no access log appears at all although the Telemetry asks for one.",
		Fix:       "Name the provider in the entry (providers: [{name: envoy}], or a provider from meshConfig.extensionProviders), or set meshConfig.defaultProviders.accessLogging and put the filter in an entry that names the provider.",
		Before:    "apiVersion: telemetry.istio.io/v1\nkind: Telemetry\nmetadata:\n  name: mesh-default\n  namespace: istio-system\nspec:\n  accessLogging:\n  - filter:\n      expression: response.code >= 400\n",
		After:     "apiVersion: telemetry.istio.io/v1\nkind: Telemetry\nmetadata:\n  name: mesh-default\n  namespace: istio-system\nspec:\n  accessLogging:\n  - providers:\n    - name: envoy\n    filter:\n      expression: response.code >= 400\n",
		Sources: []string{
			"https://istio.io/latest/docs/reference/config/analysis/ist0157/",
			"https://istio.io/latest/docs/reference/config/telemetry/#AccessLogging",
			"https://istio.io/latest/docs/tasks/observability/logs/access-log/",
		},
	},
	Run: runTelemetryAccessLogWithoutProvider,
}

type telemetryObject struct {
	o *manifest.Object
	t *istiotel.Telemetry
}

func namesAccessLogProvider(t *istiotel.Telemetry) bool {
	for _, l := range t.Spec.GetAccessLogging() {
		if len(l.GetProviders()) > 0 {
			return true
		}
	}
	return false
}

func runTelemetryAccessLogWithoutProvider(p *rules.Pass) {
	m := p.Model
	var tels []telemetryObject
	// Namespaces whose Telemetries name an access log provider: entries
	// of that namespace (workload-level Telemetries under a namespace-wide
	// one) and, from the root namespace, of every namespace may inherit it.
	namesProvider := map[string]bool{}
	for _, o := range m.Objects {
		t, ok := o.Typed.(*istiotel.Telemetry)
		if !ok || t == nil {
			continue
		}
		tels = append(tels, telemetryObject{o, t})
		if namesAccessLogProvider(t) {
			namesProvider[o.Namespace] = true
		}
	}
	defaults := len(m.Mesh.DefaultAccessLogProviders) > 0
	for _, to := range tels {
		named := false // an earlier entry of this Telemetry names a provider
		for i, l := range to.t.Spec.GetAccessLogging() {
			if l == nil {
				continue
			}
			if len(l.GetProviders()) > 0 {
				named = true
				continue
			}
			if l.GetDisabled().GetValue() {
				continue
			}
			name := fmt.Sprintf("Telemetry %s/%s accessLogging[%d]", to.o.Namespace, to.o.Name, i)
			fix := "name the provider in the entry:\nspec:\n  accessLogging:\n  - providers:\n    - name: envoy   # or a provider of meshConfig.extensionProviders"
			if expr := l.GetFilter().GetExpression(); expr != "" {
				f := rules.At(to.o, "spec", "accessLogging", i, "filter")
				f.Message = fmt.Sprintf("%s has a filter (%s) but names no provider: istiod applies a filter only to the providers named in its entry, so this one is never used", name, expr)
				f.Symptom = fmt.Sprintf("access logs are not filtered by %q: requests are logged (or not) as if the entry had no filter", expr)
				f.Fix = fix + "\n    filter:\n      expression: " + expr
				p.Report(f)
				continue
			}
			if defaults || named || namesProvider[to.o.Namespace] || namesProvider[m.Mesh.RootNamespace] || m.Mesh.AccessLogFile != "" {
				continue // the entry turns on an inherited or default provider
			}
			f := rules.At(to.o, "spec", "accessLogging", i)
			f.Message = fmt.Sprintf("%s names no provider, and no default access log provider is set (meshConfig.defaultProviders.accessLogging in %s) nor inherited: the entry turns on no access log", name, m.Mesh.Source)
			if !m.Mesh.Found {
				f.Message += " (the mesh config is not in the input; Istio's default sets no default provider)"
			}
			f.Symptom = "no access log is written for the workloads this Telemetry applies to, although it asks for one"
			f.Fix = fix + "\nor set meshConfig.defaultProviders.accessLogging: [envoy]"
			p.Report(f)
		}
	}
}
