package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
	"time"

	"github.com/matrixbuild/matrix/elfcheck"
	"github.com/matrixbuild/matrix/executor"
	"github.com/matrixbuild/matrix/internal/atomicfile"
	"github.com/matrixbuild/matrix/internal/filename"
	"github.com/matrixbuild/matrix/manifest"
	"github.com/matrixbuild/matrix/pack"
	"github.com/matrixbuild/matrix/plan"
	"github.com/matrixbuild/matrix/progress"
)

const (
	logDir    = "logs"
	tailLines = 40
)

var errTimeout = errors.New("timed out")

// cellBuild is one cell on its way through the steps of buildCell, which follow
// README.md, "How a cell is built".
type cellBuild struct {
	*run
	cell   plan.Cell
	exec   executor.Executor // the engine, retrying transient errors
	log    *cellLog
	lines  *lineWriter // the container's and the tool's lines, redacted, to the log and the progress output
	last   *tail       // the log's last lines, for the error of a failed script
	redact *redactor   // the cell's pass_env values, for its output and its error
	env    []string
	inputs executor.Files   // the locked files, under --locked
	staged *atomicfile.File // the packed artifact until it is published
	// logEntry is the undo entry of what logs/NAME.log held before this cell's log
	// took its place (placeLog), until the run takes it over with the artifact.
	logEntry string
}

// images are a cell's build and test images, resolved and checked before it builds,
// and the hashes that say whether an earlier artifact of the cell can be reused.
type images struct {
	build     executor.Image
	tests     []testRun // the cell's tests in plan order (cellTests), when they run
	testing   bool      // the cell has a test and it runs
	inputHash string
	// resolvedHash is, for a cell installed from its lock entry, the input hash of the
	// same cell resolved anew (no locked files): see reusable.
	resolvedHash string
	testDef      string // of all the tests (testsDefinition); "" when not testing
}

// buildCell resolves the images, then reuses the cell's earlier artifact or builds,
// packs, tests and publishes it. On any failure no artifact file of this cell is left
// in the output directory, and its earlier artifact is left alone. ctx is the run's;
// gctx also ends when fail-fast stops the run. built gives up the cell's slot on the
// engine once its build container is gone, before its tests: the next cell's
// install overlaps them. failed is told a failure of a cell that builds for its
// twins before they learn of it: fail-fast stops the run before they build.
func (r *run) buildCell(ctx, gctx context.Context, engine executor.Executor, cell plan.Cell, built func(), failed func(error)) (*manifest.Artifact, executor.Files, error) {
	start := r.now()
	b, err := r.openCell(engine, cell)
	if err != nil {
		return nil, nil, err
	}
	defer b.discard()
	cctx, cancel := context.WithTimeoutCause(gctx, cell.Timeout, errTimeout)
	defer cancel()

	r.phase(cell, progress.PhaseResolving)
	imgs, err := b.resolve(cctx)
	if err != nil {
		return nil, nil, b.fail(ctx, gctx, cctx, err)
	}
	prev, retest, why := b.reuse(cctx, imgs)
	if prev != nil && !retest {
		r.output(prev.File, fmt.Sprintf("matrix: reused, built by run %s from the same inputs (input hash %.12s)", prev.RunID, imgs.inputHash))
		return prev, nil, nil // its log stays the log of its build
	}
	// Only now, with a container to start: probing an image of another CPU starts one.
	if err := b.runnable(cctx, imgs, prev == nil); err != nil {
		return nil, nil, b.fail(ctx, gctx, cctx, err)
	}
	if prev != nil {
		built()
		r.phase(cell, progress.PhaseTesting)
		art, err := b.retest(cctx, imgs, prev)
		if err != nil {
			return nil, nil, b.fail(ctx, gctx, cctx, err)
		}
		return art, nil, nil
	}
	fmt.Fprintf(b.lines, "matrix: building %s: %s\n", cell.Artifact, why)
	// A cell of this run with the same inputs is built once (twins.go).
	// The wait is bounded by the lead's timeout, not this cell's: a cell whose lead
	// failed late still has its whole timeout to build for itself.
	twin, lead := r.twins.join(gctx, twinKey(cell, imgs, r.epoch, b.inputs))
	if !lead && twin.art == nil && gctx.Err() != nil {
		// Stopped while it waited: fail-fast starts no build.
		return nil, nil, b.fail(ctx, gctx, cctx, gctx.Err())
	}
	if !lead {
		cancel()
		cctx, cancel = context.WithTimeoutCause(gctx, cell.Timeout, errTimeout)
		defer cancel()
	}
	var art *manifest.Artifact
	var lockFiles executor.Files
	if lead {
		defer func() { twin.finish(art, lockFiles) }()
	}
	if twin.art != nil {
		art, lockFiles, err = b.copyTwin(cctx, imgs, twin.art, twin.lockFiles)
	} else {
		art, lockFiles, err = b.buildAndPack(cctx, imgs)
	}
	if err == nil {
		art.BuildReason = why
		art.InputParts = inputParts(newBuildInputs(cell, imgs.build, b.epoch, b.inputs))
		err = b.proveLocked(cctx, art)
	}
	if err == nil && imgs.testing {
		// The next queued cell's install overlaps this one's tests. A failed cell
		// keeps its slot until it has stopped the run (placeCell); one without tests
		// keeps it for the little left to do, so one job at a time stays in order.
		built()
		r.phase(cell, progress.PhaseTesting)
		err = b.testStaged(cctx, imgs, art)
	}
	if err == nil {
		r.phase(cell, progress.PhasePublishing)
		err = b.publish()
	}
	if err != nil {
		art, lockFiles = nil, nil // nothing published for the twins to copy
		err = b.fail(ctx, gctx, cctx, err)
		if lead {
			failed(err)
		}
		return nil, nil, err
	}
	art.DurationSecs = r.now().Sub(start).Round(time.Millisecond).Seconds()
	return art, lockFiles, nil
}

// testStaged tests the staged artifact, recording the results in art.
func (b *cellBuild) testStaged(ctx context.Context, imgs images, art *manifest.Artifact) error {
	f, err := os.Open(b.staged.Name())
	if err != nil {
		return err
	}
	defer f.Close()
	return b.runTests(ctx, imgs, f, art)
}

// openCell opens the cell's log and the line writer that feeds it. A pass_env value
// too short to redact fails the cell before anything of it runs.
func (r *run) openCell(engine executor.Executor, cell plan.Cell) (*cellBuild, error) {
	log, err := createLog(r.logs, cell, path.Base(r.failedLog(cell)))
	if err != nil {
		return nil, err
	}
	env, secrets, err := containerEnv(cell, r.opts.Environ)
	if err != nil {
		if lerr := log.end(fmt.Sprintf("matrix: cell failed: %v\n", err)); lerr != nil {
			err = fmt.Errorf("%w; and its log: %v", err, lerr)
		}
		return nil, err
	}
	if _, locked := r.opts.Locked[cell.Artifact]; locked {
		env = append(env, "MATRIX_LOCKED=1")
	}
	b := &cellBuild{run: r, cell: cell, log: log, last: &tail{n: tailLines}, env: env, inputs: r.opts.Locked[cell.Artifact], redact: redactorFor(secrets)}
	b.lines = newLineWriter(b.redact, func(line []byte) {
		b.last.add(line)
		log.Write(append(append([]byte{}, line...), '\n'))
		// The renderers escape it (package progress): a line holds no newline.
		r.output(cell.Artifact, string(line))
	})
	b.exec = executor.Retry(engine, cell.Retries, b.lines)
	return b, nil
}

// discard removes what a cell that did not get through leaves: its staged artifact
// and its unfinished log. It does nothing to what was published.
func (b *cellBuild) discard() {
	b.lines.Flush()
	b.log.abort()
	if b.staged != nil {
		b.staged.Abort()
	}
}

// fail explains err (a timeout, a stop, a script's last lines), ends the cell's log
// with why it failed and returns it; an error writing the log is added to it. ctx is
// the run's, gctx the cell's group's, cctx the cell's own.
func (b *cellBuild) fail(ctx, gctx, cctx context.Context, err error) error {
	b.lines.Flush()
	switch {
	case errors.Is(context.Cause(cctx), errTimeout) && gctx.Err() == nil:
		err = fmt.Errorf("%w after %v (the cell's timeout)", errTimeout, b.cell.Timeout)
	case errors.Is(err, context.Canceled) && gctx.Err() != nil:
		// Stopped by an interrupt, or by fail-fast after another cell failed: say
		// which, not "context canceled".
		err = notBuilt(ctx)
	}
	// The error may quote the container: an entry's name, an engine's message.
	why := fmt.Sprintf("matrix: cell failed: %s\n", b.redact.String(err.Error())) // a script's last lines are just above it in the log
	var exit *executor.ExitError
	if errors.As(err, &exit) {
		if t := b.last.String(); t != "" {
			err = fmt.Errorf("%w; last lines of %s:\n%s", err, b.failedLog(b.cell), indent(t))
		}
	}
	if lerr := b.log.end(why); lerr != nil && !errors.Is(err, lerr) {
		err = fmt.Errorf("%w; and its log: %v", err, lerr)
	}
	if lerr := b.dropLogEntry(); lerr != nil {
		err = fmt.Errorf("%w; and putting back the earlier log: %v", err, lerr)
	}
	return b.redact.error(err)
}

// resolve resolves the build image and, when the cell is tested, the test image, and
// checks before anything is built that this engine can run them on the cell's platform.
func (b *cellBuild) resolve(ctx context.Context) (images, error) {
	cell := b.cell
	img, err := b.exec.Resolve(ctx, cell.Image, cell.Platform)
	if err != nil {
		return images{}, err
	}
	fmt.Fprintf(b.lines, "matrix: image %s (%s, %s)\n", img.Ref, img.ID, img.Platform())
	if cell.Platform != "" && !samePlatform(cell.Platform, img.Platform()) {
		return images{}, fmt.Errorf("image %s is %s, the cell asks for %s", img.Ref, img.Platform(), cell.Platform)
	}
	imgs := images{build: img, inputHash: InputHash(cell, img, b.epoch, b.inputs)}
	if b.inputs != nil {
		imgs.resolvedHash = InputHash(cell, img, b.epoch, nil)
	}
	imgs.testing = (cell.Test != nil || len(cell.Tests) > 0) && !b.opts.SkipTests && !cell.CrossBuilt
	if imgs.testing {
		if imgs.tests, err = resolveTests(ctx, b.exec, cell); err != nil {
			return images{}, err
		}
		imgs.testDef = testsDefinition(imgs.tests)
	}
	return imgs, nil
}

// buildAndPack runs the cell's script and packs what it collected into a temporary
// file of the output directory (b.staged), hashed while written.
func (b *cellBuild) buildAndPack(ctx context.Context, imgs images) (*manifest.Artifact, executor.Files, error) {
	cell := b.cell
	packOpts := pack.Options{
		Format:        cell.Format,
		Prefix:        archivePrefix(cell),
		Epoch:         b.epoch,
		MaxSize:       cell.MaxSize,
		AllowDangling: b.opts.AllowDangling,
		TempDir:       b.opts.OutDir,
	}
	var packed pack.Result
	var packTime time.Duration
	var scan *elfcheck.Scanner // the last attempt's
	job := executor.Job{RunID: b.id, Cell: cell, Image: imgs.build, Env: b.env, Inputs: b.inputs, Log: b.lines}
	buildStart := b.now()
	b.phase(cell, progress.PhaseBuilding)
	lockFiles, err := b.exec.Build(ctx, job, func(r io.Reader) error {
		b.phase(cell, progress.PhasePacking)
		t0 := b.now()
		if b.staged != nil {
			b.staged.Abort() // an earlier attempt's
		}
		var err error
		if b.staged, err = atomicfile.CreateIn(b.out, cell.Artifact); err != nil {
			return err
		}
		scan = elfScanner(cell)
		opts := packOpts
		opts.Inspect = scan.Add
		packed, err = pack.WriteHashed(ctx, b.staged, r, opts)
		packTime = b.now().Sub(t0)
		return err
	})
	buildTime := b.now().Sub(buildStart)
	b.lines.Flush()
	if err != nil {
		return nil, nil, err
	}
	for _, d := range packed.Dropped {
		fmt.Fprintf(b.lines, "matrix: dropped dangling symlink %s (--allow-dangling)\n", d)
	}
	fmt.Fprintf(b.lines, "matrix: packed %d files, %d bytes of content, into %s (%d bytes) in %v; container and packing took %v\n",
		packed.Files, packed.ContentBytes, cell.Artifact, packed.Size, packTime.Round(time.Millisecond), buildTime.Round(time.Millisecond))
	rep := scan.Report()
	target := elfTarget(cell, imgs.build)
	fmt.Fprintf(b.lines, "matrix: %s\n", describeELF(rep))
	if err := checkELF(rep, target); err != nil {
		return nil, nil, err
	}
	if cell.CrossBuilt {
		fmt.Fprintf(b.lines, "matrix: cross-built for %s: not tested (cross_built = true)\n", cell.Platform)
	}
	var warnings []string
	if w := sizeWarning(cell, packed.Size); w != "" {
		warnings = append(warnings, w)
		fmt.Fprintf(b.lines, "matrix: warning: %s\n", w)
		fmt.Fprintf(b.progress, "matrix: warning: %s\n", w)
	}
	return &manifest.Artifact{
		File:         cell.Artifact,
		RunID:        b.id,
		Engine:       b.exec.Name(),
		SHA256:       packed.SHA256,
		Size:         packed.Size,
		Format:       cell.Format,
		Target:       cell.Target,
		Axes:         axes(cell),
		Image:        manifestImage(imgs.build),
		InputHash:    imgs.inputHash,
		Files:        packed.Files,
		ContentBytes: packed.ContentBytes,
		Log:          logName(cell),
		CrossBuilt:   cell.CrossBuilt,
		Spec:         b.specFile(),
		Warnings:     warnings,

		ELF:      &rep,
		Metadata: cell.Metadata,
	}, lockFiles, nil
}

// sizeWarning says that an artifact of size bytes is over the cell's warn_size, or ""
// when it is not (or the cell has none).
func sizeWarning(cell plan.Cell, size int64) string {
	if cell.WarnSize <= 0 || size <= cell.WarnSize {
		return ""
	}
	return fmt.Sprintf("%s is %d bytes, over its warn_size of %d bytes", cell.Artifact, size, cell.WarnSize)
}

// publish syncs the staged artifact, puts the cell's log in place (placeLog), then
// renames the artifact to OUT/<artifact>: an artifact never points at a log that is not on disk,
// and a cell whose log could not be written fails before its earlier artifact is
// replaced. Syncing first leaves only the rename to fail after the log is in place
// (cellLog.end then moves the log to its failed name).
func (b *cellBuild) publish() error {
	b.lines.Flush()
	if err := b.staged.Finish(); err != nil {
		return fmt.Errorf("publishing the artifact: %w", err)
	}
	if err := b.placeLog(); err != nil {
		return err
	}
	if err := b.durable(b.cell.Artifact, b.replace(b.staged, b.cell.Artifact, b.logEntry)); err != nil {
		return fmt.Errorf("publishing the artifact: %w", err)
	}
	b.logEntry = "" // the run's now, with the artifact's
	return nil
}

// containerEnv is the cell's environment followed by the pass-through variables that
// are set on the host; the second result holds their values, to redact from the
// cell's output and error. A value too short to redact is refused (checkSecret).
func containerEnv(cell plan.Cell, environ []string) (env, secrets []string, err error) {
	for _, e := range cell.Env {
		env = append(env, e.Name+"="+e.Value)
	}
	host := map[string]string{}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			host[k] = v
		}
	}
	for _, name := range cell.PassEnv {
		if v, ok := host[name]; ok {
			if err := checkSecret(name, v); err != nil {
				return nil, nil, err
			}
			env = append(env, name+"="+v)
			secrets = append(secrets, v)
		}
	}
	return env, secrets, nil
}

// samePlatform compares "os/arch[/variant]" strings, treating a missing variant as any.
func samePlatform(want, have string) bool {
	w, h := strings.Split(want, "/"), strings.Split(have, "/")
	if len(w) < 2 || len(h) < 2 {
		return want == have
	}
	if w[0] != h[0] || w[1] != h[1] {
		return false
	}
	return len(w) < 3 || len(h) < 3 || w[2] == h[2]
}

func logName(c plan.Cell) string { return logDir + "/" + c.Artifact + logSuffix }

// logSuffix ends the name of each artifact's log in logs/.
const logSuffix = ".log"

// isLogName reports whether name, an entry of logs/, is one that an artifact's log
// takes: NAME.log of a NAME that passes the artifact name rule.
func isLogName(name string) bool {
	artifact, ok := strings.CutSuffix(name, logSuffix)
	return ok && filename.Why(artifact) == ""
}

func indent(s string) string { return "    " + strings.ReplaceAll(s, "\n", "\n    ") }

// specFile is the matrix file the run's cells come from, for their artifacts' records.
func (r *run) specFile() *manifest.SpecFile {
	if r.opts.SpecPath == "" && r.opts.SpecSHA256 == "" {
		return nil
	}
	return &manifest.SpecFile{Path: r.opts.SpecPath, SHA256: r.opts.SpecSHA256}
}
