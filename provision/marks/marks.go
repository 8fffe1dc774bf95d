// Package marks defines the cty marks shared by the configuration loader,
// the engine and state, so a value marked sensitive by one is recognised
// by all of them.
package marks

import "github.com/zclconf/go-cty/cty"

// Mark is the type of airctl's cty marks.
type Mark string

// Sensitive marks values that must be redacted in plans, output and logs.
const Sensitive Mark = "sensitive"

// Contains reports whether v or any value nested in it is sensitive.
func Contains(v cty.Value) bool {
	_, pvms := v.UnmarkDeepWithPaths()
	for _, pvm := range pvms {
		if _, ok := pvm.Marks[Sensitive]; ok {
			return true
		}
	}
	return false
}
