package runner

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/matrixbuild/matrix/executor"
	"github.com/matrixbuild/matrix/internal/atomicfile"
	"github.com/matrixbuild/matrix/manifest"
	"github.com/matrixbuild/matrix/pack"
	"github.com/matrixbuild/matrix/plan"
)

const (
	logDir    = "logs"
	tailLines = 40
)

var errTimeout = errors.New("timed out")

// buildCell resolves the image, builds, packs, and tests one cell. On any failure no
// artifact file of this cell is left in the output directory.
func buildCell(ctx context.Context, engine executor.Executor, cell plan.Cell, opts Options) (*manifest.Artifact, executor.Files, error) {
	start := opts.Now()
	env, secrets := containerEnv(cell, opts.Environ)
	inputs := opts.Locked[cell.Artifact]
	if opts.Locked != nil {
		env = append(env, "MATRIX_LOCKED=1")
	}
	// The log is written under a temporary name and replaces the cell's earlier log
	// when the cell is built or fails; a reused artifact keeps the log of its build.
	logPath := filepath.Join(opts.OutDir, logName(cell))
	logFile, err := os.CreateTemp(filepath.Dir(logPath), "."+filepath.Base(logPath)+".tmp-*")
	if err != nil {
		return nil, nil, fmt.Errorf("log file: %w", err)
	}
	logFile.Chmod(0o644)
	reused := false
	defer func() {
		logFile.Close()
		if reused {
			os.Remove(logFile.Name())
		} else {
			os.Rename(logFile.Name(), logPath)
		}
	}()
	last := &tail{n: tailLines}
	prefix := []byte("[" + cell.Artifact + "] ")
	lw := &lineWriter{emit: func(line []byte) {
		line = redactor(secrets).apply(line)
		last.add(line)
		logFile.Write(append(append([]byte{}, line...), '\n'))
		opts.Progress.Write(append(append(append([]byte{}, prefix...), line...), '\n'))
	}}
	defer lw.Close()

	exec := executor.Retry(engine, cell.Retries, lw)
	cctx, cancel := context.WithTimeoutCause(ctx, cell.Timeout, errTimeout)
	defer cancel()
	fail := func(err error) (*manifest.Artifact, executor.Files, error) {
		lw.Close()
		if errors.Is(context.Cause(cctx), errTimeout) && ctx.Err() == nil {
			err = fmt.Errorf("%w after %v (the cell's timeout)", errTimeout, cell.Timeout)
		}
		var exit *executor.ExitError
		if errors.As(err, &exit) {
			if t := last.String(); t != "" {
				err = fmt.Errorf("%w; last lines of %s:\n%s", err, logName(cell), indent(t))
			}
		}
		fmt.Fprintf(logFile, "matrix: cell failed: %v\n", err)
		return nil, nil, err
	}

	img, err := exec.Resolve(cctx, cell.Image, cell.Platform)
	if err != nil {
		return fail(err)
	}
	fmt.Fprintf(lw, "matrix: image %s (%s, %s)\n", img.Ref, img.ID, img.Platform())
	if cell.Platform != "" && !samePlatform(cell.Platform, img.Platform()) {
		return fail(fmt.Errorf("image %s is %s, the cell asks for %s", img.Ref, img.Platform(), cell.Platform))
	}
	if err := exec.Runnable(cctx, img); err != nil {
		return fail(err)
	}
	testing := cell.Test != nil && !opts.SkipTests && !cell.CrossBuilt
	var testImg executor.Image
	if testing {
		if testImg, err = resolveTestImage(cctx, exec, cell); err != nil {
			return fail(err)
		}
	}
	inputHash := InputHash(cell, img, epoch(opts), inputs)
	testDef := ""
	if testing {
		testDef = TestDefinition(*cell.Test, testImg)
	}
	if prev := opts.reusable(cell.Artifact, inputHash, testDef); prev != nil {
		fmt.Fprintf(opts.Progress, "[%s] matrix: reused, built by run %s from the same inputs (input hash %.12s)\n", prev.File, prev.RunID, inputHash)
		reused = true
		return prev, nil, nil
	}

	packOpts := pack.Options{
		Format:        cell.Format,
		Prefix:        archivePrefix(cell),
		Epoch:         epoch(opts),
		MaxSize:       cell.MaxSize,
		AllowDangling: opts.AllowDangling,
		TempDir:       opts.OutDir,
	}
	// The artifact is staged in a temporary file of the output directory and replaces
	// OUT/<artifact> only once its test passed.
	var staged *atomicfile.File
	defer func() {
		if staged != nil {
			staged.Abort()
		}
	}()
	var packed pack.Result
	var packTime time.Duration
	job := executor.Job{RunID: opts.RunID, Cell: cell, Image: img, Env: env, Inputs: inputs, Log: lw}
	buildStart := opts.Now()
	lockFiles, err := exec.Build(cctx, job, func(r io.Reader) error {
		t0 := opts.Now()
		if staged != nil {
			staged.Abort() // an earlier attempt's
		}
		var err error
		if staged, err = atomicfile.Create(opts.OutDir, cell.Artifact); err != nil {
			return err
		}
		packed, err = pack.WriteHashed(cctx, staged, r, packOpts)
		packTime = opts.Now().Sub(t0)
		return err
	})
	buildTime := opts.Now().Sub(buildStart)
	lw.Flush()
	if err != nil {
		return fail(err)
	}
	art := &manifest.Artifact{
		File:         cell.Artifact,
		RunID:        opts.RunID,
		Engine:       exec.Name(),
		SHA256:       packed.SHA256,
		Size:         packed.Size,
		Format:       cell.Format,
		Target:       cell.Target,
		Axes:         axes(cell),
		Image:        manifestImage(img),
		InputHash:    inputHash,
		Files:        packed.Files,
		ContentBytes: packed.ContentBytes,
		Log:          logName(cell),
	}
	for _, d := range packed.Dropped {
		fmt.Fprintf(lw, "matrix: dropped dangling symlink %s (--allow-dangling)\n", d)
	}
	fmt.Fprintf(lw, "matrix: packed %d files, %d bytes of content, into %s (%d bytes) in %v; container and packing took %v\n",
		packed.Files, packed.ContentBytes, cell.Artifact, packed.Size, packTime.Round(time.Millisecond), buildTime.Round(time.Millisecond))

	art.CrossBuilt = cell.CrossBuilt
	if cell.CrossBuilt {
		fmt.Fprintf(lw, "matrix: cross-built for %s: not tested (cross_built = true)\n", cell.Platform)
	}
	if testing {
		res, err := testCell(cctx, exec, cell, testImg, staged.Name(), opts, lw)
		if res != nil {
			res.Definition = testDef
		}
		art.Test = res
		if err != nil {
			return fail(&TestError{Result: res, Err: err})
		}
	}
	if err := staged.Commit(); err != nil {
		return fail(fmt.Errorf("publishing the artifact: %w", err))
	}
	art.DurationSecs = opts.Now().Sub(start).Round(time.Millisecond).Seconds()
	return art, lockFiles, nil
}

// containerEnv is the cell's environment followed by the pass-through variables that
// are set on the host; the second result holds their values, to redact from logs.
func containerEnv(cell plan.Cell, environ []string) (env, secrets []string) {
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
			env = append(env, name+"="+v)
			if len(v) >= 4 {
				secrets = append(secrets, v)
			}
		}
	}
	return env, secrets
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

// InputHash is the sha256 of everything that decides an artifact's bytes: when two
// cells have equal input hashes, the reproducible packer gives equal artifacts (as
// far as the script is deterministic). Under --locked the locked files count too.
// Values of pass-through variables and cache mounts are left out.
func InputHash(cell plan.Cell, img executor.Image, epoch time.Time, locked executor.Files) string {
	in := struct {
		PackFormat int            `json:"pack_format_version"`
		ImageID    string         `json:"image_id"`
		Platform   string         `json:"platform"`
		Workdir    string         `json:"workdir"`
		Env        []plan.EnvVar  `json:"env"`
		PassEnv    []string       `json:"pass_env"`
		Mounts     []plan.Mount   `json:"mounts"`
		Network    string         `json:"network"`
		Script     string         `json:"script"`
		Collect    string         `json:"collect"`
		Artifact   string         `json:"artifact"`
		Format     string         `json:"format"`
		Prefix     string         `json:"prefix"`
		Epoch      int64          `json:"epoch"`
		Locked     executor.Files `json:"locked,omitempty"` // encoding/json sorts map keys
	}{pack.FormatVersion, img.ID, cell.Platform, cell.Workdir, cell.Env, cell.PassEnv, bindMounts(cell.Mounts),
		cell.Network, cell.Script, cell.Collect, cell.Artifact, cell.Format, archivePrefix(cell), epoch.Unix(), locked}
	data, err := json.Marshal(in)
	if err != nil {
		panic(err) // plain strings and slices always marshal
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

func manifestImage(img executor.Image) manifest.Image {
	return manifest.Image{Ref: img.Ref, ID: img.ID, RepoDigests: img.RepoDigests, Platform: img.Platform()}
}

// TestDefinition is the sha256 of a test as it runs: a reused artifact must have
// passed the same test.
func TestDefinition(t plan.Test, img executor.Image) string {
	data, err := json.Marshal(struct {
		ImageID string
		Test    plan.Test
	}{img.ID, t})
	if err != nil {
		panic(err) // plain strings and slices always marshal
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// bindMounts leaves out cache mounts: a cache speeds a build up without changing
// what it installs (npm checks every download against the lock's integrity).
func bindMounts(mounts []plan.Mount) []plan.Mount {
	var out []plan.Mount
	for _, m := range mounts {
		if m.Type != plan.MountCache {
			out = append(out, m)
		}
	}
	return out
}

// archivePrefix puts zip artifacts in the layout of an AWS Lambda layer for Node.js
// (nodejs/node_modules/...); tarballs hold the collected tree at their root.
func archivePrefix(c plan.Cell) string {
	if c.Format == "zip" {
		return "nodejs/"
	}
	return ""
}

func logName(c plan.Cell) string { return logDir + "/" + c.Artifact + ".log" }

func indent(s string) string { return "    " + strings.ReplaceAll(s, "\n", "\n    ") }
