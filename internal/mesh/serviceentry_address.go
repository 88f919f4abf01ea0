package mesh

import (
	"fmt"
	"strconv"
	"strings"
)

// DNSAutoAllocation reports whether sidecars get a virtual IP for
// ServiceEntries without addresses: the DNS proxy must be on
// (ISTIO_META_DNS_CAPTURE in the mesh's proxyMetadata) and addresses must
// be allocated, by the proxy (ISTIO_META_DNS_AUTO_ALLOCATE, before 1.25)
// or by istiod (PILOT_ENABLE_IP_AUTOALLOCATE, on by default from 1.25).
// Why explains the answer. Pods that turn DNS capture on in their own
// proxy.istio.io/config annotation are not considered.
// https://istio.io/latest/docs/ops/configuration/traffic-management/dns-proxy/#address-auto-allocation
func (m *Model) DNSAutoAllocation() (on bool, why string) {
	md := m.Mesh.ProxyMetadata
	if b, _ := strconv.ParseBool(md["ISTIO_META_DNS_CAPTURE"]); !b {
		return false, "the sidecars' DNS proxy is off (defaultConfig.proxyMetadata has no ISTIO_META_DNS_CAPTURE: \"true\"; mesh config: " + m.Mesh.Source + ")"
	}
	if b, _ := strconv.ParseBool(md["ISTIO_META_DNS_AUTO_ALLOCATE"]); b {
		return true, "ISTIO_META_DNS_CAPTURE and ISTIO_META_DNS_AUTO_ALLOCATE are on in " + m.Mesh.Source
	}
	if b, _ := strconv.ParseBool(md["PILOT_ENABLE_IP_AUTOALLOCATE"]); b {
		return true, "ISTIO_META_DNS_CAPTURE and PILOT_ENABLE_IP_AUTOALLOCATE are on in " + m.Mesh.Source
	}
	f := m.Istio.Flag("PILOT_ENABLE_IP_AUTOALLOCATE")
	if f.On {
		return true, fmt.Sprintf("ISTIO_META_DNS_CAPTURE is on in %s and istiod allocates addresses (PILOT_ENABLE_IP_AUTOALLOCATE: %s)", m.Mesh.Source, f.Why)
	}
	return false, fmt.Sprintf("the DNS proxy is on but nothing allocates addresses (PILOT_ENABLE_IP_AUTOALLOCATE: %s; ISTIO_META_DNS_AUTO_ALLOCATE unset)", f.Why)
}

// EntryPortTCP reports whether a ServiceEntry port is served as opaque
// TCP by protocol: TCP, or unset (istioctl analyze counts it as TCP; a
// sidecar sniffs it, and everything that is not HTTP is TCP).
func EntryPortTCP(protocol string) bool {
	return protocol == "" || strings.EqualFold(protocol, "TCP")
}

// EntriesMeet reports whether some namespace's proxies see both
// ServiceEntries (their exportTo, else the mesh default), so that their
// listeners compete on those proxies.
func (m *Model) EntriesMeet(a, b *ServiceEntry) bool {
	const anyOther = "\x00another namespace" // visible only through "*"
	cands := []string{a.Namespace, b.Namespace, anyOther}
	cands = append(cands, m.entryExportTo(a)...)
	for _, ns := range cands {
		if ns == "*" || ns == "." || ns == "~" {
			continue
		}
		if m.entryVisible(a, ns) && m.entryVisible(b, ns) {
			return true
		}
	}
	return false
}
