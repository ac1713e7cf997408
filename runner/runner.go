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

	"golang.org/x/sync/errgroup"

	"github.com/matrixbuild/matrix/executor"
	"github.com/matrixbuild/matrix/internal/atomicfile"
	"github.com/matrixbuild/matrix/internal/filename"
	"github.com/matrixbuild/matrix/manifest"
	"github.com/matrixbuild/matrix/pack"
	"github.com/matrixbuild/matrix/plan"
)

// DefaultJobs is how many cells build at once by default. Builds mostly wait on the
// network (npm install) and on the engine, not on this machine's CPUs, so a number
// above the core count pays off; see BENCHMARKS.md.
const DefaultJobs = 4

// Options configure a run.
type Options struct {
	OutDir      string
	Jobs        int  // cells built at once on each engine; 0: DefaultJobs
	KeepGoing   bool // build every cell even after a failure
	SkipTests   bool
	Epoch       time.Time // mtime inside artifacts; zero: pack's default
	Environ     []string  // the host environment, for pass_env
	Progress    io.Writer // prefixed log lines and status lines; nil: none
	RunID       string    // labels this run's containers; empty: random
	ToolVersion string
	SpecPath    string
	SpecSHA256  string
	// AllowDangling drops dangling symlinks from artifacts instead of failing the cell.
	AllowDangling bool
	// Reuse skips a cell whose artifact in OutDir was built from the same inputs (its
	// input hash, and the same passing test) and still hashes as recorded.
	Reuse bool
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
}

// Result is the outcome of one cell, in plan order. A skipped cell (Cell.Skip set)
// has neither an artifact nor an error: it was not built.
type Result struct {
	Cell     plan.Cell
	Artifact *manifest.Artifact // nil when the cell failed
	// LockFiles are the cell's lock_files as the build left them in the workdir.
	LockFiles executor.Files
	Err       error
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
	progress io.Writer // opts.Progress, one whole write at a time
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
	r.progress = &progressWriter{w: r.progress}
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

// schedule builds the cells on the engines, up to jobs at once on each, and returns
// their results in plan order. Without KeepGoing, the first failure stops the rest.
// Skipped cells are reported, and take no slot.
func (r *run) schedule(ctx context.Context, engines []executor.Executor, cells []plan.Cell) []Result {
	results := make([]Result, len(cells))
	var g *errgroup.Group
	gctx := ctx
	if r.opts.KeepGoing {
		g = new(errgroup.Group)
	} else {
		g, gctx = errgroup.WithContext(ctx)
	}
	g.SetLimit(r.jobs * len(engines))
	engs := newPool(engines, r.jobs)
	for i := range cells {
		if cells[i].Skip != "" {
			results[i] = Result{Cell: cells[i]}
			fmt.Fprintf(r.progress, "skip %s: %s\n", cells[i].Name(), cells[i].Skip)
			continue
		}
		g.Go(func() error {
			results[i] = r.runCell(ctx, gctx, engs, cells[i])
			return results[i].Err
		})
	}
	_ = g.Wait() // errors are in results
	return results
}

// runCell builds one cell on a free engine of the pool and reports it. ctx is the
// run's; gctx also ends when fail-fast stops the run.
func (r *run) runCell(ctx, gctx context.Context, engs *pool, cell plan.Cell) Result {
	res := Result{Cell: cell}
	res.Artifact, res.LockFiles, res.Err = r.placeCell(ctx, gctx, engs, cell)
	if res.Err != nil {
		fmt.Fprintf(r.progress, "FAIL %s: %v\n", shown(cell.Artifact), res.Err)
	} else {
		fmt.Fprintf(r.progress, "ok   %s  sha256:%s\n", res.Artifact.File, res.Artifact.SHA256)
	}
	return res
}

// placeCell checks the cell's artifact name, then builds the cell on a free engine.
func (r *run) placeCell(ctx, gctx context.Context, engs *pool, cell plan.Cell) (*manifest.Artifact, executor.Files, error) {
	// Before anything of the cell touches the disk: a plan.Cell may come from JSON,
	// and its name makes the paths of its artifact and log.
	if err := filename.Check(cell.Artifact); err != nil {
		return nil, nil, fmt.Errorf("artifact %w", err)
	}
	e, err := engs.acquire(gctx, cell)
	if err != nil {
		return nil, nil, notBuilt(ctx)
	}
	defer engs.release(e)
	if len(engs.engines) > 1 {
		fmt.Fprintf(r.progress, "[%s] matrix: building on %s\n", cell.Artifact, engs.engines[e].Name())
	}
	return r.buildCell(ctx, gctx, engs.engines[e], cell)
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
			m.Skipped = append(m.Skipped, manifest.Skipped{Cell: res.Cell.Name(), Target: res.Cell.Target, Axes: axes(res.Cell), Reason: res.Cell.Skip})
			skipped[cellKey(res.Cell.Target, axes(res.Cell))] = res.Cell.Name()
			continue
		}
		if res.Err == nil {
			m.Artifacts = append(m.Artifacts, *res.Artifact)
			built[res.Artifact.File] = *res.Artifact
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
	werr := manifest.Write(r.opts.OutDir, m)
	serr := r.settle(werr, built)
	var notDurable *atomicfile.NotDurableError
	if werr != nil && !errors.As(werr, &notDurable) && len(gone) > 0 {
		fmt.Fprintf(r.progress, "matrix: --prune: removed nothing: the records that no longer list %d artifact(s) were not written\n", len(gone))
	} else if gone != nil {
		r.prune(ctx, gone, m)
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

// failure is the manifest's record of a cell that produced no artifact.
func (r *run) failure(res Result) manifest.Failure {
	f := manifest.Failure{
		Artifact: res.Cell.Artifact,
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
