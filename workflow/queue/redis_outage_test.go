package queue

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/airctl/airctl/internal/testenv"
	"github.com/airctl/airctl/workflow/store"
)

// Waiting and leased messages survive a Redis restart (append-only file):
// a graceful stop or a crash.
func TestRedisRestartLosesNoMessage(t *testing.T) {
	for _, how := range []string{"stop", "kill"} {
		t.Run(how, func(t *testing.T) {
			srv := testenv.Redis(t)
			q := newRedisQueue(t, srv, RedisOptions{})
			const total = 20
			for i := range total {
				mustPush(t, q, msg(fmt.Sprintf("%02d", i), 1, "default"))
			}
			held := mustPop(t, q, "default")
			stop := srv.Stop
			if how == "kill" {
				stop = srv.Kill
			}
			if err := stop(); err != nil {
				t.Fatal(err)
			}
			if err := srv.Start(); err != nil {
				t.Fatal(err)
			}
			ctx := deadline(t, 10*time.Second)
			// The lease survived too: its holder can still settle it.
			if err := held.Ack(ctx); err != nil {
				t.Fatalf("Ack of a lease taken before the restart: %v", err)
			}
			for i := 1; i < total; i++ {
				l := mustPop(t, q, "default")
				if want := fmt.Sprintf("%02d", i); l.Message().TaskID != want {
					t.Fatalf("after restart popped %s, want %s", l.Message().TaskID, want)
				}
				if err := l.Ack(ctx); err != nil {
					t.Fatal(err)
				}
			}
			assertEmpty(t, q, "default")
		})
	}
}

// With Redis down, Push fails (the scheduler retries it later) and Pop
// waits; once Redis is back, Pop resumes and gets the next push.
func TestRedisOutagePushFailsPopWaits(t *testing.T) {
	srv := testenv.Redis(t)
	logs := make(logSink, 64)
	consumer := newRedisQueue(t, srv, RedisOptions{Logger: slog.New(logs)})
	producer := newRedisQueue(t, srv, RedisOptions{})
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := producer.Push(context.Background(), msg("lost", 1, "default")); err == nil {
		t.Fatal("Push with Redis down succeeded")
	} else {
		t.Logf("Push during outage: %v", err)
	}

	popped := make(chan Lease, 1)
	go func() {
		l, err := consumer.Pop(deadline(t, 30*time.Second), []string{"default"})
		if err != nil {
			t.Error(err)
		}
		popped <- l
	}()
	logs.waitFor(t, "redis unavailable")
	select {
	case l := <-popped:
		t.Fatalf("Pop returned %v during the outage", l)
	default:
	}

	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	mustPush(t, producer, msg("a", 1, "default"))
	select {
	case l := <-popped:
		if l == nil || l.Message().TaskID != "a" {
			t.Fatalf("Pop after the outage got %v", l)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Pop did not resume after Redis came back")
	}
	logs.waitFor(t, "reachable again")
}

// A completion subscriber survives a Redis restart and says it may have
// missed events (zero key) before carrying on.
func TestRedisSubscribeDoneSurvivesRestart(t *testing.T) {
	srv := testenv.Redis(t)
	scheduler := newRedisQueue(t, srv, RedisOptions{})
	worker := newRedisQueue(t, srv, RedisOptions{})
	ctx := deadline(t, 30*time.Second)
	done, err := scheduler.SubscribeDone(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	if got := <-done; got != (store.TIKey{}) {
		t.Fatalf("first event after a reconnect = %v, want the zero resync key", got)
	}
	want := store.TIKey{DagID: "d", RunID: "r", TaskID: "after"}
	ackOne(ctx, t, worker, want)
	if got := <-done; got != want {
		t.Fatalf("got %v, want %v", got, want)
	}
}
