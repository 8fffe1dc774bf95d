package render

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/airctl/airctl/provision"
)

// Progress writes engine events as progress lines. The engine calls its
// Event method from several goroutines; lines never interleave.
type Progress struct {
	mu   sync.Mutex
	w    io.Writer
	opts Options
}

// NewProgress returns a Progress writing to w.
func NewProgress(w io.Writer, opts Options) *Progress {
	return &Progress{w: w, opts: opts}
}

// Event writes the line for ev, if it has one.
func (p *Progress) Event(ev provision.Event) {
	line := EventLine(ev)
	if line == "" {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintln(p.w, p.opts.bold(line))
}

// EventLine is the progress line for ev, as Terraform words it:
// "addr: Creating...", "addr: Still creating... [10s elapsed]",
// "addr: Creation complete after 42s [id=...]". Events that Terraform does
// not show (refresh finished) give "".
func EventLine(ev provision.Event) string {
	addr := ev.Addr.String()
	w := wordsFor(ev.Action)
	switch ev.Type {
	case provision.RefreshStart:
		return addr + ": Refreshing state..." + bracket(idPart(ev.ID))
	case provision.ApplyStart:
		return addr + ": " + w.start + "..." + bracket(idPart(ev.ID))
	case provision.ApplyProgress:
		return addr + ": Still " + w.ing + "..." + bracket(idPart(ev.ID), elapsed(ev.Elapsed)+" elapsed")
	case provision.ApplyDone:
		return addr + ": " + w.done + " after " + elapsed(ev.Elapsed) + bracket(idPart(ev.ID))
	case provision.ApplyErrored:
		return addr + ": " + w.noun + " errored after " + elapsed(ev.Elapsed)
	}
	return ""
}

// actionWords are the verbs of one action in progress lines.
type actionWords struct {
	start, ing, done, noun string
}

func wordsFor(a provision.Action) actionWords {
	switch a {
	case provision.Update:
		return actionWords{"Modifying", "modifying", "Modifications complete", "Modification"}
	case provision.Delete:
		return actionWords{"Destroying", "destroying", "Destruction complete", "Destruction"}
	case provision.Read:
		return actionWords{"Reading", "reading", "Read complete", "Read"}
	}
	return actionWords{"Creating", "creating", "Creation complete", "Creation"}
}

// elapsed shows whole seconds ("42s", "1m2s"), as Terraform does.
func elapsed(d time.Duration) string {
	return d.Truncate(time.Second).String()
}

func idPart(id string) string {
	if id == "" {
		return ""
	}
	return "id=" + id
}

// bracket joins the non-empty parts as " [a, b]".
func bracket(parts ...string) string {
	s := ""
	for _, p := range parts {
		if p == "" {
			continue
		}
		if s != "" {
			s += ", "
		}
		s += p
	}
	if s == "" {
		return ""
	}
	return " [" + s + "]"
}
