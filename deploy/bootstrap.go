package deploy

import (
	"fmt"
	"path"
	"strings"

	"github.com/airctl/airctl/deploy/release"
	"github.com/airctl/airctl/deploy/render"
	"github.com/airctl/airctl/deploy/ssh"
)

// bootstrapScript prepares a fresh host, idempotently: the service account,
// Redis (from the distribution, only if its config is absent), and the
// directories aird writes to. Runs as the login user; every privileged
// command goes through o.Sudo.
func bootstrapScript(o Options, h Host, s render.Settings) string {
	q, sudo := ssh.Quote, o.Sudo
	var b strings.Builder
	b.WriteString("set -eu\n")
	fmt.Fprintf(&b, "getent group %[1]s >/dev/null || %[2]s groupadd --system %[1]s\n", s.Group, sudo)
	fmt.Fprintf(&b, "id -u %[1]s >/dev/null 2>&1 || %[2]s useradd --system --gid %[3]s --home-dir %[4]s --no-create-home --shell /usr/sbin/nologin %[1]s\n",
		s.User, sudo, s.Group, q(s.StateDir))
	// A preinstalled redis-server (its redis.conf present) needs no apt,
	// so hosts without network access work when the image ships it. stdin
	// from /dev/null: with no terminal, debconf takes the defaults.
	fmt.Fprintf(&b, "[ -e %[1]s ] || { %[2]s apt-get -q update && %[2]s apt-get -q -y -o Dpkg::Options::=--force-confold install redis-server </dev/null; } || "+
		"{ echo 'airctl: %[1]s is missing and apt-get could not install redis-server: preinstall the redis-server package on hosts without network access' >&2; exit 1; }\n",
		q(h.path(o.RedisConf)), sudo)
	fmt.Fprintf(&b, "%s install -d -m 0750 -o %s -g %s %s %s\n", sudo, s.User, s.Group, q(h.path(s.StateDir)), q(h.path(s.LogDir)))
	fmt.Fprintf(&b, "%s install -d -m 0750 -o root -g %s %s\n", sudo, s.Group, q(h.path(s.ConfigDir)))
	return b.String()
}

// installScript copies the files of release m that live outside it
// (units, aird.hcl, aird.env, the Redis snippet) to their system paths with
// their owners and modes. Each goes to a temp name first and is renamed, so
// a service restarting meanwhile reads the old file or the new one, never a
// partial one. Finally redis.conf's last line is made the include of the
// snippet (see ensureIncludeScript).
func installScript(o Options, h Host, s render.Settings, root string, m *release.Manifest) string {
	q, sudo := ssh.Quote, o.Sudo
	var b strings.Builder
	b.WriteString("set -eu\n")
	rel := path.Join(root, "releases", m.Hash)
	dirs := map[string]bool{}
	for _, e := range m.Files {
		if e.Install == nil {
			continue
		}
		dst := h.path(e.Install.Path)
		if d := path.Dir(dst); !dirs[d] {
			dirs[d] = true
			fmt.Fprintf(&b, "[ -d %[1]s ] || %[2]s install -d -m 0755 %[1]s\n", q(d), sudo)
		}
		fmt.Fprintf(&b, "%s install -m %04o -o %s -g %s %s %s\n", sudo, uint32(e.Install.Mode.Perm()), q(e.Install.Owner), q(e.Install.Group),
			q(path.Join(rel, e.Path)), q(dst+".airctl-new"))
		fmt.Fprintf(&b, "%s mv -f -- %s %s\n", sudo, q(dst+".airctl-new"), q(dst))
	}
	b.WriteString(ensureIncludeScript(o, h, s))
	return b.String()
}

// ensureIncludeScript makes "include <snippet>" the last line of
// redis.conf: Redis applies directives in order, so only a trailing include
// overrides the distribution's defaults (see templates/redis.conf.tmpl). A
// package upgrade that replaces redis.conf drops the line; running this on
// every config install puts it back. redis.conf is usually readable by root
// and redis only, hence sudo for reading too.
func ensureIncludeScript(o Options, h Host, s render.Settings) string {
	q, sudo := ssh.Quote, o.Sudo
	conf := q(h.path(o.RedisConf))
	tmp := q(h.path(o.RedisConf) + ".airctl-new")
	line := q("include " + s.RedisConfPath)
	return fmt.Sprintf(`if [ "$(%[1]s tail -n 1 -- %[2]s)" != %[3]s ]; then
  %[1]s cp -p -- %[2]s %[4]s
  { %[1]s grep -vxF -- %[3]s %[2]s || true; printf '%%s\n' %[3]s; } | %[1]s tee -- %[4]s >/dev/null
  %[1]s mv -f -- %[4]s %[2]s
  echo redis-include-added
fi
`, sudo, conf, line, tmp)
}
