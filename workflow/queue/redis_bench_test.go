package queue

import (
	"context"
	"testing"

	"github.com/airctl/airctl/internal/testenv"
)

// fsync=always is testenv's (and the durable) setting: every push, pop and
// ack waits for the disk, so it measures the disk as much as the broker.
// fsync=everysec (Redis's default for AOF) shows the broker's own cost.
func BenchmarkRedisPushPopAck(b *testing.B) {
	srv := testenv.Redis(b)
	for _, fsync := range []string{"always", "everysec"} {
		b.Run("fsync="+fsync, func(b *testing.B) {
			c := newClient(b, srv)
			if err := c.ConfigSet(context.Background(), "appendfsync", fsync).Err(); err != nil {
				b.Fatal(err)
			}
			q := NewRedis(c, RedisOptions{Prefix: "bench-" + fsync})
			defer q.Close()
			benchPushPopAck(b, q)
		})
	}
}

func BenchmarkLocalPushPopAck(b *testing.B) {
	benchPushPopAck(b, NewLocal())
}

func benchPushPopAck(b *testing.B, q Queue) {
	ctx := context.Background()
	m := msg("t", 1, "default")
	queues := []string{"default"}
	for b.Loop() {
		if err := q.Push(ctx, m); err != nil {
			b.Fatal(err)
		}
		l, err := q.Pop(ctx, queues)
		if err != nil {
			b.Fatal(err)
		}
		if err := l.Ack(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
