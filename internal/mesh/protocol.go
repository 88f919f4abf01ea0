package mesh

import (
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// Protocol is what Istio knows of a Service port's protocol.
type Protocol struct {
	// Name is the protocol in Istio's terms (HTTP, HTTP2, GRPC, TCP, TLS,
	// HTTPS, MONGO, MYSQL, REDIS, UDP…), empty when Istio must sniff.
	Name string
	// From says how it was decided: "appProtocol", "port name" or "".
	From string
}

// Sniffed reports whether Istio has to detect the protocol from the first
// bytes of each connection.
func (p Protocol) Sniffed() bool { return p.Name == "" }

// IsHTTP reports whether Istio applies HTTP routing to the port.
func (p Protocol) IsHTTP() bool {
	switch p.Name {
	case "HTTP", "HTTP2", "GRPC", "GRPC-WEB":
		return true
	}
	return false
}

var protocols = map[string]string{
	"http": "HTTP", "http2": "HTTP2", "https": "HTTPS", "grpc": "GRPC", "grpc-web": "GRPC-WEB",
	"tcp": "TCP", "tls": "TLS", "udp": "UDP", "mongo": "MONGO", "mysql": "MYSQL", "redis": "REDIS",
	"h2c": "HTTP2", "kubernetes.io/h2c": "HTTP2", "kubernetes.io/ws": "HTTP", "kubernetes.io/wss": "HTTPS",
}

// PortProtocol applies Istio's explicit protocol selection: appProtocol, then
// the port name "<protocol>[-<suffix>]"; otherwise the protocol is sniffed.
// https://istio.io/latest/docs/ops/configuration/traffic-management/protocol-selection/
//
// As in Istio's ConvertProtocol, an appProtocol replaces the port name
// entirely (an unknown appProtocol is not rescued by the name), and a port
// whose protocol is still unknown but whose number is 25, 53, 3306 or 27017
// is taken as TCP, never sniffed.
// https://istio.io/latest/docs/ops/deployment/application-requirements/#server-first-protocols
func PortProtocol(p *corev1.ServicePort) Protocol {
	if p.Protocol == corev1.ProtocolUDP {
		return Protocol{Name: "UDP", From: "protocol"}
	}
	if p.AppProtocol != nil {
		if name, ok := protocols[strings.ToLower(*p.AppProtocol)]; ok {
			return Protocol{Name: name, From: "appProtocol"}
		}
		return wellKnownPort(p.Port)
	}
	prefix := strings.ToLower(p.Name)
	if i := strings.IndexByte(prefix, '-'); i >= 0 && !strings.HasPrefix(prefix, "grpc-web") {
		prefix = prefix[:i]
	} else if strings.HasPrefix(prefix, "grpc-web") {
		prefix = "grpc-web"
	}
	if name, ok := protocols[prefix]; ok && !strings.Contains(prefix, "/") {
		return Protocol{Name: name, From: "port name"}
	}
	return wellKnownPort(p.Port)
}

// wellKnownPort is Istio's fallback for ports of server-first protocols
// (SMTP, DNS, MySQL, MongoDB): TCP instead of protocol sniffing.
func wellKnownPort(port int32) Protocol {
	switch port {
	case 25, 53, 3306, 27017:
		return Protocol{Name: "TCP", From: "well-known port " + strconv.Itoa(int(port))}
	}
	return Protocol{}
}

// ServicePort finds a Service's port by number.
func (s *Service) Port(number uint32) (*corev1.ServicePort, int) {
	for i := range s.Spec.Ports {
		if uint32(s.Spec.Ports[i].Port) == number {
			return &s.Spec.Ports[i], i
		}
	}
	return nil, -1
}

func itoa(n uint32) string { return strconv.FormatUint(uint64(n), 10) }

// KubernetesPortProtocol reports whether the Kubernetes API server accepts
// p as the protocol of a Service or container port: TCP, UDP or SCTP,
// spelled in capitals, or empty (defaulted to TCP before validation). Any
// other value (HTTP, GRPC, tcp) fails validation with `Unsupported value`
// (supportedPortProtocols, k8s.io/kubernetes
// pkg/apis/core/validation/validation.go, checked for Service ports and
// for the ports of containers and init containers), so the object is not
// created: the field is Kubernetes' transport protocol, and an application
// protocol for Istio belongs in appProtocol or the port name.
func KubernetesPortProtocol(p corev1.Protocol) bool {
	switch p {
	case "", corev1.ProtocolTCP, corev1.ProtocolUDP, corev1.ProtocolSCTP:
		return true
	}
	return false
}

// ApplicationProtocolName returns Istio's name for an application protocol
// written in any case ("http" -> "HTTP"), or "" when Istio does not know
// it: the word a misplaced Kubernetes port protocol (protocol: HTTP) was
// meant to say.
func ApplicationProtocolName(s string) string { return protocols[strings.ToLower(s)] }
