// Command meshgen writes a deterministic generated mesh for benchmarks:
//
//	meshgen -namespaces 100 -services 125 -plant subset-not-found=5 -o /tmp/mesh
//	meshgen -shape findings -namespaces 100 -services 125 -o /tmp/mesh
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/meshdoctor/meshdoctor/internal/meshgen"
)

type plants map[string]int

func (p plants) String() string { return fmt.Sprint(map[string]int(p)) }

func (p plants) Set(s string) error {
	name, n, ok := strings.Cut(s, "=")
	count := 1
	if ok {
		var err error
		if count, err = strconv.Atoi(n); err != nil || count < 0 {
			return fmt.Errorf("bad count in %q", s)
		}
	}
	p[name] = count
	return nil
}

func main() {
	cfg := meshgen.Config{Plants: plants{}}
	out := flag.String("o", "", "output directory (created)")
	flag.IntVar(&cfg.Namespaces, "namespaces", 10, "namespaces")
	flag.IntVar(&cfg.Services, "services", 10, "services per namespace (at least 3)")
	expect := flag.Bool("expect", false, "print the findings the mesh must produce (rule=count, sorted) instead of writing it")
	shape := flag.String("shape", "clean", "clean (fully wired, only the planted findings) or findings (a neglected mesh: most objects have a finding)")
	flag.Var(plants(cfg.Plants), "plant", "RULE[=N]: plant N misconfigurations for RULE (repeatable; plantable: "+strings.Join(meshgen.Plantable(), ", ")+")")
	flag.Parse()
	if *expect {
		want := meshgen.Expected(cfg.Plants)
		if *shape == "findings" {
			want = meshgen.FindingsHeavyExpected(cfg)
		}
		var parts []string
		for r, n := range want {
			parts = append(parts, fmt.Sprintf("%s=%d", r, n))
		}
		sort.Strings(parts)
		fmt.Println(strings.Join(parts, " "))
		return
	}
	if *out == "" || cfg.Namespaces < 1 || cfg.Services < 3 || (*shape != "clean" && *shape != "findings") {
		fmt.Fprintln(os.Stderr, "usage: meshgen -o DIR [-shape clean|findings] [-namespaces N] [-services M>=3] [-plant RULE=N]...")
		os.Exit(2)
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	open := func(name string) (io.WriteCloser, error) {
		return os.Create(filepath.Join(*out, name))
	}
	generate, objects := meshgen.Generate, meshgen.Objects(cfg)
	if *shape == "findings" {
		generate, objects = meshgen.GenerateFindingsHeavy, meshgen.FindingsHeavyObjects(cfg)
	}
	if err := generate(cfg, open); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("%d objects in %s\n", objects, *out)
}
