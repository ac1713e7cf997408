package spec

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// secret is the value of the sensitive variables of these tests and of
// testdata/bad/sensitive_*.hcl: no rendered diagnostic may contain it.
const secret = "s3cr3t"

// sensitiveHead declares the sensitive variables the cases of TestSensitiveNotRendered use.
const sensitiveHead = `
variable "tok" {
  sensitive = true
  default   = "s3cr3t"
}
variable "toks" {
  type      = list(string)
  sensitive = true
  default   = ["s3cr3t"]
}
variable "num" {
  type      = number
  sensitive = true
  default   = 1
}
variable "names" {
  type      = map(string)
  sensitive = true
  default   = {}
}
variable "value" {
  default = "plain"
}
`

// sensitiveTarget is a target whose own attributes are fine, with body added.
func sensitiveTarget(body string) string {
	return "target \"t\" {\n  image    = \"img\"\n  script   = \"true\"\n  artifact = \"a.zip\"\n" + body + "\n}\n"
}

// sensitiveSkip is a target with a skip block of condition.
func sensitiveSkip(condition string) string {
	return sensitiveTarget("  skip {\n    condition = " + condition + "\n    reason    = \"r\"\n  }")
}

// TestSensitiveNotRendered: every shape of expression that can carry a sensitive value
// into a diagnostic (iterators, locals, function calls, for expressions, given values)
// leaves it out, each shape that would carry one into a cell is refused, and each
// case does report the problem it sets up (want).
func TestSensitiveNotRendered(t *testing.T) {
	tests := []struct {
		name string
		src  string
		opts Options
		want string
	}{
		{"dynamic block iterator", sensitiveTarget(`
  dynamic "mount" {
    for_each = var.toks
    content {
      source = mount.value + 1
      target = "/x"
    }
  }`), Options{}, "Sensitive value in mount.source"},
		{"named iterator of a dynamic block in the test block", sensitiveTarget(`
  test {
    script = "true"
    dynamic "mount" {
      for_each = var.toks
      iterator = m
      content {
        source = "/a"
        target = m.value * 2
      }
    }
  }`), Options{}, "Sensitive value in test.mount.target"},
		{"dynamic block iterator named matrix", `target "t" {
  matrix   = { value = ["x"] }
  image    = "img"
  script   = "true"
  artifact = "a-${matrix.value}.zip"
  dynamic "mount" {
    for_each = var.toks
    iterator = matrix
    content {
      source = matrix.value + 1
      target = "/x"
    }
  }
}`, Options{}, "Reserved name: matrix"},
		{"dynamic block iterator named var", sensitiveTarget(`
  dynamic "mount" {
    for_each = var.toks
    iterator = var
    content {
      source = var.value + 1
      target = "/x"
    }
  }`), Options{}, "Reserved name: var"},
		{"dynamic block iterator named local", `locals { value = "plain" }
` + sensitiveTarget(`
  dynamic "mount" {
    for_each = var.toks
    iterator = local
    content {
      source = local.value + 1
      target = "/x"
    }
  }`), Options{}, "Reserved name: local"},
		{"for expression variable named matrix", sensitiveTarget(`
  env = { for matrix in var.toks : "A" => matrix * 2 }`), Options{}, "Reserved name: matrix"},
		{"for expression key named var, in a skip condition", sensitiveSkip(`length([for var, t in var.toks : t if t * var > 0]) > 0`), Options{}, "Reserved name: var"},
		{"for expression variable named local, in a local", `locals { l = [for local in var.toks : local * 2] }` + "\n" + sensitiveTarget(""), Options{}, "Reserved name: local"},
		{"for expression in a skip condition", sensitiveSkip(`length([for x in var.toks : x if x + 1 > 0]) > 0`), Options{}, "Invalid operand"},
		{"function call on an iterator", sensitiveSkip(`length([for x in var.toks : x if tonumber(x) > 0]) > 0`), Options{}, `Call to function "tonumber" failed`},
		{"for expression in a local", `locals { l = [for x in var.toks : x + 1] }` + "\n" + sensitiveTarget(""), Options{}, "Invalid operand"},
		{"duplicate key of a for expression", `locals { l = { for x in concat(var.toks, var.toks) : x => 1 } }` + "\n" + sensitiveTarget(""), Options{}, "Duplicate object key"},
		{"function call", sensitiveSkip(`tonumber(var.tok) > 1`), Options{}, `Call to function "tonumber" failed`},
		{"function call with a message of its own", sensitiveSkip(`parseint(var.tok, 10) > 1`), Options{}, `Call to function "parseint" failed`},
		{"local derived from a local", `locals {
  a = var.tok
  b = local.a + 1
}
` + sensitiveTarget(""), Options{}, "Invalid operand"},
		{"local made by a function, in a cell", `locals { u = upper(var.tok) }` + "\n" + sensitiveTarget(`
  network = "${local.u} x"`), Options{}, "Sensitive value in network"},
		{"artifact", `target "t" {
  image    = "img"
  script   = "true"
  artifact = "${var.tok}.tar.gz"
}`, Options{}, "Sensitive value in artifact"},
		{"env", sensitiveTarget(`
  env = { TOKEN = var.tok }`), Options{}, "Sensitive value in env"},
		{"script", `target "t" {
  image    = "img"
  script   = "echo ${var.tok}"
  artifact = "a.zip"
}`, Options{}, "Sensitive value in script"},
		{"test script", sensitiveTarget(`
  test { script = "echo ${var.toks[0]}" }`), Options{}, "Sensitive value in test.script"},
		{"validation message", `variable "v" {
  sensitive = true
  default   = "s3cr3t"
  validation {
    condition     = var.v == "x"
    error_message = "Not ${var.v}."
  }
}
` + sensitiveTarget(""), Options{}, "refers to a sensitive value"},
		{"axis values", `target "t" {
  matrix   = { a = var.toks }
  image    = "img"
  script   = "true"
  artifact = "a-${matrix.a}.zip"
}`, Options{}, "Sensitive value in matrix"},
		{"axis values through a local", `locals { l = [for x in var.toks : x] }
target "t" {
  matrix   = { a = local.l }
  image    = "img"
  script   = "true"
  artifact = "a-${matrix.a}.zip"
}`, Options{}, "Sensitive value in matrix"},
		{"include", `target "t" {
  matrix   = { a = [1] }
  include  = [for x in var.toks : { b = x }]
  image    = "img"
  script   = "true"
  artifact = "a-${matrix.a}.zip"
}`, Options{}, "Sensitive value in include"},
		{"exclude", `target "t" {
  matrix   = { a = [1, 2] }
  exclude  = [{ a = var.num }]
  image    = "img"
  script   = "true"
  artifact = "a-${matrix.a}.zip"
}`, Options{}, "Sensitive value in exclude"},
		{"environment value that does not parse", sensitiveTarget(""), Options{Environ: []string{"MATRIX_VAR_num=s3cr3t"}}, "Variables not allowed"},
		{"--var value that does not parse", sensitiveTarget(""), Options{Vars: []string{"toks=[s3cr3t"}}, "Unterminated tuple"},
		{"--var value computed by a for expression", sensitiveTarget(""), Options{Vars: []string{`toks=[for x in ["s3cr3t"] : x + 1]`}}, "Invalid operand"},
		{"--var map whose keys do not convert", sensitiveTarget(""), Options{Vars: []string{`names={"s3cr3t" = ["x"]}`}}, `is not a map(string)`},
		{"environment map whose keys do not convert", sensitiveTarget(""), Options{Environ: []string{`MATRIX_VAR_names={"s3cr3t" = ["x"]}`}}, `is not a map(string)`},
		{"var-file values", sensitiveTarget(""), Options{VarFiles: []string{"testdata/bad/sensitive_var_file.vars"}}, `is not a map(string)`},
		{"--var option that is not NAME=VALUE", sensitiveTarget(""), Options{Vars: []string{"tok:s3cr3t"}}, "Invalid --var option"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, _, diags := loadSourcePlan("test.hcl", []byte(sensitiveHead+tt.src), tt.opts)
			out := render(f, diags)
			if !diags.HasErrors() || !strings.Contains(out, tt.want) {
				t.Errorf("diagnostics lack %q:\n%s", tt.want, out)
			}
			if strings.Contains(out, secret) {
				t.Errorf("diagnostics show the sensitive value:\n%s", out)
			}
		})
	}
}

// TestCellAttributesRefuseSensitive: no attribute of a cell, of its test, of a mount or
// of a generated mount may use a sensitive value, since plan prints them all; the
// schemas are walked, so that a new attribute is covered when it is added.
func TestCellAttributesRefuseSensitive(t *testing.T) {
	var paths []string
	for _, a := range targetSchema.Attributes {
		switch a.Name {
		case "matrix", "exclude", "include": // they make cells (Sensitive value in matrix)
		case "inherits": // a constant: no variable at all (Inherits is not constant)
		default:
			paths = append(paths, a.Name)
		}
	}
	for _, a := range testSchema.Attributes {
		if a.Name != "matrix" { // it makes tests (Sensitive value in test matrix)
			paths = append(paths, "test."+a.Name)
		}
	}
	for _, a := range mountSchema.Attributes {
		paths = append(paths, "mount."+a.Name, "test.mount."+a.Name, "dynamic.mount."+a.Name)
	}
	for _, path := range paths {
		t.Run(path, func(t *testing.T) {
			f, cells, diags := loadSourcePlan("test.hcl", []byte(sensitiveHead+withSensitive(path)), Options{})
			out := render(f, diags)
			want := "Sensitive value in " + strings.TrimPrefix(path, "dynamic.")
			if !strings.Contains(out, want) || len(cells) != 0 {
				t.Errorf("%d cells; diagnostics lack %q:\n%s", len(cells), want, out)
			}
		})
	}
}

// withSensitive is a target whose attribute at path ("env", "test.mount.source", ...)
// is made from var.tok, by way of a dynamic block's iterator for "dynamic.mount.NAME".
func withSensitive(path string) string {
	attrs := map[string]string{"image": `"img"`, "script": `"true"`, "artifact": `"a.zip"`}
	test := map[string]string{"script": `"true"`}
	mount := map[string]string{"source": `"/a"`, "target": `"/b"`}
	secretOf := func(name string) string {
		switch name {
		case "env":
			return "{ T = var.tok }"
		case "pass_env", "lock_files":
			return "[var.tok]"
		case "retries":
			return "length(var.tok)"
		case "cross_built", "read_only":
			return `var.tok == ""`
		}
		return "var.tok"
	}
	parts := strings.Split(path, ".")
	name := parts[len(parts)-1]
	switch {
	case len(parts) == 1:
		attrs[name] = secretOf(name)
	case parts[0] == "test" && len(parts) == 2:
		test[name] = secretOf(name)
	case parts[0] == "dynamic": // by way of the iterator
		mount[name] = strings.ReplaceAll(secretOf(name), "var.tok", "m.value")
	default:
		mount[name] = secretOf(name)
	}
	block := func(indent string, m map[string]string) string {
		var b strings.Builder
		for _, k := range sortedKeys(m) {
			b.WriteString(indent + k + " = " + m[k] + "\n")
		}
		return b.String()
	}
	mountBlock := "  mount {\n" + block("    ", mount) + "  }\n"
	switch parts[0] {
	case "dynamic":
		mountBlock = "  dynamic \"mount\" {\n    for_each = [var.tok]\n    iterator = m\n    content {\n" + block("      ", mount) + "    }\n  }\n"
	case "test":
		if len(parts) == 3 {
			test["script"] += "\n    mount {\n" + block("      ", mount) + "    }"
		}
	}
	src := "target \"t\" {\n" + block("  ", attrs)
	if parts[0] == "mount" || parts[0] == "dynamic" {
		src += mountBlock
	}
	return src + "  test {\n" + block("    ", test) + "  }\n}\n"
}

// TestPlanHoldsNoSensitiveValue: a sensitive value may decide which cells are skipped
// and how many mounts a dynamic block makes, but no planned cell holds it.
func TestPlanHoldsNoSensitiveValue(t *testing.T) {
	src := sensitiveHead + `target "t" {
  matrix   = { n = [1, 2] }
  image    = "img"
  script   = "true"
  artifact = "a-${matrix.n}.zip"
  pass_env = ["TOKEN"]
  dynamic "mount" {
    for_each = var.toks
    content {
      source = "/a"
      target = "/b"
    }
  }
  skip {
    condition = matrix.n == 2 && var.tok != ""
    reason    = "no token"
  }
}
`
	cells := planString(t, src, Options{})
	data, err := json.Marshal(cells)
	if err != nil {
		t.Fatal(err)
	}
	if len(cells) != 2 || cells[1].Skip == "" || len(cells[0].Mounts) != 1 || strings.Contains(string(data), secret) {
		t.Errorf("cells:\n%s", data)
	}
}

// TestNotSensitiveShown: values that cannot come from a sensitive variable are still
// shown, and accepted in cells, in a file that has one: a local made only of other
// values, an axis value, an iterator over other values (also one named like an
// iterator over a sensitive value elsewhere), a registry call's iterator argument.
func TestNotSensitiveShown(t *testing.T) {
	src := sensitiveHead + `locals {
  img      = "bad image"
  secret   = [for x in var.toks : x]
  versions = { for p in ["sharp"] : p => npm_versions(p, "*") }
}
target "t" {
  matrix   = { n = ["x y"] }
  image    = local.img
  script   = "true"
  artifact = "a.zip"
  network  = matrix.n
  env      = { for x in ["1A"] : x => "v" }
  dynamic "mount" {
    for_each = ["relative"]
    iterator = x
    content {
      source = "/a"
      target = x.value
    }
  }
}
`
	f, _, diags := loadSourcePlan("test.hcl", []byte(src), Options{Resolver: &fakeResolver{}})
	out := render(f, diags)
	for _, want := range []string{`"bad image" is not an image reference`, `"x y" is not a network name`, `"1A" is not a valid environment variable name`, `The mount target "relative"`} {
		if !strings.Contains(out, want) {
			t.Errorf("diagnostics lack %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "Sensitive value") || strings.Contains(out, sensitiveValue) {
		t.Errorf("diagnostics refuse or leave out a value that is not sensitive:\n%s", out)
	}
}

// TestConversionLeavesOutSensitiveKeys: a cell attribute's conversion error names the
// map key or attribute it failed at, unless the value may be sensitive. (Load refuses
// a sensitive value in a cell; this is the evaluator's own line.)
func TestConversionLeavesOutSensitiveKeys(t *testing.T) {
	file, diags := hclsyntax.ParseConfig([]byte(`env = { for t in var.toks : t => ["x"] }`), "test.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	attrs, _ := file.Body.JustAttributes()
	ctx := &hcl.EvalContext{Variables: map[string]cty.Value{"var": cty.ObjectVal(map[string]cty.Value{
		"toks": cty.ListVal([]cty.Value{cty.StringVal(secret)}),
	})}}
	for _, sensitive := range []string{"other", "toks"} {
		sens := newSensitivity()
		sens.vars[sensitive] = true
		e := evaluator{ctx: ctx, sens: sens}
		if _, ok := e.value(attrs["env"], cty.Map(cty.String)); ok || len(e.diags) != 1 {
			t.Fatalf("var.%s sensitive: %v", sensitive, e.diags)
		}
		if shown := strings.Contains(e.diags[0].Detail, secret); shown != (sensitive == "other") {
			t.Errorf("var.%s sensitive: %s", sensitive, e.diags[0].Detail)
		}
	}
}

// TestVarFileShapesHideSensitive: no shape of a var-file that sets a sensitive variable
// shows its value, however the file fails: syntax errors of every kind (unterminated
// strings, heredocs, brackets, templates, invalid bytes, CR line ends), a value on the
// line of another, a name twice, a quoted name, a block, JSON, a mistyped name. Each
// case must report an error.
func TestVarFileShapesHideSensitive(t *testing.T) {
	deep := strings.Repeat("[", 300) + `"s3cr3t"` + strings.Repeat("]", 300)
	for name, src := range map[string]string{
		"unterminated string":          `toks = ["s3cr3t`,
		"unterminated heredoc":         "toks = [<<EOT\ns3cr3t\n",
		"heredoc then a stray comma":   "toks = [<<EOT\ns3cr3t\nEOT\n, {} ]\n",
		"operator without an operand":  "toks = [\"s3cr3t7\",\n  \"s3cr3t7b\" +\n]\n",
		"object for a list":            `toks = {a="s3cr3t"}`,
		"same name twice":              "toks = [\n\"s3cr3t\"]\ntoks = [\"x\"]\n",
		"same name twice, one line":    "toks = [\"s3cr3t\"]\ntoks = [\"s3cr3t2\"]\n",
		"undeclared after the value":   "toks = [\n\"s3cr3t\"\n]\nbogus = \"s3cr3t-b\"\n",
		"string across lines":          "toks = [\n\"s3c\nr3t\"\n]\n",
		"a variable in the value":      `toks = ["x", var.y, "s3cr3t"]`,
		"two values, the second wrong": "toks = [\"x\", \"s3cr3t\"]\nnum = \"x\"\n",
		"bad template directive":       `toks = ["${"s3cr3t"}", "%{ if } "]`,
		"two attributes on a line":     `toks = ["x"] num = "s3cr3t"`,
		"plain one first":              `value = "s3cr3t" toks = ["x"]`,
		"bad escape":                   `toks = ["\uZZZZs3cr3t"]`,
		"CR line ends":                 "toks = [\"a\"]\r\n  num = \"s3cr3t\"\r",
		"a reference in a template":    `toks = ["${var.x}s3cr3t"]`,
		"for directive":                `toks = ["%{for x in [1]}s3cr3t${x}%{endfor}${y}"]`,
		"comment after a value":        "toks = [\"s3cr3t\" # }\n]\n}}}\n",
		"invalid UTF-8":                "toks = [\"s3cr3t\xff\xfe\"]",
		"byte order mark after":        "toks = [\"s3cr3t\"] \xef\xbb\xbf",
		"deep nesting":                 "toks = " + deep,
		"long number":                  `toks = ["s3cr3t", ` + strings.Repeat("1", 2000) + `]`,
		"quoted name":                  `"toks" = ["s3cr3t"]`,
		"block":                        `toks { x = "s3cr3t" }`,
		"block with a label":           `toks "s3cr3t" {}`,
		"JSON":                         `{"toks": ["s3cr3t"]}`,
		"JSON across lines":            "{\n  \"toks\": [\"s3cr3t\"]\n}\n",
		"mistyped name":                `tosk = ["s3cr3t"]`,
		"mistyped name, not an ident":  `to-ks = ["s3cr3t"]`,
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "v.vars")
			if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
			f, _, diags := loadSourcePlan("test.hcl", []byte(sensitiveHead+sensitiveTarget("")), Options{VarFiles: []string{path}})
			out := render(f, diags)
			if !diags.HasErrors() {
				t.Errorf("no error")
			}
			if strings.Contains(out, secret) || strings.Contains(out, "s3c") {
				t.Errorf("diagnostics show the sensitive value:\n%s", out)
			}
		})
	}
}
