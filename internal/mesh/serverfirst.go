package mesh

import (
	corev1 "k8s.io/api/core/v1"
	"strconv"
)

// ServerFirst names a server-first protocol: the server sends the first
// bytes (a greeting or banner) and the client waits for them. Istio's
// protocol sniffing and PERMISSIVE mTLS detection wait for the client's
// first bytes instead, so the two wait for each other.
// https://istio.io/latest/docs/ops/deployment/application-requirements/#server-first-protocols
type ServerFirst struct {
	Protocol string // "MySQL", "SMTP", …
	// Evidence says how it was recognised ("image mysql:8.0",
	// "port 587"), for messages.
	Evidence string
	// ByImage is true when the serving container's image says it; a port
	// number alone is weaker evidence.
	ByImage bool
}

// serverFirstPorts are standard ports of protocols whose server speaks
// first. Not listed on purpose, because the client speaks first:
// PostgreSQL (StartupMessage/SSLRequest), Redis, AMQP, Kafka, ZooKeeper,
// MSSQL (TDS PRELOGIN), Oracle (TNS CONNECT), Cassandra, MongoDB wire
// protocol, LDAP, and SSH (both sides send their version string at once,
// so sniffing sees the client's bytes).
var serverFirstPorts = map[int32]string{
	21:   "FTP",
	25:   "SMTP",
	110:  "POP3",
	143:  "IMAP",
	587:  "SMTP",
	3306: "MySQL",
	4222: "NATS",
	5900: "VNC (RFB)",
}

// serverFirstImages maps an image's repository base name to the protocol
// and the container port it serves it on.
var serverFirstImages = map[string]struct {
	protocol string
	port     int32
}{
	"mysql":          {"MySQL", 3306},
	"mysql-server":   {"MySQL", 3306},
	"mariadb":        {"MySQL", 3306},
	"percona":        {"MySQL", 3306},
	"percona-server": {"MySQL", 3306},
	"tidb":           {"MySQL", 4000},
	"proxysql":       {"MySQL", 6033},
	"nats":           {"NATS", 4222},
	"nats-server":    {"NATS", 4222},
	"mailhog":        {"SMTP", 1025},
	"mailpit":        {"SMTP", 1025},
	"postfix":        {"SMTP", 25},
	"vsftpd":         {"FTP", 21},
	"dovecot":        {"IMAP", 143},
}

// ServerFirstProtocol tells whether traffic to Service port sp lands on a
// server-first protocol: the container it reaches on workload w runs a
// known server-first image on that protocol's port, or (w nil or no image
// evidence) the Service port or target port number is a standard
// server-first port.
func ServerFirstProtocol(sp *corev1.ServicePort, w *Workload) (ServerFirst, bool) {
	if w != nil {
		port, c, ok := w.ContainerPort(sp.TargetPort, sp.Port)
		if ok && c == nil {
			// The port is not declared: the app container is the one
			// whose image says what it serves, if only one does.
			for i := range w.PodSpec.Containers {
				if img, known := serverFirstImages[ImageName(w.PodSpec.Containers[i].Image)]; known && img.port == port {
					c = &w.PodSpec.Containers[i]
				}
			}
		}
		if ok && c != nil {
			if img, known := serverFirstImages[ImageName(c.Image)]; known && img.port == port {
				return ServerFirst{Protocol: img.protocol, Evidence: "container " + c.Name + " runs " + c.Image + " on port " + itoa(uint32(port)), ByImage: true}, true
			}
		}
	}
	if p, ok := serverFirstPorts[sp.Port]; ok {
		return ServerFirst{Protocol: p, Evidence: "port " + itoa(uint32(sp.Port))}, true
	}
	if sp.TargetPort.IntVal != 0 {
		if p, ok := serverFirstPorts[sp.TargetPort.IntVal]; ok {
			return ServerFirst{Protocol: p, Evidence: "target port " + itoa(uint32(sp.TargetPort.IntVal))}, true
		}
	}
	return ServerFirst{}, false
}

// SniffedServerFirst answers whether connections to Service port sp hang
// because the servers' sidecars must sniff a server-first protocol: the
// port declares no protocol, inbound sniffing is on, and a workload behind
// it with a sidecar serves a server-first protocol. It returns the
// strongest evidence (an image over a port number) and that workload.
func (m *Model) SniffedServerFirst(sp *corev1.ServicePort, ws []*Workload) (ServerFirst, *Workload, bool) {
	if !PortProtocol(sp).Sniffed() {
		return ServerFirst{}, nil, false
	}
	if v, ok := m.Istio.Env["PILOT_ENABLE_PROTOCOL_SNIFFING_FOR_INBOUND"]; ok {
		if on, err := strconv.ParseBool(v); err == nil && !on {
			return ServerFirst{}, nil, false
		}
	}
	var sf ServerFirst
	var server *Workload
	for _, w := range ws {
		s, ok := ServerFirstProtocol(sp, w)
		if !ok {
			continue
		}
		if dp, _ := m.Injection(w); dp != DataplaneSidecar {
			continue
		}
		if server == nil || (s.ByImage && !sf.ByImage) {
			sf, server = s, w
		}
	}
	return sf, server, server != nil
}
