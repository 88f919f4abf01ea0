package catalog

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/meshdoctor/meshdoctor/internal/ruledoc"
)

var updateDocs = flag.Bool("update", false, "regenerate docs/rules.md")

// TestDocsUpToDate fails when docs/rules.md was not regenerated after a
// rule changed: docs come from the rule values only.
func TestDocsUpToDate(t *testing.T) {
	path := filepath.Join("..", "..", "docs", "rules.md")
	want := ruledoc.Markdown(All())
	if *updateDocs {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil || string(got) != want {
		t.Fatalf("docs/rules.md is stale: run `make docs` (go run ./cmd/meshdoctor rules --markdown > docs/rules.md)")
	}
}
