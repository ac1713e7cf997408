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
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/matrixbuild/matrix/executor"
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
	// previous are the artifacts recorded by the output directory's manifest when the
	// run started, by file name; set by Run.
	previous map[string]manifest.Artifact
	// Locked, when not nil, holds per artifact name the files to put into the workdir
	// before the script starts (matrix run --locked); containers then see MATRIX_LOCKED=1.
	Locked map[string]executor.Files
	Now    func() time.Time // for tests; nil: time.Now
}

// Result is the outcome of one cell, in plan order.
type Result struct {
	Cell     plan.Cell
	Artifact *manifest.Artifact // nil when the cell failed
	// LockFiles are the cell's lock_files as the build left them in the workdir.
	LockFiles executor.Files
	Err       error
}

// RunError reports the cells that failed.
type RunError struct {
	Failed, Total int
	First         error
}

func (e *RunError) Error() string {
	return fmt.Sprintf("%d of %d cells failed; first: %v", e.Failed, e.Total, e.First)
}

// Run builds cells into opts.OutDir and writes manifest.json and SHA256SUMS last. It
// returns the results in plan order; err is a *RunError when a cell failed, or the
// reason the run could not start or record itself.
func Run(ctx context.Context, engines []executor.Executor, cells []plan.Cell, opts Options) ([]Result, error) {
	if len(engines) == 0 {
		return nil, errors.New("no engine to build on")
	}
	if opts.Jobs <= 0 {
		opts.Jobs = DefaultJobs
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.RunID == "" {
		opts.RunID = NewRunID()
	}
	if opts.Progress == nil {
		opts.Progress = io.Discard
	}
	opts.Progress = &syncWriter{w: opts.Progress}
	if err := os.MkdirAll(filepath.Join(opts.OutDir, logDir), 0o755); err != nil {
		return nil, fmt.Errorf("output directory: %w", err)
	}
	unlock, err := lockDir(opts.OutDir)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if removed := removeLeftovers(opts.OutDir); len(removed) > 0 {
		fmt.Fprintf(opts.Progress, "removed %d partial file(s) left by an interrupted run: %s\n",
			len(removed), strings.Join(removed, ", "))
	}

	if opts.Reuse {
		opts.previous = map[string]manifest.Artifact{}
		if prev, err := manifest.Read(opts.OutDir); err == nil {
			for _, a := range prev.Artifacts {
				opts.previous[a.File] = a
			}
		}
	}
	started := opts.Now()
	results := make([]Result, len(cells))
	for i := range cells {
		results[i].Cell = cells[i]
	}
	var g *errgroup.Group
	gctx := ctx
	if opts.KeepGoing {
		g = new(errgroup.Group)
	} else {
		g, gctx = errgroup.WithContext(ctx)
	}
	g.SetLimit(opts.Jobs * len(engines))
	engs := newPool(engines, opts.Jobs)
	for i := range cells {
		g.Go(func() error {
			e, err := engs.acquire(gctx, cells[i])
			if err != nil {
				results[i].Err = notBuilt(ctx)
				return nil
			}
			defer engs.release(e)
			if len(engines) > 1 {
				fmt.Fprintf(opts.Progress, "[%s] matrix: building on %s\n", cells[i].Artifact, engines[e].Name())
			}
			art, files, err := buildCell(gctx, engines[e], cells[i], opts)
			results[i].Artifact, results[i].LockFiles, results[i].Err = art, files, err
			if errors.Is(err, context.Canceled) {
				// Stopped by an interrupt, or by fail-fast after another cell failed:
				// say which, not "context canceled".
				results[i].Err = notBuilt(ctx)
			}
			if err != nil {
				fmt.Fprintf(opts.Progress, "FAIL %s: %v\n", cells[i].Artifact, results[i].Err)
			} else {
				fmt.Fprintf(opts.Progress, "ok   %s  sha256:%s\n", art.File, art.SHA256)
			}
			return err
		})
	}
	_ = g.Wait() // errors are in results

	m := &manifest.Manifest{
		Tool:        "matrix",
		ToolVersion: opts.ToolVersion,
		RunID:       opts.RunID,
		Spec:        manifest.SpecFile{Path: opts.SpecPath, SHA256: opts.SpecSHA256},
		Started:     started.UTC(),
		Finished:    opts.Now().UTC(),
		SkipTests:   opts.SkipTests,
		SourceEpoch: epoch(opts).Unix(),
		Artifacts:   []manifest.Artifact{},
		Failed:      []manifest.Failure{},
	}
	var runErr *RunError
	built := map[string]bool{}
	for _, r := range results {
		if r.Err == nil {
			m.Artifacts = append(m.Artifacts, *r.Artifact)
			built[r.Artifact.File] = true
			continue
		}
		f := manifest.Failure{
			Artifact: r.Cell.Artifact,
			Target:   r.Cell.Target,
			Axes:     axes(r.Cell),
			Error:    r.Err.Error(),
			Log:      logName(r.Cell),
		}
		var te *TestError
		if errors.As(r.Err, &te) {
			f.Test = te.Result
		}
		m.Failed = append(m.Failed, f)
		if runErr == nil {
			runErr = &RunError{Total: len(cells), First: fmt.Errorf("%s: %w", r.Cell.Artifact, r.Err)}
		}
		runErr.Failed++
	}
	m.Artifacts = append(m.Artifacts, carriedOver(opts.OutDir, built)...)
	if err := manifest.Write(opts.OutDir, m); err != nil {
		return results, fmt.Errorf("recording the run: %w", err)
	}
	if runErr != nil {
		return results, runErr
	}
	return results, nil
}

// reusable returns the earlier record of an artifact that this run would build from
// the same inputs, if its file is still as recorded; nil otherwise.
func (opts Options) reusable(file, inputHash, testDef string) *manifest.Artifact {
	prev, ok := opts.previous[file]
	if !ok || prev.InputHash != inputHash {
		return nil
	}
	if testDef != "" && (prev.Test == nil || !prev.Test.Passed || prev.Test.Definition != testDef) {
		return nil
	}
	sum, size, err := manifest.HashFile(filepath.Join(opts.OutDir, file))
	if err != nil || sum != prev.SHA256 || size != prev.Size {
		return nil
	}
	return &prev
}

// errNotBuilt marks a cell that never ran because the run stopped first.
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

func epoch(opts Options) time.Time {
	if opts.Epoch.IsZero() {
		return pack.DefaultEpoch
	}
	return opts.Epoch
}

func axes(c plan.Cell) []manifest.Axis {
	out := make([]manifest.Axis, len(c.Axes))
	for i, a := range c.Axes {
		out[i] = manifest.Axis{Name: a.Name, Value: a.Value}
	}
	return out
}
