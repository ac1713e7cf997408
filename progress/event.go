// Package progress is what a run reports while it goes and when it ends: the events
// the runner emits for each cell (queued, started, phase, output, finished) and for the
// run, and the renderers that show them: plain (prefixed lines, stable for CI logs),
// json (one event per line, for other tools), tty (a live area redrawn in place),
// GitHub Actions (groups and annotations), and the end-of-run summary. Everything in
// an event that a container, the output directory or the matrix file made is hostile:
// every renderer escapes it (internal/terminal; json by its own escapes).
package progress

import "time"

// SchemaVersion is the "v" of every json event. It changes when a field changes
// meaning or goes; a new field or event kind does not change it.
const SchemaVersion = 1

// Kind is what an event reports.
type Kind string

const (
	KindQueued      Kind = "queued"       // a cell waits for a slot on an engine
	KindStarted     Kind = "started"      // a cell got a slot on Engine
	KindPhase       Kind = "phase"        // a cell entered Phase
	KindOutput      Kind = "output"       // a line of a cell's output (its container's and the tool's): Line
	KindFinished    Kind = "finished"     // a cell ended with Result
	KindMessage     Kind = "message"      // a line of the tool's own about the run, not one cell: Line
	KindRunFinished Kind = "run_finished" // the run ended: Counts
)

// Phase is the step a running cell is in.
type Phase string

const (
	PhaseResolving  Phase = "resolving"  // resolving and checking the images
	PhaseBuilding   Phase = "building"   // the build container runs
	PhasePacking    Phase = "packing"    // the collected tree streams into the artifact
	PhaseTesting    Phase = "testing"    // a test container runs
	PhasePublishing Phase = "publishing" // the artifact and its log are put in place
)

// Result is how a cell ended.
type Result string

const (
	Built   Result = "built"
	Reused  Result = "reused" // an unchanged artifact of an earlier run kept (Retested: its test ran again)
	Failed  Result = "failed"
	Skipped Result = "skipped"
)

// Axis is one of a cell's matrix values, as text.
type Axis struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Event is one thing a run reports. Cell is the cell's artifact name, the key of
// every cell event; Name is the cell's name as the plan shows it (target and axes).
type Event struct {
	Kind     Kind
	Time     time.Time
	Cell     string
	Name     string
	Target   string
	Axes     []Axis
	Engine   string // started
	Phase    Phase  // phase
	Line     string // output, message: one line, or several for a message
	Result   Result // finished
	Retested bool   // finished, reused: the test ran again on the artifact
	SHA256   string // finished: built or reused
	Size     int64  // finished: built or reused
	Duration time.Duration
	Reason   string  // finished: failed (the error) or skipped (the skip reason)
	Counts   *Counts // run_finished
}

// Counts sum a run's results; Manifest is the records' path when the run wrote them.
type Counts struct {
	Built    int           `json:"built"`
	Reused   int           `json:"reused"`
	Failed   int           `json:"failed"`
	Skipped  int           `json:"skipped"`
	Elapsed  time.Duration `json:"-"`
	Manifest string        `json:"manifest,omitempty"`
}

// Sink receives a run's events, from several goroutines at once: an implementation
// serialises them itself. Renderers are Sinks; Tee feeds several.
type Sink interface {
	Event(Event)
}

// Discard drops every event.
var Discard Sink = discard{}

type discard struct{}

func (discard) Event(Event) {}

// Tee sends each event to every sink, in order.
func Tee(sinks ...Sink) Sink { return tee(sinks) }

type tee []Sink

func (t tee) Event(e Event) {
	for _, s := range t {
		s.Event(e)
	}
}

// Clocked stamps each event that has no Time with now: the runner's events get the
// run's clock, injected in tests.
func Clocked(s Sink, now func() time.Time) Sink { return clocked{s, now} }

type clocked struct {
	s   Sink
	now func() time.Time
}

func (c clocked) Event(e Event) {
	if e.Time.IsZero() {
		e.Time = c.now()
	}
	c.s.Event(e)
}
