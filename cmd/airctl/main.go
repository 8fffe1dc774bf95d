// Command airctl is the control plane: it provisions the platform on GCP and
// deploys aird to it. Provisioning and deploy commands are added as the
// provision/ and deploy/ packages land; this build knows `version`.
package main

import (
	"fmt"
	"io"
	"os"

	"github.com/airctl/airctl/internal/version"
)

const usage = `Usage: airctl <command> [options]

Commands:
  version    Print the airctl version

airctl provisions an Airflow-style platform on Google Cloud from one HCL file
and deploys aird to it.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 1
	}
	switch args[0] {
	case "version", "-version", "--version":
		fmt.Fprintln(stdout, "airctl", version.Version)
		return 0
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "airctl: unknown command %q\n\n%s", args[0], usage)
		return 1
	}
}
