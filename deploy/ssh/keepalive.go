package ssh

import (
	"fmt"
	"time"
)

// keepalive sends keepalive@openssh.com every interval and declares the
// connection dead when one goes unanswered for max intervals. TCP alone
// can take many minutes to notice a vanished peer (a VM stopped, a NAT
// entry dropped); without this, a deploy would hang on it.
//
// OpenSSH answers the request with a failure reply, as it does not know it;
// any reply proves the peer alive.
func (c *Client) keepalive(interval time.Duration, max int) {
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-c.done:
			return
		case <-ticker.C:
		}
		if err := c.ping(interval * time.Duration(max)); err != nil {
			c.fail(fmt.Errorf("%w to %s: %w", ErrConnectionLost, c.cfg.Addr, err))
			return
		}
	}
}

// ping sends one keepalive and waits up to timeout for the reply.
func (c *Client) ping(timeout time.Duration) error {
	reply := make(chan error, 1)
	go func() {
		_, _, err := c.conn.SendRequest("keepalive@openssh.com", true, nil)
		reply <- err
	}()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case err := <-reply:
		if err != nil {
			return fmt.Errorf("keepalive: %w", err)
		}
		return nil
	case <-timer.C:
		return fmt.Errorf("no answer to keepalives for %s", timeout)
	case <-c.done:
		return nil
	}
}
