package workload

import (
	"fmt"
	"strings"

	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/rules"
)

// ServiceEntryServerFirstSniffed: a ServiceEntry port without protocol
// reaches a server-first server; the client sidecars sniff and hang.
var ServiceEntryServerFirstSniffed = &rules.Rule{
	Code: "MD4050", Name: "serviceentry-server-first-sniffed", Severity: finding.Error, Area: "workload",
	Summary: "A ServiceEntry port for a server-first protocol (MySQL, SMTP…) sets no protocol: meshed clients sniff it and their connections hang.",
	Needs:   []string{"ServiceEntry"},
	Since:   "0.3.0",
	Doc: rules.Doc{
		Mechanism: "A ServiceEntry port's protocol comes only from its protocol field; when it is empty Istio detects the protocol from the first bytes the client sends (pilot/pkg/serviceregistry/serviceentry/conversion.go convertPort; an empty protocol passes validation as \"sniff\"). Unlike a Kubernetes Service port, neither the port name (mysql, smtp) nor the well-known numbers 25 and 3306 make it TCP. A meshed client's sidecar therefore holds the connection to an external MySQL, SMTP, FTP, IMAP/POP3 or NATS server waiting for the client's first bytes, while the client waits for the server's greeting. With the default protocolDetectionTimeout of 0s nothing breaks the wait.",
		Symptom:   "Clients in the mesh hang on connect until their own timeout: MySQL \"ERROR 2013 (HY000): Lost connection to MySQL server at 'reading initial communication packet'\", SMTP clients timing out waiting for the 220 greeting; the same client works from a pod without sidecar.",
		Fix:       "Set protocol: TCP on the ServiceEntry port (or MYSQL for MySQL).",
		Before:    "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: external-mysql, namespace: shop}\nspec:\n  hosts: [db.example.com]\n  location: MESH_EXTERNAL\n  resolution: DNS\n  ports:\n  - number: 3306\n    name: mysql   # the name does not set the protocol\n",
		After:     "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: external-mysql, namespace: shop}\nspec:\n  hosts: [db.example.com]\n  location: MESH_EXTERNAL\n  resolution: DNS\n  ports:\n  - number: 3306\n    name: mysql\n    protocol: TCP\n",
		Sources: []string{
			"https://istio.io/latest/docs/ops/deployment/application-requirements/#server-first-protocols",
			"https://istio.io/latest/docs/reference/config/networking/service-entry/#ServicePort",
			"https://istio.io/latest/docs/ops/configuration/traffic-management/protocol-selection/",
			"https://github.com/istio/istio/issues/10062",
			"https://github.com/istio/istio/issues/38284",
		},
	},
	Run: runServiceEntryServerFirstSniffed,
}

func runServiceEntryServerFirstSniffed(p *rules.Pass) {
	m := p.Model
	for _, se := range m.ServiceEntries {
		for i, port := range se.Spec.GetPorts() {
			sf, ok := m.EntrySniffedServerFirst(se, port)
			if !ok {
				continue
			}
			f := rules.At(se.Object, "spec", "ports", i)
			if !sf.Strong {
				f.Severity = finding.Warning
			}
			f.Message = fmt.Sprintf("ServiceEntry %s/%s port %d (%s) sets no protocol, so meshed clients sniff it, but it looks like %s (%s), which is server-first: the client waits for the server's greeting while its sidecar waits for the client's first bytes",
				se.Namespace, se.Name, port.GetNumber(), port.GetName(), sf.Protocol, sf.Evidence)
			f.Symptom = fmt.Sprintf("%s clients with a sidecar hang on connect to %s until their own timeout (e.g. MySQL \"Lost connection to MySQL server at 'reading initial communication packet'\")", sf.Protocol, strings.Join(se.Spec.GetHosts(), ", "))
			f.Fix = fmt.Sprintf("declare the port's protocol:\n  ports:\n  - number: %d\n    name: %s\n    protocol: TCP", port.GetNumber(), port.GetName())
			p.Report(f)
		}
	}
}
