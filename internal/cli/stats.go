package cli

import (
	"fmt"
	"runtime"
	"time"

	"github.com/meshdoctor/meshdoctor/internal/analysis"
)

// statsLine is what --stats prints: phase timings and peak memory, plus
// the two numbers that show whether findings cost more than objects do:
// findings per second of the whole run, and bytes allocated per object
// (everything the process allocated, divided by the objects analyzed).
func statsLine(res *analysis.Result, load, report, total time.Duration) string {
	var mem runtime.MemStats
	runtime.ReadMemStats(&mem)
	perSecond, perObject := 0.0, uint64(0)
	if total > 0 {
		perSecond = float64(len(res.Findings)) / total.Seconds()
	}
	if res.Objects > 0 {
		perObject = mem.TotalAlloc / uint64(res.Objects)
	}
	return fmt.Sprintf("stats: objects=%d findings=%d load=%s model=%s rules=%s report=%s total=%s peak_rss_mb=%d findings_per_s=%.0f alloc_bytes_per_object=%d",
		res.Objects, len(res.Findings), ms(load), ms(res.ModelTime), ms(res.RulesTime), ms(report), ms(total), peakRSSMB(), perSecond, perObject)
}
