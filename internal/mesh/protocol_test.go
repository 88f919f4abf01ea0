package mesh

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// The API server accepts only TCP, UDP and SCTP, case-sensitively, as a
// Service or container port's protocol (supportedPortProtocols,
// k8s.io/kubernetes pkg/apis/core/validation/validation.go); empty is
// defaulted to TCP first.
func TestKubernetesPortProtocol(t *testing.T) {
	for p, want := range map[corev1.Protocol]bool{
		"": true, "TCP": true, "UDP": true, "SCTP": true,
		"tcp": false, "Udp": false, "HTTP": false, "GRPC": false, "HTTPS": false, "TLS": false,
	} {
		if got := KubernetesPortProtocol(p); got != want {
			t.Errorf("KubernetesPortProtocol(%q) = %v, want %v", p, got, want)
		}
	}
	for s, want := range map[string]string{"HTTP": "HTTP", "grpc": "GRPC", "Http2": "HTTP2", "tcp": "TCP", "QUIC": "", "": ""} {
		if got := ApplicationProtocolName(s); got != want {
			t.Errorf("ApplicationProtocolName(%q) = %q, want %q", s, got, want)
		}
	}
}
