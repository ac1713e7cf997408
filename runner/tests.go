package runner

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/matrixbuild/matrix/executor"
	"github.com/matrixbuild/matrix/manifest"
	"github.com/matrixbuild/matrix/plan"
)

// testRun is one test of a cell as it runs: its definition, its resolved image and
// the hash of both (TestDefinition). A skipped test of Cell.Tests has no image.
type testRun struct {
	test plan.Test
	img  executor.Image
	def  string
}

// cellTests are the tests of the cell: its one test, or the tests of its test axes.
func cellTests(cell plan.Cell) []plan.Test {
	if cell.Test != nil {
		return []plan.Test{*cell.Test}
	}
	return cell.Tests
}

// resolveTests resolves and checks the image of every test that runs
// (resolveTestImage), before anything is built.
func resolveTests(ctx context.Context, exec executor.Executor, cell plan.Cell) ([]testRun, error) {
	var runs []testRun
	for _, t := range cellTests(cell) {
		run := testRun{test: t}
		if t.Skip == "" {
			img, err := resolveTestImage(ctx, exec, t)
			if err != nil {
				if name := t.TestName(); name != "" {
					err = fmt.Errorf("test %s: %w", name, err)
				}
				return nil, err
			}
			run.img, run.def = img, TestDefinition(t, img)
		}
		runs = append(runs, run)
	}
	return runs, nil
}

// testsDefinition is the definition of a cell's tests: the one test's own, so that
// records of a cell without test axes keep theirs, or the hash of all of them.
func testsDefinition(runs []testRun) string {
	if len(runs) == 1 && len(runs[0].test.Axes) == 0 {
		return runs[0].def
	}
	h := sha256.New()
	for _, r := range runs {
		fmt.Fprintf(h, "%s\x00%s\x00", r.test.TestName(), r.def)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// passedTests reports whether a's record says it passed each of runs as they are now.
func passedTests(a manifest.Artifact, runs []testRun) bool {
	if len(runs) == 1 && len(runs[0].test.Axes) == 0 {
		return a.Test != nil && a.Test.Passed && a.Test.Definition == runs[0].def
	}
	if a.Test != nil || len(a.Tests) != len(runs) {
		return false
	}
	for i, r := range runs {
		t := a.Tests[i]
		if t.Skipped != r.test.Skip || axesString(t.Axes) != r.test.TestName() || r.test.Skip == "" && (!t.Passed || t.Definition != r.def) {
			return false
		}
	}
	return true
}

func axesString(axes []manifest.Axis) string {
	as := make([]plan.Axis, len(axes))
	for i, a := range axes {
		as[i] = plan.Axis{Name: a.Name, Value: a.Value}
	}
	return plan.Test{Axes: as}.TestName()
}

// runTests runs the cell's tests on the artifact in f and records them in art: the
// one test as art.Test, or every test of the test axes as art.Tests, in plan order. All
// of them run; the artifact is good only if every one that is not skipped passes,
// and the error names each that failed.
func (b *cellBuild) runTests(ctx context.Context, imgs images, f *os.File, art *manifest.Artifact) error {
	if len(imgs.tests) == 1 && len(imgs.tests[0].test.Axes) == 0 {
		var err error
		art.Test, err = b.test(ctx, imgs.tests[0], f)
		return err
	}
	results := make([]manifest.Test, 0, len(imgs.tests))
	var failed []string
	var first *TestError
	for _, r := range imgs.tests {
		name := r.test.TestName()
		if r.test.Skip != "" {
			fmt.Fprintf(b.lines, "matrix: test %s skipped: %s\n", name, r.test.Skip)
			results = append(results, manifest.Test{Axes: testAxes(r.test), Skipped: r.test.Skip})
			continue
		}
		res, err := b.test(ctx, r, f)
		var te *TestError
		switch {
		case err == nil:
		case errors.As(err, &te) && ctx.Err() == nil:
			res = te.Result
			failed = append(failed, name)
			if first == nil {
				first = te
			}
		default:
			return err // stopped, or the artifact cannot be read
		}
		results = append(results, *res)
	}
	art.Tests = results
	if first == nil {
		return nil
	}
	return &TestError{Tests: results, Err: fmt.Errorf("the tests %s of %d failed; %s: %w", strings.Join(failed, ", "), len(results), failed[0], first.Err)}
}

func testAxes(t plan.Test) []manifest.Axis { return axes(plan.Cell{Axes: t.Axes}) }
