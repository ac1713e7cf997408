// Package runner builds the cells of a plan: it schedules them on an Executor, packs
// each collected tree into a reproducible artifact, tests it, and records the run in
// manifest.json and SHA256SUMS.
package runner

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/matrixbuild/matrix/executor"
	"github.com/matrixbuild/matrix/internal/atomicfile"
	"github.com/matrixbuild/matrix/internal/filename"
	"github.com/matrixbuild/matrix/internal/terminal"
	"github.com/matrixbuild/matrix/manifest"
	"github.com/matrixbuild/matrix/pack"
	"github.com/matrixbuild/matrix/plan"
	"github.com/matrixbuild/matrix/progress"
	"github.com/matrixbuild/matrix/report"
)

// Options configure a run.
type Options struct {
	OutDir      string
	Jobs        int  // cells built at once on each engine; 0: DefaultJobs
	KeepGoing   bool // build every cell even after a failure
	SkipTests   bool
	Epoch       time.Time // mtime inside artifacts; zero: pack's default
	Environ     []string  // the host environment, for pass_env
	Progress    io.Writer // prefixed log lines and status lines (progress.Plain); nil: none
	RunID       string    // labels this run's containers; empty: random
	ToolVersion string
	SpecPath    string
	SpecSHA256  string
	Lock        *manifest.SpecFile // the lock file as the run read it; nil: none
	// AllowDangling drops dangling symlinks from artifacts instead of failing the cell.
	AllowDangling bool
	// Reuse also reuses the artifact of a cell that is not installed from its lock
	// entry: by default only a cell installed from a current lock entry skips its
	// build, when its artifact in OutDir was built from the same inputs (its input
	// hash, and the same passing test) and still hashes as recorded (reuse).
	Reuse bool
	// Force builds every cell again, reusing no artifact.
	Force bool
	// Locked holds per artifact name the files to put into the workdir before the
	// script starts (the cell's lock entry); the containers of those cells see
	// MATRIX_LOCKED=1, the others resolve anew.
	Locked map[string]executor.Files
	// LockedSHA256 holds, per artifact name of Locked, the sha256 that the cell's lock
	// entry records for the artifact built from those files (when it records one): a
	// cell installed from its entry whose artifact has another sha256 fails, naming
	// both and the first entries where the two trees differ (DriftError).
	LockedSHA256 map[string]string
	// AllowDrift keeps such an artifact instead, recorded with Drift set, and warns.
	AllowDrift bool
	// Prune removes, once the run is recorded, the artifacts the records listed that
	// this run's cells do not produce, with their logs (see prune).
	Prune bool
	Now   func() time.Time // for tests; nil: time.Now

	// Events, when set, receives what the run reports instead of Progress: each cell
	// queued, started, its phases, its output lines and its end, and the run's own
	// messages (package progress). It is called from several goroutines at once.
	Events progress.Sink
	// Provenance, when set, makes the run's provenance.intoto.jsonl, written with
	// its records as one unit (manifest.WriteWithProvenance), from the manifest about
	// to be written and the lock files of the cells built in this run, by artifact.
	Provenance func(m *manifest.Manifest, lockFiles map[string]executor.Files) ([]byte, error)
}

// Result is the outcome of one cell, in plan order. A skipped cell (Cell.Skip set)
// has neither an artifact nor an error: it was not built.
type Result struct {
	Cell     plan.Cell
	Artifact *manifest.Artifact // nil when the cell failed
	// LockFiles are the cell's lock_files as the build left them in the workdir.
	LockFiles executor.Files
	Err       error
	// Duration is how long the cell took in this run, from its slot to its end.
	Duration time.Duration
}

// Skipped reports whether the cell was skipped instead of built.
func (r Result) Skipped() bool { return r.Cell.Skip != "" }

// RunError reports the cells that failed, of the cells built.
type RunError struct {
	Failed, Total int
	First         error
}

func (e *RunError) Error() string {
	return fmt.Sprintf("%d of %d cells failed; first: %v", e.Failed, e.Total, e.First)
}

// run is the state of one Run: the options as given, the values it uses in place of
// their zero values, and what it found in the output directory.
type run struct {
	opts     Options
	id       string    // opts.RunID, or a random one
	epoch    time.Time // opts.Epoch, or pack's default
	jobs     int       // opts.Jobs, or DefaultJobs
	now      func() time.Time
	progress io.Writer // the run's messages: each write one message event (messages)
	events   progress.Sink
	// previous are the artifacts recorded by the output directory's manifest when the
	// run read it, by file name (Records).
	previous map[string]manifest.Artifact
	// previousFailed are the cells that the run of those records failed to build.
	previousFailed []manifest.Failure
	out            *os.Root // the output directory, once it is claimed
	logs           *os.Root // its logs/, opened once: every log is created through it

	mu       sync.Mutex
	replaced []replacement // the artifacts this run put in place, until it settles them

	twins twins // builds shared by cells with the same inputs (twins.go)
	pool  *pool // the engines' slots, once schedule made them (tests check them)
}

func newRun(opts Options) *run {
	r := &run{opts: opts, id: opts.RunID, epoch: opts.Epoch, jobs: opts.Jobs, now: opts.Now, progress: opts.Progress}
	if r.id == "" {
		r.id = NewRunID()
	}
	if r.epoch.IsZero() {
		r.epoch = pack.DefaultEpoch
	}
	if r.jobs <= 0 {
		r.jobs = DefaultJobs
	}
	if r.now == nil {
		r.now = time.Now
	}
	if r.progress == nil {
		r.progress = io.Discard
	}
	r.events = opts.Events
	if r.events == nil {
		r.events = &progress.Plain{W: r.progress}
	}
	r.events = progress.Clocked(r.events, r.now)
	r.progress = messages{r.events}
	return r
}

// Run builds cells into opts.OutDir and writes manifest.json and SHA256SUMS last,
// carrying over recs, the directory's records that ReadRecords read. It returns the
// results in plan order; err is a *RunError when a cell failed, or the reason the run
// could not start or record itself. Two cells with one artifact name, or a manifest
// that changed since recs were read, stop the run before anything is built; a cell
// whose artifact is not a plain file name fails before anything of it is written.
func Run(ctx context.Context, engines []executor.Executor, cells []plan.Cell, recs *Records, opts Options) ([]Result, error) {
	if len(engines) == 0 {
		return nil, errors.New("no engine to build on")
	}
	if recs == nil || recs.dir != opts.OutDir {
		return nil, fmt.Errorf("no records of the output directory %s: read them with ReadRecords", opts.OutDir)
	}
	if err := checkUnique(cells); err != nil {
		return nil, err
	}
	r := newRun(opts)
	release, err := r.prepareOutDir(ctx, recs)
	if err != nil {
		return nil, err
	}
	defer release()
	started := r.now()
	results := r.schedule(ctx, engines, cells)
	return results, r.record(ctx, started, results)
}

// record writes manifest.json and SHA256SUMS: the artifacts built, the failures, the
// skipped cells and the earlier records this run carries over. Its error is a
// *RunError when a cell failed and the run was recorded.
func (r *run) record(ctx context.Context, started time.Time, results []Result) error {
	m := &manifest.Manifest{
		Tool:        "matrix",
		ToolVersion: r.opts.ToolVersion,
		RunID:       r.id,
		Spec:        manifest.SpecFile{Path: r.opts.SpecPath, SHA256: r.opts.SpecSHA256},
		Lock:        r.opts.Lock,
		Started:     started.UTC(),
		Finished:    r.now().UTC(),
		SkipTests:   r.opts.SkipTests,
		AllowDrift:  r.opts.AllowDrift,
		SourceEpoch: r.epoch.Unix(),
		Artifacts:   []manifest.Artifact{},
		Failed:      []manifest.Failure{},
		Skipped:     []manifest.Skipped{},
	}
	var runErr *RunError
	toBuild := 0
	for _, res := range results {
		if !res.Skipped() {
			toBuild++
		}
	}
	built := map[string]manifest.Artifact{}
	skipped := map[string]string{} // cellKey: the cell's name
	for _, res := range results {
		if res.Skipped() {
			m.Skipped = append(m.Skipped, manifest.Skipped{Cell: res.Cell.Name(), CellID: res.Cell.ID(), Target: res.Cell.Target, Axes: axes(res.Cell), Reason: res.Cell.Skip})
			skipped[cellKey(res.Cell.Target, axes(res.Cell))] = res.Cell.Name()
			continue
		}
		if res.Err == nil {
			// A reused artifact's record may predate cell IDs: it gets its cell's.
			a := *res.Artifact
			a.CellID = res.Cell.ID()
			m.Artifacts = append(m.Artifacts, a)
			built[a.File] = a
			continue
		}
		m.Failed = append(m.Failed, r.failure(res))
		if runErr == nil {
			runErr = &RunError{Total: toBuild, First: fmt.Errorf("%s: %w", shown(res.Cell.Artifact), res.Err)}
		}
		runErr.Failed++
	}
	gone := r.toPrune(ctx, results)
	m.Artifacts = append(m.Artifacts, r.carriedOver(ctx, built, skipped, gone)...)
	dropStaleSameBuild(m.Artifacts)
	werr := r.writeRecords(m, results)
	serr := r.settle(werr, built)
	var notDurable *atomicfile.NotDurableError
	if werr != nil && !errors.As(werr, &notDurable) && len(gone) > 0 {
		fmt.Fprintf(r.progress, "matrix: --prune: removed nothing: the records that no longer list %d artifact(s) were not written\n", len(gone))
	} else if gone != nil {
		r.prune(ctx, gone, m)
	}
	if werr == nil || errors.As(werr, &notDurable) {
		r.writeReport(ctx)
	}
	if werr != nil {
		if serr != nil {
			werr = fmt.Errorf("%w; %v", werr, serr)
		}
		return &RecordError{Err: werr}
	}
	if runErr != nil {
		return runErr
	}
	return nil
}

// writeReport writes OUT/report.html of the manifest.json just written, read back so
// that the page is the one matrix report writes of it. The page says nothing the
// records do not, so failing to write it is said and does not fail the run; it is
// written even when the run was interrupted, as the records are.
func (r *run) writeReport(ctx context.Context) {
	m, err := manifest.Read(r.opts.OutDir)
	if err == nil {
		err = report.Write(context.WithoutCancel(ctx), r.opts.OutDir, m)
	}
	if err != nil {
		fmt.Fprintf(r.progress, "matrix: %s: %s (matrix report %s writes it again)\n", report.FileName,
			terminal.Escape(err.Error()), terminal.Escape(r.opts.OutDir))
	}
}

// writeRecords writes m, and the run's statement when the options make one, as one
// unit; a statement that cannot be made is an error of the records.
func (r *run) writeRecords(m *manifest.Manifest, results []Result) error {
	if r.opts.Provenance == nil {
		return manifest.Write(r.opts.OutDir, m)
	}
	lockFiles := map[string]executor.Files{}
	for _, res := range results {
		if res.Err == nil && res.Artifact != nil && res.LockFiles != nil {
			lockFiles[res.Artifact.File] = res.LockFiles
		}
	}
	prov, err := r.opts.Provenance(m, lockFiles)
	if err != nil {
		return fmt.Errorf("making %s: %w", manifest.ProvenanceName, err)
	}
	return manifest.WriteWithProvenance(r.opts.OutDir, m, prov)
}

// failure is the manifest's record of a cell that produced no artifact.
func (r *run) failure(res Result) manifest.Failure {
	f := manifest.Failure{
		Artifact: res.Cell.Artifact,
		CellID:   res.Cell.ID(),
		Target:   res.Cell.Target,
		Axes:     axes(res.Cell),
		Error:    res.Err.Error(),
	}
	if filename.Check(res.Cell.Artifact) == nil {
		f.Log = r.failedLog(res.Cell) // a cell refused for its name has no log
	}
	var te *TestError
	if errors.As(res.Err, &te) {
		f.Test, f.Tests = te.Result, te.Tests
		if te.Tests != nil {
			f.Test = nil
		}
	}
	var ee *ELFError
	if errors.As(res.Err, &ee) {
		f.ELF = &ee.Report
	}
	return f
}

// errNotBuilt marks a cell that the run stopped before it was built: waiting for an
// engine, or while it ran.
var errNotBuilt = errors.New("not built")

func notBuilt(ctx context.Context) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%w: the run was interrupted", errNotBuilt)
	}
	return fmt.Errorf("%w: stopped after another cell failed (use --keep-going to build every cell)", errNotBuilt)
}

// NewRunID returns a random identifier for a run's container labels.
func NewRunID() string {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return hex.EncodeToString(b[:])
}

func axes(c plan.Cell) []manifest.Axis {
	out := make([]manifest.Axis, len(c.Axes))
	for i, a := range c.Axes {
		out[i] = manifest.Axis{Name: a.Name, Value: a.Value}
	}
	return out
}
