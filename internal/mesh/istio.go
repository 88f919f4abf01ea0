package mesh

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	//lint:ignore SA1019 Istio reads MeshConfig with this unmarshaler (unknown fields allowed); doing the same keeps its leniency
	"github.com/golang/protobuf/jsonpb"
	meshapi "istio.io/api/mesh/v1alpha1"

	"github.com/meshdoctor/meshdoctor/internal/manifest"
)

// MeshConfig is the part of Istio's MeshConfig and injector settings the
// rules depend on, with Istio's defaults filled in.
type MeshConfig struct {
	RootNamespace                   string
	EnableAutoMTLS                  bool
	DefaultDestinationRuleExportTo  []string
	DefaultVirtualServiceExportTo   []string
	DefaultServiceExportTo          []string
	HoldApplicationUntilProxyStarts bool
	// ProxyMetadata is defaultConfig.proxyMetadata: environment of every
	// proxy (ISTIO_META_DNS_CAPTURE…).
	ProxyMetadata map[string]string
	// RegistryOnly is outboundTrafficPolicy.mode REGISTRY_ONLY: sidecars
	// send requests for hosts outside the registry to BlackHoleCluster
	// instead of PassthroughCluster.
	RegistryOnly bool
	// DefaultAccessLogProviders is defaultProviders.accessLogging: the
	// providers a Telemetry accessLogging entry without providers uses.
	DefaultAccessLogProviders []string
	// AccessLogFile is the legacy accessLogFile: istiod falls back to it
	// when Telemetry resources configure no access log provider.
	AccessLogFile string
	// RewriteAppProbes is the injector's sidecarInjectorWebhook.rewriteAppHTTPProbe,
	// set where RewriteAppProbesSource says ("" for the default).
	RewriteAppProbes       bool
	RewriteAppProbesSource string
	// InjectByDefault is the injector's
	// sidecarInjectorWebhook.enableNamespacesByDefault: namespaces
	// without an injection label are injected too. InjectByDefaultSource
	// names the ConfigMap that says so.
	InjectByDefault       bool
	InjectByDefaultSource string
	// CNI: Istio CNI is known to be installed (true), known absent
	// (false), or unknown (CNIKnown false).
	CNI, CNIKnown bool
	// Source names where the mesh config came from, for messages.
	Source string
	// Found is true when the input (or --mesh-config) had one.
	Found bool
	// Unreadable are istio ConfigMaps of the input whose mesh config
	// does not parse: istiod cannot use them, and Istio's defaults (or
	// another ConfigMap) stand in.
	Unreadable []UnreadableMeshConfig
}

// UnreadableMeshConfig is an istio ConfigMap whose mesh config does not
// parse, and why.
type UnreadableMeshConfig struct {
	ConfigMap *ConfigMap
	Err       string
}

func defaultMeshConfig() MeshConfig {
	return MeshConfig{RootNamespace: "istio-system", EnableAutoMTLS: true, RewriteAppProbes: true, Source: "Istio defaults"}
}

func (m *Model) readMeshConfig(flag []byte, flagSource string) MeshConfig {
	mc := defaultMeshConfig()
	apply := func(yamlText []byte, source string) error {
		js, err := manifest.YAMLToJSON(yamlText)
		if err != nil {
			return err
		}
		var cfg meshapi.MeshConfig
		if err := (&jsonpb.Unmarshaler{AllowUnknownFields: true}).Unmarshal(strings.NewReader(string(js)), &cfg); err != nil {
			return err
		}
		if cfg.RootNamespace != "" {
			mc.RootNamespace = cfg.RootNamespace
		}
		if cfg.EnableAutoMtls != nil {
			mc.EnableAutoMTLS = cfg.EnableAutoMtls.Value
		}
		mc.DefaultDestinationRuleExportTo = cfg.DefaultDestinationRuleExportTo
		mc.DefaultVirtualServiceExportTo = cfg.DefaultVirtualServiceExportTo
		mc.DefaultServiceExportTo = cfg.DefaultServiceExportTo
		mc.RegistryOnly = cfg.GetOutboundTrafficPolicy().GetMode() == meshapi.MeshConfig_OutboundTrafficPolicy_REGISTRY_ONLY
		if h := cfg.GetDefaultConfig().GetHoldApplicationUntilProxyStarts(); h != nil {
			mc.HoldApplicationUntilProxyStarts = h.Value
		}
		mc.ProxyMetadata = cfg.GetDefaultConfig().GetProxyMetadata()
		mc.DefaultAccessLogProviders = cfg.GetDefaultProviders().GetAccessLogging()
		mc.AccessLogFile = cfg.GetAccessLogFile()
		mc.Source, mc.Found = source, true
		return nil
	}
	if len(flag) > 0 {
		// Either a MeshConfig or the whole istio ConfigMap.
		var probe struct {
			Kind string            `json:"kind"`
			Data map[string]string `json:"data"`
		}
		js, _ := manifest.YAMLToJSON(flag)
		if json.Unmarshal(js, &probe) == nil && probe.Kind == "ConfigMap" {
			flag = []byte(probe.Data["mesh"])
		}
		if flagSource == "" {
			flagSource = "the given mesh config"
		}
		_ = apply(flag, flagSource)
	} else {
		// The istio ConfigMap lives in the istiod namespace, which is the
		// root namespace unless the config says otherwise.
		for _, cm := range m.ConfigMaps {
			if (cm.Name == "istio" || strings.HasPrefix(cm.Name, "istio-") && m.isRevisionMesh(cm.Name)) && cm.Data["mesh"] != "" {
				err := apply([]byte(cm.Data["mesh"]), "ConfigMap "+cm.Namespace+"/"+cm.Name)
				if err != nil {
					mc.Unreadable = append(mc.Unreadable, UnreadableMeshConfig{ConfigMap: cm, Err: err.Error()})
					continue
				}
				if cm.Name == "istio" {
					break
				}
			}
		}
	}
	for _, cm := range m.ConfigMaps {
		if !strings.HasPrefix(cm.Name, "istio-sidecar-injector") || cm.Data["values"] == "" {
			continue
		}
		var v struct {
			SidecarInjectorWebhook struct {
				RewriteAppHTTPProbe       *bool `json:"rewriteAppHTTPProbe"`
				EnableNamespacesByDefault *bool `json:"enableNamespacesByDefault"`
			} `json:"sidecarInjectorWebhook"`
			IstioCNI struct {
				Enabled *bool `json:"enabled"`
			} `json:"istio_cni"`
			Pilot struct {
				CNI struct {
					Enabled *bool `json:"enabled"`
				} `json:"cni"`
			} `json:"pilot"`
		}
		if json.Unmarshal([]byte(cm.Data["values"]), &v) != nil {
			continue
		}
		if r := v.SidecarInjectorWebhook.RewriteAppHTTPProbe; r != nil {
			mc.RewriteAppProbes = *r
			mc.RewriteAppProbesSource = "the values of ConfigMap " + cm.Namespace + "/" + cm.Name
		}
		if d := v.SidecarInjectorWebhook.EnableNamespacesByDefault; d != nil && *d {
			mc.InjectByDefault = true
			mc.InjectByDefaultSource = "ConfigMap " + cm.Namespace + "/" + cm.Name
		}
		for _, c := range []*bool{v.IstioCNI.Enabled, v.Pilot.CNI.Enabled} {
			if c != nil {
				mc.CNIKnown = true
				mc.CNI = mc.CNI || *c
			}
		}
	}
	// An IstioOperator's values are what the injector ConfigMap is
	// generated from; the ConfigMap, when present, is what runs.
	for _, o := range m.istioOperators {
		if mc.RewriteAppProbesSource != "" {
			break
		}
		if v, ok := o.Field("spec", "values", "sidecarInjectorWebhook", "rewriteAppHTTPProbe"); ok {
			if b, err := strconv.ParseBool(v); err == nil {
				mc.RewriteAppProbes = b
				mc.RewriteAppProbesSource = "spec.values of IstioOperator " + o.Namespace + "/" + o.Name
			}
		}
	}
	for _, w := range m.Workloads {
		if w.Kind == "DaemonSet" && (w.Name == "istio-cni-node" || w.Labels["k8s-app"] == "istio-cni-node") {
			mc.CNI, mc.CNIKnown = true, true
		}
	}
	return mc
}

// isRevisionMesh accepts istio-<rev> ConfigMaps (revisioned installs), but
// not the injector's or other istio-* ConfigMaps.
func (m *Model) isRevisionMesh(name string) bool {
	return !strings.HasPrefix(name, "istio-sidecar-injector") && !strings.HasPrefix(name, "istio-ca")
}

// Version is an Istio minor version (patch kept for messages).
type Version struct{ Major, Minor, Patch int }

// VersionOf parses s, nil when it is no version (for options built from
// known-good strings: tests, testdata headers).
func VersionOf(s string) *Version {
	if v, ok := ParseVersion(s); ok {
		return &v
	}
	return nil
}

// ParseVersion reads "1.22.2", "1.22", "v1.22.2-distroless".
func ParseVersion(s string) (Version, bool) {
	s = strings.TrimPrefix(s, "v")
	if i := strings.IndexAny(s, "-+_"); i >= 0 {
		s = s[:i]
	}
	parts := strings.Split(s, ".")
	if len(parts) < 2 {
		return Version{}, false
	}
	var v Version
	var err error
	if v.Major, err = strconv.Atoi(parts[0]); err != nil {
		return Version{}, false
	}
	if v.Minor, err = strconv.Atoi(parts[1]); err != nil {
		return Version{}, false
	}
	if len(parts) > 2 {
		v.Patch, _ = strconv.Atoi(parts[2])
	}
	return v, true
}

// AtLeast compares major.minor.
func (v Version) AtLeast(major, minor int) bool {
	return v.Major > major || (v.Major == major && v.Minor >= minor)
}

// Less orders versions by major, minor, patch.
func (v Version) Less(o Version) bool {
	if v.Major != o.Major {
		return v.Major < o.Major
	}
	if v.Minor != o.Minor {
		return v.Minor < o.Minor
	}
	return v.Patch < o.Patch
}

func (v Version) String() string { return fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch) }

// Minor renders major.minor.
func (v Version) MinorString() string { return fmt.Sprintf("%d.%d", v.Major, v.Minor) }

// AssumedVersion is the Istio version assumed when nothing says which one
// runs: the newest release meshdoctor knows, as a fresh install would be.
var AssumedVersion = Version{1, 31, 0}

// IstioInfo is what the input says about the control plane.
type IstioInfo struct {
	Version Version
	// VersionKnown is false when neither --istio-version nor an istiod
	// Deployment (or IstioOperator tag) was found; Version is then
	// AssumedVersion.
	VersionKnown bool
	// VersionSource explains where Version comes from.
	VersionSource string
	// Env is istiod's environment (feature flags), from its Deployment or
	// the IstioOperator's values.pilot.env.
	Env map[string]string
	// EnvSource names the resource Env came from.
	EnvSource string
	// Compatibility is the compatibilityVersion the install asks for.
	Compatibility *Version
	Istiod        *Workload
	// ControlPlanes are all istiod Deployments in the input whose image
	// tag is a version (revisions), in input order.
	ControlPlanes []ControlPlane
	// Revisions are the revision tags and injectors of the input's
	// webhooks.
	Revisions Revisions
}

// ControlPlane is one istiod Deployment: its revision (istio.io/rev,
// "default" without one) and the version of its image.
type ControlPlane struct {
	Workload *Workload
	Revision string
	Version  Version
	Image    string
	// UpgradedFrom is the image's version when an upgrade is simulated
	// (--upgrade-to): Version is then the version after it.
	UpgradedFrom *Version
}

// IsIstiod tells an istiod Deployment: a control plane, not a proxy.
func IsIstiod(w *Workload) bool {
	_, ok := isIstiod(w)
	return ok
}

// isIstiod finds the discovery container of an istiod Deployment.
func isIstiod(w *Workload) (corev1.Container, bool) {
	if w.Kind != "Deployment" {
		return corev1.Container{}, false
	}
	for _, c := range w.PodSpec.Containers {
		if (c.Name == "discovery" || strings.Contains(c.Image, "/pilot")) && strings.Contains(c.Image, "pilot") {
			return c, true
		}
	}
	return corev1.Container{}, false
}

// PodRevision is the istiod revision that injected (or serves) a pod: the
// sidecar.istio.io/status annotation's, else its istio.io/rev label.
func PodRevision(w *Workload) string {
	var st struct {
		Revision string `json:"revision"`
	}
	if s := w.Annotations["sidecar.istio.io/status"]; s != "" && json.Unmarshal([]byte(s), &st) == nil && st.Revision != "" {
		return st.Revision
	}
	return w.Labels["istio.io/rev"]
}

func (m *Model) readIstio(opts Options) IstioInfo {
	info := IstioInfo{Version: AssumedVersion, VersionSource: "assumed (no istiod in the input)", Env: map[string]string{}, Revisions: m.readRevisions()}
	for _, w := range m.Workloads {
		c, ok := isIstiod(w)
		if !ok {
			continue
		}
		v, versioned := ParseVersion(ImageTag(c.Image))
		if versioned {
			rev := w.Object.Labels["istio.io/rev"]
			if rev == "" {
				rev = w.Labels["istio.io/rev"]
			}
			if rev == "" {
				rev = "default"
			}
			info.ControlPlanes = append(info.ControlPlanes, ControlPlane{Workload: w, Revision: rev, Version: v, Image: c.Image})
		}
		// The first istiod stands for the install's version and flags.
		if info.Istiod != nil {
			continue
		}
		info.Istiod = w
		if versioned {
			info.Version, info.VersionKnown = v, true
			info.VersionSource = "image " + c.Image + " of Deployment " + w.Namespace + "/" + w.Name
		}
		for _, e := range c.Env {
			if e.ValueFrom == nil {
				info.Env[e.Name] = e.Value
			}
		}
		info.EnvSource = "Deployment " + w.Namespace + "/" + w.Name
	}
	for _, o := range m.istioOperators {
		if tag, ok := o.Field("spec", "tag"); ok && !info.VersionKnown {
			if v, ok := ParseVersion(tag); ok {
				info.Version, info.VersionKnown = v, true
				info.VersionSource = "spec.tag of IstioOperator " + o.Namespace + "/" + o.Name
			}
		}
		// istioctl takes it as values.compatibilityVersion
		// (--set values.compatibilityVersion=1.20).
		for _, path := range [][]any{{"spec", "values", "compatibilityVersion"}, {"spec", "compatibilityVersion"}} {
			if cv, ok := o.Field(path...); ok {
				if v, ok := ParseVersion(cv); ok {
					info.Compatibility = &v
					break
				}
			}
		}
		var env map[string]string
		if js := o.FieldJSON("spec", "values", "pilot", "env"); js != nil && json.Unmarshal(js, &env) == nil {
			for k, v := range env {
				info.Env[k] = v
			}
			info.EnvSource = "IstioOperator " + o.Namespace + "/" + o.Name
		}
	}
	if !info.VersionKnown && info.Istiod == nil {
		// istiod is installed elsewhere: its version is close to that of
		// the proxies the input deploys (upgrades move the control plane
		// first, and istiod serves proxies up to two minor versions
		// older), gateways first, since the seed-000 kind of upgrade
		// starts there.
		if v, src, ok := m.proxyVersion(); ok {
			info.Version, info.VersionKnown = v, true
			info.VersionSource = src + " (istiod is not in the input)"
		}
	}
	if v := opts.IstioVersion; v != nil {
		src := opts.IstioVersionSource
		if src == "" {
			src = "the given version"
		}
		info.Version, info.VersionKnown, info.VersionSource = *v, true, src
		// An upgrade (rather than a correction of what the input says)
		// moves every istiod in place to the new version.
		if opts.Upgrade {
			for i := range info.ControlPlanes {
				from := info.ControlPlanes[i].Version
				info.ControlPlanes[i].Version, info.ControlPlanes[i].UpgradedFrom = *v, &from
			}
		}
	}
	return info
}

// proxyVersion is the newest Istio proxy image version among gateway
// workloads, else among all workloads with an istio-proxy container of an
// explicit image (not the injector's "auto").
func (m *Model) proxyVersion() (Version, string, bool) {
	type candidate struct {
		v     Version
		src   string
		found bool
	}
	var gateway, all candidate // the newest of each
	for _, w := range m.Workloads {
		isGateway, _ := IsGatewayWorkload(w)
		for _, c := range w.PodSpec.Containers {
			if !strings.Contains(c.Image, "proxyv2") {
				continue
			}
			v, ok := ParseVersion(ImageTag(c.Image))
			if !ok {
				continue
			}
			this := candidate{v, "image " + c.Image + " of " + w.Kind + " " + w.Namespace + "/" + w.Name, true}
			if !all.found || all.v.Less(v) {
				all = this
			}
			if isGateway && (!gateway.found || gateway.v.Less(v)) {
				gateway = this
			}
		}
	}
	if gateway.found {
		return gateway.v, gateway.src, true
	}
	return all.v, all.src, all.found
}

// FeatureFlag is the value an istiod feature flag has in this install and
// why (env, compatibility version, or the version's default).
type FeatureFlag struct {
	Name  string
	On    bool
	Why   string
	Fixed bool // the version no longer reads the flag
}

// featureDefaults records when a flag's default flipped on, and when
// Istio stopped honouring an opt-out.
var featureDefaults = map[string]struct {
	onSince, fixedSince Version
}{
	// https://istio.io/latest/news/releases/1.21.x/announcing-1.21/upgrade-notes/
	"ENABLE_AUTO_SNI": {onSince: Version{1, 21, 0}, fixedSince: Version{1, 26, 0}},
	// 1.24 removed the flag (always on) with the 1.20 compatibility profile:
	// https://istio.io/latest/news/releases/1.24.x/announcing-1.24/change-notes/
	"VERIFY_CERTIFICATE_AT_CLIENT": {onSince: Version{1, 21, 0}, fixedSince: Version{1, 24, 0}},
	// Native sidecars became the default in 1.27 (on Kubernetes 1.29+).
	"ENABLE_NATIVE_SIDECARS": {onSince: Version{1, 27, 0}},
	// An ExternalName Service naming another Service is an alias of it
	// from 1.21 (ENABLE_EXTERNAL_NAME_ALIAS):
	// https://istio.io/latest/news/releases/1.21.x/announcing-1.21/upgrade-notes/
	"ENABLE_EXTERNAL_NAME_ALIAS": {onSince: Version{1, 21, 0}},
	// istiod allocates status.addresses to ServiceEntries without
	// addresses from 1.25:
	// https://istio.io/latest/news/releases/1.25.x/announcing-1.25/change-notes/
	"PILOT_ENABLE_IP_AUTOALLOCATE": {onSince: Version{1, 25, 0}},
}

// Flag evaluates a feature flag for this install.
func (i IstioInfo) Flag(name string) FeatureFlag {
	d := featureDefaults[name]
	f := FeatureFlag{Name: name}
	if d.fixedSince.Major > 0 && i.Version.AtLeast(d.fixedSince.Major, d.fixedSince.Minor) {
		f.On, f.Fixed = true, true
		f.Why = fmt.Sprintf("always on in Istio %s (%s); the %s opt-out was removed in %s", i.Version.MinorString(), i.VersionSource, name, d.fixedSince.MinorString())
		return f
	}
	if v, ok := i.Env[name]; ok {
		b, err := strconv.ParseBool(v)
		if err == nil {
			f.On = b
			f.Why = fmt.Sprintf("%s=%s in %s", name, v, i.EnvSource)
			return f
		}
	}
	eff := i.Version
	// A release honours the compatibility profiles of its last three minor
	// versions (1.24 dropped 1.20); an older one no longer applies.
	if c := i.Compatibility; c != nil && !c.AtLeast(eff.Major, eff.Minor) && c.Major == eff.Major && eff.Minor-c.Minor <= 3 {
		eff = *i.Compatibility
		f.On = d.onSince.Major > 0 && eff.AtLeast(d.onSince.Major, d.onSince.Minor)
		f.Why = fmt.Sprintf("compatibilityVersion %s", eff.MinorString())
		return f
	}
	f.On = d.onSince.Major > 0 && eff.AtLeast(d.onSince.Major, d.onSince.Minor)
	state := "off"
	if f.On {
		state = "on"
	}
	f.Why = fmt.Sprintf("%s by default in Istio %s (%s)", state, eff.MinorString(), i.VersionSource)
	return f
}
