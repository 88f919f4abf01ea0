package mesh

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode"

	corev1 "k8s.io/api/core/v1"

	"github.com/meshdoctor/meshdoctor/internal/manifest"
)

// HostReference is a Service of the input that a workload names in its
// own configuration, and so presumably calls: an env value, a command or
// args item, or a value in a ConfigMap it loads as env or mounts.
type HostReference struct {
	Service *Service
	// Port is the port written after the host, or the scheme's default
	// (http 80, https 443) when FromScheme; 0 when the text names none.
	Port       uint32
	FromScheme bool
	// Text is the token as written ("http://reviews.bookinfo:9080/api").
	Text string
	// Where says which field holds it, for messages: `env DB_URL of
	// container "app"`, `key app.yaml of ConfigMap shop/config`.
	Where string
	// Object and Path locate the field: the workload itself, or the
	// ConfigMap the value comes from.
	Object *manifest.Object
	Path   []any
}

// ServiceReferences finds the Services of the input that w's configuration
// names. It recognises `svc`, `svc.ns`, `svc.ns.svc` and
// `svc.ns.svc.<cluster domain>`, with an optional scheme, user info, :port
// and path; short names resolve relative to w's namespace, as the pod's DNS
// search path does
// (https://kubernetes.io/docs/concepts/services-networking/dns-pod-service/#namespaces-of-services).
// A bare name ("reviews") only counts when a scheme or port comes with it,
// or when the variable, flag or key that holds it is named like an address
// (…_HOST, …_URL, --…-addr, endpoint:), so that ordinary words that happen
// to be Service names are not taken for calls. Services that select w
// itself are left out: a workload naming its own Service is usually
// stating its identity (tracing, metrics), not calling it.
func (m *Model) ServiceReferences(w *Workload) []HostReference {
	own := map[*Service]bool{}
	for _, s := range m.ServicesOf(w) {
		own[s] = true
	}
	var out []HostReference
	seen := map[string]bool{}
	add := func(text, hint, where string, obj *manifest.Object, path []any) {
		for _, kv := range refSplitValues(text, hint) {
			svc, port, fromScheme, ok := m.parseServiceRef(kv.val, w.Namespace, refAddressLike(kv.key))
			if !ok || own[svc] {
				continue
			}
			key := fmt.Sprintf("%p/%v/%s/%d", obj, path, svc.Host, port)
			if seen[key] {
				continue
			}
			seen[key] = true
			out = append(out, HostReference{Service: svc, Port: port, FromScheme: fromScheme, Text: kv.val, Where: where, Object: obj, Path: path})
		}
	}
	podPath := w.PodPath()
	at := func(rest ...any) []any { return append(append([]any{}, podPath...), rest...) }
	cmData := func(name string) *ConfigMap { return m.ConfigMaps[w.Namespace+"/"+name] }
	for _, list := range []struct {
		field string
		cs    []corev1.Container
	}{{"containers", w.PodSpec.Containers}, {"initContainers", w.PodSpec.InitContainers}} {
		for i := range list.cs {
			c := &list.cs[i]
			if c.Name == "istio-proxy" {
				continue
			}
			for j, e := range c.Env {
				switch {
				case e.Value != "":
					add(e.Value, e.Name, fmt.Sprintf("env %s of container %q", e.Name, c.Name), w.Object, at("spec", list.field, i, "env", j, "value"))
				case e.ValueFrom != nil && e.ValueFrom.ConfigMapKeyRef != nil:
					ref := e.ValueFrom.ConfigMapKeyRef
					if cm := cmData(ref.Name); cm != nil && cm.Data[ref.Key] != "" {
						add(cm.Data[ref.Key], e.Name, fmt.Sprintf("key %s of ConfigMap %s/%s (env %s of container %q)", ref.Key, cm.Namespace, cm.Name, e.Name, c.Name), cm.Object, []any{"data", ref.Key})
					}
				}
			}
			for _, ef := range c.EnvFrom {
				if ef.ConfigMapRef == nil {
					continue
				}
				if cm := cmData(ef.ConfigMapRef.Name); cm != nil {
					for _, k := range slices.Sorted(maps.Keys(cm.Data)) {
						add(cm.Data[k], ef.Prefix+k, fmt.Sprintf("key %s of ConfigMap %s/%s (envFrom of container %q)", k, cm.Namespace, cm.Name, c.Name), cm.Object, []any{"data", k})
					}
				}
			}
			for _, args := range []struct {
				field string
				items []string
			}{{"command", c.Command}, {"args", c.Args}} {
				for k, a := range args.items {
					// "--upstream", "reviews:9080": the flag before names the value.
					hint := ""
					if k > 0 && strings.HasPrefix(args.items[k-1], "-") && !strings.ContainsAny(args.items[k-1], "= ") {
						hint = args.items[k-1]
					}
					add(a, hint, fmt.Sprintf("%s[%d] of container %q", args.field, k, c.Name), w.Object, at("spec", list.field, i, args.field, k))
				}
			}
		}
	}
	// Mounted ConfigMap files, as the containers see them (configmounts.go).
	for _, cs := range [][]corev1.Container{w.PodSpec.Containers, w.PodSpec.InitContainers} {
		for i := range cs {
			if cs[i].Name == "istio-proxy" {
				continue
			}
			for _, f := range m.ConfigMapFiles(w, &cs[i]) {
				cm := f.ConfigMap
				add(f.Content(), "", fmt.Sprintf("key %s of ConfigMap %s/%s (mounted at %s)", f.Key, cm.Namespace, cm.Name, f.Path), cm.Object, []any{"data", f.Key})
			}
		}
	}
	return out
}

type refKeyValue struct{ key, val string }

// refSplitValues cuts free text (an env value, an argument, a config file)
// into candidate values, each with the name that labels it: the
// variable/flag given as hint, a preceding `key:` (YAML) or `--flag`, or
// the left side of `key=value`.
func refSplitValues(text, hint string) []refKeyValue {
	var out []refKeyValue
	for _, line := range strings.Split(text, "\n") {
		pending := ""
		fields := strings.FieldsFunc(line, func(r rune) bool {
			return unicode.IsSpace(r) || strings.ContainsRune(",;\"'`()[]{}<>|&", r)
		})
		for _, f := range fields {
			key := hint
			if pending != "" {
				key, pending = pending, ""
			}
			if len(f) > 1 && strings.HasSuffix(f, ":") && !strings.Contains(f, "//") {
				pending = strings.TrimSuffix(f, ":")
				continue
			}
			if strings.HasPrefix(f, "-") && !strings.Contains(f, "=") {
				pending = f
				continue
			}
			if i := strings.IndexByte(f, '='); i > 0 && !strings.ContainsAny(f[:i], ":/") {
				key, f = f[:i], f[i+1:]
			}
			if f != "" {
				out = append(out, refKeyValue{key, f})
			}
		}
	}
	return out
}

// refAddressWords are the words that make a variable, flag or key name an
// address ("DB_HOST", "baseUrl", "--redis-addr", "bootstrap.servers").
var refAddressWords = map[string]bool{
	"host": true, "hostname": true, "hosts": true, "url": true, "urls": true, "uri": true,
	"addr": true, "address": true, "addrs": true, "endpoint": true, "endpoints": true,
	"server": true, "servers": true, "upstream": true, "backend": true, "dsn": true,
	"broker": true, "brokers": true,
}

func refAddressLike(name string) bool {
	var words []string
	var cur []rune
	prevLower := false
	for _, r := range name {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			if len(cur) > 0 {
				words = append(words, string(cur))
			}
			cur, prevLower = nil, false
			continue
		}
		if unicode.IsUpper(r) && prevLower { // camelCase boundary
			words = append(words, string(cur))
			cur = nil
		}
		prevLower = unicode.IsLower(r)
		cur = append(cur, unicode.ToLower(r))
	}
	if len(cur) > 0 {
		words = append(words, string(cur))
	}
	for _, w := range words {
		if refAddressWords[w] {
			return true
		}
	}
	return false
}

// parseServiceRef reads one token as a Service address seen from ns.
func (m *Model) parseServiceRef(tok, ns string, hinted bool) (svc *Service, port uint32, fromScheme, ok bool) {
	tok = strings.Trim(tok, ".:")
	if tok == "" || strings.ContainsAny(tok, "$%{}*") {
		return nil, 0, false, false
	}
	scheme, rest := "", tok
	if i := strings.Index(tok, "://"); i > 0 {
		scheme = strings.ToLower(tok[:i])
		if j := strings.LastIndexByte(scheme, ':'); j >= 0 { // jdbc:postgresql://
			scheme = scheme[j+1:]
		}
		rest = tok[i+3:]
	}
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	if i := strings.LastIndexByte(rest, '@'); i >= 0 {
		rest = rest[i+1:]
	}
	host := rest
	if i := strings.LastIndexByte(rest, ':'); i >= 0 {
		n, err := strconv.ParseUint(rest[i+1:], 10, 16)
		if err != nil || n == 0 {
			return nil, 0, false, false
		}
		host, port = rest[:i], uint32(n)
	}
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	labels := strings.Split(host, ".")
	for _, l := range labels {
		if !refDNSLabel(l) {
			return nil, 0, false, false
		}
	}
	var name, namespace string
	suffix := strings.Split(m.ClusterDomain, ".")
	switch {
	case len(labels) == 1:
		if scheme == "" && port == 0 && !hinted {
			return nil, 0, false, false
		}
		name, namespace = labels[0], ns
	case len(labels) == 2:
		name, namespace = labels[0], labels[1]
	case labels[2] == "svc" && (len(labels) == 3 || strings.Join(labels[3:], ".") == strings.Join(suffix, ".")):
		name, namespace = labels[0], labels[1]
	default:
		return nil, 0, false, false
	}
	svc = m.Service(namespace, name)
	if svc == nil {
		return nil, 0, false, false
	}
	if port == 0 {
		switch scheme {
		case "http", "ws":
			port, fromScheme = 80, true
		case "https", "wss":
			port, fromScheme = 443, true
		}
	}
	return svc, port, fromScheme, true
}

// refDNSLabel accepts an RFC 1123 label that starts with a letter, as Service
// names and namespaces do (this also rules out IPs and version numbers).
func refDNSLabel(l string) bool {
	if l == "" || len(l) > 63 || l[0] < 'a' || l[0] > 'z' || l[len(l)-1] == '-' {
		return false
	}
	for i := 0; i < len(l); i++ {
		c := l[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}
