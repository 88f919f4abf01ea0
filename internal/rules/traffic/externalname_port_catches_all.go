package traffic

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"

	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/mesh"
	"github.com/meshdoctor/meshdoctor/internal/rules"
)

// ExternalNamePortCatchesAll: before ExternalName aliasing, an ExternalName
// Service port that is not HTTP (or TLS) takes every TCP connection on its
// port number.
var ExternalNamePortCatchesAll = &rules.Rule{
	Code: "MD1009", Name: "externalname-port-catches-all", Severity: finding.Warning, Area: "traffic",
	Summary: "Without ExternalName aliasing (Istio before 1.21, or ENABLE_EXTERNAL_NAME_ALIAS=false), an ExternalName Service's TCP or unnamed port takes every TCP connection on that port number.",
	Needs:   []string{"Service"},
	Since:   "0.2.0",
	IST:     []string{"IST0150"},
	Doc: rules.Doc{
		Mechanism: "Until Istio 1.21 (and later with ENABLE_EXTERNAL_NAME_ALIAS=false) each ExternalName Service was a service of its own with no cluster IP: sidecars served its ports with wildcard listeners 0.0.0.0:<port>. A port declared HTTP is routed by Host and a TLS port by SNI, but a port named tcp, tcp-*, mongo, mysql, redis, or not named by protocol (sniffed: whatever is not HTTP falls back to TCP) forwards every TCP connection on that port number, to any IP no other listener claims, to the external name. From 1.21 an ExternalName Service is an alias (a DNS CNAME, as in Kubernetes) and its ports have no effect. istioctl analyze (IST0150) reports ports named exactly tcp or without a protocol on every release; meshdoctor reports every port served as TCP, and only when aliasing is off.",
		Symptom:   "Connections from meshed pods to other external hosts on the same port (databases, brokers) are sent to the ExternalName target instead; the misrouting starts when the ExternalName Service is applied, far from the clients that break.",
		Fix:       "Upgrade to Istio 1.21+ with aliasing on (the default), or declare the port's real protocol (http-*, https-*, tls-*), or replace the ExternalName Service by a ServiceEntry with addresses.",
		Before:    "apiVersion: v1\nkind: Service\nmetadata:\n  name: legacy-db\nspec:\n  type: ExternalName\n  externalName: db.legacy.example.com\n  ports:\n  - name: tcp\n    port: 5432\n",
		After:     "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata:\n  name: legacy-db\nspec:\n  hosts: [db.legacy.example.com]\n  addresses: [10.20.30.40/32]\n  location: MESH_EXTERNAL\n  resolution: DNS\n  ports:\n  - {number: 5432, name: tcp-postgres, protocol: TCP}\n",
		Sources: []string{
			"https://istio.io/latest/docs/reference/config/analysis/ist0150/",
			"https://istio.io/latest/news/releases/1.21.x/announcing-1.21/upgrade-notes/#externalname-support-changes",
			"https://istio.io/latest/docs/ops/configuration/traffic-management/protocol-selection/",
		},
	},
	Run: runExternalNamePortCatchesAll,
}

func runExternalNamePortCatchesAll(p *rules.Pass) {
	m := p.Model
	alias := m.Istio.Flag("ENABLE_EXTERNAL_NAME_ALIAS")
	if alias.On {
		return
	}
	for _, s := range m.Services {
		if s.Spec.Type != corev1.ServiceTypeExternalName || s.Spec.ExternalName == "" {
			continue
		}
		for i := range s.Spec.Ports {
			sp := &s.Spec.Ports[i]
			proto := mesh.PortProtocol(sp)
			if proto.IsHTTP() || proto.Name == "TLS" || proto.Name == "HTTPS" || proto.Name == "UDP" {
				continue
			}
			how := "protocol " + proto.Name + " (" + proto.From + ")"
			if proto.Sniffed() {
				how = "no declared protocol (sniffed: non-HTTP traffic is TCP)"
			}
			f := rules.At(s.Object, "spec", "ports", i)
			f.Message = fmt.Sprintf("ExternalName Service %s/%s port %d (%q) has %s; ExternalName aliasing is off (ENABLE_EXTERNAL_NAME_ALIAS: %s), so sidecars forward every TCP connection on port %d to %s", s.Namespace, s.Name, sp.Port, sp.Name, how, alias.Why, sp.Port, s.Spec.ExternalName)
			f.Symptom = fmt.Sprintf("meshed clients connecting to other hosts on port %d reach %s instead", sp.Port, s.Spec.ExternalName)
			f.Fix = fmt.Sprintf("declare the port's real protocol if it is HTTP or TLS (name: http-%s / tls-%s), or replace Service %s/%s by a ServiceEntry for %s with addresses, or upgrade to Istio 1.21+ with ExternalName aliasing on", sp.Name, sp.Name, s.Namespace, s.Name, s.Spec.ExternalName)
			p.Report(f)
		}
	}
}
