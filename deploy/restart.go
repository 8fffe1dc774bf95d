package deploy

import (
	"context"
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/airctl/airctl/deploy/release"
	"github.com/airctl/airctl/deploy/ssh"
)

// restart brings the services from release from (nil: none yet) to to:
// daemon-reload when units changed, enable/disable units that came or
// went, Redis when its config changed, the webserver socket only when its
// own unit changed, then every aird service in restartOrder. It returns the
// host's clock right after the scheduler restarted, which the health gate
// needs a heartbeat to postdate, and the units restarted.
func (r *hostRun) restart(ctx context.Context, c *ssh.Client, from, to *release.Manifest, first bool) (time.Time, []string, error) {
	s, o := r.d.settings, r.d.opts
	var restarted []string
	run := func(args ...string) error {
		if _, err := c.Output(ctx, systemctl(o, args...)); err != nil {
			return fmt.Errorf("systemctl %s: %w", strings.Join(args, " "), err)
		}
		return nil
	}
	if first || from.CategoryHash(release.Units) != to.CategoryHash(release.Units) {
		if err := run("daemon-reload"); err != nil {
			return time.Time{}, restarted, err
		}
	}
	enable, disable := unitChanges(from, to)
	if len(disable) > 0 {
		if err := run(append([]string{"disable", "--now"}, disable...)...); err != nil {
			return time.Time{}, restarted, err
		}
	}
	if len(enable) > 0 {
		if err := run(append([]string{"enable"}, enable...)...); err != nil {
			return time.Time{}, restarted, err
		}
	}
	if r.redisInclude || fileChanged(from, to, s.RedisConfPath) {
		if err := run("restart", s.RedisUnit); err != nil {
			return time.Time{}, restarted, err
		}
		restarted = append(restarted, s.RedisUnit)
	}
	for _, u := range to.Units {
		if !strings.HasSuffix(u, ".socket") {
			continue
		}
		// A socket restart closes the port for a moment: only when the
		// socket itself changed. Otherwise start is a no-op on a running
		// socket and repairs a stopped one.
		verb := "start"
		if fileChanged(from, to, path.Join(s.UnitDir, u)) {
			verb = "restart"
			restarted = append(restarted, u)
		}
		if err := run(verb, u); err != nil {
			return time.Time{}, restarted, err
		}
	}
	var since time.Time
	for _, u := range restartOrder(to.Units) {
		cmd := systemctl(o, "restart", u)
		if strings.HasPrefix(u, "aird-scheduler") {
			cmd += " && date +%s%N"
		}
		out, err := c.Output(ctx, cmd)
		if err != nil {
			return since, restarted, fmt.Errorf("systemctl restart %s: %w (see `journalctl -u %s` on the host)", u, err, u)
		}
		if ns, perr := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64); perr == nil {
			since = time.Unix(0, ns)
		}
		restarted = append(restarted, u)
		r.emit(StepRestart, StatusProgress, "restarted "+u, nil)
	}
	return since, restarted, nil
}
