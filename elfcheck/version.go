package elfcheck

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// version is a glibc release: 2.28 is {2, 28}, 2.2.5 is {2, 2, 5}.
type version []int

// parseVersion reads "2.28": two to four dot-separated numbers of at most five
// digits each, without signs or leading zeros (but "0").
func parseVersion(s string) (version, bool) {
	parts := strings.Split(s, ".")
	if len(parts) < 2 || len(parts) > 4 {
		return nil, false
	}
	v := make(version, len(parts))
	for i, p := range parts {
		if p == "" || len(p) > 5 || (len(p) > 1 && p[0] == '0') || strings.Trim(p, "0123456789") != "" {
			return nil, false
		}
		v[i], _ = strconv.Atoi(p)
	}
	return v, true
}

func (v version) String() string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ".")
}

// compare orders versions numerically, part by part; a missing part is 0, so
// 2.28 and 2.28.0 are equal. The empty version is below all others.
func compare(a, b version) int {
	for i := range max(len(a), len(b)) {
		x, y := 0, 0
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}

// abiVersions are GLIBC_ symbol versions that are not release numbers, with
// the release that introduced them.
var abiVersions = map[string]version{
	"GLIBC_ABI_DT_RELR": {2, 36},
}

// glibcVersion returns the release a needed symbol version asks for:
// "GLIBC_2.34" asks for 2.34; false for other names (GLIBC_PRIVATE, GLIBCXX_3.4).
func glibcVersion(name []byte) (version, bool) {
	if v, ok := abiVersions[string(name)]; ok {
		return v, true
	}
	s, ok := bytes.CutPrefix(name, []byte("GLIBC_"))
	if !ok || len(s) > 32 {
		return nil, false
	}
	return parseVersion(string(s))
}

// ParseGlibc checks a runtime's declared glibc version ("2.34") and returns it
// in the form Check uses.
func ParseGlibc(s string) (string, error) {
	v, ok := parseVersion(s)
	if !ok {
		return "", fmt.Errorf("glibc version %q is not a version like 2.34", s)
	}
	return v.String(), nil
}

// CompareGlibc orders two glibc versions ("2.28", "2.2.5") numerically.
func CompareGlibc(a, b string) (int, error) {
	x, ok := parseVersion(a)
	if !ok {
		return 0, fmt.Errorf("glibc version %q is not a version like 2.34", a)
	}
	y, ok := parseVersion(b)
	if !ok {
		return 0, fmt.Errorf("glibc version %q is not a version like 2.34", b)
	}
	return compare(x, y), nil
}
