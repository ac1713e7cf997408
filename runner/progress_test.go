package runner

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/matrixbuild/matrix/executor"
	"github.com/matrixbuild/matrix/progress"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/progress")

// fakeClock advances by step at each reading: a run's timings are fixed by how often
// it reads the clock, which is the same in every run of the same script.
type fakeClock struct {
	mu   sync.Mutex
	t    time.Time
	step time.Duration
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(c.step)
	return c.t
}

// TestProgressGolden: the events of a scripted run (one cell built, one whose script
// fails with hostile output, one skipped; then a second run that reuses the first
// cell), rendered plain, as json and as the end-of-run summary, are the golden files'
// bytes. One job at a time and a fake clock make the run the same every time.
func TestProgressGolden(t *testing.T) {
	exec := &fakeExec{behave: func(ctx context.Context, job executor.Job, _ int) error {
		if job.Cell.Artifact == "bad.tar.gz" {
			fmt.Fprintf(job.Log, "npm error \x1b[31mgyp\x1b[0m failed \u202e\n")
			return &executor.ExitError{Code: 1}
		}
		return nil
	}}
	cs := cells("good.tar.gz", "bad.tar.gz", "skipped.tar.gz")
	cs[2].Skip = "sharp 0.35 needs node >= 20.9"
	clock := &fakeClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), step: 250 * time.Millisecond}
	opts := options(t)
	opts.Jobs, opts.KeepGoing, opts.Now = 1, true, clock.now

	var plain, js, summary bytes.Buffer
	for i, runID := range []string{"first", "second"} {
		opts.RunID, opts.Reuse = runID, i > 0
		opts.Events = progress.Tee(&progress.Plain{W: &plain}, &progress.JSON{W: &js})
		start := clock.now()
		results, err := readAndRun(context.Background(), []executor.Executor{exec}, cs, opts)
		s := Summary(runID, results, clock.now().Sub(start), "OUT/manifest.json", err)
		if err := s.WriteText(&summary); err != nil {
			t.Fatal(err)
		}
	}
	for name, got := range map[string][]byte{"plain": plain.Bytes(), "json": js.Bytes(), "summary": summary.Bytes()} {
		got = bytes.ReplaceAll(got, []byte(opts.OutDir), []byte("OUT"))
		path := filepath.Join("testdata", "progress", name+".golden")
		if *update {
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s progress differs from %s (go test -run TestProgressGolden -update to accept):\ngot:\n%s\nwant:\n%s", name, path, got, want)
		}
	}
	for name, out := range map[string]string{"plain": plain.String(), "summary": summary.String()} {
		if strings.ContainsAny(out, "\x1b\u202e") {
			t.Errorf("%s output holds a control: %q", name, out)
		}
	}
}
