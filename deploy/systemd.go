package deploy

import (
	"slices"
	"strings"

	"github.com/airctl/airctl/deploy/release"
	"github.com/airctl/airctl/deploy/ssh"
)

// restartOrder is the order services restart in: the scheduler first (it
// owns the schema the new release migrated), then workers one at a time
// (each drains gracefully within its unit's TimeoutStopSec, so the others
// keep working meanwhile), then the webserver's service — never its socket,
// which keeps the port open and queues connections while the service
// restarts — and flower last. Units not known here follow in list order.
func restartOrder(units []string) []string {
	rank := func(u string) int {
		switch {
		case strings.HasPrefix(u, "aird-scheduler"):
			return 0
		case strings.HasPrefix(u, "aird-worker@"):
			return 1
		case strings.HasPrefix(u, "aird-webserver"):
			return 2
		case strings.HasPrefix(u, "aird-flower"):
			return 3
		default:
			return 4
		}
	}
	var order []string
	for _, u := range units {
		if strings.HasSuffix(u, ".service") {
			order = append(order, u)
		}
	}
	slices.SortStableFunc(order, func(a, b string) int { return rank(a) - rank(b) })
	return order
}

// unitChanges lists units to enable and to disable when going from one
// release to another (from is nil on a first deploy: enable all).
func unitChanges(from, to *release.Manifest) (enable, disable []string) {
	var old []string
	if from != nil {
		old = from.Units
	}
	for _, u := range to.Units {
		if from == nil || !slices.Contains(old, u) {
			enable = append(enable, u)
		}
	}
	for _, u := range old {
		if !slices.Contains(to.Units, u) {
			disable = append(disable, u)
		}
	}
	return enable, disable
}

// fileChanged reports whether the release file installed at hostPath
// differs between two releases.
func fileChanged(from, to *release.Manifest, hostPath string) bool {
	find := func(m *release.Manifest) (release.Entry, bool) {
		if m == nil {
			return release.Entry{}, false
		}
		for _, e := range m.Files {
			if e.Install != nil && e.Install.Path == hostPath {
				return e, true
			}
		}
		return release.Entry{}, false
	}
	a, okA := find(from)
	b, okB := find(to)
	return okA != okB || a.SHA256 != b.SHA256 || a.Mode != b.Mode || (okA && *a.Install != *b.Install)
}

func systemctl(o Options, args ...string) string {
	return o.Systemctl + " " + ssh.Join(args...)
}
