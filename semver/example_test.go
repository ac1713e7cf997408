package semver_test

import (
	"fmt"

	"github.com/matrixbuild/matrix/semver"
)

func Example() {
	r, err := semver.ParseRange("^0.32.0 || 1.x")
	if err != nil {
		panic(err)
	}
	fmt.Println(r)
	for _, s := range []string{"0.32.6", "0.33.0", "1.4.0", "1.5.0-rc.1"} {
		v, _ := semver.Parse(s)
		fmt.Println(s, r.Test(v, false), r.Test(v, true))
	}
	_, err = semver.ParseRange(">=1.2.3 <=2.0.0.0")
	fmt.Println(err)
	// Output:
	// >=0.32.0 <0.33.0-0||>=1.0.0 <2.0.0-0
	// 0.32.6 true true
	// 0.33.0 false false
	// 1.4.0 true true
	// 1.5.0-rc.1 false true
	// invalid range ">=1.2.3 <=2.0.0.0": at byte 15: comparator "<=2.0.0.0": unexpected "." after the version
}

func ExampleSort() {
	var vs []semver.Version
	for _, s := range []string{"1.0.0", "1.0.0-rc.10", "1.0.0-rc.9", "0.9.1", "1.0.0-beta"} {
		v, _ := semver.Parse(s)
		vs = append(vs, v)
	}
	semver.Sort(vs)
	fmt.Println(vs)
	// Output: [0.9.1 1.0.0-beta 1.0.0-rc.9 1.0.0-rc.10 1.0.0]
}
