package traffic

import (
	"fmt"
	"strings"

	istioapi "istio.io/api/networking/v1alpha3"

	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/mesh"
	"github.com/meshdoctor/meshdoctor/internal/rules"
)

// ServiceEntryTCPWithoutAddress: a ServiceEntry port served as TCP with no
// address for the sidecar to tell its traffic apart.
var ServiceEntryTCPWithoutAddress = &rules.Rule{
	Code: "MD1008", Name: "serviceentry-tcp-without-address", Severity: finding.Warning, Area: "traffic",
	Summary: "A ServiceEntry has a TCP (or protocol-less) port but no addresses and no auto-allocated ones: sidecars catch every TCP connection on that port for it.",
	Needs:   []string{"ServiceEntry"},
	Since:   "0.2.0",
	IST:     []string{"IST0134"},
	Doc: rules.Doc{
		Mechanism: "A TCP connection carries no host name: a sidecar picks the outbound listener by destination IP and port. For a ServiceEntry port without addresses Istio can only build a wildcard listener 0.0.0.0:<port>, so every TCP connection on that port to an IP no other listener claims goes to this entry's endpoints (resolution DNS/STATIC) or straight through (resolution NONE); two such entries on one port conflict and one wins. With the DNS proxy on (ISTIO_META_DNS_CAPTURE) and address allocation (istiod's PILOT_ENABLE_IP_AUTOALLOCATE, default from 1.25, or ISTIO_META_DNS_AUTO_ALLOCATE), each entry gets a virtual IP and the problem disappears. istioctl analyze (IST0134) skips entries whose status already lists allocated addresses; those are used only with the DNS proxy on, so meshdoctor decides on the DNS proxy and allocation settings instead, and reports resolution NONE as information (the traffic reaches its original destination, but every connection on the port is attributed to this entry).",
		Symptom:   "Connections to another external database or service on the same port reach this entry's host instead (or the other entry's), telemetry and policies for the host apply to unrelated traffic, and with two entries on one port one of them silently does not work.",
		Fix:       "Set spec.addresses (the service's IPs or CIDR, or a virtual IP), or turn on the DNS proxy with address allocation in meshConfig.defaultConfig.proxyMetadata (ISTIO_META_DNS_CAPTURE: \"true\"; from Istio 1.25 istiod allocates the addresses), or declare an application protocol (HTTP, TLS) the proxy can route by host.",
		Before:    "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata:\n  name: orders-db\nspec:\n  hosts: [orders-db.example.com]\n  location: MESH_EXTERNAL\n  resolution: DNS\n  ports:\n  - {number: 5432, name: tcp-postgres, protocol: TCP}\n",
		After:     "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata:\n  name: orders-db\nspec:\n  hosts: [orders-db.example.com]\n  addresses: [10.20.30.40/32]\n  location: MESH_EXTERNAL\n  resolution: DNS\n  ports:\n  - {number: 5432, name: tcp-postgres, protocol: TCP}\n",
		Sources: []string{
			"https://istio.io/latest/docs/reference/config/analysis/ist0134/",
			"https://istio.io/latest/docs/ops/configuration/traffic-management/dns-proxy/#address-auto-allocation",
			"https://istio.io/latest/docs/reference/config/networking/service-entry/#ServiceEntry",
		},
	},
	Run: runServiceEntryTCPWithoutAddress,
}

func runServiceEntryTCPWithoutAddress(p *rules.Pass) {
	m := p.Model
	if on, _ := m.DNSAutoAllocation(); on {
		return
	}
	_, why := m.DNSAutoAllocation()
	// Entries without addresses by TCP port, to name the conflicts.
	byPort := map[uint32][]*mesh.ServiceEntry{}
	for _, se := range m.ServiceEntries {
		if len(se.Spec.GetAddresses()) > 0 {
			continue
		}
		for _, port := range se.Spec.GetPorts() {
			if mesh.EntryPortTCP(port.GetProtocol()) {
				byPort[port.GetNumber()] = append(byPort[port.GetNumber()], se)
			}
		}
	}
	for _, se := range m.ServiceEntries {
		if len(se.Spec.GetAddresses()) > 0 {
			continue
		}
		hosts := strings.Join(se.Spec.GetHosts(), ", ")
		for i, port := range se.Spec.GetPorts() {
			if !mesh.EntryPortTCP(port.GetProtocol()) {
				continue
			}
			f := rules.At(se.Object, "spec", "ports", i)
			proto := port.GetProtocol()
			if proto == "" {
				proto = "no protocol"
			}
			f.Message = fmt.Sprintf("ServiceEntry %s/%s port %d (%s) has no addresses, and %s: sidecars serve it with a wildcard listener 0.0.0.0:%d", se.Namespace, se.Name, port.GetNumber(), proto, why, port.GetNumber())
			var others []string
			for _, o := range byPort[port.GetNumber()] {
				if o != se && m.EntriesMeet(se, o) {
					others = append(others, o.Namespace+"/"+o.Name)
				}
			}
			switch {
			case se.Spec.GetResolution() == istioapi.ServiceEntry_NONE && len(others) == 0:
				f.Severity = finding.Info
				f.Symptom = fmt.Sprintf("every TCP connection on port %d to an address no other listener claims passes through as %s (%s): telemetry and policies for it apply to unrelated traffic", port.GetNumber(), hosts, "resolution NONE")
			case len(others) > 0:
				f.Message += "; ServiceEntry " + rules.ListUpTo(others, 3) + " claims the same port"
				f.Symptom = fmt.Sprintf("the entries on port %d conflict: connections for one host reach the other's endpoints, and one entry silently does not work", port.GetNumber())
			default:
				f.Symptom = fmt.Sprintf("every TCP connection on port %d to an address no other listener claims goes to %s's endpoints, whatever host the application meant", port.GetNumber(), hosts)
			}
			f.Fix = fmt.Sprintf("set spec.addresses of ServiceEntry %s/%s to the service's IPs (or a CIDR), or turn on the DNS proxy with address allocation:\nmeshConfig:\n  defaultConfig:\n    proxyMetadata:\n      ISTIO_META_DNS_CAPTURE: \"true\"\n      ISTIO_META_DNS_AUTO_ALLOCATE: \"true\"   # not needed from Istio 1.25", se.Namespace, se.Name)
			p.Report(f)
		}
	}
}
