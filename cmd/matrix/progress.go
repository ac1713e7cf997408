package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/matrixbuild/matrix/progress"
	"github.com/matrixbuild/matrix/runner"
)

// progressFlags choose how run and lock show a run (package progress).
type progressFlags struct {
	mode string // auto, tty, plain, json
	file string // json events go here instead of stdout
}

func (f *progressFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.mode, "progress", "auto", "how to show the run: auto (tty on a terminal outside CI, else plain), tty (live lines redrawn in place), plain (prefixed lines, for logs), json (one event per line on stdout, see README)")
	fl.StringVar(&f.file, "progress-file", "", "with --progress json: write the events to this file instead of stdout")
}

func (f progressFlags) check() error {
	switch f.mode {
	case "auto", "tty", "plain", "json":
	default:
		return usageError{fmt.Errorf("--progress %q: want auto, tty, plain or json", f.mode)}
	}
	if f.file != "" && f.mode != "json" {
		return usageError{errors.New("--progress-file: only with --progress json")}
	}
	return nil
}

// inGitHubActions reports whether the run is a GitHub Actions step.
func inGitHubActions() bool { return os.Getenv("GITHUB_ACTIONS") == "true" }

// inCI reports whether the run is in a CI job, where auto means plain.
func inCI() bool { return os.Getenv("CI") != "" || inGitHubActions() }

// display is how one run is shown: the sink its events go to, where its summary goes,
// and what to do when it ends.
type display struct {
	sink    progress.Sink
	summary io.Writer // the summary's table and closing line
	stop    func()    // erases a live area; closes the events file
	json    bool      // events go to stdout: no human text there
}

// newDisplay picks the renderer: json events (stdout or --progress-file), a live tty
// area on stderr, or plain lines on stderr (with GitHub Actions groups and annotations
// when GITHUB_ACTIONS=true); --quiet keeps only failures and messages of the plain lines.
func newDisplay(cmd *cobra.Command, f progressFlags, quiet bool, recs *runner.Records, slots int, locate func(progress.Event) (string, int)) (*display, error) {
	stdout, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
	d := &display{summary: stdout, stop: func() {}}
	switch mode := f.mode; {
	case mode == "json" && f.file != "":
		file, err := os.Create(f.file)
		if err != nil {
			return nil, fmt.Errorf("--progress-file: %w", err)
		}
		d.sink = &progress.JSON{W: file}
		d.stop = func() {
			if err := file.Close(); err != nil {
				fmt.Fprintf(stderr, "matrix: --progress-file: %v\n", err)
			}
		}
	case mode == "json":
		d.sink, d.summary, d.json = &progress.JSON{W: stdout}, stderr, true
	case !quiet && (mode == "tty" || mode == "auto" && isTerminal(stderr) && !inCI() && os.Getenv("TERM") != "dumb"):
		fd := -1
		if file, ok := stderr.(*os.File); ok {
			fd = int(file.Fd())
		}
		tty := &progress.TTY{W: stderr, Expected: recs.Durations(), Slots: slots, Size: func() (int, int) {
			w, h, err := term.GetSize(fd)
			if err != nil {
				return 80, 24
			}
			return w, h
		}}
		d.sink, d.stop = tty, tty.Start(150*time.Millisecond)
	default:
		d.sink = &progress.Plain{W: stderr, Quiet: quiet, GitHub: inGitHubActions(), Locate: locate}
	}
	return d, nil
}

// finish ends the display: the run_finished event, the summary (also as a GitHub job
// summary when GITHUB_STEP_SUMMARY is set) after a live area is erased.
func (d *display) finish(s progress.Summary, stderr io.Writer) {
	c := s.Counts()
	d.sink.Event(progress.Event{Kind: progress.KindRunFinished, Time: time.Now(), Counts: &c})
	d.stop()
	summary := d.summary
	if inGitHubActions() {
		summary = progress.GitHubSafeWriter{W: summary} // its reasons quote containers
	}
	if err := s.WriteText(summary); err != nil {
		fmt.Fprintf(stderr, "matrix: writing the summary: %v\n", err)
	}
	if path := os.Getenv("GITHUB_STEP_SUMMARY"); path != "" && inGitHubActions() {
		if err := appendStepSummary(path, s); err != nil {
			fmt.Fprintf(stderr, "matrix: GITHUB_STEP_SUMMARY: %v\n", err)
		}
	}
}

// appendStepSummary appends the summary's Markdown table to the job summary file,
// within what GitHub takes of it (progress.MaxStepSummary, less what is there).
func appendStepSummary(path string, s progress.Summary) error {
	f, err := os.OpenFile(filepath.Clean(path), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	info, err := f.Stat()
	if err == nil && !info.Mode().IsRegular() {
		err = fmt.Errorf("%s: not a regular file", path)
	}
	if err == nil {
		err = s.WriteMarkdown(f, progress.MaxStepSummary-int(min(info.Size(), progress.MaxStepSummary)))
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// cellLocator places an annotation of a failed cell at its target's block in the
// matrix file.
func cellLocator(p *project) func(progress.Event) (string, int) {
	return func(e progress.Event) (string, int) {
		if rng, ok := p.file.TargetRange(e.Target); ok {
			return rng.Filename, rng.Start.Line
		}
		return p.file.Path(), 0
	}
}

// annotateDiagnostics writes each diagnostic as a GitHub Actions annotation at its
// range in the matrix file (where it has one): an ::error or ::warning beside the
// rendered diagnostics, so that a pull request shows it on the line.
func annotateDiagnostics(w io.Writer, diags hcl.Diagnostics) error {
	var buf []byte
	for _, d := range diags {
		a := progress.Annotation{Kind: "error", Title: d.Summary, Message: d.Summary}
		if d.Detail != "" {
			a.Message += ": " + d.Detail
		}
		if d.Severity == hcl.DiagWarning {
			a.Kind = "warning"
		}
		if d.Subject != nil {
			a.File, a.Line, a.Col, a.EndLine, a.EndCol = d.Subject.Filename, d.Subject.Start.Line, d.Subject.Start.Column, d.Subject.End.Line, d.Subject.End.Column
		}
		buf = a.AppendTo(buf)
	}
	_, err := w.Write(buf)
	return err
}

// messageLines writes lines of the tool's own (an engine's warnings) as message
// events, which every renderer escapes.
type messageLines struct{ sink progress.Sink }

func (m messageLines) Write(p []byte) (int, error) {
	m.sink.Event(progress.Event{Kind: progress.KindMessage, Time: time.Now(), Line: strings.TrimSuffix(string(p), "\n")})
	return len(p), nil
}
