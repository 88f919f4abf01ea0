package workload

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// The fix names what to write instead: the transport protocol in capitals,
// or the application protocol where Istio reads it.
func TestProtocolFix(t *testing.T) {
	for _, tc := range []struct {
		got     corev1.Protocol
		name    string
		service bool
		want    string
	}{
		{"udp", "dns", true, "protocol: UDP"},
		{"Tcp", "", false, "protocol: TCP"},
		{"HTTP", "frontend", true, "appProtocol: http or a port name starting with http- (e.g. http-frontend)"},
		{"GRPC", "grpc-api", true, "remove protocol (TCP is the default): the port name grpc-api already declares GRPC"},
		{"GRPC", "", true, "(e.g. grpc-api)"},
		{"HTTP", "grpc-api", true, "(e.g. http-grpc-api)"},
		{"HTTP", "", false, "a container port carries no application protocol for Istio; declare HTTP on the Service port"},
		{"QUIC", "", true, "set protocol to TCP, UDP or SCTP"},
	} {
		if got := protocolFix(tc.got, tc.name, tc.service); !strings.Contains(got, tc.want) {
			t.Errorf("protocolFix(%q, %q, %v) = %q, want it to contain %q", tc.got, tc.name, tc.service, got, tc.want)
		}
	}
}
