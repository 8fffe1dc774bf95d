// Package templates holds the text/template sources airctl renders onto a
// host: the systemd units that run aird's roles, the Redis snippet, aird.hcl
// and the secrets env file.
//
// They live in their own package, next to nothing else, so that a project can
// copy any one of them into its own templates/ directory, edit it, and have
// deploy/render pick the copy up by file name; the embedded files are the
// defaults and the reference for what such a copy must contain.
package templates

import "embed"

// FS holds every *.tmpl file of this directory; file names are the names
// deploy/render looks up and a project's override must use.
//
//go:embed *.tmpl
var FS embed.FS
