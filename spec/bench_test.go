package spec

import (
	"context"
	"strconv"
	"testing"
)

// BenchmarkPlan10k expands and evaluates a 100 x 100 matrix with a test block, env,
// a dynamic mount and an include touching every cell.
func BenchmarkPlan10k(b *testing.B) {
	src := `
variable "reg" { default = "example.test/node" }
target "t" {
  matrix  = { a = range(100), b = [for i in range(100) : "v${i}"] }
  include = [{ b = "v1", extra = "yes" }, { flag = true }]
  exclude = [{ a = 1000 }]
  image    = "${var.reg}:${matrix.a}"
  platform = "linux/amd64"
  env      = { A = matrix.a, B = matrix.b }
  dynamic "mount" {
    for_each = ["/cache"]
    content {
      source = mount.value
      target = "/root/.npm"
    }
  }
  script   = "npm install x@${matrix.b}"
  artifact = "x-${matrix.a}-${matrix.b}.tar.gz"
  test {
    image  = "runtime:${matrix.a}"
    script = "node -e 1"
  }
}
`
	f := loadString(b, src, Options{})
	b.ReportAllocs()
	for b.Loop() {
		cells, diags := f.Plan(context.Background())
		if len(diags) > 0 || len(cells) != 10000 {
			b.Fatalf("%d cells, %v", len(cells), diags)
		}
	}
}

// BenchmarkLoadLocals loads files of 1,000, 10,000 and 20,000 locals, each the one
// before plus one: ns/local stays flat (each local was evaluated with an object of
// all of them, and 20,000 locals took 46 s).
func BenchmarkLoadLocals(b *testing.B) {
	for _, n := range []int{1_000, 10_000, 20_000} {
		src := []byte(localsChain(n, false))
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, diags := LoadSource(context.Background(), "locals.hcl", src, Options{}); len(diags) > 0 {
					b.Fatal(diags)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/local")
		})
	}
}
