package queue

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// tryField names one try of one task instance in the T tis hash. NUL
// cannot occur in DAG, run or task IDs, so the fields are unambiguous.
func tryField(m Message) string {
	return strings.Join([]string{m.DagID, m.RunID, m.TaskID, strconv.Itoa(m.Try)}, "\x00")
}

// Holds reports, for each of ms, whether Redis still has a message for
// that try (waiting or leased), in one round trip. A message is gone once
// acked, or lost with Redis's data (a restart without persistence, a
// FLUSHALL): the scheduler pushes those again.
func (r *Redis) Holds(ctx context.Context, ms []Message) ([]bool, error) {
	if len(ms) == 0 {
		return nil, nil
	}
	fields := make([]string, len(ms))
	for i, m := range ms {
		fields[i] = tryField(m)
	}
	ids, err := r.client.HMGet(ctx, r.k.tis, fields...).Result()
	if err != nil {
		return nil, fmt.Errorf("queue: look up %d messages in redis: %w", len(ms), err)
	}
	held := make([]bool, len(ms))
	for i, id := range ids {
		held[i] = id != nil
	}
	return held, nil
}
