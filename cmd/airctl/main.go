// Command airctl is the control plane: it provisions the platform on GCP and
// deploys aird to it. The commands live in internal/command; this package
// only wires the real environment: streams, terminal detection, signals and
// the providers built into the binary.
package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/term"

	"github.com/airctl/airctl/internal/command"
	"github.com/airctl/airctl/provision"
	"github.com/airctl/airctl/provision/google"
	"github.com/airctl/airctl/provision/provider/builtin"
)

func main() {
	interrupts := notifyInterrupts()
	os.Exit(run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr, interrupts, nil))
}

// run runs airctl with the process environment. extra adds providers to
// the built-in ones: the hook through which tests add the test provider
// without the real binary shipping test resources.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, interrupts <-chan struct{}, extra map[string]provision.Factory) int {
	providers := builtinProviders()
	for name, f := range extra {
		providers[name] = f
	}
	return command.Run(ctx, args, command.Env{
		Stdin: stdin, Stdout: stdout, Stderr: stderr,
		Environ:    os.Environ(),
		StdinTTY:   isTerminal(stdin),
		StdoutTTY:  isTerminal(stdout),
		Providers:  providers,
		Interrupts: interrupts,
	})
}

// builtinProviders are the providers every airctl has: google, plus the
// terraform and random utility providers.
func builtinProviders() map[string]provision.Factory {
	out := map[string]provision.Factory{"google": google.New}
	for name, f := range builtin.Providers() {
		out[name] = provision.Factory(f)
	}
	return out
}

func isTerminal(s any) bool {
	f, ok := s.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// notifyInterrupts turns each SIGINT/SIGTERM into one value: the first
// stops airctl gracefully, the second aborts running operations. The
// channel is buffered so a signal is never lost while a command is busy.
func notifyInterrupts() <-chan struct{} {
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	out := make(chan struct{}, 4)
	go func() {
		for range sigs {
			select {
			case out <- struct{}{}:
			default: // two are already pending; that is an abort anyway
			}
		}
	}()
	return out
}
