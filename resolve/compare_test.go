package resolve

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/matrixbuild/matrix/internal/fakeregistry"
	"github.com/matrixbuild/matrix/plan"
	"github.com/matrixbuild/matrix/registry"
)

// TestCompare: each call of today's plan against its pin, with the reason of every
// version lost; calls not pinned yet; and pins today's plan does not make, whether or
// not the plan with the pins made them: matrix update drops them all.
func TestCompare(t *testing.T) {
	patches032 := VersionsCall("sharp", ">=0.32.0 <0.33.0", registry.Options{})
	unused := VersionsCall("uuid", "^9.0.0", registry.Options{})
	pins := pinsFromRegistry(t, minorsCall, patches032, unused,
		PackageCall("sharp", "0.33.5"), PackageCall("sharp", "0.33.1"), PackageCall("sharp", "0.32.0"))

	today := fakeregistry.New(t)
	today.Publish("sharp", "0.34.5", "0.34.6", "2026-11-26T08:00:00.000Z")
	today.Deprecate("sharp", "0.33.5", "use 0.34")
	today.Unpublish("sharp", "0.33.1")
	today.Unpublish("sharp", "0.32.6")
	reg := client(t, today)
	fresh := newResolver(t, reg, pins, Fresh)
	// What the matrix file calls today.
	for _, c := range []Call{minorsCall, patches032, PackageCall("sharp", "0.33.5"), PackageCall("sharp", "0.32.0"),
		PackageCall("sharp", "0.33.4"), PackageCall("sharp", "0.34.6")} {
		if _, err := fresh.Resolve(t.Context(), c); err != nil {
			t.Fatal(err)
		}
	}
	got, err := Compare(t.Context(), fresh, fresh.Used())
	if err != nil {
		t.Fatal(err)
	}
	want := []Change{
		{Call: `npm_package("sharp", "0.32.0")`, Status: Current},
		{Call: `npm_package("sharp", "0.33.1")`, Status: Unused},
		{Call: `npm_package("sharp", "0.33.4")`, Status: NotPinned},
		{Call: `npm_package("sharp", "0.33.5")`, Status: Changed, Fields: []Field{{Name: "deprecated", Pinned: "", Today: "use 0.34"}}},
		{Call: `npm_package("sharp", "0.34.6")`, Status: NotPinned},
		{Call: `npm_versions("sharp", ">=0.32.0 <0.33.0")`, Status: Changed, Removed: []Removed{{Version: "0.32.6", Reason: "unpublished"}}},
		{Call: `npm_versions("sharp", ">=0.33.0 <0.35.0", {per = "minor"})`, Status: Changed,
			Added:   []Added{{Version: "0.33.4", Published: publishedOf(t, "0.33.4")}, {Version: "0.34.6", Published: publishedOf(t, "0.34.6")}},
			Removed: []Removed{{Version: "0.33.5", Reason: "deprecated: use 0.34"}, {Version: "0.34.5", Reason: `superseded by 0.34.6 (per = "minor")`}}},
		{Call: `npm_versions("uuid", "^9.0.0")`, Status: Unused},
	}
	if !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "", "  ")
		w, _ := json.MarshalIndent(want, "", "  ")
		t.Errorf("changes:\n%s\nwant:\n%s", g, w)
	}
	if n := today.Requests(); n["sharp"] != 1 || len(n) != 1 {
		t.Errorf("requests = %v, want one for sharp", n)
	}
}

// publishedOf is a version's publish time in the fixture, or the one Publish gave.
func publishedOf(t *testing.T, v string) time.Time {
	t.Helper()
	if v == "0.34.6" {
		return time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)
	}
	p, err := client(t, fakeregistry.New(t)).Packument(t.Context(), "sharp", true)
	if err != nil {
		t.Fatal(err)
	}
	return p.Time[v].UTC()
}

func TestCompareCells(t *testing.T) {
	cell := func(sharp, node, skip string) plan.Cell {
		c := plan.Cell{Target: "t", Axes: []plan.Axis{{Name: "sharp", Value: sharp}, {Name: "node", Value: node}}, Skip: skip}
		if skip == "" {
			c.Script, c.Artifact = "npm install sharp@"+sharp, sharp+"-"+node+".tar.gz"
		}
		return c
	}
	pinned := []plan.Cell{cell("0.33.5", "20", ""), cell("0.33.5", "18", ""), cell("0.34.5", "20", ""), cell("0.34.5", "18", "needs 20"), cell("0.35.0", "18", "")}
	changedScript := cell("0.33.5", "20", "")
	changedScript.Script += " --omit=dev"
	today := []plan.Cell{changedScript, cell("0.33.5", "18", "needs 20"), cell("0.34.6", "20", ""), cell("0.34.6", "18", "needs 20"), cell("0.35.0", "18", "needs 22")}
	var got []string
	for _, ch := range CompareCells(pinned, today) {
		got = append(got, ch.Change+" "+ch.Cell+" skipped="+ch.Skipped+" was="+ch.WasSkipped)
	}
	want := []string{
		"added t[sharp=0.34.6,node=20] skipped= was=",
		"added t[sharp=0.34.6,node=18] skipped=needs 20 was=",
		"removed t[sharp=0.34.5,node=20] skipped= was=",
		"removed t[sharp=0.34.5,node=18] skipped= was=needs 20",
		"build t[sharp=0.33.5,node=20] skipped= was=",
		"skip t[sharp=0.33.5,node=18] skipped=needs 20 was=",
		"skip t[sharp=0.35.0,node=18] skipped=needs 22 was=",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
	if n := len(CompareCells(today, today)); n != 0 {
		t.Errorf("a plan against itself: %d changes", n)
	}
}
