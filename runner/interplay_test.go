package runner

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/matrixbuild/matrix/executor"
	"github.com/matrixbuild/matrix/manifest"
	"github.com/matrixbuild/matrix/progress"
)

// TestRunTwinWaitIsNotTheCellsTimeout: a cell that waited for its twin's build, which
// then failed, builds for itself with its whole timeout: the time it waited is no
// part of its own build's.
func TestRunTwinWaitIsNotTheCellsTimeout(t *testing.T) {
	cs := cells("a.tar.gz", "b.tar.gz")
	for i := range cs {
		cs[i].Script, cs[i].Timeout = "true", time.Second
	}
	var mu sync.Mutex
	first := ""
	exec := &fakeExec{behave: func(ctx context.Context, job executor.Job, _ int) error {
		mu.Lock()
		lead := first == ""
		if lead {
			first = job.Cell.Artifact
		}
		mu.Unlock()
		// Each build takes more than half the timeout: the first fails, the other
		// cell, which waited for it, then builds for itself.
		select {
		case <-time.After(600 * time.Millisecond):
		case <-ctx.Done():
			return ctx.Err()
		}
		if lead {
			return &executor.ExitError{Code: 1}
		}
		return nil
	}}
	opts := options(t)
	opts.KeepGoing = true
	results, err := readAndRun(context.Background(), []executor.Executor{exec}, cs, opts)
	if err == nil {
		t.Fatal("the first build's failure did not fail the run")
	}
	for _, res := range results {
		if res.Cell.Artifact == first {
			continue
		}
		if res.Err != nil {
			t.Errorf("%s, which waited for %s's failed build, failed: %v", res.Cell.Artifact, first, res.Err)
		}
	}
}

// sinkFunc is a progress.Sink of a function; it is called from several goroutines.
type sinkFunc func(progress.Event)

func (f sinkFunc) Event(e progress.Event) { f(e) }

// TestRunFailFastStopsAWaitingTwin: a cell waiting for its twin's build when another
// cell fails starts no build of its own: fail-fast stopped the run.
func TestRunFailFastStopsAWaitingTwin(t *testing.T) {
	cs := cells("a.tar.gz", "b.tar.gz", "c.tar.gz")
	cs[0].Script, cs[1].Script = "true", "true"
	bothWaiting := make(chan struct{})
	var mu sync.Mutex
	building := 0
	events := sinkFunc(func(e progress.Event) {
		if e.Kind == progress.KindOutput && (e.Cell == "a.tar.gz" || e.Cell == "b.tar.gz") && strings.HasPrefix(e.Line, "matrix: building ") {
			mu.Lock()
			if building++; building == 2 {
				close(bothWaiting)
			}
			mu.Unlock()
		}
	})
	exec := &fakeExec{behave: func(ctx context.Context, job executor.Job, _ int) error {
		if job.Cell.Artifact == "c.tar.gz" {
			select {
			case <-bothWaiting:
			case <-time.After(20 * time.Second): // a hang guard
			}
			time.Sleep(50 * time.Millisecond) // the second twin from its line to its wait
			return &executor.ExitError{Code: 1}
		}
		<-ctx.Done() // the lead builds until the run stops
		return ctx.Err()
	}}
	opts := options(t)
	opts.Events = events
	results, err := readAndRun(context.Background(), []executor.Executor{exec}, cs, opts)
	if err == nil {
		t.Fatal("c's failure did not fail the run")
	}
	if n := exec.calls("a.tar.gz") + exec.calls("b.tar.gz"); n != 1 {
		t.Errorf("a and b, twins, were built %d times, want once: the one waiting when c failed the run built too", n)
	}
	for _, res := range results[:2] {
		if !errors.Is(res.Err, errNotBuilt) {
			t.Errorf("%s: %v, want not built", res.Cell.Artifact, res.Err)
		}
	}
}

// TestRunFailFastStopsTheTwinOfAFailedCell: when the cell that builds for its twin
// fails, fail-fast stops the run before the twin, which waited, builds for itself.
func TestRunFailFastStopsTheTwinOfAFailedCell(t *testing.T) {
	cs := cells("a.tar.gz", "b.tar.gz")
	cs[0].Script, cs[1].Script = "true", "true"
	bothWaiting := make(chan struct{})
	var mu sync.Mutex
	building := 0
	events := sinkFunc(func(e progress.Event) {
		if e.Kind == progress.KindOutput && strings.HasPrefix(e.Line, "matrix: building ") {
			mu.Lock()
			if building++; building == 2 {
				close(bothWaiting)
			}
			mu.Unlock()
		}
	})
	exec := &fakeExec{behave: func(ctx context.Context, job executor.Job, attempt int) error {
		select {
		case <-bothWaiting:
		case <-time.After(20 * time.Second): // a hang guard
		}
		time.Sleep(20 * time.Millisecond) // the twin from its line to its wait
		return &executor.ExitError{Code: 1}
	}}
	opts := options(t)
	opts.Events = events
	if _, err := readAndRun(context.Background(), []executor.Executor{exec}, cs, opts); err == nil {
		t.Fatal("the failed build did not fail the run")
	}
	if n := exec.calls("a.tar.gz") + exec.calls("b.tar.gz"); n != 1 {
		t.Errorf("a and b, twins, were built %d times, want once: the one waiting built after the other failed the run", n)
	}
}

// idExec is a fakeExec whose images have their own ID (as on an engine that pulled
// them at another time), and whose Resolve waits for gate when it is set.
type idExec struct {
	*fakeExec
	id   string
	gate func(cell string)
}

func (e *idExec) Resolve(ctx context.Context, ref, platform string) (executor.Image, error) {
	if e.gate != nil {
		e.gate(ref)
	}
	img, err := e.fakeExec.Resolve(ctx, ref, platform)
	img.ID = "sha256:" + strings.Repeat(e.id, 64)
	return img, err
}

// TestRunFailedOverLeadHandsItsTwinsAFinishedRecord: a cell that failed over to
// another engine and builds there for a twin hands the twin a record that it no
// longer changes (go test -race): the failover's warning is its own record's.
func TestRunFailedOverLeadHandsItsTwinsAFinishedRecord(t *testing.T) {
	cs := cells("a.tar.gz", "c.tar.gz")
	for i := range cs {
		cs[i].Script, cs[i].Retries, cs[i].Image = "true", 0, "img-"+cs[i].Artifact
	}
	// Twins apart from their image's name (the ID counts); each engine has its own
	// image IDs.
	aOnB := make(chan struct{})
	var once sync.Once
	e1 := &idExec{fakeExec: &fakeExec{name: "e1", behave: func(context.Context, executor.Job, int) error {
		return &executor.TransientError{Err: errors.New("connection refused")}
	}}, id: "1"}
	e2 := &idExec{fakeExec: &fakeExec{name: "e2", behave: func(_ context.Context, job executor.Job, _ int) error {
		if job.Cell.Artifact == "a.tar.gz" {
			once.Do(func() { close(aOnB) })
		}
		return nil
	}}, id: "2"}
	e2.gate = func(ref string) {
		// c, on e2 from the start, resolves only once a builds there: a leads.
		if ref == "img-c.tar.gz" {
			select {
			case <-aOnB:
			case <-time.After(20 * time.Second): // a hang guard
			}
		}
	}
	opts := options(t)
	opts.Jobs = 2
	results, err := readAndRun(context.Background(), []executor.Executor{e1, e2}, cs, opts)
	if err != nil {
		t.Fatal(err)
	}
	a, c := results[0].Artifact, results[1].Artifact
	if a.Engine != "e2" || c.SameBuildAs != "a.tar.gz" {
		t.Fatalf("a built on %s, c same_build_as %q: want a on e2 after e1 failed, and c a copy of it", a.Engine, c.SameBuildAs)
	}
	if len(a.Warnings) != 1 || len(c.Warnings) != 0 {
		t.Errorf("warnings: a %q, c %q; want a's failover in a's record only", a.Warnings, c.Warnings)
	}
}

// TestRunReusedCopyNamesNoOtherBuild: a copy reused by a later run whose twin was
// built again from other inputs no longer says it has that artifact's bytes.
func TestRunReusedCopyNamesNoOtherBuild(t *testing.T) {
	cs := cells("a.tar.gz", "b.tar.gz")
	cs[0].Script, cs[1].Script = "true", "true"
	exec := &fakeExec{}
	opts := options(t)
	opts.Jobs = 1
	first, err := readAndRun(context.Background(), []executor.Executor{exec}, cs, opts)
	if err != nil {
		t.Fatal(err)
	}
	if first[1].Artifact.SameBuildAs != "a.tar.gz" {
		t.Fatalf("b's same_build_as %q, want a.tar.gz", first[1].Artifact.SameBuildAs)
	}
	cs[0].Script = "true # changed"
	opts.RunID, opts.Reuse = "second", true
	results, err := readAndRun(context.Background(), []executor.Executor{exec}, cs, opts)
	if err != nil {
		t.Fatal(err)
	}
	a, b := results[0].Artifact, results[1].Artifact
	if a.RunID != "second" || b.RunID != "test" {
		t.Fatalf("a of run %s, b of run %s: want a built again, b reused", a.RunID, b.RunID)
	}
	m, err := manifest.Read(opts.OutDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, art := range m.Artifacts {
		// same_build_as names an artifact of the copy's own run (README).
		if art.File == "b.tar.gz" && art.SameBuildAs == "a.tar.gz" {
			t.Errorf("b, of run %s, says it has the bytes of a, now an artifact of run %s built from other inputs", b.RunID, a.RunID)
		}
	}
}

// TestRunRefusedNameKeepsThePlanOrder: a cell refused for its artifact's name gives
// its place in the queue up in its turn: with one job at a time, the cells around it
// still start in plan order.
func TestRunRefusedNameKeepsThePlanOrder(t *testing.T) {
	cs := cells("a.tar.gz", "b.tar.gz", "c.tar.gz", "d.tar.gz")
	cs[2].Artifact = "../c.tar.gz"
	var mu sync.Mutex
	var started []string
	opts := options(t)
	opts.Jobs, opts.KeepGoing = 1, true
	opts.Events = sinkFunc(func(e progress.Event) {
		if e.Kind == progress.KindStarted {
			mu.Lock()
			started = append(started, e.Cell)
			mu.Unlock()
		}
	})
	if _, err := readAndRun(context.Background(), []executor.Executor{&fakeExec{}}, cs, opts); err == nil {
		t.Fatal("the cell of a refused name did not fail the run")
	}
	if strings.Join(started, " ") != "a.tar.gz b.tar.gz d.tar.gz" {
		t.Errorf("cells started in the order %v, want the plan's", started)
	}
}

// TestRunTwinsKeepTheirOwnLockFiles: cells that declare other lock files are not
// twins: each gets the lock files it declares.
func TestRunTwinsKeepTheirOwnLockFiles(t *testing.T) {
	cs := cells("a.tar.gz", "b.tar.gz")
	cs[0].Script, cs[1].Script = "true", "true"
	cs[1].LockFiles = []string{"package-lock.json"}
	opts := options(t)
	opts.Jobs = 1
	results, err := readAndRun(context.Background(), []executor.Executor{&fakeExec{}}, cs, opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := results[1].LockFiles["package-lock.json"]; !ok {
		t.Errorf("b's lock files %v, want the package-lock.json it declares (same_build_as %q)", results[1].LockFiles, results[1].Artifact.SameBuildAs)
	}
}

// TestRunOneJobReportsInPlanOrder: with one job at a time and no tests, each cell
// starts after the one before it finished, whether it is built, a twin's copy,
// reused or failed.
func TestRunOneJobReportsInPlanOrder(t *testing.T) {
	cs := cells("a.tar.gz", "b.tar.gz", "c.tar.gz", "d.tar.gz", "e.tar.gz", "f.tar.gz")
	cs[1].Script, cs[2].Script = "true", "true" // twins
	cs[4].Artifact = "../e"
	exec := &fakeExec{behave: func(_ context.Context, job executor.Job, _ int) error {
		if job.Cell.Artifact == "d.tar.gz" {
			return &executor.ExitError{Code: 1}
		}
		return nil
	}}
	opts := options(t)
	opts.Jobs, opts.KeepGoing, opts.Reuse = 1, true, true
	for _, runID := range []string{"first", "second"} { // the second reuses
		var mu sync.Mutex
		var got []string
		opts.RunID = runID
		opts.Events = sinkFunc(func(e progress.Event) {
			// A refused cell takes no slot: it ends in its turn, beside the one before it.
			if (e.Kind == progress.KindStarted || e.Kind == progress.KindFinished) && e.Cell != "../e" {
				mu.Lock()
				got = append(got, string(e.Kind)+" "+e.Cell)
				mu.Unlock()
			}
		})
		if _, err := readAndRun(context.Background(), []executor.Executor{exec}, cs, opts); err == nil {
			t.Fatal("d's failure did not fail the run")
		}
		var want []string
		for _, c := range cs {
			if c.Artifact != "../e" {
				want = append(want, "started "+c.Artifact, "finished "+c.Artifact)
			}
		}
		if strings.Join(got, ", ") != strings.Join(want, ", ") {
			t.Errorf("run %s: events\n%s\nwant\n%s", runID, strings.Join(got, ", "), strings.Join(want, ", "))
		}
	}
}

// TestRunTwinCopyRecordsItsOwnImage: a copy of a twin whose image has another name
// (two tags of one image ID) records its own image's name.
func TestRunTwinCopyRecordsItsOwnImage(t *testing.T) {
	cs := cells("a.tar.gz", "b.tar.gz")
	cs[0].Script, cs[1].Script = "true", "true"
	cs[0].Image, cs[1].Image = "node:20", "node:20.11"
	opts := options(t)
	opts.Jobs = 1
	results, err := readAndRun(context.Background(), []executor.Executor{&fakeExec{}}, cs, opts)
	if err != nil {
		t.Fatal(err)
	}
	for i, res := range results {
		if res.Artifact.Image.Ref != cs[i].Image {
			t.Errorf("%s (same_build_as %q) records the image %s, want its own %s", res.Cell.Artifact, res.Artifact.SameBuildAs, res.Artifact.Image.Ref, cs[i].Image)
		}
	}
}
