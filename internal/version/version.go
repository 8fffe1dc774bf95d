// Package version holds the build version, set by the Makefile's -ldflags.
package version

// Version is overwritten at link time; "dev" marks a plain `go build`.
var Version = "dev"
