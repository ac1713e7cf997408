package integration

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/matrixbuild/matrix/manifest"
)

// artifactDir is where a test keeps what CI uploads (screenshots): the directory
// MATRIX_ARTIFACTS_DIR names, or the test's temporary directory.
func artifactDir(t *testing.T) string {
	t.Helper()
	if d := os.Getenv("MATRIX_ARTIFACTS_DIR"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

// The backgrounds the report gives each state (report/template.go).
var stateColours = map[string]color.RGBA{
	"passed":  {230, 246, 230, 255},
	"built":   {231, 239, 255, 255},
	"failed":  {255, 229, 229, 255},
	"skipped": {242, 242, 242, 255},
}

func cssColour(c color.RGBA) string { return fmt.Sprintf("rgb(%d, %d, %d)", c.R, c.G, c.B) }

// checkRendered asserts what every report page must do in a real browser: load with
// no request but its own file, show one element per cell, in the colour of its state,
// and keep its screenshot as name in the artifact directory.
func checkRendered(t *testing.T, page string, r *rendered, want map[string]string, name string) {
	t.Helper()
	if len(r.requests) != 1 || r.requests[0] != "file://"+page {
		t.Errorf("the page made requests %q, want only its own file", r.requests)
	}
	got := map[string]string{}
	for _, c := range r.cells {
		if _, dup := got[c.Cell]; dup {
			t.Errorf("cell %s shown twice", c.Cell)
		}
		got[c.Cell] = c.State
		if col, ok := stateColours[c.State]; !ok || c.Background != cssColour(col) {
			t.Errorf("cell %s (%s): background %s, want %s", c.Cell, c.State, c.Background, cssColour(col))
		}
		if !c.Visible {
			t.Errorf("cell %s is not laid out", c.Cell)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d cells shown, want %d", len(got), len(want))
	}
	for cell, state := range want {
		if got[cell] != state {
			t.Errorf("cell %s: %q, want %q", cell, got[cell], state)
		}
	}
	img, err := png.Decode(bytes.NewReader(r.png))
	if err != nil {
		t.Fatalf("the screenshot: %v", err)
	}
	shot := filepath.Join(artifactDir(t), name)
	if err := os.WriteFile(shot, r.png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot %s (%dx%d); loaded in %v, painted in %v; renderer: tasks %.0f ms, style %.0f ms, layout %.0f ms",
		shot, img.Bounds().Dx(), img.Bounds().Dy(), r.load.Round(time.Millisecond), r.shown.Round(time.Millisecond),
		1000*r.metrics["TaskDuration"], 1000*r.metrics["RecalcStyleDuration"], 1000*r.metrics["LayoutDuration"])
	// The screenshot shows the states' colours: the page was painted, not only parsed.
	seen := pixels(img)
	for _, state := range want {
		if seen[stateColours[state]] < 100 {
			t.Errorf("the screenshot has %d pixels of %s's colour", seen[stateColours[state]], state)
		}
	}
}

func pixels(img image.Image) map[color.RGBA]int {
	n := map[color.RGBA]int{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, a := img.At(x, y).RGBA()
			n[color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(bl >> 8), uint8(a >> 8)}]++
		}
	}
	return n
}

// TestReportInChromium: report.html in Debian's headless chromium. A page that asks
// for something is seen asking (the check can fail); the report of a real run
// (passed, failed and skipped cells) loads with no request but its own file, shows
// each cell in its state's colour, and its links go to files in the output
// directory; the report of 500 cells does the same. Screenshots are kept
// (artifactDir); load and paint times are logged (BENCHMARKS.md), and only a hang
// fails the test.
func TestReportInChromium(t *testing.T) {
	path := needChromium(t)
	t.Parallel()
	b := startBrowser(t, path)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute) // a hang guard
	defer cancel()

	t.Run("a page that fetches is seen", func(t *testing.T) {
		page := filepath.Join(t.TempDir(), "fetches.html")
		writeFile(t, page, `<!DOCTYPE html><html><head><link rel="stylesheet" href="http://matrix-report-test.invalid/s.css"></head>`+
			`<body><img src="http://matrix-report-test.invalid/x.png"><div data-state="passed" data-cell="c">x</div></body></html>`)
		r, err := b.render(ctx, page, 800, 600)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("a tiny page: loaded in %v, painted in %v; renderer: tasks %.0f ms", r.load.Round(time.Millisecond), r.shown.Round(time.Millisecond), 1000*r.metrics["TaskDuration"])
		if !slices.Contains(r.requests, "http://matrix-report-test.invalid/x.png") || !slices.Contains(r.requests, "http://matrix-report-test.invalid/s.css") {
			t.Errorf("the page's fetches were not seen: %q", r.requests)
		}
	})

	t.Run("a real run", func(t *testing.T) {
		e := needDocker(t)
		w := newWorkspace(t)
		specPath := w.spec(t, fmt.Sprintf(`
target "grid" {
  matrix = { a = [1, 2], b = ["x", "y"] }
  skip {
    condition = matrix.a == 1 && matrix.b == "y"
    reason    = "not y on 1"
  }
  image    = %[1]q
  network  = "none"
  workdir  = "/build"
  script   = "mkdir -p out && echo ${matrix.a}${matrix.b} > out/v && if [ ${matrix.a}${matrix.b} = 2y ]; then echo broken-on-purpose; exit 3; fi"
  collect  = "/build/out"
  artifact = "grid-${matrix.a}-${matrix.b}.tar.gz"
  timeout  = "2m"
  retries  = 0
  test {
    image  = %[1]q
    script = "echo tested-fine"
  }
}
`, testImage))
		res := w.matrix(t, nil, "run", "--keep-going", "--out", w.out, specPath)
		if res.code != 1 {
			t.Fatalf("exit %d, want 1 (one cell fails)\n%s", res.code, res.stderr)
		}
		checkRun(t, e, w, res.stderr, want{ok: []string{"grid-1-x.tar.gz", "grid-2-x.tar.gz"},
			failed: map[string][]string{"grid-2-y.tar.gz": {"script exited with status 3"}}})
		page := filepath.Join(w.out, "report.html")
		r, err := b.render(ctx, page, 1400, 1000)
		if err != nil {
			t.Fatal(err)
		}
		checkRendered(t, page, r, map[string]string{
			"grid[a=1,b=x]": "passed", "grid[a=2,b=x]": "passed", "grid[a=2,b=y]": "failed", "grid[a=1,b=y]": "skipped",
		}, "report-run.png")
		html, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		links := regexp.MustCompile(`href="([^"]*)"`).FindAllStringSubmatch(string(html), -1)
		if len(links) != 5 { // two artifacts, their logs and the failed cell's log
			t.Errorf("%d links, want 5: %q", len(links), links)
		}
		for _, l := range links {
			if _, err := os.Stat(filepath.Join(w.out, l[1])); err != nil || strings.Contains(l[1], "..") {
				t.Errorf("link %s: %v", l[1], err)
			}
		}
		for _, text := range []string{"tested-fine", "not y on 1", "script exited with status 3", "broken-on-purpose"} {
			if !strings.Contains(string(html), text) {
				t.Errorf("the page does not say %q", text)
			}
		}
	})

	t.Run("500 cells", func(t *testing.T) {
		dir := t.TempDir()
		m, want := bigManifest()
		if err := manifest.Write(dir, m); err != nil {
			t.Fatal(err)
		}
		w := newWorkspace(t)
		if res := w.matrix(t, nil, "report", dir); res.code != 0 {
			t.Fatalf("matrix report: exit %d\n%s", res.code, res.stderr)
		}
		page := filepath.Join(dir, "report.html")
		info, err := os.Stat(page)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("report.html of 500 cells: %d bytes", info.Size())
		r, err := b.render(ctx, page, 1400, 1000)
		if err != nil {
			t.Fatal(err)
		}
		checkRendered(t, page, r, want, "report-500.png")
	})
}

// bigManifest is a run of 500 cells (10 sharp versions x 10 Node.js versions x 5
// architectures), some failed and some skipped, and the state of each.
func bigManifest() (*manifest.Manifest, map[string]string) {
	m := &manifest.Manifest{Tool: "matrix", ToolVersion: "test", RunID: "big", Spec: manifest.SpecFile{Path: "matrix.hcl", SHA256: strings.Repeat("5", 64)},
		Started: time.Unix(1700000000, 0).UTC(), Finished: time.Unix(1700000900, 0).UTC()}
	want := map[string]string{}
	i := 0
	for s := range 10 {
		for n := range 10 {
			for a := range 5 {
				i++
				axes := []manifest.Axis{{Name: "sharp", Value: fmt.Sprintf("0.%d.%d", 30+s, s)}, {Name: "node", Value: float64(16 + 2*n)}, {Name: "arch", Value: []string{"x64", "arm64", "armv7", "s390x", "ppc64le"}[a]}}
				id := fmt.Sprintf("big[sharp=0.%d.%d,node=%d,arch=%s]", 30+s, s, 16+2*n, axes[2].Value)
				file := fmt.Sprintf("sharp-0.%d.%d-node%d-%s.tar.gz", 30+s, s, 16+2*n, axes[2].Value)
				switch {
				case i%11 == 0:
					m.Skipped = append(m.Skipped, manifest.Skipped{Cell: id, Target: "big", Axes: axes, Reason: "sharp does not support this Node.js"})
					want[id] = "skipped"
				case i%7 == 0:
					m.Failed = append(m.Failed, manifest.Failure{Artifact: file, Target: "big", Axes: axes, Error: "script exited with status 1",
						Log: "logs/" + file + ".log", Test: &manifest.Test{Output: "Error: Cannot find module 'sharp'\n", DurationSecs: 1.5}})
					want[id] = "failed"
				default:
					m.Artifacts = append(m.Artifacts, manifest.Artifact{File: file, RunID: "big", SHA256: fmt.Sprintf("%064x", i), Size: int64(8000000 + i),
						Target: "big", Axes: axes, Log: "logs/" + file + ".log", DurationSecs: 40 + float64(i%30),
						Test: &manifest.Test{Passed: true, DurationSecs: 3, Output: "resize ok\n"}})
					want[id] = "passed"
				}
			}
		}
	}
	return m, want
}
