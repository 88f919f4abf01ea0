package mesh

import (
	"regexp"
	"strconv"
	"sync"

	corev1 "k8s.io/api/core/v1"
)

// ConfiguresPort reports whether the pod template tells its own process to
// listen on port, and where: a container argument or command such as
// "--monitoringAddr=:15014" or "--port=8081", an environment value that is
// the number or an address ending in it ("istiod.istio-system.svc:15012"),
// or the prometheus.io/port annotation. Declaring containerPorts is optional
// in Kubernetes ("not specifying a port here DOES NOT prevent that port
// from being exposed", https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/pod-v1/#ports),
// so such a mention is the evidence that an undeclared port is still served;
// istiod, for one, declares 8080/15010/15017 and serves 15012 and 15014 too.
//
// The model's ConfiguresPort also reads the configuration files ConfigMaps
// mount into the pod.
func (w *Workload) ConfiguresPort(port int32) (bool, string) {
	if port <= 0 {
		return false, ""
	}
	p := strconv.Itoa(int(port))
	if w.Annotations["prometheus.io/port"] == p {
		return true, "annotation prometheus.io/port=" + p
	}
	re := portMention(p)
	for _, cs := range [][]corev1.Container{w.PodSpec.InitContainers, w.PodSpec.Containers} {
		for i := range cs {
			c := &cs[i]
			for _, args := range [][]string{c.Command, c.Args} {
				for _, s := range args {
					if re.MatchString(s) {
						return true, "container " + c.Name + " argument " + strconv.Quote(s)
					}
				}
			}
			for _, e := range c.Env {
				if e.Value != "" && re.MatchString(e.Value) {
					return true, "container " + c.Name + " env " + e.Name + "=" + e.Value
				}
			}
		}
	}
	return false, ""
}

// ConfiguresPort is Workload.ConfiguresPort plus the configuration files
// that ConfigMaps in the input mount into its containers: an application
// told "endpoint: 0.0.0.0:5317" or "listen 8081;" by its own config file
// listens there (the OpenTelemetry collector sample does exactly this).
func (m *Model) ConfiguresPort(w *Workload, port int32) (bool, string) {
	if ok, where := w.ConfiguresPort(port); ok || port <= 0 {
		return ok, where
	}
	re := portMention(strconv.Itoa(int(port)))
	for _, cs := range [][]corev1.Container{w.PodSpec.InitContainers, w.PodSpec.Containers} {
		for i := range cs {
			for _, f := range m.ConfigMapFiles(w, &cs[i]) {
				if re.MatchString(f.Content()) {
					return true, "file " + f.Path + " (ConfigMap " + f.ConfigMap.Name + ") of container " + cs[i].Name
				}
			}
		}
	}
	return false, ""
}

// portMention matches p as a whole port token: the whole string, after a
// colon (":15014", "host:15012"), or as the value of a flag or variable
// named like a port ("--port=8081", "--http-port 8081"). Compiled once per
// port and kept: rules ask for every Service port of every workload, and
// compiling on each question was a sixth of a run's CPU on meshes with
// many findings. An input names few distinct ports, so the cache stays
// small.
func portMention(p string) *regexp.Regexp {
	if re, ok := portMentions.Load(p); ok {
		return re.(*regexp.Regexp)
	}
	re, _ := portMentions.LoadOrStore(p, regexp.MustCompile(`(?im)(^\s*`+p+`\s*$|:`+p+`(\D|$)|port[=:\s"]+`+p+`(\D|$)|listen\s+`+p+`(\D|$))`))
	return re.(*regexp.Regexp)
}

var portMentions sync.Map // port string -> *regexp.Regexp
