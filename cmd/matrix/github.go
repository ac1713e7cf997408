package main

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/matrixbuild/matrix/plan"
)

// maxGitHubJobs is GitHub Actions' limit of jobs per matrix.
const maxGitHubJobs = 256

// defaultRunsOn is the runner label per cell platform (README, "Running on many
// machines"): GitHub's hosted runners of each CPU, so that a cell builds and tests
// natively. A cell of another platform (or of none) runs on linux/amd64's, under
// emulation; --runs-on PLATFORM=LABEL adds or replaces an entry.
var defaultRunsOn = map[string]string{
	"linux/amd64": "ubuntu-24.04",
	"linux/arm64": "ubuntu-24.04-arm",
}

// hostPlatform is the platform whose runner takes cells no entry maps.
const hostPlatform = "linux/amd64"

// githubKeys are the keys of a job in the matrix JSON; an axis of the same name, in
// any case (GitHub's keys are case-insensitive), is left out (the cell's ID holds its
// value).
var githubKeys = []string{"cell", "runs-on", "emulate"}

// parseRunsOn reads --runs-on PLATFORM=LABEL flags over the default mapping.
func parseRunsOn(flags []string) (map[string]string, error) {
	out := map[string]string{}
	for k, v := range defaultRunsOn {
		out[k] = v
	}
	for _, f := range flags {
		p, label, ok := strings.Cut(f, "=")
		if !ok || p == "" || strings.TrimSpace(label) == "" || strings.ContainsAny(f, "\n\r") {
			return nil, usageError{fmt.Errorf("--runs-on %q: want PLATFORM=LABEL, e.g. linux/arm64=ubuntu-24.04-arm", f)}
		}
		out[p] = label
	}
	return out, nil
}

// githubJob is where a cell runs in GitHub Actions: the runner's label, and whether
// the cell needs emulation there (its build or a test is of a platform other than
// the runner's).
func githubJob(c plan.Cell, runsOn map[string]string) (label string, emulate bool) {
	native := c.Platform
	label, ok := runsOn[native]
	if !ok {
		native, label = hostPlatform, runsOn[hostPlatform]
	}
	platforms := []string{c.Platform}
	if c.Test != nil {
		platforms = append(platforms, c.Test.Platform)
	}
	for _, t := range c.Tests {
		if t.Skip == "" {
			platforms = append(platforms, t.Platform)
		}
	}
	for _, p := range platforms {
		if p != "" && p != native {
			return label, true
		}
	}
	return label, false
}

// writePlanGitHub prints the cells that are built (not the skipped ones) as one line
// of JSON for a GitHub Actions matrix, `strategy.matrix: ${{ fromJSON(...) }}`:
// {"include":[{"cell":ID,"runs-on":LABEL,"emulate":BOOL,AXIS:VALUE...}]}, axes by
// their string form in the file's order. More than maxGitHubJobs is an error that says
// how to split them.
func writePlanGitHub(w io.Writer, cells []plan.Cell, runsOn map[string]string) error {
	cells = slices.DeleteFunc(slices.Clone(cells), func(c plan.Cell) bool { return c.Skip != "" })
	if len(cells) > maxGitHubJobs {
		n := (len(cells) + maxGitHubJobs - 1) / maxGitHubJobs
		return fmt.Errorf("%d cells to build: a GitHub Actions matrix runs at most %d jobs; split them into %d matrices with --shard 1/%d ... --shard %d/%d (matrix ci github --chunks %d writes the workflow)",
			len(cells), maxGitHubJobs, n, n, n, n, n)
	}
	var b bytes.Buffer
	b.WriteString(`{"include":[`)
	for i, c := range cells {
		if i > 0 {
			b.WriteByte(',')
		}
		label, emulate := githubJob(c, runsOn)
		b.WriteByte('{')
		writeKey(&b, "cell", c.ID(), false)
		writeKey(&b, "runs-on", label, true)
		writeKey(&b, "emulate", emulate, true)
		// GitHub reads a matrix's keys without case: an axis whose name is one of
		// the job's own keys, or an earlier axis's, in any case, is left out.
		keys := slices.Clone(githubKeys)
		for _, a := range c.Axes {
			if !slices.ContainsFunc(keys, func(k string) bool { return strings.EqualFold(k, a.Name) }) {
				keys = append(keys, a.Name)
				writeKey(&b, a.Name, a.String(), true)
			}
		}
		b.WriteByte('}')
	}
	b.WriteString("]}\n")
	_, err := w.Write(b.Bytes())
	return err
}

// writeKey appends "key":value, after a comma unless first.
func writeKey(b *bytes.Buffer, key string, value any, comma bool) {
	if comma {
		b.WriteByte(',')
	}
	k, _ := plan.MarshalJSON(key)
	v, _ := plan.MarshalJSON(value)
	b.Write(k)
	b.WriteByte(':')
	b.Write(v)
}
