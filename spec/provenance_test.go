package spec

import (
	"context"
	"strings"
	"testing"
)

// TestVariablesLeaveOutSensitiveValues: the values a statement records are those of
// the variables that are not sensitive, as given (here by --var), as JSON; the
// sensitive ones are named only, whatever gave their value.
func TestVariablesLeaveOutSensitiveValues(t *testing.T) {
	src := sensitiveHead + `
variable "nodes" {
  type    = list(number)
  default = [20]
}
` + sensitiveTarget("")
	f, diags := LoadSource(context.Background(), "m.hcl", []byte(src), Options{
		Vars:    []string{"nodes=[20, 22]", "tok=given-" + secret},
		Environ: []string{"MATRIX_VAR_value=from-env"},
	})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	values, sensitive := f.Variables()
	if got := strings.Join(sensitive, ","); got != "names,num,tok,toks" {
		t.Errorf("sensitive %q", got)
	}
	if string(values["nodes"]) != "[20,22]" || string(values["value"]) != `"from-env"` || len(values) != 2 {
		t.Errorf("values %s", values)
	}
	for name, v := range values {
		if strings.Contains(string(v), secret) {
			t.Errorf("%s holds the secret: %s", name, v)
		}
	}
}
