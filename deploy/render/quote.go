package render

import (
	"fmt"
	"strings"
	"text/template"
	"time"
)

// funcs are the helpers templates may call. Quoting lives here, not in the
// templates, so a value can never break out of its string whatever it holds.
var funcs = template.FuncMap{
	"hcl":     hclString,
	"hclList": hclList,
	"seconds": seconds,
	"env":     envValue,
}

// hclString quotes s as an HCL string literal: escapes as in Go, plus
// template sequences ("${", "%{") doubled so HCL reads them literally.
func hclString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\r':
			b.WriteString(`\r`)
		case c == '\t':
			b.WriteString(`\t`)
		case c < 0x20 || c == 0x7f:
			fmt.Fprintf(&b, `\u%04x`, c)
		case (c == '$' || c == '%') && i+1 < len(s) && s[i+1] == '{':
			b.WriteByte(c)
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// hclList renders a list of strings as an HCL tuple.
func hclList(items []string) string {
	quoted := make([]string, len(items))
	for i, it := range items {
		quoted[i] = hclString(it)
	}
	return "[" + strings.Join(quoted, ", ") + "]"
}

// seconds renders a duration as "<n>s", which systemd (time spans) and Go's
// time.ParseDuration (aird.hcl) both read; Validate ensures whole seconds.
func seconds(d time.Duration) string {
	return fmt.Sprintf("%ds", d/time.Second)
}

// envValue reveals a secret for the env file, double-quoted. Inside double
// quotes systemd's EnvironmentFile parser (like sh) unescapes exactly
// \" \\ \` \$ and keeps everything else literal, so escaping those four
// round-trips any value without control characters (Validate refuses those).
func envValue(s Secret) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s.Reveal() {
		if strings.ContainsRune("\"\\`$", r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	b.WriteByte('"')
	return b.String()
}
