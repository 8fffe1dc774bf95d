package deploy

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/airctl/airctl/deploy/release"
	"github.com/airctl/airctl/deploy/ssh"
)

// lockDir is the per-host deploy lock under the release root. mkdir is
// atomic on every file system, so exactly one deploy creates it; the
// holder's details are written inside. Like Kamal's, the lock has no TTL: a
// deploy that dies without cleaning up (power loss) leaves it, and the
// refusal message says how to clear it.
const lockDir = ".deploy.lock"

// ErrLocked is matched by a *LockedError.
var ErrLocked = errors.New("deploy lock held")

// LockInfo identifies a lock holder.
type LockInfo struct {
	Who     string    `json:"who"`
	Machine string    `json:"machine"` // where the deploy runs
	PID     int       `json:"pid"`
	Since   time.Time `json:"since"`
	Commit  string    `json:"commit,omitempty"`
	Token   string    `json:"token"` // lets the holder release only its own lock
}

func (l LockInfo) String() string {
	s := fmt.Sprintf("%s (pid %d on %s", l.Who, l.PID, l.Machine)
	if l.Commit != "" {
		s += ", commit " + l.Commit
	}
	if !l.Since.IsZero() {
		s += fmt.Sprintf(", since %s, %s ago", l.Since.UTC().Format(time.RFC3339), time.Since(l.Since).Round(time.Second))
	}
	return s + ")"
}

// LockedError is a refused deploy: another one holds the host's lock.
type LockedError struct {
	Host   string
	Holder LockInfo
}

func (e *LockedError) Is(target error) bool { return target == ErrLocked }

func (e *LockedError) Error() string {
	who := e.Holder.String()
	if e.Holder.Who == "" {
		who = "another deploy (its details are not written yet or were lost)"
	}
	return fmt.Sprintf("%s is being deployed by %s; wait for that deploy to finish, or if it died, rerun with --force-unlock", e.Host, who)
}

func newLockInfo(o Options) LockInfo {
	machine, _ := os.Hostname()
	token := make([]byte, 16)
	_, _ = rand.Read(token)
	return LockInfo{Who: o.Who, Machine: machine, PID: os.Getpid(), Since: o.Now().UTC(), Commit: o.Commit, Token: hex.EncodeToString(token)}
}

// lockScript creates the release root if needed and create holds
// (through sudo, owned by the login user; without create a missing root is
// answered "noroot"), takes the lock (removing a stale one first with
// force) and, holding it, prints the release state: one round trip.
func lockScript(o Options, root string, info LockInfo, force, create bool) string {
	q := ssh.Quote
	infoJSON, _ := json.Marshal(info)
	var b strings.Builder
	fmt.Fprintf(&b, "set -eu\nroot=%s\n", q(root))
	if create {
		fmt.Fprintf(&b, `[ -d "$root" ] || %s install -d -m 0755 -o "$(id -un)" -g "$(id -gn)" "$root"`+"\n", o.Sudo)
	} else {
		b.WriteString(`[ -d "$root" ] || { echo noroot; exit 0; }` + "\n")
	}
	b.WriteString(`cd "$root"` + "\nmkdir -p releases\n")
	if force {
		fmt.Fprintf(&b, "if [ -d %[1]s ]; then printf 'forced '; tr -d '\\n' < %[1]s/info 2>/dev/null || true; echo; rm -rf -- %[1]s; fi\n", lockDir)
	}
	fmt.Fprintf(&b, "if ! mkdir %[1]s 2>/dev/null; then echo locked; tr -d '\\n' < %[1]s/info 2>/dev/null || true; echo; exit 0; fi\n", lockDir)
	fmt.Fprintf(&b, "printf '%%s\\n' %s > %s/info\necho acquired\n", q(string(infoJSON)), lockDir)
	b.WriteString(release.StateScript(root))
	return b.String()
}

// errNoRoot is acquire's answer, when asked not to create the release
// root, for a host that has none.
var errNoRoot = errors.New("no release root")

// acquire takes the host's lock and reads its release state, creating the
// release root first if create holds (a deploy; a rollback needs an
// existing one and gets errNoRoot). forced is the holder a ForceUnlock
// removed, if any.
func acquire(ctx context.Context, c *ssh.Client, o Options, host, root string, info LockInfo, create bool) (st release.State, forced string, err error) {
	out, err := c.OutputInput(ctx, "sh -s", strings.NewReader(lockScript(o, root, info, o.ForceUnlock, create)))
	if err != nil {
		return st, "", fmt.Errorf("take the deploy lock in %s: %w", root, err)
	}
	if rest, ok := bytes.CutPrefix(out, []byte("forced ")); ok {
		line, after, _ := bytes.Cut(rest, []byte("\n"))
		forced, out = describeHolder(line), after
	}
	status, rest, _ := bytes.Cut(out, []byte("\n"))
	switch string(status) {
	case "acquired":
		st, err = release.ParseState(rest)
		return st, forced, err
	case "noroot":
		return st, forced, fmt.Errorf("%s: %w: nothing was ever deployed here", root, errNoRoot)
	case "locked":
		line, _, _ := bytes.Cut(rest, []byte("\n"))
		var holder LockInfo
		_ = json.Unmarshal(line, &holder) // an unreadable holder is reported as unknown
		return st, forced, &LockedError{Host: host, Holder: holder}
	default:
		return st, forced, fmt.Errorf("take the deploy lock in %s: unexpected answer %q", root, firstLine(out))
	}
}

func describeHolder(line []byte) string {
	var holder LockInfo
	if json.Unmarshal(line, &holder) != nil || holder.Who == "" {
		return "an unknown holder"
	}
	return holder.String()
}

func firstLine(b []byte) string {
	line, _, _ := bytes.Cut(b, []byte("\n"))
	return string(line)
}

// unlockScript removes the lock only if it is still ours: after a
// --force-unlock elsewhere it belongs to someone else.
func unlockScript(root string, info LockInfo) string {
	return fmt.Sprintf("if grep -qF %[1]s %[2]s/info 2>/dev/null; then rm -rf -- %[2]s; else echo 'the deploy lock was taken over by another deploy (force-unlock?); left in place' >&2; exit 5; fi\n",
		ssh.Quote(info.Token), ssh.Quote(root+"/"+lockDir))
}
