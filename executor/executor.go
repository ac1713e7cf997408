// Package executor is the contract between the runner, which decides what to build,
// and the executors that run cells in containers (package engine for Docker; fakes in
// tests). It holds the interface, the values that cross it and the errors an executor
// returns; behaviour added around an executor, such as retrying, wraps the interface
// (see Retry) instead of living in either side.
package executor

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/matrixbuild/matrix/plan"
)

// Executor runs cells in isolated containers.
type Executor interface {
	// Name identifies the executor in messages and the manifest (the engine's address).
	Name() string
	// Arch is the CPU the executor runs natively, as images name it ("amd64"); "" if
	// unknown.
	Arch() string
	// Resolve makes the image available according to the pull policy and identifies it.
	Resolve(ctx context.Context, ref, platform string) (Image, error)
	// Runnable says why this executor cannot run the image, if it cannot (an image for
	// another CPU on an engine without emulation); nil when it can.
	Runnable(ctx context.Context, img Image) error
	// Build runs job.Cell's script in a fresh container, streaming its output to job.Log.
	// Before the start it puts job.Inputs into the workdir. After a zero exit it calls
	// collect with the tar stream of the cell's collect path, and returns the files
	// named by job.Cell.LockFiles that exist in the workdir.
	// The container is removed before Build returns, whatever happened.
	Build(ctx context.Context, job Job, collect func(io.Reader) error) (Files, error)
	// Test runs the cell's test script in a fresh container of job.Image, into whose
	// test workdir job.Tree (a tar stream of the packed artifact's tree) is copied.
	Test(ctx context.Context, job TestJob) error
}

// Image identifies a resolved image.
type Image struct {
	Ref         string
	ID          string
	RepoDigests []string
	// OS and Architecture are the image's own platform, e.g. "linux" and "amd64".
	OS, Architecture, Variant string
}

// Platform is the image's platform as "os/arch[/variant]".
func (i Image) Platform() string {
	p := i.OS + "/" + i.Architecture
	if i.Variant != "" {
		p += "/" + i.Variant
	}
	return p
}

// Files maps paths relative to a container's workdir to their content.
type Files map[string][]byte

// Job is one build: the cell, its resolved image and environment, and where its output goes.
type Job struct {
	RunID string
	Cell  plan.Cell
	Image Image
	// Env is the container's environment as NAME=VALUE, pass-through values included.
	Env []string
	// Inputs are put into the workdir before the script starts (the locked files).
	Inputs Files
	Log    io.Writer
}

// TestJob is one artifact test.
type TestJob struct {
	RunID string
	Cell  plan.Cell
	Image Image
	// Tree is a tar stream of the artifact's content, extracted into the test workdir.
	Tree func() (io.ReadCloser, error)
	Log  io.Writer
}

// ExitError is a script that ended with a non-zero status. It is never retried.
type ExitError struct {
	Code int
}

func (e *ExitError) Error() string { return fmt.Sprintf("script exited with status %d", e.Code) }

// TransientError marks an engine failure worth retrying (the engine restarting, a
// dropped connection).
type TransientError struct{ Err error }

func (e *TransientError) Error() string { return e.Err.Error() }
func (e *TransientError) Unwrap() error { return e.Err }

// IsTransient reports whether err is worth retrying.
func IsTransient(err error) bool {
	var t *TransientError
	return errors.As(err, &t)
}
