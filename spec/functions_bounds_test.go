package spec

import (
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// TestFunctionBounds: the functions whose result can outgrow their arguments refuse,
// at the call and at once, a result over the bounds; within them they answer as
// go-cty's own do.
func TestFunctionBounds(t *testing.T) {
	unbounded := maps.Clone(functions)
	unbounded["format"] = stdlib.FormatFunc
	unbounded["formatlist"] = stdlib.FormatListFunc
	unbounded["indent"] = stdlib.IndentFunc
	unbounded["join"] = stdlib.JoinFunc
	unbounded["regex_replace"] = stdlib.RegexReplaceFunc
	unbounded["replace"] = stdlib.ReplaceFunc
	unbounded["setproduct"] = stdlib.SetProductFunc
	const wide = `format("%10000s", "")` // 10,000 spaces
	tests := []struct{ expr, err string }{
		{`setproduct(range(1000), range(1000))`, "the product would have more than 100000 elements"},
		{`setproduct(range(11), range(10), range(1000))`, "more than 100000 elements"},
		{`length(setproduct(range(10), range(10), range(1000)))`, ""},
		{`length(setproduct(range(100), range(1000)))`, ""},
		{`setproduct(["a", "b"], toset(["c"]))`, ""},
		{`format("%999999999s", "")`, "the result would be 1000000010 bytes, more than 16777216"},
		{`format("%.999999999f", 1)`, "more than 16777216"},
		{`format("%[1]9000000s%[1]9000000s", "")`, "more than 16777216"},
		{`format("%-20s|%5.2f|%%|%[1]q", "a", 1.5)`, ""},
		{`formatlist("%20000s", range(1000))`, "more than 16777216"},
		{`formatlist("%s%s", range(1000), format("%5000s", ""))`, ""},
		{`formatlist("%s-%s", ["a", "b"], "c")`, ""},
		{`indent(999999999, "a\nb")`, "more than 16777216"},
		{`indent(2, "a\nb\n")`, ""},
		{`replace(` + wide + `, "", ` + wide + `)`, "more than 16777216"},
		{`replace(` + wide + `, " ", "x")`, ""},
		{`replace("a-b-c", "-", "--")`, ""},
		{`regex_replace(` + wide + `, "", ` + wide + `)`, "more than 16777216"},
		{`regex_replace(` + wide + `, " ", "$0$0")`, ""},
		{`regex_replace("a-b", "[-]", "<$0>")`, ""},
		{`join(format("%20000s", ""), [for i in range(1000) : "x"])`, "more than 16777216"},
		{`join(",", ["a", "b"], ["c"])`, ""},
	}
	f := loadString(t, "target \"t\" {"+cellBody+"}\n", Options{})
	for _, tt := range tests {
		expr, diags := hclsyntax.ParseExpression([]byte(tt.expr), "f.hcl", hcl.InitialPos)
		if diags.HasErrors() {
			t.Fatalf("%s: %s", tt.expr, diags.Error())
		}
		eval := &hcl.EvalContext{Functions: functions}
		start := time.Now()
		got, diags := expr.Value(eval)
		if tt.err != "" {
			// A refusal comes before the work: the unbounded functions would spend
			// seconds and gigabytes on these. A hang guard, not a speed test.
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("%s took %v to refuse", tt.expr, d)
			}
			if out := render(f, diags); !strings.Contains(out, tt.err) {
				t.Errorf("%s: diagnostics lack %q:\n%s", tt.expr, tt.err, out)
			}
			continue
		}
		want, wantDiags := expr.Value(&hcl.EvalContext{Functions: unbounded})
		if diags.HasErrors() || wantDiags.HasErrors() || !got.RawEquals(want) {
			t.Errorf("%s = %.200s (%s), go-cty's: %.200s (%s)", tt.expr, got.GoString(), diags.Error(), want.GoString(), wantDiags.Error())
		}
	}
}
