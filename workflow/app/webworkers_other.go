//go:build !linux

package app

import "syscall"

// webWorkerProcAttr: only Linux can tie a worker's life to its
// supervisor's.
func webWorkerProcAttr() *syscall.SysProcAttr { return nil }
