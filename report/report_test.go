package report

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/matrixbuild/matrix/manifest"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func fixture(t *testing.T) *manifest.Manifest {
	t.Helper()
	data, err := os.ReadFile("testdata/manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	var m manifest.Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return &m
}

func render(t *testing.T, m *manifest.Manifest, opts Options) string {
	t.Helper()
	var buf bytes.Buffer
	if err := Render(context.Background(), &buf, m, opts); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// TestGolden pins the page of a fixed manifest, with each layout.
func TestGolden(t *testing.T) {
	for _, tc := range []struct {
		golden string
		opts   Options
	}{
		{"report.golden.html", Options{}},
		{"report-arch-rows.golden.html", Options{Rows: "arch", Cols: "sharp"}},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			got := render(t, fixture(t), tc.opts)
			path := filepath.Join("testdata", tc.golden)
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("the page differs from %s (go test ./report/ -update rewrites it):\n%s", path, got)
			}
		})
	}
}

var (
	cellRE = regexp.MustCompile(`<div class="cell ([a-z]+)" data-state="([a-z]+)" data-cell="([^"]*)"`)
	hrefRE = regexp.MustCompile(`(?i)\b(href|src)="([^"]*)"`)
)

// TestCells: one element per cell of the manifest, each with its state.
func TestCells(t *testing.T) {
	got := map[string]string{}
	for _, m := range cellRE.FindAllStringSubmatch(render(t, fixture(t), Options{}), -1) {
		if m[1] != m[2] {
			t.Errorf("cell %s: class %s, data-state %s", m[3], m[1], m[2])
		}
		if _, dup := got[m[3]]; dup {
			t.Errorf("cell %s shown twice", m[3])
		}
		got[m[3]] = m[2]
	}
	want := map[string]string{
		"sharp[sharp=0.33.5,arch=x64]":   "passed",
		"sharp[sharp=0.33.5,arch=arm64]": "built",
		"sharp[sharp=0.34.1,arch=x64]":   "failed",
		"sharp[sharp=0.34.1,arch=arm64]": "skipped",
		"layer[node=18]":                 "skipped",
		`&lt;b&gt;hostile&lt;/b&gt;[name&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;=\u202egnp.exe]`:                                 "built",
		`&lt;b&gt;hostile&lt;/b&gt;[name&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;=&lt;img src=https://example.invalid/x.png&gt;]`: "built",
	}
	if len(got) != len(want) {
		t.Errorf("%d cells, want %d: %v", len(got), len(want), got)
	}
	for id, s := range want {
		if got[id] != s {
			t.Errorf("cell %s: state %q, want %q", id, got[id], s)
		}
	}
}

// TestHostile: nothing from the manifest becomes markup, a script or a link out of
// the directory, and the page fetches nothing.
func TestHostile(t *testing.T) {
	page := render(t, fixture(t), Options{})
	for _, bad := range []string{"<script", "<b>", "<img", "\u202e", "onerror"} {
		if strings.Contains(page, bad) {
			t.Errorf("the page holds %q", bad)
		}
	}
	var links []string
	for _, m := range hrefRE.FindAllStringSubmatch(page, -1) {
		if m[1] != "href" {
			t.Errorf("the page loads %s=%q", m[1], m[2])
		}
		links = append(links, m[2])
		rest, ok := strings.CutPrefix(m[2], "./")
		if !ok {
			rest, ok = strings.CutPrefix(m[2], "logs/")
		}
		if !ok || rest == "" || rest == ".." || strings.Contains(rest, "/") {
			t.Errorf("link %q leaves the output directory", m[2])
		}
	}
	want := []string{
		"./sharp-0.33.5-linux-arm64.tar.gz", "logs/sharp-0.33.5-linux-arm64.tar.gz.log",
		"./sharp-0.33.5-linux-x64.tar.gz", "logs/sharp-0.33.5-linux-x64.tar.gz.log",
		"logs/sharp-0.34.1-linux-x64.tar.gz.log.failed",
		"./javascript:alert%281%29.tgz",
	}
	for _, w := range want {
		found := false
		for _, l := range links {
			found = found || l == w
		}
		if !found {
			t.Errorf("no link %q among %q", w, links)
		}
	}
	if !strings.Contains(page, `content="default-src 'none'; style-src 'unsafe-inline'"`) {
		t.Error("the page has no Content-Security-Policy that forbids fetching")
	}
}

func TestOptions(t *testing.T) {
	for _, tc := range []struct {
		opts Options
		err  string
	}{
		{Options{Rows: "arch"}, ""},
		{Options{Cols: "node"}, ""},
		{Options{Rows: "nope"}, `no cell has the axis "nope" for the rows (the axes: sharp, arch, name"><script>alert(1)</script>, node)`},
		{Options{Rows: "arch", Cols: "arch"}, `rows and columns are both the axis "arch"`},
	} {
		err := Render(context.Background(), &bytes.Buffer{}, fixture(t), tc.opts)
		if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("%+v: error %v, want %q", tc.opts, err, tc.err)
		}
	}
}

// TestLayout: the default puts the first axis down and the second across, one grid per
// value of the rest; Rows and Cols choose others.
func TestLayout(t *testing.T) {
	m := matrixOf(2, 3, 2, func(int) string { return "" })
	for _, tc := range []struct {
		opts       Options
		rows, cols []string
		grids      []string
	}{
		{Options{}, []string{"a0", "a1"}, []string{"b0", "b1", "b2"}, []string{"c = c0", "c = c1"}},
		{Options{Rows: "c", Cols: "a"}, []string{"c0", "c1"}, []string{"a0", "a1"}, []string{"b = b0", "b = b1", "b = b2"}},
		{Options{Cols: "a"}, []string{"b0", "b1", "b2"}, []string{"a0", "a1"}, []string{"c = c0", "c = c1"}},
	} {
		p, err := newPage(context.Background(), m, tc.opts)
		if err != nil {
			t.Fatal(err)
		}
		s := p.Sections[0]
		var grids []string
		for _, g := range s.Grids {
			grids = append(grids, g.Title)
			var rows []string
			for _, r := range g.Rows {
				rows = append(rows, r.Head)
				for _, cs := range r.Cells {
					if len(cs) != 1 {
						t.Errorf("%+v: %d cells at one place", tc.opts, len(cs))
					}
				}
			}
			if fmt.Sprint(rows) != fmt.Sprint(tc.rows) || fmt.Sprint(g.Cols) != fmt.Sprint(tc.cols) {
				t.Errorf("%+v: rows %v, columns %v; want %v, %v", tc.opts, rows, g.Cols, tc.rows, tc.cols)
			}
		}
		if fmt.Sprint(grids) != fmt.Sprint(tc.grids) {
			t.Errorf("%+v: grids %q, want %q", tc.opts, grids, tc.grids)
		}
	}
}

func TestNaturalOrder(t *testing.T) {
	vals := []any{"0.10.0", "0.9.1", float64(22), "node18", float64(8), "0.9.10", "node8"}
	var got []string
	for _, v := range distinct(cellsWith(vals), "v") {
		got = append(got, v.String())
	}
	want := "[8 22 0.9.1 0.9.10 0.10.0 node8 node18]"
	if fmt.Sprint(got) != want {
		t.Errorf("order %v, want %s", got, want)
	}
}

func cellsWith(vals []any) []*cell {
	var cells []*cell
	for _, v := range vals {
		cells = append(cells, &cell{axes: []manifest.Axis{{Name: "v", Value: v}}})
	}
	return cells
}

// matrixOf is a manifest of a target with axes a, b, c of na, nb, nc values, each cell
// built and tested; text(i) is appended to every text of cell i.
func matrixOf(na, nb, nc int, text func(int) string) *manifest.Manifest {
	m := &manifest.Manifest{SchemaVersion: 1, Tool: "matrix", ToolVersion: "v0", RunID: "run",
		Started: time.Unix(1700000000, 0), Finished: time.Unix(1700000100, 0)}
	i := 0
	for a := range na {
		for b := range nb {
			for c := range nc {
				x := text(i)
				axes := []manifest.Axis{{Name: "a", Value: fmt.Sprintf("a%d%s", a, x)}, {Name: "b", Value: fmt.Sprintf("b%d%s", b, x)}, {Name: "c", Value: fmt.Sprintf("c%d", c)}}
				file := fmt.Sprintf("m-%d-%d-%d%s.tgz", a, b, c, x)
				var tests []manifest.Test
				for k := range 3 {
					tests = append(tests, manifest.Test{Axes: []manifest.Axis{{Name: "runtime", Value: fmt.Sprintf("nodejs%d.x%s", 18+2*k, x)}},
						Passed: true, DurationSecs: 2.5, Output: "ok " + x})
				}
				m.Artifacts = append(m.Artifacts, manifest.Artifact{File: file, RunID: "run", SHA256: strings.Repeat("a", 64),
					Size: 12345678, Target: "t" + x, Axes: axes, Log: "logs/" + file + ".log", DurationSecs: 61, Tests: tests,
					Warnings: []string{"w" + x}})
				i++
			}
		}
	}
	return m
}

// TestReportSize: the page stays within the stated bound (MaxBaseBytes + MaxCellBytes
// per cell) however long and hostile the manifest's texts are, and one of 500 real
// cells is far below it (2 KiB per cell).
func TestReportSize(t *testing.T) {
	hostile := strings.Repeat(`"<&`, 1000)
	for _, tc := range []struct {
		name string
		na   int // 10 x 10 x na cells
		text func(int) string
		max  int
	}{
		{"plain", 5, func(int) string { return "" }, 2 << 10},
		// 100 cells: the bound is per cell, and html/template under -race is slow.
		{"hostile", 1, func(i int) string { return fmt.Sprint(i) + hostile }, MaxCellBytes},
	} {
		m := matrixOf(10, 10, tc.na, tc.text)
		n := 100 * tc.na
		for i := range m.Artifacts {
			for range 20 {
				m.Artifacts[i].Tests = append(m.Artifacts[i].Tests, m.Artifacts[i].Tests[0])
				m.Artifacts[i].Warnings = append(m.Artifacts[i].Warnings, m.Artifacts[i].Warnings[0])
			}
		}
		page := render(t, m, Options{})
		cells := len(cellRE.FindAllString(page, -1))
		if cells != n {
			t.Fatalf("%s: %d cells, want %d", tc.name, cells, n)
		}
		t.Logf("%s: %d cells, %d bytes (%d per cell)", tc.name, n, len(page), len(page)/n)
		if len(page) > MaxBaseBytes+n*tc.max {
			t.Errorf("%s: %d bytes, more than %d + %d x %d", tc.name, len(page), MaxBaseBytes, n, tc.max)
		}
	}
}

// TestSparse: cells that each have a row and a column of their own do not make a
// grid of cells squared.
func TestSparse(t *testing.T) {
	m := &manifest.Manifest{SchemaVersion: 1, RunID: "r"}
	for i := range 300 {
		m.Artifacts = append(m.Artifacts, manifest.Artifact{File: fmt.Sprintf("f%d.tgz", i), Target: "t",
			Axes: []manifest.Axis{{Name: "x", Value: float64(i)}, {Name: "y", Value: float64(i)}}})
	}
	page := render(t, m, Options{})
	if n := strings.Count(page, `<td class="none">`); n > 0 {
		t.Errorf("%d empty places for 300 cells", n)
	}
	if n := len(cellRE.FindAllString(page, -1)); n != 300 {
		t.Errorf("%d cells, want 300", n)
	}
}

// TestWrite: report.html is replaced, never written through a link.
func TestWrite(t *testing.T) {
	dir, outside := t.TempDir(), t.TempDir()
	target := filepath.Join(outside, "victim")
	if err := os.WriteFile(target, []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, filepath.Join(dir, FileName)); err != nil {
		t.Fatal(err)
	}
	if err := Write(context.Background(), dir, fixture(t)); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(target); string(data) != "keep" {
		t.Errorf("the link's target was written: %q", data)
	}
	info, err := os.Lstat(filepath.Join(dir, FileName))
	if err != nil || !info.Mode().IsRegular() {
		t.Fatalf("report.html: %v, %v", info, err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("the directory holds %d entries, want report.html alone", len(entries))
	}
}
