// Package nginx reads nginx configuration (from ConfigMaps mounted into a
// container) well enough to answer mesh questions about it: which
// locations proxy to HTTP upstreams, and with which upstream HTTP version.
// Parsing is done by github.com/tufanbarisyildirim/gonginx; this package
// adds include resolution over an in-memory file set and nginx's
// directive inheritance (http -> server -> location -> if).
package nginx

import (
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/tufanbarisyildirim/gonginx/config"
	"github.com/tufanbarisyildirim/gonginx/parser"
)

// File is one configuration file as the container sees it.
type File struct {
	Path string // absolute path in the container
	Text string
}

// ProxyPass is a proxy_pass to an http:// upstream and the upstream HTTP
// version nginx will use for it.
type ProxyPass struct {
	File string // path of the file holding the directive
	Line int    // 1-based line of the directive in that file
	URL  string // the proxy_pass argument as written
	// Hosts are the upstream host[:port] the request goes to: the URL's
	// host, or the servers of the upstream{} block it names. Empty when
	// the host is only known at runtime (variables).
	Hosts []string
	// Upstream is the name of the upstream{} block, if the URL names one.
	Upstream string
	// Version is the effective proxy_http_version ("1.0" when unset, the
	// nginx default) and VersionFile/VersionLine where it is set (zero
	// when it is the default).
	Version     string
	VersionFile string
	VersionLine int
	Location    string // the enclosing location's match, for messages
}

// Defaulted reports whether the version is nginx's default, not written.
func (p ProxyPass) Defaulted() bool { return p.VersionLine == 0 }

// Result is what Analyze found.
type Result struct {
	// Proxies lists every proxy_pass to an http:// URL in http context,
	// in file and line order.
	Proxies []ProxyPass
	// Errors lists files that look like nginx config but do not parse.
	Errors []error
	// Fragments is true when some proxies come from files that are not
	// reached from a main config (conf.d snippets): their http block is the
	// image's and is assumed not to set proxy_http_version.
	Fragments bool
}

// LooksLikeConfig tells whether a file is probably nginx configuration: a
// .conf name, or a text with nginx block syntax and a proxy directive.
func LooksLikeConfig(name, text string) bool {
	if strings.HasSuffix(name, ".conf") || path.Base(name) == "nginx.conf" {
		return true
	}
	return strings.Contains(text, "proxy_pass") && strings.Contains(text, "{") && (strings.Contains(text, "location") || strings.Contains(text, "server"))
}

// parse parses one file, turning a parser panic into an error: input comes
// from users' ConfigMaps and must never crash the analysis.
func parse(text string) (c *config.Config, err error) {
	defer func() {
		if r := recover(); r != nil {
			c, err = nil, fmt.Errorf("nginx parser failed: %v", r)
		}
	}()
	return parser.NewStringParser(text, parser.WithSkipValidDirectivesErr(), parser.WithSkipComments()).Parse()
}

// item is a directive with the file it was read from (includes splice
// other files' directives into a block).
type item struct {
	d    config.IDirective
	file string
}

type analyzer struct {
	files   map[string]*config.Config
	order   []string
	visited map[string]bool
	res     Result
}

// maxIncludeDepth bounds include recursion (cycles are also cut).
const maxIncludeDepth = 16

// Analyze parses files and walks them from the main configuration (a file
// with a top-level http block, normally /etc/nginx/nginx.conf), resolving
// include directives among files. Files that no main config includes and
// that hold server blocks are analyzed as http-level snippets, as the
// official images' nginx.conf includes /etc/nginx/conf.d/*.conf inside
// http{}. Snippets of bare locations or directives are skipped: what
// encloses them is unknown.
func Analyze(files []File) Result {
	a := &analyzer{files: map[string]*config.Config{}, visited: map[string]bool{}}
	for _, f := range files {
		c, err := parse(f.Text)
		if err != nil {
			a.res.Errors = append(a.res.Errors, fmt.Errorf("%s: %v", f.Path, err))
			continue
		}
		a.files[f.Path] = c
		a.order = append(a.order, f.Path)
	}
	sort.Strings(a.order)
	// Main configs first, so their includes claim the snippets.
	mains := 0
	for _, p := range a.order {
		if hasTop(a.files[p], "http") {
			mains++
			a.visited[p] = true
			a.walk(a.expand(a.files[p].GetDirectives(), p, 0, map[string]bool{p: true}), ctx{level: "main"})
		}
	}
	for _, p := range a.order {
		// With a main config present, a snippet it does not include is
		// not loaded at all.
		if mains > 0 || a.visited[p] || !hasTop(a.files[p], "server") || hasTop(a.files[p], "location") {
			continue
		}
		n := len(a.res.Proxies)
		a.walk(a.expand(a.files[p].GetDirectives(), p, 0, map[string]bool{p: true}), ctx{level: "http", upstreams: map[string][]string{}})
		if len(a.res.Proxies) > n {
			a.res.Fragments = true
		}
	}
	sort.SliceStable(a.res.Proxies, func(i, j int) bool {
		x, y := a.res.Proxies[i], a.res.Proxies[j]
		if x.File != y.File {
			return x.File < y.File
		}
		return x.Line < y.Line
	})
	return a.res
}

func hasTop(c *config.Config, name string) bool {
	for _, d := range c.GetDirectives() {
		if d.GetName() == name && d.GetBlock() != nil {
			return true
		}
	}
	return false
}

// expand replaces include directives by the directives of the files they
// name (glob patterns match among the known files; relative paths are
// relative to /etc/nginx, nginx's usual prefix).
func (a *analyzer) expand(ds []config.IDirective, file string, depth int, stack map[string]bool) []item {
	var out []item
	for _, d := range ds {
		inc, ok := d.(*config.Include)
		if !ok {
			out = append(out, item{d, file})
			continue
		}
		if depth >= maxIncludeDepth {
			continue
		}
		pattern := strings.Trim(inc.IncludePath, `"'`)
		if !path.IsAbs(pattern) {
			pattern = path.Join("/etc/nginx", pattern)
		}
		for _, p := range a.order {
			if ok, _ := path.Match(pattern, p); !ok || stack[p] {
				continue
			}
			a.visited[p] = true
			stack[p] = true
			out = append(out, a.expand(a.files[p].GetDirectives(), p, depth+1, stack)...)
			delete(stack, p)
		}
	}
	return out
}

type ctx struct {
	level       string // main, http, server, location
	depth       int    // block nesting, bounded against include cycles
	version     string
	versionFile string
	versionLine int
	location    string
	upstreams   map[string][]string
}

func (a *analyzer) walk(items []item, c ctx) {
	// Directives of a block apply to the whole block wherever written, so
	// settle the block's own proxy_http_version and upstreams first.
	for _, it := range items {
		switch d := it.d.(type) {
		case *config.Upstream:
			if c.upstreams != nil {
				var servers []string
				for _, s := range d.UpstreamServers {
					servers = append(servers, s.Address)
				}
				c.upstreams[d.UpstreamName] = servers
			}
		default:
			if it.d.GetName() == "proxy_http_version" && len(it.d.GetParameters()) > 0 && c.level != "main" {
				c.version = it.d.GetParameters()[0].GetValue()
				c.versionFile, c.versionLine = it.file, startLine(it.d)
			}
		}
	}
	for _, it := range items {
		d := it.d
		name := d.GetName()
		if d.GetBlock() == nil {
			if name == "proxy_pass" && c.level == "location" {
				a.proxyPass(it, c)
			}
			continue
		}
		if _, lua := d.(*config.LuaBlock); lua {
			continue
		}
		child := c
		child.depth++
		if child.depth > maxIncludeDepth*2 {
			continue
		}
		switch {
		case name == "http" && c.level == "main":
			child.level = "http"
			child.upstreams = map[string][]string{}
		case name == "server" && c.level == "http":
			child.level = "server"
		case name == "location" && (c.level == "server" || c.level == "location"):
			child.level = "location"
			child.location = paramString(d)
		case (name == "if" || name == "limit_except") && (c.level == "location" || c.level == "server"):
			// "if" in server context may only hold rewrite directives;
			// in location context it inherits the location's settings.
		default:
			// events, stream, mail, map, types, upstream…: no http
			// proxying to look at.
			continue
		}
		a.walk(a.expand(d.GetBlock().GetDirectives(), it.file, 0, map[string]bool{it.file: true}), child)
	}
}

func (a *analyzer) proxyPass(it item, c ctx) {
	ps := it.d.GetParameters()
	if len(ps) == 0 {
		return
	}
	url := strings.Trim(ps[0].GetValue(), `"'`)
	if !strings.HasPrefix(strings.ToLower(url), "http://") {
		return // https://, or not a URL
	}
	p := ProxyPass{File: it.file, Line: startLine(it.d), URL: url, Version: "1.0", Location: c.location}
	if c.versionLine > 0 {
		p.Version, p.VersionFile, p.VersionLine = c.version, c.versionFile, c.versionLine
	}
	host := url[len("http://"):]
	if i := strings.IndexAny(host, "/?"); i >= 0 && !strings.HasPrefix(host, "unix:") {
		host = host[:i]
	}
	switch {
	case strings.HasPrefix(host, "unix:"):
		p.Hosts = []string{"unix:"}
	case strings.Contains(host, "$"):
		// Only known at runtime.
	default:
		if servers, ok := c.upstreams[host]; ok {
			p.Upstream = host
			p.Hosts = servers
		} else {
			p.Hosts = []string{host}
		}
	}
	a.res.Proxies = append(a.res.Proxies, p)
}

// startLine is the line of a directive's name: gonginx records the line of
// the terminating ";", and parameters carry their offset from the name.
func startLine(d config.IDirective) int {
	line := d.GetLine()
	max := 0
	for _, p := range d.GetParameters() {
		if p.RelativeLineIndex > max {
			max = p.RelativeLineIndex
		}
	}
	if line-max < 1 {
		return line
	}
	return line - max
}

func paramString(d config.IDirective) string {
	var s []string
	for _, p := range d.GetParameters() {
		s = append(s, p.GetValue())
	}
	return strings.Join(s, " ")
}

// UsesHTTP11 reports whether an upstream HTTP version is accepted by Envoy
// (1.1 or 2); nginx's default and "1.0" are not.
func UsesHTTP11(version string) bool {
	switch strings.Trim(version, `"'`) {
	case "1.1", "2", "2.0":
		return true
	}
	return false
}

// SplitHostPort splits an nginx upstream address ("svc:8080",
// "[::1]:80", "svc") into host and port (port 80 when absent).
func SplitHostPort(addr string) (host string, port int) {
	port = 80
	host = addr
	if strings.HasPrefix(addr, "[") {
		if i := strings.Index(addr, "]"); i > 0 {
			host = addr[1:i]
			rest := addr[i+1:]
			if strings.HasPrefix(rest, ":") {
				fmt.Sscanf(rest[1:], "%d", &port)
			}
			return host, port
		}
	}
	if i := strings.LastIndexByte(addr, ':'); i >= 0 && strings.Count(addr, ":") == 1 {
		host = addr[:i]
		if _, err := fmt.Sscanf(addr[i+1:], "%d", &port); err != nil {
			port = 80
		}
	}
	return host, port
}

// IsLoopback reports whether an upstream host stays inside the pod (and so
// never passes through the sidecar: Istio's iptables rules return early for
// loopback destinations) or is a unix socket.
func IsLoopback(host string) bool {
	h := strings.ToLower(host)
	return h == "localhost" || strings.HasPrefix(h, "127.") || h == "::1" || strings.HasPrefix(h, "unix:")
}
