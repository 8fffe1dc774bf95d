// Package e2e proves the whole mission on a real Debian 12 machine with
// systemd as PID 1 (the VM of ../shared/vm, booted by internal/testenv.VM):
// `airctl apply` provisions examples/gcp against gcpfake and deploys aird
// to the VM, then the test runs a DAG on the Redis worker, redeploys (no-op,
// DAG-only, new binary, a binary failing its health gate), rolls back,
// reboots the guest and destroys the stack. The test is behind the e2e
// build tag; `make e2e` runs it (see README.md here for how the guest
// reaches the database and the bucket).
package e2e
