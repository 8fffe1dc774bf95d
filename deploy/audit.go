package deploy

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/airctl/airctl/deploy/release"
	"github.com/airctl/airctl/deploy/render"
	"github.com/airctl/airctl/deploy/ssh"
)

// auditFile is appended to, one JSON object per line, by every deploy that
// took the lock: what `airctl` and people read to learn who changed a host.
const auditFile = "audit.log"

// AuditRecord is one line of the audit log. It carries no secrets: errors
// are scrubbed of the deploy's secret values.
type AuditRecord struct {
	Time time.Time `json:"time"`
	Host string    `json:"host"`
	Who  string    `json:"who"`
	// Action is ActionRollback for a Rollback, "" for a deploy.
	Action   string             `json:"action,omitempty"`
	Commit   string             `json:"commit,omitempty"`
	Release  string             `json:"release"`
	Previous string             `json:"previous,omitempty"`
	Changed  []release.Category `json:"changed"`
	Result   Outcome            `json:"result"`
	Error    string             `json:"error,omitempty"`
}

// ActionRollback marks the audit records of Rollback: their Release is the
// release gone back to, Previous the one left.
const ActionRollback = "rollback"

func auditLine(r AuditRecord) string {
	if r.Changed == nil {
		r.Changed = []release.Category{}
	}
	b, _ := json.Marshal(r) // plain data: cannot fail
	return string(b)
}

// appendAuditScript appends line to the audit log. One write(2) of a short
// line with O_APPEND does not interleave with another writer's.
func appendAuditScript(root, line string) string {
	return fmt.Sprintf("printf '%%s\\n' %s >> %s\n", ssh.Quote(line), ssh.Quote(root+"/"+auditFile))
}

// secrets are the values that must not reach the audit log, progress
// output or returned errors (a failed migration may echo a DB URL).
type secrets []string

func (s secrets) scrubString(msg string) string {
	for _, v := range s {
		msg = strings.ReplaceAll(msg, v, render.Redacted)
	}
	return msg
}

// scrub returns err, or a plain error with secret values replaced if its
// text held any (the chain is dropped so unwrapping cannot bring them back).
func (s secrets) scrub(err error) error {
	if err == nil {
		return nil
	}
	msg := s.scrubString(err.Error())
	if msg == err.Error() {
		return err
	}
	return errors.New(msg)
}
