// Package picture draws a scenario's exchange as a sequence diagram: a
// self-contained HTML page (inline SVG, no script or style from the
// network) with one lane per node, one arrow per message with its virtual
// times, Guard's attempts and backoffs, the faults on the links they hit,
// the violations where they happen, and the trace line behind each arrow
// and mark on hover.
//
// A Diagram is plain data: properties builds one from a world it ran (its
// trace and its network's message record) and WriteHTML draws it. Rows are
// trace lines: the vertical axis is the order of events, labelled with
// their virtual times, so that a burst of events in one millisecond and a
// 2 s timeout both stay readable.
package picture

import "github.com/guardsim/guardsim/sim"

// Diagram is everything a page shows.
type Diagram struct {
	Title    string   // the page's heading: the finding or property and the profile
	Subtitle []string // what a reader needs first: the violation, the seed, the replay command
	Script   []string // the scenario that produced the exchange, shown beside it
	Lanes    []string // the nodes, left to right (client, guard, peer guards, ups, engine, runners)
	Rows     []Row    // the trace lines drawn, in trace order
	Messages []Message
	Marks    []Mark
}

// Row is one trace line the diagram draws something at.
type Row struct {
	Step int      // the line's index in the whole trace
	At   sim.Time // its virtual time
	Line string   // the trace line as printed
}

// Message is one message on the wire: an arrow from its sender's lane at
// the row it was sent to its receiver's lane at the row it was received,
// or, when the network lost it (a drop fault broke its connection, a reset
// discarded it), to a cross on the link it was lost on.
type Message struct {
	From, To string
	Conn     uint64
	SentStep int      // the index of the last trace line before the send
	Sent     sim.Time // when it was sent
	RecvStep int      // the index of the recv trace line; for a lost message, the line that lost it
	Recv     sim.Time // when it was received, or lost
	Label    string   // the message, short
	Line     string   // the trace line behind the arrow (shown on hover)
	Lost     bool
}

// MarkKind says what a mark on a lane is.
type MarkKind uint8

const (
	// Note is an observation at a lane: a client's request, response,
	// upgrade or close, an actor starting or stopping.
	Note MarkKind = iota + 1
	// Attempt is one of Guard's attempts ending, with its result.
	Attempt
	// Backoff is the wait before Guard's next attempt, drawn as a span on
	// Guard's lane from the end of one attempt to the start of the next.
	Backoff
	// Fault is a network fault (hold, drop, heal) on the link from the
	// mark's node to Mark.To, or a runner's disconnect.
	Fault
	// Violation is where the oracle saw a property broken.
	Violation
)

func (k MarkKind) String() string {
	switch k {
	case Note:
		return "note"
	case Attempt:
		return "attempt"
	case Backoff:
		return "backoff"
	case Fault:
		return "fault"
	case Violation:
		return "violation"
	}
	return "mark"
}

// Mark is something drawn on a lane at a row.
type Mark struct {
	Kind    MarkKind
	Node    string // the lane
	To      string // a fault's other end
	Step    int    // the row (trace line index)
	EndStep int    // a backoff's end row (otherwise Step)
	At      sim.Time
	Text    string // the label
	Line    string // the trace line behind the mark (shown on hover)
}
