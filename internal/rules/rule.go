// Package rules defines what a rule is and runs rules over the model. The
// rules themselves live in one file each, in packages named for their area
// (traffic, security, gateway, workload, reference); the catalog package
// lists them all.
package rules

import (
	"cmp"
	"fmt"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"

	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/manifest"
	"github.com/meshdoctor/meshdoctor/internal/mesh"
)

// Rule is a check, as a value: its identity, its documentation and its run
// function. Docs and the catalog are generated from these fields.
type Rule struct {
	// Code is stable forever (MDxxxx); Name is the kebab-case handle users
	// type in --ignore and annotations.
	Code     string
	Name     string
	Severity finding.Severity // the usual severity; a finding may differ
	Area     string
	Summary  string // one line for the catalog
	Doc      Doc
	Since    string // meshdoctor version that added it
	// IST lists the istioctl analyze codes (IST0101…) whose problem this
	// rule reports, so istioctl users find their code (`meshdoctor rules
	// IST0101`, `--ignore IST0101`).
	IST []string
	// Needs lists kinds of which at least one must be in the input for the
	// rule to have anything to check; the driver skips it otherwise. A
	// kind is keyed by group and kind: "Gateway" is Istio's Gateway (the
	// group meshdoctor knows a bare name by, mesh.ParseKind), and another
	// group's kind of the same name is written "Kind.group" (e.g.
	// mesh.KubeGatewayKind), so a Gateway API Gateway does not switch on
	// Istio Gateway checks.
	Needs []string
	// Reads lists further kinds the rule looks at, written as in Needs,
	// without which it still runs but sees less (the Secrets behind a
	// Gateway's credentialName, the VirtualServices routing to a
	// DestinationRule's host): a live cluster that denies one of them,
	// or of Needs, lists the rule as incomplete in its partial-access
	// finding.
	Reads []string
	// Run inspects the model and reports through the pass. Nil for
	// findings the loader or driver itself reports.
	Run func(*Pass)
}

// Doc is a rule's documentation.
type Doc struct {
	Mechanism string   // why it fails, in Istio/Kubernetes terms
	Symptom   string   // what the user sees
	Fix       string   // what to change
	Before    string   // YAML that triggers the rule
	After     string   // the same YAML fixed
	Sources   []string // where the behaviour is documented
}

// Pass hands a rule the model and collects its findings.
type Pass struct {
	Model *mesh.Model
	rule  *Rule
	// Findings are kept in chunks of a fixed size and copied once, into
	// the run's result: a rule with tens of thousands of findings spent a
	// sixth of its time growing one slice.
	chunks [][]finding.Finding
	n      int
}

const findingChunk = 256

// Report records a finding; code, rule name and severity default to the
// rule's.
func (p *Pass) Report(f finding.Finding) {
	if f.Code == "" {
		f.Code = p.rule.Code
	}
	f.Rule = p.rule.Name
	if f.Severity == 0 {
		f.Severity = p.rule.Severity
	}
	p.add(f)
}

// add records f as it is.
func (p *Pass) add(f finding.Finding) {
	if k := len(p.chunks); k == 0 || len(p.chunks[k-1]) == cap(p.chunks[k-1]) {
		size := findingChunk
		if k == 0 {
			size = 8 // most rules find little
		}
		p.chunks = append(p.chunks, make([]finding.Finding, 0, size))
	}
	last := &p.chunks[len(p.chunks)-1]
	*last = append(*last, f)
	p.n++
}

// appendTo appends the pass's findings to out.
func (p *Pass) appendTo(out []finding.Finding) []finding.Finding {
	for _, c := range p.chunks {
		out = append(out, c...)
	}
	return out
}

// At is shorthand for a finding on object o at the field path.
func At(o *manifest.Object, path ...any) finding.Finding {
	return finding.Finding{Resource: o.Ref(), Origin: o.Pos(path...)}
}

// Built-in findings that come from the loader and the driver, documented
// like every rule.
var (
	InvalidManifest = &Rule{
		Code: "MD0001", Name: "invalid-manifest", Severity: finding.Error, Area: "input",
		Summary: "A document cannot be parsed or does not match its kind's schema.",
		Doc: Doc{
			Mechanism: "The document is not valid YAML/JSON, lacks apiVersion/kind/metadata.name, has a field of the wrong type, or (warning) has a field its schema does not know. Istio decodes its resources leniently and drops unknown fields, so a misspelled or misplaced field is silently ignored. Built-in Kubernetes kinds (in their current API versions) are checked as the API server's field validation checks them, with exact, case-sensitive names: the server drops an unknown field (Service spec.Type instead of type becomes a ClusterIP Service; a misspelled readinessProbe is no probe), kubectl apply's default strict validation rejects the object instead, and Helm and controllers only get a warning. meshdoctor drops such fields too, so its analysis sees what the cluster will.",
			Symptom:   "kubectl apply rejects the document, or the field has no effect at all.",
			Fix:       "Correct the document at the line shown; for unknown fields, check the spelling, the capitalization and the nesting level against the Istio or Kubernetes API reference.",
			Before:    "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: reviews\nspec:\n  host: reviews\n  trafficPolicy:\n    tls:\n      mode: ISTIO_MUTUAL\n      sni: reviews.prod.svc.cluster.local\n    sni: wrong-level   # unknown field\n",
			After:     "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: reviews\nspec:\n  host: reviews\n  trafficPolicy:\n    tls:\n      mode: ISTIO_MUTUAL\n      sni: reviews.prod.svc.cluster.local\n",
		},
		Since: "0.1.0",
	}
	InternalError = &Rule{
		Code: "MD0002", Name: "internal-error", Severity: finding.Error, Area: "input",
		Summary: "A rule crashed; the other rules still ran.",
		Doc: Doc{
			Mechanism: "A rule panicked on this input. meshdoctor reports it instead of stopping, so the rest of the analysis is still complete.",
			Symptom:   "The named rule's checks are missing from this run.",
			Fix:       "Report the message and the input that caused it to the meshdoctor maintainers; use --ignore RULE to silence it meanwhile.",
		},
		Since: "0.1.0",
	}
	// RolloutOrder comes from --kube with files: the change is analyzed
	// as if applied in parts, in the order proxies may receive them.
	RolloutOrder = &Rule{
		Code: "MD1021", Name: "rollout-order", Severity: finding.Warning, Area: "traffic",
		Summary: "Applied together, a change can reach the proxies in an order that routes to a subset before its DestinationRule defines it (or after it removed it).",
		Doc: Doc{
			Mechanism: "Istio pushes each resource to the proxies as it arrives, so applying a VirtualService and the DestinationRule that defines its new subset in one kubectl apply still lets some proxies get the route first; removing a subset and the route to it in one change can likewise drop the subset first. Either way the route points at an Envoy cluster that does not exist yet (or any more). With --kube and files, meshdoctor plans the change as `meshdoctor plan --kube` does (an order in which every intermediate state is safe) and, at each boundary between two of its steps, analyzes the cluster with the later steps applied before the earlier ones; the missing subsets there that neither the cluster today nor the finished change has exist only during the rollout. The finding names the changes that arrive too early, those they need first, and the planner's order for them.",
			Symptom:   "For seconds after the apply, until every proxy has both resources, requests on that route fail with HTTP 503 and response flag NC (no cluster); the final state is healthy, so the errors are hard to explain afterwards.",
			Fix:       "Make before break, in the order the finding gives (the planner's): when adding a subset, apply the DestinationRule first, wait until istioctl proxy-status shows it synced, then apply the VirtualService; when removing one, apply the VirtualService first, then the DestinationRule; when renaming one, first a DestinationRule with both subsets (meshdoctor plan --write writes it).",
			Before:    "# one kubectl apply -f change/ with both:\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: reviews\nspec:\n  host: reviews\n  subsets:\n  - {name: v1, labels: {version: v1}}\n  - {name: v2, labels: {version: v2}}   # new\n---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: reviews\nspec:\n  hosts: [reviews]\n  http:\n  - route:\n    - destination: {host: reviews, subset: v2}   # new\n",
			After:     "kubectl apply -f change/destinationrule.yaml   # first\nistioctl proxy-status                           # wait until SYNCED\nkubectl apply -f change/virtualservice.yaml\n",
			Sources: []string{
				"https://istio.io/latest/docs/ops/best-practices/traffic-management/#avoid-503-errors-while-reconfiguring-service-routes",
			},
		},
		Since: "0.2.0",
	}
	// UpgradeChange comes from --upgrade-to: an Istio behaviour change
	// the upgrade crosses affects this configuration (internal/upgrade's
	// catalog).
	UpgradeChange = &Rule{
		Code: "MD0004", Name: "upgrade-behaviour-change", Severity: finding.Warning, Area: "upgrade",
		Summary: "An Istio release the upgrade crosses changes a default or removes an opt-out this configuration depends on.",
		Doc: Doc{
			Mechanism: "Istio changes defaults and removes feature flags and APIs from release to release (upgrade notes). With --upgrade-to VERSION, meshdoctor evaluates every change between the current version and VERSION against this configuration, from a catalog kept in the repository (internal/upgrade/changes.yaml: the flag or field, the old and new default, the release whose opt-out disappears, the source) and reports the resources each change affects. Changes that an analyze rule already explains (auto SNI) are reported by that rule.",
			Symptom:   "After the upgrade, traffic that worked changes: the finding names the change, what happens to the resource, and the symptom in the change's own words.",
			Fix:       "Apply the fix before upgrading (an explicit setting that keeps today's behaviour, or the new form the release expects), or opt out for the releases that still allow it; `meshdoctor upgrade --to VERSION` lists every change crossed, affected or not.",
			Sources: []string{
				"https://istio.io/latest/news/releases/",
			},
		},
		Since: "0.2.0",
	}
	PartialAccess = &Rule{
		Code: "MD0003", Name: "partial-access", Severity: finding.Warning, Area: "input",
		Summary: "The credentials may not list a kind on the live cluster; rules that read it see less.",
		Doc: Doc{
			Mechanism: "In cluster mode meshdoctor lists every kind it analyzes. When RBAC forbids listing one (often Secrets, or Istio kinds for application teams), the rest is still analyzed, but rules that read that kind are skipped or see only part of the mesh, so their problems cannot be found. When no namespaced kind may be listed across namespaces at all (rights in one namespace only) and neither -n nor -A is given, meshdoctor reads the kubeconfig context's namespace instead, as kubectl does, and says so at info level.",
			Symptom:   "No findings about the denied kind even when it is misconfigured: the result is incomplete, not clean.",
			Fix:       "Grant get and list on the kind (a ClusterRole, or a Role per namespace), run with credentials that have them, or accept the gap with --ignore partial-access.",
		},
		Since: "0.1.0",
	}
)

// Analyze runs rules over the model. A panic in one rule becomes an
// internal-error finding and the others still run. Findings come back sorted
// by file, line and rule.
func Analyze(m *mesh.Model, rs []*Rule) []finding.Finding {
	// Rules only read the model, so they run side by side; each keeps its
	// own findings and the result is sorted, so output does not depend on
	// scheduling.
	passes := make([]*Pass, len(rs))
	work := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				passes[i] = runOne(m, rs[i])
			}
		}()
	}
	for i, r := range rs {
		if r.Run != nil && needsMet(m, r) {
			work <- i
		}
	}
	close(work)
	wg.Wait()
	total := 0
	for _, p := range passes {
		if p != nil {
			total += p.n
		}
	}
	out := make([]finding.Finding, 0, total)
	for _, p := range passes {
		if p != nil {
			out = p.appendTo(out)
		}
	}
	Sort(out)
	return out
}

// RunRule runs a single rule regardless of its declared inputs (tests).
func RunRule(m *mesh.Model, r *Rule) []finding.Finding {
	out := runOne(m, r).appendTo(nil)
	Sort(out)
	return out
}

func runOne(m *mesh.Model, r *Rule) (p *Pass) {
	p = &Pass{Model: m, rule: r}
	defer func() {
		if v := recover(); v != nil {
			stack := strings.Split(string(debug.Stack()), "\n")
			where := ""
			for i, l := range stack {
				if strings.Contains(l, "/internal/rules/") && !strings.Contains(l, "rule.go") && i > 0 {
					where = " at " + strings.TrimSpace(strings.Split(l, " ")[0])
					break
				}
			}
			p.add(finding.Finding{
				Code: InternalError.Code, Rule: InternalError.Name, Severity: finding.Error,
				Resource: manifest.Ref{Kind: "Rule", Name: r.Name},
				Message:  fmt.Sprintf("rule %s crashed: %v%s; its other findings may be missing", r.Name, v, where),
				Symptom:  "this rule's checks did not complete",
				Fix:      "report this to the meshdoctor maintainers with the input; --ignore " + r.Name + " silences it",
			})
		}
	}()
	r.Run(p)
	return p
}

func needsMet(m *mesh.Model, r *Rule) bool {
	return len(r.Needs) == 0 || m.HasAny(r.Needs...)
}

// Sort orders findings by file, line, rule and message, keeping the order
// of equal ones. It orders indexes and moves each finding once: a neglected
// mesh has tens of thousands of findings, and a stable sort swapping the
// findings themselves was a tenth of its rules phase.
func Sort(fs []finding.Finding) {
	order := func(a, b *finding.Finding) int {
		if c := cmp.Compare(a.Origin.File, b.Origin.File); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Origin.Line, b.Origin.Line); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Rule, b.Rule); c != 0 {
			return c
		}
		return cmp.Compare(a.Message, b.Message)
	}
	sorted := true
	for i := 1; i < len(fs) && sorted; i++ {
		sorted = order(&fs[i-1], &fs[i]) <= 0
	}
	if sorted {
		return // already (the driver sorts again what Analyze sorted)
	}
	idx := make([]int32, len(fs))
	for i := range idx {
		idx[i] = int32(i)
	}
	slices.SortFunc(idx, func(i, j int32) int {
		if c := order(&fs[i], &fs[j]); c != 0 {
			return c
		}
		return cmp.Compare(i, j)
	})
	out := make([]finding.Finding, len(fs))
	for k, i := range idx {
		out[k] = fs[i]
	}
	copy(fs, out)
}

// AtPod is At for a field below a workload's pod template (or Pod).
func AtPod(w *mesh.Workload, path ...any) finding.Finding {
	return finding.Finding{Resource: w.Ref(), Origin: w.PodPos(path...)}
}
