package spec

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/matrixbuild/matrix/plan"
)

var sizeRE = regexp.MustCompile(`^\s*([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]*)\s*$`)

var sizeUnits = map[string]float64{
	"": 1, "B": 1,
	"KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12,
	"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40,
}

// ParseSize reads a size like "2GiB", "500MB", "1.5 GiB" or "1024" (bytes).
func ParseSize(s string) (int64, error) {
	m := sizeRE.FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("%q is not a size: write a number and a unit, like \"2GiB\", \"500MB\" or \"1048576\"", s)
	}
	unit, ok := sizeUnits[m[2]]
	if !ok {
		return 0, fmt.Errorf("%q has an unknown unit %q: use B, KB, MB, GB, TB (powers of 1000) or KiB, MiB, GiB, TiB (powers of 1024)", s, m[2])
	}
	n, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a size: %w", s, err)
	}
	b := n * unit
	if b != math.Trunc(b) {
		return 0, fmt.Errorf("%q is not a whole number of bytes", s)
	}
	if b > MaxMaxSize {
		return 0, fmt.Errorf("%q is more than the limit of 1TiB", s)
	}
	return int64(b), nil
}

func (e *evaluator) size(attr *hcl.Attribute) int64 {
	return e.sizeNamed(attr, "max_size", DefaultMaxSize, false)
}

// warnSize is the optional warn_size: 0, no warning, when absent or null.
func (e *evaluator) warnSize(attr *hcl.Attribute) int64 {
	return e.sizeNamed(attr, "warn_size", 0, true)
}

// sizeNamed evaluates the size attribute name, def when absent (or, if nullable, null).
func (e *evaluator) sizeNamed(attr *hcl.Attribute, name string, def int64, nullable bool) int64 {
	if attr == nil {
		return def
	}
	val, diags := e.eval(attr)
	if diags.HasErrors() {
		e.failed = true
		e.diags = append(e.diags, diags...)
		return def
	}
	if !val.IsWhollyKnown() {
		e.failed = true
		return def
	}
	var n int64
	var err error
	switch {
	case val.IsNull() && nullable:
		return def
	case val.IsNull():
		err = fmt.Errorf("the %s is null", name)
	case val.Type() == cty.Number:
		f := numberFloat(val)
		if f != math.Trunc(f) || f > MaxMaxSize {
			err = fmt.Errorf("%s is not a whole number of bytes up to 1TiB", plan.AxisString(f))
		}
		n = int64(f)
	case val.Type() == cty.String:
		n, err = ParseSize(val.AsString())
	default:
		err = fmt.Errorf("the %s must be a size string like \"2GiB\" or a number of bytes, not %s", name, friendly(val))
	}
	if err == nil && n <= 0 {
		err = fmt.Errorf("the %s must be positive", name)
	}
	if err != nil && e.sens.attr(attr) {
		err = fmt.Errorf("the %s (a sensitive value) is not a whole number of bytes from 1 to 1TiB, nor a size like \"2GiB\" or \"500MB\"", name)
	}
	if err != nil {
		e.fail(attr, "Invalid size", upperFirst(err.Error())+".")
		return def
	}
	return n
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
