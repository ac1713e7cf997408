package main

import (
	"bytes"
	_ "embed"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"text/template"

	"github.com/spf13/cobra"

	"github.com/matrixbuild/matrix/lock"
	"github.com/matrixbuild/matrix/plan"
)

// modulePath is where `go install` finds the tool.
const modulePath = "github.com/matrixbuild/matrix/cmd/matrix"

func newCICmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "ci",
		Short: "Write a CI configuration that runs the matrix, one job per cell",
	}
	cmd.AddCommand(newCIGitHubCmd())
	return cmd
}

// ciFlags are `matrix ci github`'s own flags.
type ciFlags struct {
	spec          specFlags
	runsOn        []string
	chunks        int
	locked        bool
	matrixVersion string
}

func newCIGitHubCmd() *cobra.Command {
	var f ciFlags
	cmd := &cobra.Command{
		Use:   "github [FILE]",
		Short: "Print a GitHub Actions workflow that builds every cell in a job of its own, then merges and verifies the outputs",
		Long: `github prints a workflow for .github/workflows/ (matrix ci github > .github/workflows/matrix.yml):
a plan job prints the cells as a job matrix (matrix plan --format github), a build job
per cell runs matrix run --cell ID on a runner of the cell's CPU (QEMU set up only for
cells that need emulation, npm's download cache kept per runner) and uploads its
output directory, and a merge job joins them (matrix merge, matrix verify), shows
the table of cells as the job summary (matrix report --format markdown), attests
the artifacts of SHA256SUMS with actions/attest-build-provenance (not for pull
requests; that job alone may write attestations) and uploads the merged output
directory with its report.html and provenance.intoto.jsonl. FILE (default ./matrix.hcl) is read to size the job
matrices and to find the caches; --var, --var-file and --lock-file are passed on to
every matrix command of the workflow. See README, "Running on many machines".`,
		Args: wrapArgs(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			path, _ := fileAndTargets(args)
			return writeGitHubWorkflow(cmd, path, f)
		},
	}
	f.spec.registerVars(cmd)
	fl := cmd.Flags()
	fl.StringArrayVar(&f.runsOn, "runs-on", nil, "the runner label of a cell platform, PLATFORM=LABEL (repeatable; default linux/amd64=ubuntu-24.04, linux/arm64=ubuntu-24.04-arm)")
	fl.IntVar(&f.chunks, "chunks", 0, "job matrices to split the cells into, each of at most 256 jobs (--shard K/N of each); default: as many as the plan needs now")
	fl.BoolVar(&f.locked, "locked", true, "plan and build with --locked: exactly what the committed lock file records (--locked=false resolves cells anew on the runners, whose lock changes are not kept)")
	fl.StringVar(&f.matrixVersion, "matrix-version", "", "the version of matrix the workflow installs with go install (default: this binary's release version, else latest)")
	return cmd
}

// workflow is what the template needs.
type workflow struct {
	Command    string   // the command that wrote it, for its header
	Module     string   // what go install installs
	Version    string   // the go install version
	Chunks     []chunk  // the job matrices
	Args       string   // the flags and FILE every matrix command gets, shell-quoted
	MergeArgs  string   // merge's flags and arguments: the same plan, shell-quoted
	PlanArgs   string   // plan's own flags (--runs-on), shell-quoted, each followed by a space
	LockFile   string   // for the cache keys, a YAML single-quoted scalar
	Caches     []string // cache mount names of the plan's cells
	PlanRunsOn string   // the runner of the plan and merge jobs
}

// chunk is one job matrix: its names' suffix ("" when there is one) and its
// --shard flag (" --shard K/N"; "" when there is one).
type chunk struct {
	Suffix, Shard string
}

// safeArg is what a workflow may hold unquoted in a shell command.
var safeArg = regexp.MustCompile(`^[A-Za-z0-9_./=:@%+,-]+$`)

// shellQuote quotes s for a POSIX shell, unless it needs none.
func shellQuote(s string) string {
	if safeArg.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// versionTag is a release version that go install can take as it is.
var versionTag = regexp.MustCompile(`^v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$`)

func writeGitHubWorkflow(cmd *cobra.Command, path string, f ciFlags) error {
	if filepath.IsAbs(path) || strings.HasPrefix(filepath.Clean(path), "..") {
		return usageError{fmt.Errorf("%s: give FILE relative to the repository's root, where the workflow runs", path)}
	}
	runsOn, err := parseRunsOn(f.runsOn)
	if err != nil {
		return err
	}
	if f.chunks < 0 || f.chunks > maxGitHubJobs {
		return usageError{fmt.Errorf("--chunks %d: want 1 to %d", f.chunks, maxGitHubJobs)}
	}
	install := f.matrixVersion
	if install == "" {
		install = "latest"
		if versionTag.MatchString(version) {
			install = version
		}
	}
	if !regexp.MustCompile(`^[A-Za-z0-9._/-]+$`).MatchString(install) {
		return usageError{fmt.Errorf("--matrix-version %q: want a version or branch that go install takes", install)}
	}
	// Every value that reaches the workflow is checked: a "${{" would be evaluated by
	// GitHub, a newline would end the YAML scalar. The commands are block scalars and
	// the lock file's path a quoted one: a plain scalar ends at " #" and refuses ": ".
	given := append(append(append([]string{path}, f.spec.vars...), f.spec.varFiles...), f.runsOn...)
	given = append(given, f.spec.lockFile)
	for _, v := range given {
		if strings.Contains(v, "${{") || strings.ContainsAny(v, "\n\r") {
			return usageError{fmt.Errorf("%q: a workflow cannot hold \"${{\" or a line break here", v)}
		}
	}

	f.spec.locked = f.locked
	file, cells, err := f.spec.load(cmd, path, nil)
	if err != nil {
		return err
	}
	// The workflow is committed: a sensitive variable's value must not be in it.
	_, sensitive := file.Variables()
	for _, v := range f.spec.vars {
		if name, _, _ := strings.Cut(v, "="); slices.Contains(sensitive, name) {
			return usageError{fmt.Errorf("--var %s: %q is sensitive, and the workflow, a file committed to the repository, would hold its value; set MATRIX_VAR_%s from a secret in the workflow's env instead", name, name, name)}
		}
	}
	building := slices.DeleteFunc(slices.Clone(cells), func(c plan.Cell) bool { return c.Skip != "" })
	chunks := f.chunks
	if chunks == 0 {
		chunks = max(1, (len(building)+maxGitHubJobs-1)/maxGitHubJobs)
	}
	if per := (len(building) + chunks - 1) / chunks; per > maxGitHubJobs {
		return usageError{fmt.Errorf("--chunks %d: %d cells to build make %d jobs in a matrix, more than GitHub's %d; give --chunks %d or more",
			chunks, len(building), per, maxGitHubJobs, (len(building)+maxGitHubJobs-1)/maxGitHubJobs)}
	}

	// The flags that say which plan: every command of the workflow gets them.
	var planFlags []string
	for _, v := range f.spec.vars {
		planFlags = append(planFlags, "--var", shellQuote(v))
	}
	for _, v := range f.spec.varFiles {
		planFlags = append(planFlags, "--var-file", shellQuote(v))
	}
	if f.spec.lockFile != "" {
		planFlags = append(planFlags, "--lock-file", shellQuote(f.spec.lockFile))
	}
	var args []string
	if f.locked {
		args = append(args, "--locked")
	}
	args = append(append(args, planFlags...), shellQuote(filepath.ToSlash(path)))
	// merge plans the cells it must find as the build jobs did: --locked too.
	var mergeArgs []string
	if f.locked {
		mergeArgs = append(mergeArgs, "--locked")
	}
	mergeArgs = append(append(mergeArgs, "--file", shellQuote(filepath.ToSlash(path))), planFlags...)
	mergeArgs = append(mergeArgs, "out", "shards/*")
	var planArgs []string
	for _, r := range f.runsOn {
		planArgs = append(planArgs, "--runs-on", shellQuote(r))
	}
	lockPath := f.spec.lockFile
	if lockPath == "" {
		lockPath = lock.PathFor(path)
	}
	var caches []string
	for _, c := range building {
		for _, m := range c.Mounts {
			if m.Type == plan.MountCache && !slices.Contains(caches, m.Source) {
				caches = append(caches, m.Source)
			}
		}
	}
	slices.Sort(caches)
	for _, c := range caches {
		if !safeArg.MatchString(c) || strings.ContainsAny(c, "/=:@%+,") {
			return fmt.Errorf("cache mount %q: not a name a workflow step can hold", c)
		}
	}

	w := workflow{
		Command:    ciCommand(f, path),
		Module:     modulePath,
		Version:    install,
		Args:       strings.Join(args, " "),
		MergeArgs:  strings.Join(mergeArgs, " "),
		LockFile:   "'" + strings.ReplaceAll(filepath.ToSlash(lockPath), "'", "''") + "'",
		Caches:     caches,
		PlanRunsOn: runsOn[hostPlatform],
	}
	for _, a := range planArgs {
		w.PlanArgs += a + " "
	}
	for k := 1; k <= chunks; k++ {
		c := chunk{}
		if chunks > 1 {
			c = chunk{Suffix: fmt.Sprintf("-%d", k), Shard: fmt.Sprintf(" --shard %d/%d", k, chunks)}
		}
		w.Chunks = append(w.Chunks, c)
	}
	var b bytes.Buffer
	if err := githubWorkflow.Execute(&b, w); err != nil {
		return err
	}
	_, err = io.Copy(cmd.OutOrStdout(), &b)
	return err
}

// ciCommand is the command line that writes the workflow, for its header.
func ciCommand(f ciFlags, path string) string {
	parts := []string{"matrix ci github"}
	for _, v := range f.spec.vars {
		parts = append(parts, "--var", shellQuote(v))
	}
	for _, v := range f.spec.varFiles {
		parts = append(parts, "--var-file", shellQuote(v))
	}
	if f.spec.lockFile != "" {
		parts = append(parts, "--lock-file", shellQuote(f.spec.lockFile))
	}
	for _, r := range f.runsOn {
		parts = append(parts, "--runs-on", shellQuote(r))
	}
	if f.chunks != 0 {
		parts = append(parts, fmt.Sprintf("--chunks %d", f.chunks))
	}
	if !f.locked {
		parts = append(parts, "--locked=false")
	}
	if f.matrixVersion != "" {
		parts = append(parts, "--matrix-version", shellQuote(f.matrixVersion))
	}
	return strings.Join(append(parts, shellQuote(filepath.ToSlash(path))), " ")
}

// githubWorkflowText is the workflow; [[ ]] are the template's, ${{ }} GitHub's.
//
//go:embed ci_workflow.yml.tmpl
var githubWorkflowText string

var githubWorkflow = template.Must(template.New("workflow").Delims("[[", "]]").Parse(githubWorkflowText))
