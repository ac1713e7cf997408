package resolve

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/matrixbuild/matrix/lock"
	"github.com/matrixbuild/matrix/registry"
)

// Call is one registry call of a matrix file with its arguments' values.
type Call struct {
	Function string // lock.FuncVersions or lock.FuncPackage
	Package  string
	Range    string           // npm_versions
	Options  registry.Options // npm_versions
	Version  string           // npm_package
}

// VersionsCall is npm_versions(pkg, rng, opts).
func VersionsCall(pkg, rng string, opts registry.Options) Call {
	return Call{Function: lock.FuncVersions, Package: pkg, Range: rng, Options: opts}
}

// PackageCall is npm_package(pkg, version).
func PackageCall(pkg, version string) Call {
	return Call{Function: lock.FuncPackage, Package: pkg, Version: version}
}

// needsFull tells whether the call's answer needs the package's full document:
// npm_package's published and libc, min_age's publish times.
func (c Call) needsFull() bool {
	return c.Function == lock.FuncPackage || c.Options.MinAge > 0
}

// String is the call as a matrix file would write it with these values: the key of
// its pin in matrix.lock.json. Options are written in a fixed order and only where
// they differ from their defaults, so equal calls give equal strings.
func (c Call) String() string {
	if c.Function == lock.FuncPackage {
		return fmt.Sprintf("%s(%s, %s)", c.Function, quote(c.Package), quote(c.Version))
	}
	var opts []string
	o := c.Options
	if o.Per != "" {
		opts = append(opts, "per = "+quote(o.Per))
	}
	if o.Last != 0 {
		opts = append(opts, "last = "+strconv.Itoa(o.Last))
	}
	if o.Prerelease {
		opts = append(opts, "prerelease = true")
	}
	if o.Deprecated {
		opts = append(opts, "deprecated = true")
	}
	if o.MinAge != 0 {
		opts = append(opts, "min_age = "+quote(duration(o.MinAge)))
	}
	s := fmt.Sprintf("%s(%s, %s", c.Function, quote(c.Package), quote(c.Range))
	if len(opts) > 0 {
		s += ", {" + strings.Join(opts, ", ") + "}"
	}
	return s + ")"
}

// quote writes s as an HCL string literal.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return strings.NewReplacer("${", "$${", "%{", "%%{").Replace(b.String())
}

// duration writes d without the zero units Go's String adds ("72h", not "72h0m0s").
func duration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// arguments are the call's arguments as the lock records them.
func (c Call) arguments() lock.Arguments {
	a := lock.Arguments{Package: c.Package}
	if c.Function == lock.FuncPackage {
		a.Version = c.Version
		return a
	}
	a.Range = c.Range
	if c.Options != (registry.Options{}) {
		o := c.Options
		a.Options = &lock.VersionOptions{Per: o.Per, Last: o.Last, Prerelease: o.Prerelease, Deprecated: o.Deprecated}
		if o.MinAge != 0 {
			a.Options.MinAge = duration(o.MinAge)
		}
	}
	return a
}

// callOf reads the call a lock entry pins back from its arguments; its Call must be
// the one they give, so that the entry answers the call its key names.
func callOf(e lock.Resolution) (Call, error) {
	a := e.Arguments
	if err := registry.ValidName(a.Package); err != nil {
		return Call{}, err
	}
	var c Call
	switch e.Function {
	case lock.FuncPackage:
		c = PackageCall(a.Package, a.Version)
	case lock.FuncVersions:
		c = VersionsCall(a.Package, a.Range, registry.Options{})
		if o := a.Options; o != nil {
			c.Options = registry.Options{Per: o.Per, Last: o.Last, Prerelease: o.Prerelease, Deprecated: o.Deprecated}
			if o.MinAge != "" {
				d, err := time.ParseDuration(o.MinAge)
				if err != nil {
					return Call{}, fmt.Errorf("min_age: %w", err)
				}
				c.Options.MinAge = d
			}
		}
	default:
		return Call{}, fmt.Errorf("unknown function %q", clip(e.Function))
	}
	if got := c.String(); got != e.Call {
		return Call{}, fmt.Errorf("its arguments are those of %s", got)
	}
	// One call, one spelling of its arguments: two would make equal answers differ.
	if !reflect.DeepEqual(a, c.arguments()) {
		return Call{}, errors.New("its arguments are not written as the call gives them")
	}
	return c, nil
}

// clip shortens text from the lock file or the registry before it goes into a message.
func clip(s string) string {
	const max = 120
	if len(s) <= max {
		return s
	}
	return s[:max] + "..."
}
