package mesh

import (
	"encoding/json"
	"strings"
)

// InjectorImage is the proxy image a revision's sidecar injector puts into
// the pods it injects, from the values of its istio-sidecar-injector
// ConfigMap.
type InjectorImage struct {
	Image     string
	ConfigMap *ConfigMap
}

// InjectorProxyImage returns the proxy image the injector of revision rev
// ("" or "default" for the default revision) injects, when the input holds
// its ConfigMap (istio-sidecar-injector, or istio-sidecar-injector-<rev>).
func (m *Model) InjectorProxyImage(rev string) (InjectorImage, bool) {
	name := "istio-sidecar-injector"
	if rev != "" && rev != "default" {
		name += "-" + rev
	}
	for _, cm := range m.ConfigMaps {
		if cm.Name != name || cm.Data["values"] == "" {
			continue
		}
		var v struct {
			Global struct {
				Hub   string `json:"hub"`
				Tag   string `json:"tag"`
				Proxy struct {
					Image string `json:"image"`
				} `json:"proxy"`
			} `json:"global"`
		}
		if json.Unmarshal([]byte(cm.Data["values"]), &v) != nil || v.Global.Proxy.Image == "" {
			continue
		}
		// The injection template uses proxy.image as a full reference
		// when it has a "/", else hub/image:tag.
		img := v.Global.Proxy.Image
		if !strings.Contains(img, "/") {
			if v.Global.Hub == "" || v.Global.Tag == "" {
				continue
			}
			img = v.Global.Hub + "/" + img + ":" + v.Global.Tag
		}
		return InjectorImage{Image: img, ConfigMap: cm}, true
	}
	return InjectorImage{}, false
}

// SameProxyImage reports whether a running proxy's image is the injector's,
// allowing the image variant the injector appends (-distroless, -debug).
func SameProxyImage(running, injected string) bool {
	if running == injected {
		return true
	}
	return strings.HasPrefix(running, injected+"-") && !strings.ContainsAny(running[len(injected)+1:], ":/.")
}
