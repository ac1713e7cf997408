package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/matrixbuild/matrix/manifest"
	"github.com/matrixbuild/matrix/plan"
	"github.com/matrixbuild/matrix/selection"
)

// selectFlags are --cell, --only, --shard and --durations of plan, run and lock: what
// they mean is package selection's.
type selectFlags struct {
	cells     []string
	only      []string
	shard     string
	durations string
}

func (f *selectFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringArrayVar(&f.cells, "cell", nil, "take only the cell of this ID, as `matrix plan` shows it (repeatable)")
	fl.StringArrayVar(&f.only, "only", nil, "take only the cells whose axes match AXIS=GLOB[,AXIS=GLOB...] (all of them; repeat for any of several), e.g. sharp=0.34.*,arch=arm64")
	fl.StringVar(&f.shard, "shard", "", "take the K-th of N parts of the selected cells that are not skipped (K/N), the same on every machine")
	fl.StringVar(&f.durations, "durations", "", "with --shard: balance the shards by the durations recorded in this manifest.json of an earlier run (default: by count)")
}

// parse checks the flags before anything is read: a malformed one is a usage error.
func (f selectFlags) parse() (selection.Selection, error) {
	var s selection.Selection
	s.Cells = f.cells
	for _, e := range f.only {
		o, err := selection.ParseOnly(e)
		if err != nil {
			return s, usageError{err}
		}
		s.Only = append(s.Only, o)
	}
	if f.shard != "" {
		sh, err := selection.ParseShard(f.shard)
		if err != nil {
			return s, usageError{err}
		}
		s.Shard = sh
	}
	if f.durations != "" && f.shard == "" {
		return s, usageError{errors.New("--durations: balances --shard, which is not given")}
	}
	return s, nil
}

// given says whether any selection flag was given.
func (f selectFlags) given() bool {
	return len(f.cells) > 0 || len(f.only) > 0 || f.shard != ""
}

// apply returns the cells of the plan that the flags select (all without them). An
// unknown ID or axis is a usage error; --durations' manifest is read here, and one
// that cannot be read is an error naming it.
func (f selectFlags) apply(cells []plan.Cell) ([]plan.Cell, error) {
	s, err := f.parse()
	if err != nil {
		return nil, err
	}
	if f.durations != "" {
		m, err := manifest.ReadFile(f.durations)
		if err != nil {
			return nil, fmt.Errorf("--durations: %w", err)
		}
		s.Durations = selection.Durations(m, cells)
	}
	out, err := s.Apply(cells)
	var dup *plan.DuplicateIDError
	switch {
	case errors.As(err, &dup):
		return nil, err
	case err != nil:
		return nil, usageError{err}
	}
	return out, nil
}

// describe names the selection flags given, for messages: `--shard 2/3 --only arch=x64`.
func (f selectFlags) describe() string {
	var parts []string
	for _, c := range f.cells {
		parts = append(parts, "--cell "+c)
	}
	for _, o := range f.only {
		parts = append(parts, "--only "+o)
	}
	if f.shard != "" {
		parts = append(parts, "--shard "+f.shard)
	}
	return strings.Join(parts, " ")
}
