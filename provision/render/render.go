// Package render turns plans, progress events and outputs into what people
// and machines read: Terraform-style plan text (+, ~, -/+, (known after
// apply), (sensitive value)), progress lines ("Creating...", "Still
// creating... [10s elapsed]") and the machine-readable JSON-lines UI.
//
// Everything writes to an io.Writer given by the caller and adds ANSI
// colour only when asked, so the CLI decides (TTY, -no-color) and tests
// compare plain text.
package render

import (
	"strconv"
	"strings"
)

// Options control human-readable rendering.
type Options struct {
	// Color adds ANSI colours (for a terminal).
	Color bool
}

// ANSI codes used by the plan and progress renderers.
const (
	ansiReset  = "\x1b[0m"
	ansiBold   = "\x1b[1m"
	ansiRed    = "\x1b[31m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
	ansiCyan   = "\x1b[36m"
)

// paint wraps s in an ANSI code when colour is on.
func (o Options) paint(code, s string) string {
	if !o.Color || s == "" {
		return s
	}
	return code + s + ansiReset
}

func (o Options) bold(s string) string { return o.paint(ansiBold, s) }

// symbol colours an action symbol: + green, - red, ~ yellow, <= cyan; the
// two-part replace symbols get each part's colour. Padding is the caller's,
// so that it counts visible characters only.
func (o Options) symbol(sym string) string {
	if !o.Color {
		return sym
	}
	var b strings.Builder
	for _, part := range strings.SplitAfter(sym, "/") {
		core := strings.TrimSuffix(part, "/")
		switch core {
		case "+":
			b.WriteString(o.paint(ansiGreen, core))
		case "-":
			b.WriteString(o.paint(ansiRed, core))
		case "~":
			b.WriteString(o.paint(ansiYellow, core))
		case "<=":
			b.WriteString(o.paint(ansiCyan, core))
		default:
			b.WriteString(core)
		}
		if strings.HasSuffix(part, "/") {
			b.WriteString("/")
		}
	}
	return b.String()
}

// plural returns "1 attribute" / "2 attributes".
func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}

// Error is the "Error:" label that starts an error message, red and bold
// on a terminal.
func (o Options) Error() string { return o.paint(ansiBold+ansiRed, "Error:") }

// Bold makes s bold on a terminal.
func (o Options) Bold(s string) string { return o.bold(s) }
