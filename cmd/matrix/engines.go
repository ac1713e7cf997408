package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/matrixbuild/matrix/engine"
	"github.com/matrixbuild/matrix/internal/terminal"
)

// describeTimeout bounds what `matrix engines` asks one engine, the emulation probe
// included.
const describeTimeout = 2 * time.Minute

// engineRow is one engine of `matrix engines`, as --json prints it.
type engineRow struct {
	Address    string   `json:"address"`
	Reachable  bool     `json:"reachable"`
	Error      string   `json:"error,omitempty"`
	Version    string   `json:"version,omitempty"`
	APIVersion string   `json:"api_version,omitempty"`
	Platform   string   `json:"platform,omitempty"`
	System     string   `json:"system,omitempty"`
	Emulates   []string `json:"emulates"`
	Emulation  string   `json:"emulation,omitempty"`
}

func newEnginesCmd() *cobra.Command {
	var hosts []string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "engines",
		Short: "List the engines a run would build on: address, version, platform, emulation, reachable",
		Long: `engines connects to each --engine (repeatable; default: the environment's engine, as
matrix run chooses it) and lists it: its address (a password in it shown as xxxxx),
the engine's version and API version, its platform, the other platforms whose
programs it runs under emulation (a tiny static program of each CPU run in a
throwaway container of an image already on the engine; nothing is pulled), and
whether it answers at all.

Exit status: 0 every engine answers; 1 one does not (it is listed with the error);
2 wrong usage.`,
		Args: wrapArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			targets := hosts
			if len(targets) == 0 {
				targets = []string{""}
			}
			enginesConnected.Store(true)
			rows := make([]engineRow, len(targets))
			down := 0
			for i, h := range targets {
				rows[i] = describeEngine(cmd.Context(), h)
				if !rows[i].Reachable {
					down++
				}
				if err := cmd.Context().Err(); err != nil {
					return err
				}
			}
			out := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				if err := enc.Encode(rows); err != nil {
					return err
				}
			} else if err := writeEngines(out, rows); err != nil {
				return err
			}
			if down > 0 {
				for _, r := range rows {
					if !r.Reachable && !asJSON {
						fmt.Fprintf(cmd.ErrOrStderr(), "matrix: %s: %s\n", terminal.Escape(r.Address), terminal.EscapeLines(r.Error))
					}
				}
				return reportedError{fmt.Errorf("%s of %d not reachable", plural(down, "engine"), len(rows))}
			}
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&hosts, "engine", nil, "an engine to list (unix://, tcp://, ssh://[user@]host[:port]); repeatable")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the engines as a JSON array")
	return cmd
}

// describeEngine connects to host ("" for the environment's engine) and describes it;
// an engine that cannot be reached is a row with its error.
func describeEngine(ctx context.Context, host string) engineRow {
	ctx, cancel := context.WithTimeout(ctx, describeTimeout)
	defer cancel()
	row := engineRow{Address: engine.RedactHost(host), Emulates: []string{}}
	var e *engine.Engine
	var err error
	if host == "" {
		e, err = engine.Connect(ctx, engine.PullNever)
	} else {
		e, err = engine.ConnectHost(ctx, host, engine.PullNever)
	}
	if err != nil {
		if row.Address == "" {
			row.Address = "(the environment's engine)"
		}
		row.Error = err.Error()
		return row
	}
	defer e.Close()
	row.Address = e.Name()
	d, err := e.Describe(ctx)
	if err != nil {
		row.Error = err.Error()
		return row
	}
	row.Reachable = true
	row.Version, row.APIVersion, row.Platform, row.System = d.Version, d.APIVersion, d.OS+"/"+d.Arch, d.System
	if d.Emulates != nil {
		row.Emulates = d.Emulates
	}
	row.Emulation = d.Emulation
	return row
}

// writeEngines prints one aligned row per engine; every value from an engine is
// escaped for the terminal.
func writeEngines(w io.Writer, rows []engineRow) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ADDRESS\tREACHABLE\tVERSION\tAPI\tPLATFORM\tEMULATES")
	for _, r := range rows {
		reachable, emulates := "yes", "-"
		if !r.Reachable {
			reachable = "no"
		}
		if len(r.Emulates) > 0 {
			emulates = strings.Join(r.Emulates, ",")
		} else if r.Reachable && strings.HasPrefix(r.Emulation, "not probed") {
			emulates = "?"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", terminal.Escape(r.Address), reachable, dash(terminal.Escape(r.Version)),
			dash(terminal.Escape(r.APIVersion)), dash(terminal.Escape(strings.Trim(r.Platform, "/"))), terminal.Escape(emulates))
	}
	return tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
