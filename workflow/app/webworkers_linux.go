package app

import "syscall"

// webWorkerProcAttr makes the kernel stop a worker whose supervisor died
// without stopping it (SIGKILL, OOM), so no orphan keeps serving an old
// version on the socket.
func webWorkerProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
