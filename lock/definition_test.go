package lock

import (
	"testing"

	"github.com/matrixbuild/matrix/plan"
)

// TestDefinitionOfScriptCellsUnchanged pins the definition of a script cell, so that
// the lock files recorded before npm blocks existed stay current.
func TestDefinitionOfScriptCellsUnchanged(t *testing.T) {
	c := plan.Cell{Target: "t", Image: "img", Platform: "linux/amd64", Workdir: "/build", Script: "npm ci", LockFiles: []string{"package.json", "package-lock.json"}}
	const want = "eacb1be6cbd87fc06f808f2f2f70f73747a1f78cf7bd6ca404b973b151580b1c"
	if got := Definition(c); got != want {
		t.Errorf("Definition = %s, want %s: every existing lock entry would be stale", got, want)
	}
}

// TestDefinitionOfNpmCells: an npm cell's entry is stale exactly when something that
// changes what npm installs changes: the npm block's values, the image reference, the
// platform, the workdir, lock_files. Its post-install script, env and the rest are not.
func TestDefinitionOfNpmCells(t *testing.T) {
	base := func() plan.Cell {
		n := &plan.Npm{Install: []string{"sharp@0.34.5"}, CPU: "x64", OS: "linux", Libc: "glibc", Omit: []string{"dev"}, PostInstall: "rm -rf x"}
		return plan.Cell{Target: "t", Image: "local/node:22", Platform: "linux/amd64", Workdir: "/build", Npm: n,
			Script: plan.NpmScript(n), LockFiles: []string{"package.json", "package-lock.json"}, Collect: "/build/node_modules", Artifact: "a.tar.gz"}
	}
	tests := []struct {
		name  string
		edit  func(c *plan.Cell)
		stale bool
	}{
		{"nothing", func(c *plan.Cell) {}, false},
		{"post-install comment", func(c *plan.Cell) { c.Npm.PostInstall += " # why"; c.Script = plan.NpmScript(c.Npm) }, false},
		{"no post-install", func(c *plan.Cell) { c.Npm.PostInstall = ""; c.Script = plan.NpmScript(c.Npm) }, false},
		{"env", func(c *plan.Cell) { c.Env = []plan.EnvVar{{Name: "A", Value: "1"}} }, false},
		{"collect", func(c *plan.Cell) { c.Collect = "/build/node_modules/sharp" }, false},
		{"artifact", func(c *plan.Cell) { c.Artifact = "b.tar.gz" }, false},
		{"install", func(c *plan.Cell) { c.Npm.Install = []string{"sharp@0.34.4"} }, true},
		{"another package", func(c *plan.Cell) { c.Npm.Install = append(c.Npm.Install, "detect-libc@2") }, true},
		{"cpu", func(c *plan.Cell) { c.Npm.CPU = "arm64" }, true},
		{"os", func(c *plan.Cell) { c.Npm.OS = "" }, true},
		{"libc", func(c *plan.Cell) { c.Npm.Libc = "musl" }, true},
		{"omit", func(c *plan.Cell) { c.Npm.Omit = nil }, true},
		{"build_from_source", func(c *plan.Cell) { c.Npm.BuildFromSource = true }, true},
		{"image", func(c *plan.Cell) { c.Image = "local/node:20" }, true},
		{"platform", func(c *plan.Cell) { c.Platform = "linux/arm64" }, true},
		{"workdir", func(c *plan.Cell) { c.Workdir = "/w" }, true},
		{"lock_files", func(c *plan.Cell) { c.LockFiles = []string{"package-lock.json"} }, true},
		{"a script cell", func(c *plan.Cell) { c.Npm = nil }, true},
	}
	want := Definition(base())
	for _, tt := range tests {
		c := base()
		tt.edit(&c)
		if got := Definition(c); (got != want) != tt.stale {
			t.Errorf("%s: stale %v, want %v", tt.name, got != want, tt.stale)
		}
	}
	// The entry recorded for the cell is current for the edited cell exactly then.
	f := &File{Cells: map[string]*Entry{}}
	c := base()
	if err := f.Record(c, "", map[string][]byte{"package.json": []byte("{}\n"), "package-lock.json": []byte("{}\n")}); err != nil {
		t.Fatal(err)
	}
	c.Npm.PostInstall = "true"
	if _, err := f.Lookup(c); err != nil {
		t.Errorf("after a post-install edit: %v", err)
	}
	c.Npm.CPU = "arm64"
	if _, err := f.Lookup(c); err == nil {
		t.Errorf("after a cpu edit: the entry is still current")
	}
}
