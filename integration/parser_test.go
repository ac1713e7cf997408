package integration

import (
	"fmt"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The parser tests run `matrix validate` on hostile and huge matrix files: the tool
// must answer each with exit 1 and a diagnostic, or load it, quickly and in bounded
// memory; never crash (a Go stack overflow exits 2, the usage code) or hang. They need
// no Docker engine.

// parserTarget is a target any of these files can end with.
const parserTarget = `
target "t" {
  image    = "img"
  script   = "true"
  artifact = "a.tar.gz"
}
`

// TestParserDeepNesting: 100,000 levels of brackets, calls, templates, for expressions
// or operators in the matrix file or a --var-file, or 300 in a --var value, give exit 1
// and the "Nesting too deep" diagnostic where the 257th level opens (they crashed with
// a Go stack overflow, exit 2).
func TestParserDeepNesting(t *testing.T) {
	t.Parallel()
	const n = 100_000
	deep := map[string]string{
		"brackets":  strings.Repeat("[", n) + strings.Repeat("]", n),
		"calls":     strings.Repeat("abs(", n) + "1" + strings.Repeat(")", n),
		"templates": strings.Repeat(`"${`, n) + "1" + strings.Repeat(`}"`, n),
		"for":       strings.Repeat("[for x in ", n) + "[1]" + strings.Repeat(" : x]", n),
		"operators": "1" + strings.Repeat(" + 1", n),
	}
	for name, value := range deep {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			w := newWorkspace(t)
			specPath := w.spec(t, "locals {\n  x = "+value+"\n}\n"+parserTarget)
			res := w.matrix(t, nil, "validate", specPath)
			checkRefused(t, res, "Nesting too deep", "matrix.hcl:2:")
		})
	}
	t.Run("var-file", func(t *testing.T) {
		t.Parallel()
		w := newWorkspace(t)
		specPath := w.spec(t, "variable \"v\" {\n  type    = any\n  default = 1\n}\n"+parserTarget)
		varFile := filepath.Join(w.dir, "vars.hcl")
		writeFile(t, varFile, "v = "+deep["brackets"]+"\n")
		res := w.matrix(t, nil, "validate", "--var-file", varFile, specPath)
		checkRefused(t, res, "Nesting too deep", "vars.hcl:1:261")
	})
	t.Run("var", func(t *testing.T) {
		t.Parallel()
		w := newWorkspace(t)
		specPath := w.spec(t, "variable \"v\" {\n  type    = any\n  default = 1\n}\n"+parserTarget)
		// 300 levels: the command line is logged.
		res := w.matrix(t, nil, "validate", "--var", "v="+strings.Repeat("[", 300)+strings.Repeat("]", 300), specPath)
		checkRefused(t, res, "Nesting too deep", "<value for var.v from --var option 1>:1:257")
	})
}

// checkRefused asserts a refusal: exit 1 within seconds, with the diagnostic's summary
// and place on stderr, and no sign of a crash.
func checkRefused(t *testing.T, res result, summary, place string) {
	t.Helper()
	if res.code != 1 || !strings.Contains(res.stderr, summary) || !strings.Contains(res.stderr, place) {
		t.Errorf("exit %d, want 1 with %q at %q; stderr:\n%.3000s", res.code, summary, place, res.stderr)
	}
	if strings.Contains(res.stderr, "goroutine ") || strings.Contains(res.stderr, "stack overflow") {
		t.Errorf("crashed:\n%.3000s", res.stderr)
	}
	if res.elapsed > 20*time.Second {
		t.Errorf("took %v", res.elapsed)
	}
}

// TestParserManyLocals: a file of 20,000 locals, each the one before plus one, loads in
// well under the 20 s this asserts (it took 46 s, quadratic in the locals; see
// spec.BenchmarkLoadLocals for the real speed).
func TestParserManyLocals(t *testing.T) {
	t.Parallel()
	w := newWorkspace(t)
	var b strings.Builder
	b.WriteString("locals {\n  l0 = 0\n")
	for i := 1; i < 20_000; i++ {
		fmt.Fprintf(&b, "  l%d = local.l%d + 1\n", i, i-1)
	}
	b.WriteString("}\n" + strings.Replace(parserTarget, `"a.tar.gz"`, `"a-${local.l19999}.tar.gz"`, 1))
	res := w.matrix(t, nil, "plan", w.spec(t, b.String()))
	if res.code != 0 || !strings.Contains(res.stdout, "a-19999.tar.gz") {
		t.Errorf("exit %d; stdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
	}
	if res.elapsed > 20*time.Second {
		t.Errorf("took %v", res.elapsed)
	}
}

// TestParserHugeInclude: an include of 1,000,000 objects (one list of 1,000, repeated)
// is refused with "Value too large" while it is built, before its length is known, an
// object read or a cell made: in seconds and a few hundred MB at most (it took 8 s and
// 750 MB, a literal list of them 30 s and 2.9 GB; parsing such a list alone takes
// most of that, see the README).
func TestParserHugeInclude(t *testing.T) {
	t.Parallel()
	w := newWorkspace(t)
	specPath := w.spec(t, `
locals {
  thousand = [for i in range(1000) : { a = i }]
}
target "t" {
  include  = flatten([for i in range(1000) : local.thousand])
  image    = "img"
  script   = "true"
  artifact = "a-${matrix.a}.tar.gz"
}
`)
	res := w.matrix(t, nil, "validate", specPath)
	// The value budget sees the thousand objects repeated before the include's length
	// is known (spec.TestSizeLimits checks that length with fewer).
	checkRefused(t, res, "Value too large", "matrix.hcl:6:46")
	if res.maxRSSKiB > 512<<10 {
		t.Errorf("max RSS %d MiB", res.maxRSSKiB>>10)
	}
}

// TestParserSignalDuringLoad: SIGINT or SIGTERM while a huge but legal file loads (a
// plan of 90,000 cells, each evaluating a loop of 1,000) stops the tool within
// seconds, with exit 130 or 143, as a run does; loading it through takes minutes.
func TestParserSignalDuringLoad(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		sig  syscall.Signal
		code int
	}{{syscall.SIGINT, 130}, {syscall.SIGTERM, 143}} {
		t.Run(tc.sig.String(), func(t *testing.T) {
			t.Parallel()
			w := newWorkspace(t)
			specPath := w.spec(t, `
target "t" {
  matrix   = { a = range(300), b = range(300) }
  image    = "img"
  script   = "n=${length([for i in range(1000) : i if i % 7 == matrix.b % 7])}"
  artifact = "a-${matrix.a}-${matrix.b}.tar.gz"
}
`)
			p := w.start(t, nil, "validate", specPath)
			time.Sleep(2 * time.Second)
			select {
			case <-p.done:
				t.Fatalf("the load ended before the signal (%v); stderr:\n%s", p.err, p.stderr.String())
			default:
			}
			sent := time.Now()
			p.cmd.Process.Signal(tc.sig)
			if code := p.wait(t, time.Minute); code != tc.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tc.code, p.stderr.String())
			}
			if d := time.Since(sent); d > 5*time.Second {
				t.Errorf("took %v to stop", d)
			}
			// A load starts no container: the signal's message must not say it removes some.
			if strings.Contains(p.stderr.String(), "containers") {
				t.Errorf("stderr speaks of containers:\n%s", p.stderr.String())
			}
		})
	}
}

// TestParserValueBlowups: values that grow without bound inside a small file (a string
// doubled through 40 locals, a list through concat, for expressions nested three deep
// over range(1000), a number of a million digits written out, a literal of a million
// digits) are refused with exit 1 and "Value too large" (or "Number too long") where
// the bound is crossed, in seconds and at most 1 GiB; they took minutes to hours and
// gigabytes, or were killed (see the README).
func TestParserValueBlowups(t *testing.T) {
	t.Parallel()
	doubling := func(first, step string) string {
		var b strings.Builder
		b.WriteString("locals {\n  a0 = " + first + "\n")
		for i := 1; i <= 40; i++ {
			fmt.Fprintf(&b, "  a%d = "+step+"\n", i, fmt.Sprintf("local.a%d", i-1))
		}
		return b.String() + "}\n"
	}
	tests := []struct{ name, src, summary, place string }{
		{"strings", doubling(`"xxxxxxxx"`, `"${%[2]s}${%[2]s}"`), "Value too large", "matrix.hcl:25:"},
		{"directives", doubling(`"xxxxxxxx"`, `"%%{for i in range(2)}${%[2]s}%%{endfor}"`), "Value too large", "matrix.hcl:"},
		{"lists", doubling(`["x"]`, `concat(%[2]s, %[2]s)`), "Value too large", "matrix.hcl:"},
		{"nested for", "locals {\n  x = [for a in range(1000) : [for b in range(1000) : [for c in range(1000) : c]]]\n}\n", "Value too large", "matrix.hcl:2:"},
		{"huge number", "locals {\n  x = jsonencode(1e99999999)\n}\n", "Value too large", "matrix.hcl:2:18"},
		{"huge product", "locals {\n  x = tostring(1e900 * 1e900)\n}\n", "Value too large", "matrix.hcl:2:16"},
		{"long literal", "locals {\n  x = " + strings.Repeat("7", 4_000_000) + "\n}\n", "Number too long", "matrix.hcl:2:7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { // one at a time: each uses a CPU fully
			w := newWorkspace(t)
			res := w.matrix(t, nil, "validate", w.spec(t, tt.src+parserTarget))
			checkRefused(t, res, tt.summary, tt.place)
			if res.maxRSSKiB > 1<<20 {
				t.Errorf("max RSS %d MiB", res.maxRSSKiB>>10)
			}
		})
	}
}
