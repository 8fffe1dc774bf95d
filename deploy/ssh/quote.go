package ssh

import (
	"regexp"
	"strings"
)

// safeWord needs no quoting in a POSIX shell.
var safeWord = regexp.MustCompile(`^[A-Za-z0-9_@%+=:,./-]+$`)

// Quote makes s one literal word for a POSIX shell: as is when it holds
// only safe characters, otherwise single-quoted, each embedded single
// quote written as quote, backslash-quote, quote.
func Quote(s string) string { return shellQuote(s) }

func shellQuote(s string) string {
	if safeWord.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Join quotes each argument and joins them into one command line.
func Join(args ...string) string {
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = shellQuote(a)
	}
	return strings.Join(quoted, " ")
}
