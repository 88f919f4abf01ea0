package mesh

import (
	"strconv"
	"strings"

	istioapi "istio.io/api/networking/v1alpha3"
)

// EntryServerFirst is a ServiceEntry port whose server speaks first and
// whose protocol the client sidecars sniff.
type EntryServerFirst struct {
	ServerFirst
	// Strong is true when two signals agree (the port number and the port
	// name or host), false on one alone.
	Strong bool
}

// serverFirstNames are port-name prefixes and host first labels that
// name a server-first protocol.
var serverFirstNames = map[string]string{
	"mysql": "MySQL", "mariadb": "MySQL", "smtp": "SMTP", "smtps": "SMTP", "mail": "SMTP",
	"ftp": "FTP", "pop3": "POP3", "pop": "POP3", "imap": "IMAP", "nats": "NATS",
}

// EntrySniffedServerFirst answers whether sidecars connecting to a
// ServiceEntry port must sniff a server-first protocol, and so hang. A
// ServiceEntry port's protocol comes only from its protocol field
// (pilot/pkg/serviceregistry/serviceentry/conversion.go convertPort:
// protocol.Parse(port.Protocol)); empty means "sniff"
// (pkg/config/validation ValidateProtocol). Unlike a Kubernetes Service
// port, neither the port name nor the well-known numbers 25 and 3306
// make it TCP. The client's outbound sniffing waits for the client's
// first bytes, which a server-first client never sends before the
// server's greeting. Off when istiod runs with
// PILOT_ENABLE_PROTOCOL_SNIFFING_FOR_OUTBOUND=false.
func (m *Model) EntrySniffedServerFirst(se *ServiceEntry, p *istioapi.ServicePort) (EntryServerFirst, bool) {
	if p == nil || p.GetProtocol() != "" {
		return EntryServerFirst{}, false
	}
	if v, ok := m.Istio.Env["PILOT_ENABLE_PROTOCOL_SNIFFING_FOR_OUTBOUND"]; ok {
		if on, err := strconv.ParseBool(v); err == nil && !on {
			return EntryServerFirst{}, false
		}
	}
	byPort, portOK := serverFirstPorts[int32(p.GetNumber())]
	name := strings.ToLower(p.GetName())
	if i := strings.IndexAny(name, "-_"); i >= 0 {
		name = name[:i]
	}
	byName, nameOK := serverFirstNames[name]
	var byHost, host string
	for _, h := range se.Spec.GetHosts() {
		first, _, _ := strings.Cut(strings.ToLower(h), ".")
		if proto, ok := serverFirstNames[first]; ok {
			byHost, host = proto, h
			break
		}
	}
	switch {
	case portOK && nameOK && byName == byPort:
		return EntryServerFirst{ServerFirst{Protocol: byPort, Evidence: "port " + itoa(p.GetNumber()) + " named " + p.GetName()}, true}, true
	case portOK && byHost == byPort:
		return EntryServerFirst{ServerFirst{Protocol: byPort, Evidence: "port " + itoa(p.GetNumber()) + " of host " + host}, true}, true
	case portOK:
		return EntryServerFirst{ServerFirst{Protocol: byPort, Evidence: "port " + itoa(p.GetNumber())}, false}, true
	case nameOK:
		return EntryServerFirst{ServerFirst{Protocol: byName, Evidence: "port name " + p.GetName()}, false}, true
	}
	return EntryServerFirst{}, false
}
