// Command aird is the data plane: scheduler, workers and (later) the web UI,
// as roles of one binary. This package only parses flags and wires.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	// DAG timezones must resolve on hosts without /usr/share/zoneinfo.
	_ "time/tzdata"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := newRoot().ExecuteContext(ctx)
	stop()
	if err != nil {
		var ec exitCode
		if asExitCode(err, &ec) {
			os.Exit(int(ec))
		}
		fmt.Fprintln(os.Stderr, "aird:", err)
		os.Exit(1)
	}
}
