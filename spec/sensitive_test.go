package spec

import (
	"strings"
	"testing"
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
`

// sensitiveTarget is a target whose own attributes are fine, with body added.
func sensitiveTarget(body string) string {
	return "target \"t\" {\n  image    = \"img\"\n  script   = \"true\"\n  artifact = \"a.zip\"\n" + body + "\n}\n"
}

// TestSensitiveNotRendered: every shape of expression that can carry a sensitive value
// into a diagnostic (iterators, locals, function calls, for expressions) leaves it out,
// and each case does report the problem it sets up (want).
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
  }`), Options{}, "Invalid operand"},
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
  }`), Options{}, "Invalid operand"},
		{"our own message about an iterator's value", sensitiveTarget(`
  dynamic "mount" {
    for_each = concat(var.toks, var.toks)
    content {
      source = "/a"
      target = "/${mount.value}"
    }
  }`), Options{}, "(sensitive value) is already a mount target"},
		{"function call on an iterator", sensitiveTarget(`
  dynamic "mount" {
    for_each = var.toks
    content {
      source = "/a"
      target = "/${tonumber(mount.value)}"
    }
  }`), Options{}, `Call to function "tonumber" failed`},
		{"for expression in an attribute", sensitiveTarget(`
  env = { for x in var.toks : "A" => x + 1 }`), Options{}, "Invalid operand"},
		{"for expression in a local", `locals { l = [for x in var.toks : x + 1] }` + "\n" + sensitiveTarget(""), Options{}, "Invalid operand"},
		{"function call", sensitiveTarget(`
  retries = tonumber(var.tok)`), Options{}, `Call to function "tonumber" failed`},
		{"function call with a message of its own", sensitiveTarget(`
  retries = parseint(var.tok, 10)`), Options{}, `Call to function "parseint" failed`},
		{"local derived from a local", `locals {
  a = var.tok
  b = local.a + 1
}
` + sensitiveTarget(""), Options{}, "Invalid operand"},
		{"local made by a function", `locals { u = upper(var.tok) }` + "\n" + sensitiveTarget(`
  network = "${local.u} x"`), Options{}, "(sensitive value) is not a network name"},
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

// TestNotSensitiveShown: values that cannot come from a sensitive variable are still
// shown, in a file that has one: a local made only of other values, an axis value.
func TestNotSensitiveShown(t *testing.T) {
	src := sensitiveHead + `locals { img = "bad image" }
target "t" {
  matrix   = { n = ["x y"] }
  image    = local.img
  script   = "true"
  artifact = "a.zip"
  network  = matrix.n
}
`
	f, _, diags := loadSourcePlan("test.hcl", []byte(src), Options{})
	out := render(f, diags)
	for _, want := range []string{`"bad image" is not an image reference`, `"x y" is not a network name`} {
		if !strings.Contains(out, want) {
			t.Errorf("diagnostics lack %q:\n%s", want, out)
		}
	}
}
