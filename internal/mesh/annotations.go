package mesh

import (
	"fmt"
	"net/netip"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode"

	//lint:ignore SA1019 Istio reads proxy.istio.io/config leniently (unknown fields allowed); doing the same keeps its leniency
	"github.com/golang/protobuf/jsonpb"
	"istio.io/api/annotation"
	"istio.io/api/label"
	meshapi "istio.io/api/mesh/v1alpha1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/meshdoctor/meshdoctor/internal/manifest"
)

// AnnotationUse is one Istio annotation written in the input: the object
// that carries it, where, and the kind of resource it acts on there (the
// resource type of Istio's annotation catalog: a pod template's
// annotations act on "Pod", a Deployment's own metadata on "Deployment").
type AnnotationUse struct {
	Object *manifest.Object
	// Workload is set when the object runs pods (its own metadata or its
	// pod template).
	Workload *Workload
	// Path leads from the object's root to the annotation's key.
	Path        []any
	Name, Value string
	AppliesAs   string
	// Def is the catalog's entry, nil for a name Istio does not know.
	Def *annotation.Instance
}

// OnPodTemplate reports whether the annotation is on a controller's pod
// template (as opposed to its own metadata or a bare Pod).
func (u AnnotationUse) OnPodTemplate() bool {
	return u.Workload != nil && u.Workload.Pod == nil && u.AppliesAs == "Pod"
}

// annotationCatalog is istio.io/api's annotation catalog by name.
var annotationCatalog = func() map[string]*annotation.Instance {
	out := map[string]*annotation.Instance{}
	for _, a := range annotation.AllResourceAnnotations() {
		out[a.Name] = a
	}
	// The sidecar injector template reads these pod annotations although
	// the catalog does not list them (istio-discovery chart,
	// files/injection-template.yaml): they are known, not typos.
	for _, name := range []string{"sidecar.istio.io/capNetBindService"} {
		if out[name] == nil {
			out[name] = &annotation.Instance{Name: name, FeatureStatus: annotation.Alpha, Resources: []annotation.ResourceTypes{annotation.Pod}}
		}
	}
	return out
}()

// annotationNames lists the catalog's names, sorted, for spelling hints.
var annotationNames = func() []string {
	var out []string
	for n := range annotationCatalog {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}()

// labelCatalog is istio.io/api's label catalog by name: an Istio label
// written as an annotation is a misplaced label, not an unknown name.
var labelCatalog = func() map[string]*label.Instance {
	out := map[string]*label.Instance{}
	for _, l := range label.AllResourceLabels() {
		out[l.Name] = l
	}
	return out
}()

// IstioAnnotationNames lists every annotation name Istio knows, sorted.
func IstioAnnotationNames() []string { return annotationNames }

// IstioLabel returns the catalog entry of an Istio label, nil if the name
// is none.
func IstioLabel(name string) *label.Instance { return labelCatalog[name] }

// IsIstioAnnotationName reports whether an annotation is in one of Istio's
// domains (sidecar.istio.io, traffic.sidecar.istio.io, istio.io…), the
// names Istio's catalog speaks for. Other vendors' annotations are not
// Istio's business.
func IsIstioAnnotationName(name string) bool {
	domain, _, ok := strings.Cut(name, "/")
	return ok && (domain == "istio.io" || strings.HasSuffix(domain, ".istio.io"))
}

// IngressClassAnnotation is Kubernetes' annotation choosing an Ingress's
// controller. Istio's annotation catalog documents it (for Ingress only) and
// istioctl analyze checks it like Istio's own names.
const IngressClassAnnotation = "kubernetes.io/ingress.class"

// istioDocumented reports whether the catalog speaks for an annotation on
// o: Istio's domains everywhere, and kubernetes.io/ingress.class on the
// kinds no ingress controller reads it from (pods and their controllers,
// Namespaces, Istio's own kinds). A Service is left alone: some ingress
// controllers read their configuration from Service annotations, so a
// class there may be one of theirs.
func istioDocumented(name string, o *manifest.Object) bool {
	if name == IngressClassAnnotation {
		return !(o.Group() == "" && o.Kind == "Service")
	}
	return IsIstioAnnotationName(name)
}

// systemAnnotations are written by Istio itself (the injector, the gateway
// controller, revision tags): never the user's to fix.
var systemAnnotations = map[string]bool{
	annotation.SidecarStatus.Name:            true,
	annotation.GatewayControllerVersion.Name: true,
	annotation.IoIstioRev.Name:               true,
}

// annotatedKinds are the kinds whose own metadata Istio's annotations
// speak for: the ones istioctl analyze checks (Namespace, Service, Pod,
// Deployment), the other controllers of pods, and Istio's own kinds the
// catalog names. Other kinds (Secrets of remote clusters carry
// networking.istio.io/cluster, CRDs, webhooks) use Istio names the catalog
// does not document, so they are left alone.
var annotatedKinds = map[GroupKind]bool{
	{"", "Namespace"}: true, {"", "Service"}: true, {"", "Pod"}: true,
	{"apps", "Deployment"}: true, {"apps", "StatefulSet"}: true, {"apps", "DaemonSet"}: true,
	{"apps", "ReplicaSet"}: true, {"batch", "Job"}: true, {"batch", "CronJob"}: true,
	{"networking.istio.io", "ServiceEntry"}: true, {"networking.istio.io", "WorkloadEntry"}: true,
	{"security.istio.io", "AuthorizationPolicy"}: true,
}

// IstioAnnotations lists the Istio annotations written in the input on the
// kinds Istio's catalog speaks for, in input order: each object's own
// metadata, and the pod templates of controllers (kubernetes.io/ingress.class
// included where istioDocumented says so). Annotations Istio writes
// itself (sidecar.istio.io/status, istio.io/rev) and objects its gateway
// controller generates (label gateway.istio.io/managed) are left out.
func (m *Model) IstioAnnotations() []AnnotationUse {
	// Live pods of a controller in the input carry its template's
	// annotations (and the injector's): the template is where they are
	// fixed, so the pods are not listed again.
	workloads := make(map[*manifest.Object]*Workload, len(m.Workloads))
	instances := map[*manifest.Object]bool{}
	for _, w := range m.Workloads {
		workloads[w.Object] = w
		for _, p := range w.Instances {
			instances[p.Object] = true
		}
	}
	var out []AnnotationUse
	add := func(o *manifest.Object, w *Workload, path []any, as string, anns map[string]string) {
		names := make([]string, 0, len(anns))
		for n := range anns {
			if istioDocumented(n, o) && !systemAnnotations[n] {
				names = append(names, n)
			}
		}
		sort.Strings(names)
		for _, n := range names {
			p := append(append([]any{}, path...), "metadata", "annotations", n)
			out = append(out, AnnotationUse{Object: o, Workload: w, Path: p, Name: n, Value: anns[n], AppliesAs: as, Def: annotationCatalog[n]})
		}
	}
	for _, o := range m.Objects {
		gk := GroupKind{o.Group(), o.Kind}
		if !annotatedKinds[gk] || instances[o] || o.Labels[label.GatewayManaged.Name] != "" {
			continue
		}
		// A ReplicaSet or Job of a controller in the input copies the
		// controller's annotations: reported once, on the controller.
		if owner := m.instanceOwner[o.Namespace+"/"+o.Kind+"/"+o.Name]; owner != nil && owner.Object != o {
			continue
		}
		w := workloads[o]
		add(o, w, nil, o.Kind, o.Annotations)
		if w != nil && w.Pod == nil {
			add(o, w, w.podPath, "Pod", w.Annotations)
		}
	}
	return out
}

// AppliesTo reports whether the catalog lets the annotation act on a
// resource of kind as, and the kinds it does act on (for messages).
func (u AnnotationUse) AppliesTo() (bool, []string) {
	if u.Def == nil {
		return true, nil
	}
	var kinds []string
	for _, r := range u.Def.Resources {
		switch r {
		case annotation.Any:
			return true, nil
		case annotation.Unknown:
			continue
		}
		if r.String() == u.AppliesAs {
			return true, nil
		}
		kinds = append(kinds, r.String())
	}
	return len(kinds) == 0, kinds
}

// interfaceName is a Linux interface name as the injector accepts one.
var interfaceName = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_.\-]*$`)

// annotationValidators are the checks the sidecar injector runs on a pod's
// annotations before it injects (pkg/kube/inject/validate.go): one that
// fails makes the webhook deny the pod.
var annotationValidators = map[string]func(string) error{
	annotation.SidecarInterceptionMode.Name: func(v string) error {
		switch v {
		case "REDIRECT", "TPROXY", "NONE":
			return nil
		}
		return fmt.Errorf("the interception mode must be REDIRECT, TPROXY or NONE")
	},
	annotation.SidecarStatusPort.Name:                         validPort,
	annotation.SidecarStatusReadinessInitialDelaySeconds.Name: validUint32,
	annotation.SidecarStatusReadinessPeriodSeconds.Name:       validUint32,
	annotation.SidecarStatusReadinessFailureThreshold.Name:    validUint32,
	annotation.SidecarTrafficIncludeOutboundIPRanges.Name:     starOr(validCIDRs),
	annotation.SidecarTrafficExcludeOutboundIPRanges.Name:     validCIDRs,
	annotation.SidecarTrafficIncludeInboundPorts.Name:         starOr(validPorts),
	annotation.SidecarTrafficExcludeInboundPorts.Name:         validPorts,
	annotation.SidecarTrafficExcludeOutboundPorts.Name:        validPorts,
	annotation.SidecarTrafficExcludeInterfaces.Name:           validInterfaces,
	annotation.SidecarTrafficKubevirtInterfaces.Name:          validInterfaces,
	annotation.IoIstioRerouteVirtualInterfaces.Name:           validInterfaces,
	annotation.PrometheusMergeMetrics.Name: func(v string) error {
		if _, err := strconv.ParseBool(v); err != nil {
			return fmt.Errorf("not a boolean (true or false)")
		}
		return nil
	},
	annotation.ProxyConfig.Name:             validProxyConfig,
	annotation.SidecarProxyCPU.Name:         validQuantity,
	annotation.SidecarProxyMemory.Name:      validQuantity,
	annotation.SidecarProxyCPULimit.Name:    validQuantity,
	annotation.SidecarProxyMemoryLimit.Name: validQuantity,
}

// ValidateAnnotation checks an annotation's value as the sidecar injector
// does before injecting a pod; nil for valid values and for annotations it
// does not check.
func ValidateAnnotation(name, value string) error {
	if v := annotationValidators[name]; v != nil {
		return v(value)
	}
	return nil
}

func starOr(f func(string) error) func(string) error {
	return func(v string) error {
		if v == "*" {
			return nil
		}
		return f(v)
	}
}

func validPort(v string) error {
	if _, err := strconv.ParseUint(strings.TrimSpace(v), 10, 16); err != nil {
		return fmt.Errorf("%q is not a port number (0-65535)", v)
	}
	return nil
}

func validUint32(v string) error {
	if _, err := strconv.ParseUint(v, 10, 32); err != nil {
		return fmt.Errorf("%q is not a non-negative integer", v)
	}
	return nil
}

// validPorts: a comma-separated list of port numbers (spaces around each
// are allowed, an empty list too).
func validPorts(v string) error {
	if strings.TrimSpace(v) == "" {
		return nil
	}
	for _, p := range strings.Split(strings.TrimSpace(v), ",") {
		if err := validPort(p); err != nil {
			return err
		}
	}
	return nil
}

// validCIDRs: a comma-separated list of CIDRs. The injector does not trim
// the items, so "10.0.0.0/8, 172.16.0.0/12" (with a space) is invalid.
func validCIDRs(v string) error {
	if v == "" {
		return nil
	}
	for _, c := range strings.Split(v, ",") {
		if _, err := netip.ParsePrefix(c); err != nil {
			if t := strings.TrimSpace(c); t != c {
				if _, err := netip.ParsePrefix(t); err == nil {
					return fmt.Errorf("%q has a space: the injector does not trim list items, write the CIDRs separated by commas only", c)
				}
			}
			return fmt.Errorf("%q is not a CIDR (address/prefix length, such as 10.0.0.0/8)", c)
		}
	}
	return nil
}

func validInterfaces(v string) error {
	if v == "" {
		return nil
	}
	for _, i := range strings.Split(v, ",") {
		i = strings.TrimSpace(i)
		switch {
		case i == "":
			return fmt.Errorf("an interface name is empty")
		case len(i) > 15:
			return fmt.Errorf("interface name %q is longer than 15 characters", i)
		case !interfaceName.MatchString(i):
			return fmt.Errorf("interface name %q has characters an interface name cannot have", i)
		}
	}
	return nil
}

func validQuantity(v string) error {
	for _, r := range v {
		if unicode.IsControl(r) {
			return fmt.Errorf("the value has control characters")
		}
	}
	if _, err := resource.ParseQuantity(v); err != nil {
		return fmt.Errorf("%q is not a Kubernetes quantity (such as 100m, 0.5, 128Mi)", v)
	}
	return nil
}

// validProxyConfig: the value is a ProxyConfig in YAML, read leniently as
// the injector reads it (unknown fields are ignored, wrong types are not).
func validProxyConfig(v string) error {
	js, err := manifest.YAMLToJSON([]byte(v))
	if err != nil {
		return fmt.Errorf("not valid YAML: %v", err)
	}
	var pc meshapi.ProxyConfig
	if err := (&jsonpb.Unmarshaler{AllowUnknownFields: true}).Unmarshal(strings.NewReader(string(js)), &pc); err != nil {
		return fmt.Errorf("not a ProxyConfig: %v", err)
	}
	return nil
}
