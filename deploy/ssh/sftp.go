package ssh

import (
	"fmt"

	"github.com/pkg/sftp"
)

// maxInflight bounds concurrent SFTP write requests per file: enough to
// keep a long fat link busy (64 × 32 KiB = 2 MiB in flight) where
// one-request-at-a-time would crawl at 32 KiB per round trip.
const maxInflight = 64

// SFTP returns the connection's SFTP session, opening it on first use; all
// callers share it (it multiplexes requests). It is closed with the client.
func (c *Client) SFTP() (*sftp.Client, error) {
	c.sftpMu.Lock()
	defer c.sftpMu.Unlock()
	if err := c.Err(); err != nil {
		return nil, err
	}
	if c.sftp != nil {
		return c.sftp, nil
	}
	s, err := sftp.NewClient(c.conn, sftp.UseConcurrentWrites(true), sftp.MaxConcurrentRequestsPerFile(maxInflight))
	if err != nil {
		return nil, fmt.Errorf("ssh %s: start SFTP (does sshd have `Subsystem sftp` configured?): %w", c.cfg.Addr, c.wrapErr(err))
	}
	c.sftp = s
	return s, nil
}
