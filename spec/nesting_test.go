package spec

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// structural are the tokens of HCL's scanner that nestingScanner must find where HCL's
// scanner does: what opens and closes brackets, strings, heredocs and sequences.
var structural = []hclsyntax.TokenType{
	hclsyntax.TokenOBrace, hclsyntax.TokenCBrace, hclsyntax.TokenOBrack, hclsyntax.TokenCBrack,
	hclsyntax.TokenOParen, hclsyntax.TokenCParen, hclsyntax.TokenOQuote, hclsyntax.TokenCQuote,
	hclsyntax.TokenOHeredoc, hclsyntax.TokenCHeredoc, hclsyntax.TokenTemplateInterp,
	hclsyntax.TokenTemplateControl, hclsyntax.TokenTemplateSeqEnd,
}

type scannedToken struct {
	ty         hclsyntax.TokenType
	start, end int
}

func (t scannedToken) String() string { return fmt.Sprintf("%s[%d:%d]", t.ty, t.start, t.end) }

// hclStructure is HCL's own scan of src, cut to the structural tokens.
func hclStructure(src []byte) []scannedToken {
	tokens, _ := hclsyntax.LexConfig(src, "x.hcl", hcl.InitialPos)
	var out []scannedToken
	for _, tok := range tokens {
		if slices.Contains(structural, tok.Type) {
			out = append(out, scannedToken{tok.Type, tok.Range.Start.Byte, tok.Range.End.Byte})
		}
	}
	return out
}

// scannerStructure is nestingScanner's scan of src, without a limit, and the deepest
// level it counted.
func scannerStructure(src []byte) ([]scannedToken, int) {
	s := newNestingScanner(src, 1<<30)
	var out []scannedToken
	s.token = func(ty hclsyntax.TokenType, start, end int) {
		out = append(out, scannedToken{ty, start, end})
	}
	s.scan()
	return out, s.maxDepth
}

// astDepth is how deeply the nodes of a parsed file nest.
func astDepth(file *hcl.File) int {
	body, ok := file.Body.(*hclsyntax.Body)
	if !ok {
		return 0
	}
	w := &depthWalker{}
	hclsyntax.Walk(body, w)
	return w.max
}

type depthWalker struct{ cur, max int }

func (w *depthWalker) Enter(hclsyntax.Node) hcl.Diagnostics {
	w.cur++
	w.max = max(w.max, w.cur)
	return nil
}

func (w *depthWalker) Exit(hclsyntax.Node) hcl.Diagnostics {
	w.cur--
	return nil
}

// checkScannerFollowsHCL fails when nestingScanner finds structure HCL's scanner does
// not, or counts fewer levels than HCL's parser builds (AST depth is at most three nodes
// per level: blocks, a block and its body).
func checkScannerFollowsHCL(t *testing.T, src []byte) {
	t.Helper()
	got, depth := scannerStructure(src)
	want := hclStructure(src)
	if !slices.Equal(got, want) {
		i := 0
		for i < min(len(got), len(want)) && got[i] == want[i] {
			i++
		}
		t.Fatalf("scanner and HCL disagree at structural token %d of %q:\nscanner %v\nHCL     %v", i, src, got[i:min(len(got), i+5)], want[i:min(len(want), i+5)])
	}
	if depth > 2*maxNesting {
		return // not parsed: that is what the scanner is for
	}
	file, _ := hclsyntax.ParseConfig(src, "x.hcl", hcl.InitialPos)
	if file == nil {
		return
	}
	if d := astDepth(file); d > 3*depth+6 {
		t.Fatalf("%q: the parser nests %d nodes deep, the scanner counted %d levels", src, d, depth)
	}
}

// nestingSamples are sources whose strings, heredocs, comments and templates a naive
// bracket count gets wrong, and sources that stop HCL's scanner.
var nestingSamples = []string{
	`a = "[[[" # [[[`,
	"a = <<EOT\n[[[ ${ [1] } %{ if true }x%{ endif }\n  EOT\nb = [1]\n",
	"a = <<-EOT\n  ${\"]]]\"}\n  EOT\n",
	"a = <<EOT\nEOT \n\xffEOT\n",
	"a = <<EOT\n$EOT\nEOT\n",
	"a = <<EOT\n$${x}\nEOT\r\nb = 1",
	"a = <<EOT\nx\rEOT\n[[[",
	"a = <<EOT\nEOT",
	"a = <<EOT \n[",
	`a = "\"${b}\\${c}$${d}%%{e}%{if f}g%{else}h%{endif}"`,
	`a = "${ { b = "}" } }"`,
	`a = "${ {for k, v in x : k => v} }"`,
	"a = {\n for k, v in x :\n k => v + 1 +\n 2 }",
	"a = { /* c */ for k, v in x : k => v }",
	"a = { # c\n b = 1 }",
	"a = /* unterminated [[[",
	"a = 1 /* x */ + /* y */ 2",
	"a = \"${x ~}\" ~} }",
	"a = \"x\ny\"",
	"a = \"%{ for x in y ~}${x}%{~ endfor }\"",
	"a = \"%{if a}%{if b}%{if c}x%{endif}%{endif}%{endif}\"",
	"a = x[*].y[*].z\nb = x.*.y",
	"a = !!!-1\nb = c ? d : e ? f : g",
	"a = -1 - -1\nb = [for x in y : -x if !x]",
	"\xef\xbb\xbfa = [[1]]",
	"a = b-c-d[e-f]",
	"a = 1e-5 + 2.5E+3",
	"a = f(g(h(1)))\nblock \"x\" { inner { c = [ ( {} ) ] } }",
}

func TestNestingScannerFollowsHCL(t *testing.T) {
	for _, src := range nestingSamples {
		checkScannerFollowsHCL(t, []byte(src))
	}
	paths, _ := filepath.Glob("testdata/bad/*.hcl")
	paths = append(paths, "testdata/matrix.hcl", "testdata/offline.hcl")
	for _, p := range paths {
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		checkScannerFollowsHCL(t, src)
	}
}

// FuzzNestingScanner: on any source, nestingScanner finds the structural tokens HCL's
// scanner finds, and counts at least as many levels as HCL's parser nests.
func FuzzNestingScanner(f *testing.F) {
	for _, src := range nestingSamples {
		f.Add([]byte(src))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		checkScannerFollowsHCL(t, src)
	})
}

// nested is open n times, then inner, then close n times.
func nested(open, inner, close string) func(n int) string {
	return func(n int) string { return strings.Repeat(open, n) + inner + strings.Repeat(close, n) }
}

// deep are sources that nest n levels, one for each way of nesting.
var deep = map[string]func(n int) string{
	"brackets":     nested("[", "", "]"),
	"braces":       nested("{a=", "1", "}"),
	"parentheses":  nested("(", "1", ")"),
	"calls":        nested("abs(", "1", ")"),
	"for":          nested("[for x in ", "[1]", " : x]"),
	"templates":    nested(`"${`, "1", `}"`),
	"directives":   func(n int) string { return `"` + nested("%{ if true }", "x", "%{ endif }")(n) + `"` },
	"operators":    nested("", "1", " + 1"),
	"negations":    nested("!", "true", ""),
	"conditionals": nested("true ? 1 : ", "1", ""),
	"splats":       nested("", "[[1]]", "[*]"),
	"heredocs": func(n int) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, "<<E%d\n${", i)
		}
		b.WriteString("1")
		for i := n - 1; i >= 0; i-- {
			fmt.Fprintf(&b, "}\nE%d\n", i)
		}
		return b.String()
	},
}

// TestNestingLimit: 100,000 levels of any kind are refused before HCL parses them (it
// would overflow the stack), at the place where the level past the limit opens; the
// depths a file really uses pass.
func TestNestingLimit(t *testing.T) {
	for name, shape := range deep {
		t.Run(name, func(t *testing.T) {
			src := []byte("locals {\n  x = " + shape(100_000) + "\n}\n")
			d := checkNesting(src, "deep.hcl")
			if d == nil {
				t.Fatal("100,000 levels accepted")
			}
			if d.Summary != "Nesting too deep" || !strings.Contains(d.Detail, "More than 256 levels") || d.Subject == nil {
				t.Fatalf("diagnostic: %+v", d)
			}
			if d.Subject.Start.Line < 2 || d.Subject.Start.Byte <= len("locals {\n  x = ") {
				t.Errorf("at %s, before the value", rangeString(*d.Subject))
			}
			src = []byte("locals {\n  x = " + shape(maxNesting/4) + "\n}\n")
			if d := checkNesting(src, "ok.hcl"); d != nil {
				t.Errorf("%d levels refused: %s", maxNesting/4, d.Detail)
			}
			if _, diags := hclsyntax.ParseConfig(src, "ok.hcl", hcl.InitialPos); diags.HasErrors() {
				t.Errorf("the shape does not parse: %s", diags.Error())
			}
		})
	}
}

// TestNestingLimitExact: brackets count one level each; the 257th is refused, at its
// line and column.
func TestNestingLimitExact(t *testing.T) {
	ok := "x = " + deep["brackets"](maxNesting) + "\n"
	if d := checkNesting([]byte(ok), "ok.hcl"); d != nil {
		t.Fatalf("%d brackets refused: %s", maxNesting, rangeString(*d.Subject))
	}
	tooDeep := "# é\nx = " + deep["brackets"](maxNesting+1) + "\n"
	d := checkNesting([]byte(tooDeep), "deep.hcl")
	if d == nil {
		t.Fatalf("%d brackets accepted", maxNesting+1)
	}
	wantByte := len("# é\nx = ") + maxNesting
	if got := *d.Subject; got.Start.Line != 2 || got.Start.Column != 5+maxNesting || got.Start.Byte != wantByte || got.End.Byte != wantByte+1 {
		t.Errorf("at %s (byte %d-%d), want deep.hcl:2:%d (byte %d)", rangeString(got), got.Start.Byte, got.End.Byte, 5+maxNesting, wantByte)
	}
}

// TestDeepNestingEverywhere: the matrix file, a --var-file and a --var value parsed as
// HCL are each refused with the diagnostic, not a crash.
func TestDeepNestingEverywhere(t *testing.T) {
	deepList := deep["brackets"](100_000)
	dir := t.TempDir()
	varFile := filepath.Join(dir, "vars.hcl")
	if err := os.WriteFile(varFile, []byte("v = "+deepList+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	file := "variable \"v\" {\n  type    = any\n  default = 1\n}\n" + "target \"t\" {\n" + cellBody + "}\n"
	tests := []struct {
		name  string
		src   string
		opts  Options
		where string
	}{
		{"matrix file", "locals { x = " + deepList + " }\n" + file, Options{}, "deep.hcl:1:"},
		{"var-file", file, Options{VarFiles: []string{varFile}}, varFile + ":1:"},
		{"var", file, Options{Vars: []string{"v=" + deepList}}, "<value for var.v from --var option 1>:1:"},
		{"environment", file, Options{Environ: []string{"MATRIX_VAR_v=" + deepList}}, "<value for var.v from environment variable MATRIX_VAR_v>:1:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, _, diags := loadSourcePlan("deep.hcl", []byte(tt.src), tt.opts)
			out := render(f, diags)
			if !strings.Contains(out, "Nesting too deep") || !strings.Contains(out, tt.where) {
				t.Errorf("diagnostics:\n%.2000s", out)
			}
		})
	}
}

// TestCanceledLoadStops: a load whose context is done stops between its steps with
// the "Loading stopped" error and plans nothing.
func TestCanceledLoadStops(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	src := "locals { a = 1 }\ntarget \"t\" {\n  matrix = { a = [1, 2] }\n" + cellBody + "}\n"
	f, cells, diags := LoadPlan(ctx, writeTemp(t, src), Options{})
	if len(cells) != 0 || !strings.Contains(render(f, diags), "Loading stopped") {
		t.Errorf("%d cells, diagnostics:\n%s", len(cells), render(f, diags))
	}
}

func writeTemp(t *testing.T, src string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "matrix.hcl")
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
