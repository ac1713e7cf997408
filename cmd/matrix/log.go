package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"

	"github.com/spf13/cobra"

	"github.com/matrixbuild/matrix/internal/terminal"
	"github.com/matrixbuild/matrix/progress"
)

// logFlags set how the tool's own messages are written (log/slog): not the run's
// events, which --progress shows, but what the tool says about itself, its errors
// last of all.
type logFlags struct {
	level  string
	format string
}

func (f *logFlags) register(root *cobra.Command) {
	fl := root.PersistentFlags()
	fl.StringVar(&f.level, "log-level", "info", "the least severe of the tool's messages to show: debug, info, warn or error")
	fl.StringVar(&f.format, "log-format", "text", "the tool's messages as text (\"matrix: ...\" lines) or json (one slog record per line on stderr)")
}

// logger returns the logger the flags ask for, writing to w; an error is a usage
// error, and the logger is then the default (text, info).
func (f logFlags) logger(w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(f.level)); err != nil {
		return newTextLogger(w, slog.LevelInfo), usageError{fmt.Errorf("--log-level %q: want debug, info, warn or error", f.level)}
	}
	switch f.format {
	case "text":
		return newTextLogger(w, level), nil
	case "json":
		return slog.New(slog.NewJSONHandler(jsonSafe{w}, &slog.HandlerOptions{Level: level})), nil
	}
	return newTextLogger(w, level), usageError{fmt.Errorf("--log-format %q: want text or json", f.format)}
}

type loggerKey struct{}

// withLogger is ctx carrying the command's logger.
func withLogger(ctx context.Context, l *slog.Logger) context.Context {
	return context.WithValue(ctx, loggerKey{}, l)
}

// logOf is the command's logger; the default text one when none was set (a test
// calling a command's function directly).
func logOf(ctx context.Context, w io.Writer) *slog.Logger {
	if l, ok := ctx.Value(loggerKey{}).(*slog.Logger); ok {
		return l
	}
	return newTextLogger(w, slog.LevelInfo)
}

// logError logs err: its first line is the message, one plain sentence, and the
// lines after it, when there are any, its "detail".
func logError(l *slog.Logger, err error) {
	first, rest, _ := strings.Cut(err.Error(), "\n")
	if rest == "" {
		l.Error(first)
		return
	}
	l.Error(first, "detail", rest)
}

// textHandler writes a record as "matrix: MESSAGE" (with "warning: " before a
// warning's), then its attributes as " key=value", escaped (internal/terminal) but
// for the newlines of a message of several lines: the lines the tool always wrote.
type textHandler struct {
	mu    *sync.Mutex
	w     io.Writer
	level slog.Level
	attrs []slog.Attr
	// github: a GitHub Actions step's log, where no line of a message (an error may
	// quote a script's last lines) may read as a workflow command.
	github bool
}

func newTextLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(&textHandler{mu: new(sync.Mutex), w: w, level: level, github: inGitHubActions()})
}

func (h *textHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level }

func (h *textHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString("matrix: ")
	if r.Level == slog.LevelWarn {
		b.WriteString("warning: ")
	}
	b.WriteString(r.Message)
	write := func(a slog.Attr) bool {
		if a.Key == "detail" {
			b.WriteString("\n" + a.Value.String())
			return true
		}
		fmt.Fprintf(&b, " %s=%s", a.Key, a.Value.String())
		return true
	}
	for _, a := range h.attrs {
		write(a)
	}
	r.Attrs(write)
	b.WriteByte('\n')
	h.mu.Lock()
	defer h.mu.Unlock()
	out := []byte(terminal.EscapeLines(b.String()))
	if h.github {
		out = progress.AppendGitHubSafe(nil, out)
	}
	_, err := h.w.Write(out)
	return err
}

func (h *textHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	c := *h
	c.attrs = append(append([]slog.Attr(nil), h.attrs...), attrs...)
	return &c
}

// WithGroup is not used by the tool: attributes stay flat.
func (h *textHandler) WithGroup(string) slog.Handler { return h }

// jsonSafe writes slog's JSON records with what a terminal would act on (bidi
// formatting, C1 controls) as \u escapes, as the json progress does.
type jsonSafe struct{ w io.Writer }

func (j jsonSafe) Write(p []byte) (int, error) {
	if _, err := j.w.Write(progress.AppendJSONSafe(nil, p)); err != nil {
		return 0, err
	}
	return len(p), nil
}
