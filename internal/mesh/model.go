// Package mesh is meshdoctor's semantic model of a cluster: Kubernetes and
// Istio semantics (host resolution, selectors, DestinationRule lookup,
// effective PeerAuthentication, protocol selection, injection, mesh config,
// version defaults) are decided here, once, and every rule and the tracer
// ask the model instead of re-deriving them.
package mesh

import (
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	istioapi "istio.io/api/networking/v1alpha3"
	secapi "istio.io/api/security/v1beta1"
	istionet "istio.io/client-go/pkg/apis/networking/v1"
	istiosec "istio.io/client-go/pkg/apis/security/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/meshdoctor/meshdoctor/internal/manifest"
)

// Options carry what the input cannot say about the cluster.
type Options struct {
	// IstioVersion overrides the version read from istiod's image (nil:
	// the input decides); IstioVersionSource says who set it, for
	// messages. Upgrade makes it the target of a simulated upgrade: every
	// istiod in the input moves to it in place. The caller parses and
	// names these: the model knows no flags.
	IstioVersion       *Version
	IstioVersionSource string
	Upgrade            bool
	// MeshConfig is a MeshConfig YAML (or the istio ConfigMap) given
	// apart from the input, checked by the caller (CheckMeshConfig); it
	// wins over one found in the input. MeshConfigSource names it for
	// messages.
	MeshConfig       []byte
	MeshConfigSource string
	// ClusterDomain defaults to cluster.local.
	ClusterDomain string
	// KubernetesVersion is the cluster's Kubernetes version when known
	// (the live API server's, or given), KubernetesVersionSource where it
	// comes from; nil when unknown.
	KubernetesVersion       *Version
	KubernetesVersionSource string
	// Generators are Helm charts and kustomizations the input holds but
	// that were skipped (not rendered): the objects they create are
	// missing from the input.
	Generators []string
}

// Model indexes the input once; its methods answer the semantic questions.
type Model struct {
	Objects       []*manifest.Object
	ClusterDomain string

	Namespaces       map[string]*Namespace
	Services         []*Service
	Workloads        []*Workload
	ServiceEntries   []*ServiceEntry
	VirtualServices  []*VirtualService
	DestinationRules []*DestinationRule
	Gateways         []*Gateway
	PeerAuths        []*PeerAuthentication
	Sidecars         []*Sidecar
	Ingresses        []*Ingress
	KubeGateways     []*KubeGateway
	HTTPRoutes       []*HTTPRoute
	ConfigMaps       map[string]*ConfigMap // by namespace/name
	Secrets          map[string]*Secret    // by namespace/name
	BackendConfigs   map[string]*manifest.Object

	Mesh  MeshConfig
	Istio IstioInfo
	// Kubernetes is the cluster's Kubernetes version (nil: unknown) and
	// KubernetesSource where it comes from (Options.KubernetesVersion).
	Kubernetes       *Version
	KubernetesSource string
	// Generators: Options.Generators (skipped charts and kustomizations).
	Generators []string

	kinds     map[GroupKind]int // group and kind -> count, to tell "absent from input" from "not found"
	kindNames map[string]int    // kind alone -> count, for kinds without a known group

	servicesByHost      map[string]*Service
	servicesByNS        map[string][]*Service
	entriesByHost       map[string][]*ServiceEntry
	wildcardEntries     []*ServiceEntry
	workloads           *labelIndex
	gatewayWorkloads    []*Workload
	ingressClasses      map[string]string // IngressClass name → spec.controller
	istioOperators      []*manifest.Object
	defaultIngressClass string
	drsByNSHost         map[string]map[string][]*DestinationRule // namespace -> exact host
	wildcardDRs         map[string][]*DestinationRule            // namespace -> rules with a wildcard host
	drNamespacesByHost  map[string][]string                      // namespaces with a DestinationRule for the exact host, in input order
	vsByHost            map[string][]*VirtualService
	vsByGateway         map[string][]*VirtualService // Gateway namespace/name -> VirtualServices bound to it
	wildcardVS          []hostVS
	gatewaysByName      map[string]*Gateway // namespace/name
	peerAuthsByNS       map[string][]*PeerAuthentication
	sidecarsByNS        map[string][]*Sidecar
	workloadByKey       map[string]*Workload // namespace/Kind/name
	instanceOwner       map[string]*Workload // namespace/Kind/name of a ReplicaSet or Job -> its workload
	authz               *authzIndex          // AuthorizationPolicies (authz.go)
	workloadEntriesByNS map[string][]*WorkloadEntry
	injectorWebhooks    *lazy[[]InjectorWebhook] // a pointer: copies of the model (upgrade's atVersion) share it
	routedSubsets       *lazy[map[hostSubset]bool]
}

// GroupKind is a kind with its API group ("" for the core group).
type GroupKind struct{ Group, Kind string }

// String renders gk as Has and rules' Needs write it: "Kind" for the group
// meshdoctor knows the kind by, else "Kind.group".
func (gk GroupKind) String() string {
	if g, ok := knownGroups[gk.Kind]; ok && g == gk.Group {
		return gk.Kind
	}
	if gk.Group == "" {
		return gk.Kind
	}
	return gk.Kind + "." + gk.Group
}

// Kind names written with a group, for kinds whose bare name means
// another group's kind.
const (
	// KubeGatewayKind is the Gateway API Gateway; a bare "Gateway" is
	// Istio's.
	KubeGatewayKind = "Gateway.gateway.networking.k8s.io"
)

// knownGroups is the group a bare kind name means in Has and in rules'
// Needs: the kinds meshdoctor models. A Gateway API Gateway is not an
// Istio Gateway: "Gateway" alone is Istio's, and the Gateway API's is
// KubeGatewayKind.
var knownGroups = map[string]string{
	"Namespace": "", "Pod": "", "Service": "", "ConfigMap": "", "Secret": "",
	"ServiceAccount": "", "Endpoints": "",
	"Deployment": "apps", "StatefulSet": "apps", "DaemonSet": "apps", "ReplicaSet": "apps",
	"Job": "batch", "CronJob": "batch",
	"EndpointSlice": "discovery.k8s.io",
	"Ingress":       "networking.k8s.io", "IngressClass": "networking.k8s.io",
	"VirtualService": "networking.istio.io", "DestinationRule": "networking.istio.io",
	"Gateway": "networking.istio.io", "ServiceEntry": "networking.istio.io",
	"Sidecar": "networking.istio.io", "WorkloadEntry": "networking.istio.io",
	"PeerAuthentication": "security.istio.io", "AuthorizationPolicy": "security.istio.io",
	"RequestAuthentication": "security.istio.io",
	"EnvoyFilter":           "networking.istio.io", "ProxyConfig": "networking.istio.io",
	"Telemetry": "telemetry.istio.io", "WasmPlugin": "extensions.istio.io",
	"TCPRoute": "gateway.networking.k8s.io", "TLSRoute": "gateway.networking.k8s.io",
	"ReferenceGrant":                 "gateway.networking.k8s.io",
	"MutatingWebhookConfiguration":   "admissionregistration.k8s.io",
	"ValidatingWebhookConfiguration": "admissionregistration.k8s.io",
	"GatewayClass":                   "gateway.networking.k8s.io", "HTTPRoute": "gateway.networking.k8s.io",
	"GRPCRoute":     "gateway.networking.k8s.io",
	"BackendConfig": "cloud.google.com",
}

// successorGroups maps the groups of older API versions that meshdoctor
// analyzes as their successor to it (extensions/v1beta1 Ingress is a
// networking.k8s.io Ingress).
var successorGroups = map[GroupKind]string{
	{"extensions", "Ingress"}:    "networking.k8s.io",
	{"extensions", "Deployment"}: "apps", {"extensions", "DaemonSet"}: "apps", {"extensions", "ReplicaSet"}: "apps",
}

// ParseKind reads a kind as Has and rules' Needs write it: "Kind" (the
// group meshdoctor knows the kind by; any group for other kinds, ok
// false) or "Kind.group".
func ParseKind(s string) (gk GroupKind, ok bool) {
	if k, g, dotted := strings.Cut(s, "."); dotted {
		return GroupKind{g, k}, true
	}
	g, ok := knownGroups[s]
	return GroupKind{g, s}, ok
}

func (m *Model) count(kind string) int {
	gk, ok := ParseKind(kind)
	if !ok {
		return m.kindNames[kind]
	}
	return m.kinds[gk]
}

// Has reports whether the input holds at least one object of kind ("Kind"
// or "Kind.group", see ParseKind): rules use it to tell "merely absent
// from the input" from "should resolve and does not".
func (m *Model) Has(kind string) bool { return m.count(kind) > 0 }

// HasAny is Has for any of kinds.
func (m *Model) HasAny(kinds ...string) bool {
	for _, k := range kinds {
		if m.count(k) > 0 {
			return true
		}
	}
	return false
}

// Namespace is a Namespace object from the input.
type Namespace struct {
	*manifest.Object
}

// Service is a Kubernetes Service.
type Service struct {
	*manifest.Object
	Spec *corev1.ServiceSpec
	Host string // FQDN: name.namespace.svc.<cluster domain>
	// workloads are those its selector selects, found once by Build:
	// most rules ask.
	workloads []*Workload
}

// ServiceEntry is an Istio ServiceEntry.
type ServiceEntry struct {
	*manifest.Object
	Spec *istioapi.ServiceEntry
}

// VirtualService is an Istio VirtualService with its hosts resolved.
type VirtualService struct {
	*manifest.Object
	Spec  *istioapi.VirtualService
	Hosts []string // FQDNs (or wildcards) in the order written
	// destinations: Destinations' answer, found once by Build.
	destinations []RouteDestination
}

// DestinationRule is an Istio DestinationRule with its host resolved.
type DestinationRule struct {
	*manifest.Object
	Spec *istioapi.DestinationRule
	Host string
}

// Gateway is an Istio Gateway.
type Gateway struct {
	*manifest.Object
	Spec *istioapi.Gateway
}

// Sidecar is an Istio Sidecar resource (the proxy's scope), not a
// sidecar container.
type Sidecar struct {
	*manifest.Object
	Spec *istioapi.Sidecar
}

// PeerAuthentication is an Istio PeerAuthentication.
type PeerAuthentication struct {
	*manifest.Object
	Spec *secapi.PeerAuthentication
}

// Ingress is a Kubernetes Ingress.
type Ingress struct {
	*manifest.Object
	Spec *networkingv1.IngressSpec
	// Legacy is set for an extensions/v1beta1 or networking.k8s.io/v1beta1
	// Ingress, whose Spec is converted to networking.k8s.io/v1 (field
	// paths differ: backend.serviceName instead of backend.service.name).
	Legacy bool
}

// KubeGateway is a Gateway API Gateway.
type KubeGateway struct {
	*manifest.Object
	Spec *gwv1.GatewaySpec
}

// HTTPRoute is a Gateway API HTTPRoute.
type HTTPRoute struct {
	*manifest.Object
	Spec *gwv1.HTTPRouteSpec
}

// ConfigMap is a Kubernetes ConfigMap.
type ConfigMap struct {
	*manifest.Object
	Data map[string]string
}

// Secret is a Kubernetes Secret. Its data is held only for certificate
// checks and never printed.
type Secret struct {
	*manifest.Object
	Type corev1.SecretType
	Data map[string][]byte
}

// Build indexes objects. It never fails: what it cannot interpret it leaves
// out of the indexes, and the loader has already reported it.
func Build(objects []*manifest.Object, opts Options) *Model {
	// The big indexes are sized once: growing maps of tens of thousands
	// of entries rehashes them a dozen times.
	var nServices, nWorkloads, nVS, nDR int
	for _, o := range objects {
		switch o.Kind {
		case "Service":
			nServices++
		case "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "Pod":
			nWorkloads++
		case "VirtualService":
			nVS++
		case "DestinationRule":
			nDR++
		}
	}
	m := &Model{
		Objects:            objects,
		ClusterDomain:      opts.ClusterDomain,
		Generators:         opts.Generators,
		Namespaces:         map[string]*Namespace{},
		ConfigMaps:         map[string]*ConfigMap{},
		Secrets:            map[string]*Secret{},
		BackendConfigs:     map[string]*manifest.Object{},
		kinds:              map[GroupKind]int{},
		kindNames:          map[string]int{},
		servicesByHost:     make(map[string]*Service, nServices),
		servicesByNS:       map[string][]*Service{},
		entriesByHost:      map[string][]*ServiceEntry{},
		drsByNSHost:        map[string]map[string][]*DestinationRule{},
		wildcardDRs:        map[string][]*DestinationRule{},
		drNamespacesByHost: make(map[string][]string, nDR),
		vsByHost:           make(map[string][]*VirtualService, nVS),
		vsByGateway:        map[string][]*VirtualService{},
		gatewaysByName:     map[string]*Gateway{},
		peerAuthsByNS:      map[string][]*PeerAuthentication{},
		sidecarsByNS:       map[string][]*Sidecar{},
		workloads:          newLabelIndex(nWorkloads),
		workloadByKey:      make(map[string]*Workload, nWorkloads),
		instanceOwner:      map[string]*Workload{},
		ingressClasses:     map[string]string{},
		injectorWebhooks:   &lazy[[]InjectorWebhook]{},
		routedSubsets:      &lazy[map[hostSubset]bool]{},
	}
	if m.ClusterDomain == "" {
		m.ClusterDomain = "cluster.local"
	}
	// Two passes side by side over the objects: Kubernetes kinds and
	// Istio/Gateway API configuration write disjoint fields (a third of
	// the model's time on a mesh of 100k objects was this loop).
	var pods []*Workload
	var owned []ownedController
	var wg sync.WaitGroup
	wg.Go(func() { pods, owned = m.indexKubernetes(objects) })
	wg.Go(func() { m.indexConfig(objects) })
	wg.Wait()
	// A ReplicaSet or Job whose controller is in the input is an instance
	// of it, not a workload of its own (live clusters list all three).
	for _, c := range owned {
		if owner := m.ownerOf(c.obj.Namespace, c.owners); owner != nil {
			m.instanceOwner[c.obj.Namespace+"/"+c.obj.Kind+"/"+c.obj.Name] = owner
			continue
		}
		w := m.addWorkload(c.obj, c.tmpl, []any{"spec", "template"}, c.replicas)
		m.instanceOwner[c.obj.Namespace+"/"+c.obj.Kind+"/"+c.obj.Name] = w
	}
	// Bare pods stand for themselves; pods owned by a controller in the
	// input are instances of it and only refine it (live clusters).
	for _, p := range pods {
		if owner := m.ownerOf(p.Namespace, p.Pod.OwnerReferences); owner != nil {
			owner.Instances = append(owner.Instances, p)
			continue
		}
		m.workloads.add(p)
		m.Workloads = append(m.Workloads, p)
	}
	m.Mesh = m.readMeshConfig(opts.MeshConfig, opts.MeshConfigSource)
	m.Istio = m.readIstio(opts)
	m.indexAuthz()
	m.indexWorkloadEntries()
	m.Kubernetes, m.KubernetesSource = opts.KubernetesVersion, opts.KubernetesVersionSource
	m.precompute()
	return m
}

// indexKubernetes indexes the Kubernetes kinds (and counts every kind);
// it returns bare pods and controller instances, which are settled once
// all workloads are known.
func (m *Model) indexKubernetes(objects []*manifest.Object) (pods []*Workload, owned []ownedController) {
	for _, o := range objects {
		gk := GroupKind{o.Group(), o.Kind}
		if g, ok := successorGroups[gk]; ok {
			gk.Group = g
		}
		m.kinds[gk]++
		m.kindNames[o.Kind]++
		switch t := o.Typed.(type) {
		case *corev1.Namespace:
			m.Namespaces[o.Name] = &Namespace{Object: o}
		case *corev1.Service:
			s := &Service{Object: o, Spec: &t.Spec}
			s.Host = o.Name + "." + o.Namespace + ".svc." + m.ClusterDomain
			m.Services = append(m.Services, s)
			if _, dup := m.servicesByHost[s.Host]; !dup {
				m.servicesByHost[s.Host] = s
			}
			m.servicesByNS[o.Namespace] = append(m.servicesByNS[o.Namespace], s)
		case *appsv1.Deployment:
			m.addWorkload(o, &t.Spec.Template, []any{"spec", "template"}, t.Spec.Replicas)
		case *appsv1.StatefulSet:
			m.addWorkload(o, &t.Spec.Template, []any{"spec", "template"}, t.Spec.Replicas)
		case *appsv1.DaemonSet:
			m.addWorkload(o, &t.Spec.Template, []any{"spec", "template"}, nil)
		case *appsv1.ReplicaSet:
			owned = append(owned, ownedController{o, &t.Spec.Template, t.OwnerReferences, t.Spec.Replicas})
		case *batchv1.Job:
			owned = append(owned, ownedController{o, &t.Spec.Template, t.OwnerReferences, nil})
		case *batchv1.CronJob:
			m.addWorkload(o, &t.Spec.JobTemplate.Spec.Template, []any{"spec", "jobTemplate", "spec", "template"}, nil)
		case *corev1.Pod:
			tmpl := &corev1.PodTemplateSpec{ObjectMeta: t.ObjectMeta, Spec: t.Spec}
			w := newWorkload(o, tmpl, nil, nil)
			w.Pod = t
			pods = append(pods, w)
		case *corev1.ConfigMap:
			m.ConfigMaps[o.Namespace+"/"+o.Name] = &ConfigMap{Object: o, Data: t.Data}
		case *corev1.Secret:
			data := t.Data
			if len(t.StringData) > 0 {
				data = make(map[string][]byte, len(t.Data)+len(t.StringData))
				for k, v := range t.Data {
					data[k] = v
				}
				for k, v := range t.StringData {
					data[k] = []byte(v)
				}
			}
			m.Secrets[o.Namespace+"/"+o.Name] = &Secret{Object: o, Type: t.Type, Data: data}
		case *networkingv1.Ingress:
			ing := &Ingress{Object: o, Spec: &t.Spec}
			if r, ok := RemovedAPIOf(o); ok && r.AnalyzedAs != "" {
				// Decoded into the v1 type, the old backend fields are
				// lost: read them as the API server converts them.
				if spec, ok := legacyIngressSpec(o); ok {
					ing.Spec, ing.Legacy = spec, true
				}
			}
			m.Ingresses = append(m.Ingresses, ing)
		case *manifest.BackendConfig:
			m.BackendConfigs[o.Namespace+"/"+o.Name] = o
		case *networkingv1.IngressClass:
			m.ingressClasses[o.Name] = t.Spec.Controller
			if o.Annotations[networkingv1.AnnotationIsDefaultIngressClass] == "true" {
				m.defaultIngressClass = o.Name
			}
		}
	}
	return pods, owned
}

// indexConfig indexes Istio and Gateway API configuration.
func (m *Model) indexConfig(objects []*manifest.Object) {
	for _, o := range objects {
		switch t := o.Typed.(type) {
		case *istionet.ServiceEntry:
			se := &ServiceEntry{Object: o, Spec: &t.Spec}
			m.ServiceEntries = append(m.ServiceEntries, se)
			for _, h := range t.Spec.Hosts {
				if isWildcard(h) {
					m.wildcardEntries = append(m.wildcardEntries, se)
				} else {
					m.entriesByHost[h] = append(m.entriesByHost[h], se)
				}
			}
		case *istionet.VirtualService:
			vs := &VirtualService{Object: o, Spec: &t.Spec}
			for _, h := range t.Spec.Hosts {
				fq := m.ResolveHost(h, o.Namespace)
				vs.Hosts = append(vs.Hosts, fq)
				m.vsByHost[fq] = append(m.vsByHost[fq], vs)
				if isWildcard(fq) {
					m.wildcardVS = append(m.wildcardVS, hostVS{fq, vs})
				}
			}
			m.VirtualServices = append(m.VirtualServices, vs)
			for _, ref := range vs.BoundGateways() {
				key := GatewayKey(ref, o.Namespace)
				m.vsByGateway[key] = append(m.vsByGateway[key], vs)
			}
		case *istionet.DestinationRule:
			dr := &DestinationRule{Object: o, Spec: &t.Spec, Host: m.ResolveHost(t.Spec.Host, o.Namespace)}
			m.DestinationRules = append(m.DestinationRules, dr)
			if isWildcard(dr.Host) {
				m.wildcardDRs[o.Namespace] = append(m.wildcardDRs[o.Namespace], dr)
			} else {
				if m.drsByNSHost[o.Namespace] == nil {
					m.drsByNSHost[o.Namespace] = map[string][]*DestinationRule{}
				}
				m.drsByNSHost[o.Namespace][dr.Host] = append(m.drsByNSHost[o.Namespace][dr.Host], dr)
				if nss := m.drNamespacesByHost[dr.Host]; !slices.Contains(nss, o.Namespace) {
					m.drNamespacesByHost[dr.Host] = append(nss, o.Namespace)
				}
			}
		case *istionet.Gateway:
			g := &Gateway{Object: o, Spec: &t.Spec}
			m.Gateways = append(m.Gateways, g)
			m.gatewaysByName[o.Namespace+"/"+o.Name] = g
		case *istiosec.PeerAuthentication:
			pa := &PeerAuthentication{Object: o, Spec: &t.Spec}
			m.PeerAuths = append(m.PeerAuths, pa)
			m.peerAuthsByNS[o.Namespace] = append(m.peerAuthsByNS[o.Namespace], pa)
		case *istionet.Sidecar:
			sc := &Sidecar{Object: o, Spec: &t.Spec}
			m.Sidecars = append(m.Sidecars, sc)
			m.sidecarsByNS[o.Namespace] = append(m.sidecarsByNS[o.Namespace], sc)
		case *gwv1.Gateway:
			m.KubeGateways = append(m.KubeGateways, &KubeGateway{Object: o, Spec: &t.Spec})
		case *gwv1.HTTPRoute:
			m.HTTPRoutes = append(m.HTTPRoutes, &HTTPRoute{Object: o, Spec: &t.Spec})
		case nil:
			// istioctl's install input: version, flags, injector values.
			if o.Kind == "IstioOperator" {
				m.istioOperators = append(m.istioOperators, o)
			}
		}
	}
}

// precompute answers, once, the questions nearly every rule asks. The
// tasks write disjoint fields, so they run side by side; the
// VirtualServices' destinations (pointer-chasing through every route of
// every VirtualService, the longest of them) are split into chunks.
func (m *Model) precompute() {
	tasks := []func(){
		func() {
			// Service ↔ workload in both directions, through the label index.
			for _, s := range m.Services {
				s.workloads = m.workloads.selectIn(s.Namespace, s.Spec.Selector)
				for _, w := range s.workloads {
					w.services = append(w.services, s)
				}
			}
		},
		func() {
			for _, w := range m.Workloads {
				if ok, _ := IsGatewayWorkload(w); ok {
					m.gatewayWorkloads = append(m.gatewayWorkloads, w)
				}
				for _, x := range append([]*Workload{w}, w.Instances...) {
					d, why := m.injection(x)
					x.injection = &injectionResult{d, why}
				}
			}
		},
	}
	const chunk = 2048
	for i := 0; i < len(m.VirtualServices); i += chunk {
		vss := m.VirtualServices[i:min(i+chunk, len(m.VirtualServices))]
		tasks = append(tasks, func() {
			for _, v := range vss {
				v.destinations = m.destinationsOf(v)
			}
		})
	}
	var next atomic.Int32
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(tasks)) {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < len(tasks); i = int(next.Add(1)) - 1 {
				tasks[i]()
			}
		})
	}
	wg.Wait()
}

type hostVS struct {
	host string
	vs   *VirtualService
}

type ownedController struct {
	obj      *manifest.Object
	tmpl     *corev1.PodTemplateSpec
	owners   []metav1.OwnerReference
	replicas *int32
}

// ownerOf finds the workload in the input that controls an object with
// these owner references, following ReplicaSet -> Deployment and
// Job -> CronJob.
func (m *Model) ownerOf(ns string, refs []metav1.OwnerReference) *Workload {
	for _, r := range refs {
		key := ns + "/" + r.Kind + "/" + r.Name
		if w := m.instanceOwner[key]; w != nil {
			return w
		}
		if w := m.workloadByKey[key]; w != nil {
			return w
		}
	}
	return nil
}

func isWildcard(h string) bool { return len(h) > 0 && h[0] == '*' }
