package workload

import (
	"fmt"
	"strings"

	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/rules"
)

// ServerFirstProtocolSniffed: a server-first protocol (MySQL, SMTP, NATS…)
// behind a Service port whose protocol Istio has to sniff.
var ServerFirstProtocolSniffed = &rules.Rule{
	Code: "MD4002", Name: "server-first-protocol-sniffed", Severity: finding.Error, Area: "workload",
	Summary: "A server-first protocol (MySQL, SMTP, NATS…) is served on a Service port Istio must sniff.",
	Needs:   []string{"Service"},
	Since:   "0.1.0",
	Doc: rules.Doc{
		Mechanism: "When a Service port declares no protocol (no protocol prefix in its name, no appProtocol), sidecars detect it from the first bytes the client sends. With a server-first protocol the client sends nothing until the server's greeting arrives, while the sidecar holds the connection waiting for the client: neither side moves. Istio's default protocolDetectionTimeout is 0s (no timeout), so the connection hangs; with a timeout set it falls back to TCP after that delay on every connection. Istio only assumes TCP without sniffing for Service ports 25, 53, 3306 and 27017.",
		Symptom:   "Clients hang on connect until their own timeout, e.g. MySQL \"ERROR 2013 (HY000): Lost connection to MySQL server at 'reading initial communication packet'\", SMTP or NATS clients timing out waiting for the server greeting/INFO.",
		Fix:       "Declare the port as TCP: name it tcp-<something> (or mysql for MySQL), or set appProtocol: tcp.",
		Before:    "apiVersion: v1\nkind: Service\nmetadata:\n  name: db\nspec:\n  selector: {app: db}\n  ports:\n  - name: db\n    port: 3307\n    targetPort: 3306\n",
		After:     "apiVersion: v1\nkind: Service\nmetadata:\n  name: db\nspec:\n  selector: {app: db}\n  ports:\n  - name: tcp-mysql\n    port: 3307\n    targetPort: 3306\n    appProtocol: tcp\n",
		Sources: []string{
			"https://istio.io/latest/docs/ops/deployment/application-requirements/#server-first-protocols",
			"https://istio.io/latest/docs/ops/configuration/traffic-management/protocol-selection/",
			"https://istio.io/latest/docs/reference/config/istio.mesh.v1alpha1/#MeshConfig (protocolDetectionTimeout, default 0s)",
		},
	},
	Run: runServerFirstProtocolSniffed,
}

func runServerFirstProtocolSniffed(p *rules.Pass) {
	m := p.Model
	for _, svc := range m.Services {
		ws := m.ServiceWorkloads(svc)
		if len(ws) == 0 {
			continue
		}
		for i := range svc.Spec.Ports {
			sp := &svc.Spec.Ports[i]
			// The model decides (trace asks the same): sniffed port,
			// inbound sniffing on, a sidecar serving server-first.
			sf, server, ok := m.SniffedServerFirst(sp, ws)
			if !ok {
				continue
			}
			_, why := m.Injection(server)
			f := rules.At(svc.Object, "spec", "ports", i, "name")
			if !sf.ByImage {
				f.Severity = finding.Warning
			}
			name := sp.Name
			if name == "" {
				name = "(unnamed)"
			}
			f.Message = fmt.Sprintf("Service %s/%s port %d (name %s, no appProtocol) carries %s (%s) to %s %s/%s, whose sidecar (%s) must sniff the protocol from the client's first bytes, but %s is server-first: the client waits for the server's greeting", svc.Namespace, svc.Name, sp.Port, name, sf.Protocol, sf.Evidence, server.Kind, server.Namespace, server.Name, why, sf.Protocol)
			f.Symptom = fmt.Sprintf("%s clients hang on connect (no protocol detection timeout by default) until their own timeout, e.g. for MySQL \"Lost connection to MySQL server at 'reading initial communication packet'\"", sf.Protocol)
			suggested := "tcp-" + strings.ToLower(strings.Fields(sf.Protocol)[0])
			if sp.Name != "" && !strings.HasPrefix(strings.ToLower(sp.Name), "tcp") {
				suggested = "tcp-" + strings.ToLower(sp.Name)
			}
			f.Fix = fmt.Sprintf("declare the port as TCP in Service %s/%s:\n  ports:\n  - name: %s\n    port: %d\n    appProtocol: tcp", svc.Namespace, svc.Name, suggested, sp.Port)
			p.Report(f)
		}
	}
}
