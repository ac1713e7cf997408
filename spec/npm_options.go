package spec

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"github.com/matrixbuild/matrix/registry"
)

// versionOptions reads npm_versions' options: an object (or map) whose keys are all
// optional, a null key counting as absent:
//
//	per        = "major" | "minor" | "patch"  the newest version of each group
//	last       = N                            then the newest N (a whole number >= 1)
//	prerelease = bool                         include prereleases (default false)
//	deprecated = bool                         include deprecated versions (default false)
//	min_age    = "72h" | "3d" | "1d12h"       leave out versions published more recently
//
// A value converts as an attribute's does ("3" is a number). The error says which key
// is wrong and why; npm_versions reports it at the options argument.
func versionOptions(v cty.Value) (registry.Options, error) {
	var opts registry.Options
	if v.IsNull() {
		return opts, nil
	}
	if ty := v.Type(); !ty.IsObjectType() && !ty.IsMapType() {
		return opts, fmt.Errorf("options must be an object like { per = \"minor\", last = 3 }, not %s", friendly(v))
	}
	for it := v.ElementIterator(); it.Next(); {
		k, val := it.Element()
		key := k.AsString()
		if !isVersionOption(key) {
			return opts, fmt.Errorf("unknown option %q: the options are per, last, prerelease, deprecated and min_age", key)
		}
		if val.IsNull() {
			continue
		}
		if err := setVersionOption(&opts, key, val); err != nil {
			return opts, fmt.Errorf("option %s: %w", key, err)
		}
	}
	return opts, nil
}

func isVersionOption(key string) bool {
	switch key {
	case "per", "last", "prerelease", "deprecated", "min_age":
		return true
	}
	return false
}

// setVersionOption sets the option key of opts from val, known and not null.
func setVersionOption(opts *registry.Options, key string, val cty.Value) error {
	want := cty.String
	switch key {
	case "last":
		want = cty.Number
	case "prerelease", "deprecated":
		want = cty.Bool
	}
	cv, err := convert.Convert(val, want)
	if err != nil {
		return fmt.Errorf("must be %s, not %s", typeName(want), friendly(val))
	}
	switch key {
	case "per":
		opts.Per = cv.AsString()
		if opts.Per != "major" && opts.Per != "minor" && opts.Per != "patch" {
			return fmt.Errorf(`must be "major", "minor" or "patch", not %q`, opts.Per)
		}
	case "last":
		n, acc := cv.AsBigFloat().Int64()
		if !cv.AsBigFloat().IsInt() || acc != big.Exact || n < 1 || int64(int(n)) != n {
			return fmt.Errorf("must be a whole number of 1 or more, not %s", cv.AsBigFloat().Text('g', -1))
		}
		opts.Last = int(n)
	case "prerelease":
		opts.Prerelease = cv.True()
	case "deprecated":
		opts.Deprecated = cv.True()
	case "min_age":
		opts.MinAge, err = parseAge(cv.AsString())
	}
	return err
}

// maxAgeDays bounds the days of min_age, far above any cooldown, so that the duration
// cannot overflow.
const maxAgeDays = 36500

// parseAge reads min_age: a Go duration ("72h", "90m", "1h30m"), or a whole number of
// days ("3d"), which Go durations lack but cooldowns are written in, optionally
// followed by a Go duration ("1d12h"). It is 0 or more.
func parseAge(s string) (time.Duration, error) {
	bad := fmt.Errorf(`must be a duration of 0 or more like "72h", "3d" or "1d12h", not %q`, s)
	var d time.Duration
	rest := s
	if days, after, ok := strings.Cut(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 0 || days[0] == '+' || strings.HasPrefix(after, "+") || strings.HasPrefix(after, "-") {
			return 0, bad
		}
		if n > maxAgeDays {
			return 0, fmt.Errorf("must be at most %d days, not %q", maxAgeDays, s)
		}
		d, rest = time.Duration(n)*24*time.Hour, after
		if rest == "" {
			return d, nil
		}
	}
	r, err := time.ParseDuration(rest)
	if err != nil || r < 0 || r > math.MaxInt64-d {
		return 0, bad
	}
	return d + r, nil
}
