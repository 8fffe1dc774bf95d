// Command gcpfake serves the in-process GCP fake (internal/gcpfake) on a
// port, for running airctl against it by hand or from scripts:
//
//	gcpfake -addr 127.0.0.1:0 [-external-ip 127.0.0.1] [-state FILE]
//	        [-profile fast|realistic|instant] [-fault-rate 0.2]
//
// It prints one line of shell exports pointing the google provider and the
// GCS state backend at it, then serves until SIGINT or SIGTERM.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/airctl/airctl/internal/gcpfake"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "gcpfake:", err)
		os.Exit(1)
	}
}

// run parses flags, serves the fake and prints the exports; it returns
// when ctx is done and the fake has been closed (state file written).
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("gcpfake", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:0", "listen address (port 0 picks a free one)")
	externalIP := fs.String("external-ip", "127.0.0.1", "natIP given to new instances")
	sqlIP := fs.String("sql-ip", "127.0.0.1", "IP address reported for new Cloud SQL instances")
	state := fs.String("state", "", "state file: loaded at start, rewritten after every change")
	profile := fs.String("profile", "fast", "operation latency: fast, realistic (real GCP durations compressed 60x) or instant")
	scale := fs.Float64("latency-scale", 1, "multiply every operation latency by this factor")
	faultRate := fs.Float64("fault-rate", 0, "fraction of requests answered with a random 429/500/503")
	seed := fs.Int64("seed", 0, "seed for random faults")
	projects := fs.String("projects", "", "comma-separated projects to accept (default: any)")
	verbose := fs.Bool("v", false, "log every request to stderr")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	latency, err := latencyProfile(*profile)
	if err != nil {
		return err
	}
	opts := gcpfake.Options{
		ExternalIP: *externalIP, SQLIP: *sqlIP, StateFile: *state,
		Latency: latency.Scaled(*scale), FaultRate: *faultRate, Seed: *seed,
	}
	if *projects != "" {
		opts.Projects = strings.Split(*projects, ",")
	}
	logger := log.New(stderr, "", log.LstdFlags)
	if *verbose {
		opts.Logf = logger.Printf
	}
	s, err := gcpfake.Open(opts)
	if err != nil {
		return err
	}
	srv, err := s.Listen(*addr)
	if err != nil {
		s.Close()
		return err
	}
	fmt.Fprintf(stdout, "export %s\n", strings.Join(srv.Endpoints().Env(), " "))
	logger.Printf("gcpfake serving on %s (profile %s, fault rate %g)", srv.URL, *profile, *faultRate)
	<-ctx.Done()
	logger.Printf("gcpfake shutting down")
	return srv.Close()
}

func latencyProfile(name string) (*gcpfake.Latency, error) {
	switch name {
	case "fast":
		return gcpfake.FastLatency(), nil
	case "realistic":
		return gcpfake.RealisticLatency(), nil
	case "instant":
		return gcpfake.InstantLatency(), nil
	}
	return nil, fmt.Errorf("unknown -profile %q (want fast, realistic or instant)", name)
}
