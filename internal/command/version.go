package command

import (
	"encoding/json"
	"fmt"
	"runtime"
	"sort"
)

const versionUsage = `Usage: airctl [global options] version [options]

  Shows the airctl version, the platform and the providers built in.

Options:
  -json      Print as JSON.
`

func runVersion(m *meta, args []string) int {
	asJSON := false
	if m.name != "" { // "airctl -version" comes without a flag set
		fs := m.flagSet()
		fs.BoolVar(&asJSON, "json", false, "print as JSON")
		if code, ok := m.parse(fs, args); !ok {
			return code
		}
	}
	providers := make([]string, 0, len(m.env.Providers))
	for name := range m.env.Providers {
		providers = append(providers, name)
	}
	sort.Strings(providers)
	platform := runtime.GOOS + "_" + runtime.GOARCH
	if asJSON {
		b, _ := json.MarshalIndent(map[string]any{"airctl_version": m.env.version(), "platform": platform, "providers": providers}, "", "  ")
		fmt.Fprintln(m.stdout, string(b))
		return exitOK
	}
	fmt.Fprintf(m.stdout, "airctl %s\non %s\n", m.env.version(), platform)
	for _, p := range providers {
		fmt.Fprintf(m.stdout, "+ provider %s (built in)\n", p)
	}
	return exitOK
}
