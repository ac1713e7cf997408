package runner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/matrixbuild/matrix/executor"
	"github.com/matrixbuild/matrix/manifest"
)

// TestRunEscapesContainerTextInErrorsOnTheTerminal: what a container made reaches
// the progress output escaped also inside a cell's error (its FAIL line): a failed
// script's last lines, an engine's message. The error itself, and failed[].error in
// the manifest, keep the text as it was (redacted).
func TestRunEscapesContainerTextInErrorsOnTheTerminal(t *testing.T) {
	const hostile = "\x1b]0;PWNED\x07\x1b[2J\r\x1b[Kok   fake.tar.gz \u009b \xff"
	exec := &fakeExec{behave: func(ctx context.Context, job executor.Job, _ int) error {
		if job.Cell.Artifact == "engine.tar.gz" {
			return errors.New("engine says " + hostile)
		}
		fmt.Fprintf(job.Log, "%s\n", hostile)
		return &executor.ExitError{Code: 1}
	}}
	opts := options(t)
	opts.KeepGoing = true
	var progress bytes.Buffer
	opts.Progress = &progress
	results, _ := readAndRun(context.Background(), []executor.Executor{exec}, cells("script.tar.gz", "engine.tar.gz"), opts)
	if strings.ContainsAny(progress.String(), "\x1b\x07\r\u009b") || strings.Contains(progress.String(), "\xff") {
		t.Errorf("progress output holds controls:\n%q", progress.String())
	}
	escaped := `\x1b]0;PWNED\x07\x1b[2J\x0d\x1b[Kok   fake.tar.gz \u009b \xff`
	for _, want := range []string{"FAIL script.tar.gz: script exited with status 1; last lines of logs/script.tar.gz.log:\n",
		"\n    building script.tar.gz\n    " + escaped + "\n",
		"FAIL engine.tar.gz: engine says " + escaped + "\n"} {
		if !strings.Contains(progress.String(), want) {
			t.Errorf("progress output lacks %q:\n%s", want, progress.String())
		}
	}
	m, err := manifest.Read(opts.OutDir)
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range m.Failed {
		if !strings.Contains(results[i].Err.Error(), hostile) || !strings.Contains(f.Error, strings.ToValidUTF8(hostile, "\ufffd")) {
			t.Errorf("%s: error %q, failed[].error %q; want the raw text", f.Artifact, results[i].Err, f.Error)
		}
	}
}
