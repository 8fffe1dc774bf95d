package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis is a Queue shared by processes through a Redis server, with
// at-least-once delivery: a popped message stays in Redis under a lease
// until Ack; a lease that is neither acked nor extended expires and the
// message goes to the next consumer.
//
// Why sorted sets and Lua rather than Streams with consumer groups: task
// priorities are arbitrary integers (Airflow's priority_weight sums
// downstream weights), and a stream is FIFO only, so priorities would need a
// stream per value and a scan across them on every read. A waiting ZSET per
// queue ordered by (-priority, id) gives "highest priority first, FIFO
// within a priority" in one ZRANGE, and a Lua script makes pop-and-lease a
// single atomic step, so no crash window can lose a message between the
// two. Leases are a ZSET keyed by expiry, like asynq's; expired ones are
// moved back by the same script every consumer runs, so recovery needs no
// extra process. Blocking is a pub/sub wake-up plus a timer to the next
// lease expiry, not BLPOP: go-redis cannot interrupt a blocked BLPOP when
// ctx ends, and a wake token popped for an abandoned Pop would leave
// another waiter asleep until its next poll.
type Redis struct {
	client redis.UniversalClient
	opts   RedisOptions
	k      keys
	log    *slog.Logger

	ctx    context.Context // cancelled by Close; ends background loops
	cancel context.CancelFunc

	mu     sync.Mutex // guards closed and wg.Add against Close's wg.Wait
	closed bool
	wg     sync.WaitGroup

	wakerOnce sync.Once
	wake      broadcaster
	waiting   atomic.Int32 // Pops blocked right now (tests observe it)
}

// RedisOptions configure NewRedis. Zero values pick the defaults.
type RedisOptions struct {
	// Prefix namespaces every key (default "aird"). It becomes a hash tag,
	// "{aird}:…", so it must not contain braces.
	Prefix string
	// Lease is how long a popped message stays with its consumer without
	// Extend (default 30s). A dead worker's tasks return after it.
	Lease time.Duration
	// PollInterval caps how long a waiting Pop sleeps without a wake-up, so
	// a lost pub/sub message or a lease taken by another process is noticed
	// (default Lease/2, at most 5s). Redelivery after a crash takes at most
	// Lease + PollInterval.
	PollInterval time.Duration
	// Logger receives broker outage and recovery notes (default: discard).
	Logger *slog.Logger
}

// reclaimBatch bounds how many expired leases one pop moves back, so the
// script (which blocks Redis while it runs) stays short after a mass crash.
const reclaimBatch = 100

// NewRedis returns a queue on client. The caller keeps ownership of client:
// Close stops this queue, not the client.
func NewRedis(client redis.UniversalClient, opts RedisOptions) *Redis {
	if opts.Prefix == "" {
		opts.Prefix = "aird"
	}
	if opts.Lease <= 0 {
		opts.Lease = 30 * time.Second
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = min(max(opts.Lease/2, 10*time.Millisecond), 5*time.Second)
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Redis{client: client, opts: opts, k: newKeys(opts.Prefix), log: log, ctx: ctx, cancel: cancel, wake: newBroadcaster()}
}

// Push stores m in its named queue, unless a message for the same try of
// the same task instance is still there (waiting or leased): pushing is
// idempotent until that message is acked. An error means m may or may not
// be queued (the reply can be lost after Redis applied it); retrying is safe.
func (r *Redis) Push(ctx context.Context, m Message) error {
	if r.ctx.Err() != nil {
		return ErrClosed
	}
	body, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("queue: encode %v: %w", m.TIKey, err)
	}
	keys := []string{r.k.seq, r.k.queue(m.Queue), r.k.tis}
	if err := pushScript.Run(ctx, r.client, keys, r.k.msgPrefix, body, m.Queue, m.Priority, r.k.wake, tryField(m)).Err(); err != nil {
		return fmt.Errorf("queue: push %s/%s/%s try %d to redis: %w", m.DagID, m.RunID, m.TaskID, m.Try, err)
	}
	return nil
}

// Pop leases the highest-priority, oldest message across queues. While
// Redis is unreachable it retries with backoff until ctx ends or Close, so
// a worker waits out a broker outage instead of failing. If ctx's deadline
// cuts off a reply after Redis leased a message, that message is not lost:
// it returns to the queue when the lease expires.
func (r *Redis) Pop(ctx context.Context, queues []string) (Lease, error) {
	if len(queues) == 0 {
		return nil, errors.New("queue: Pop needs at least one queue name")
	}
	r.startWaker()
	keys := make([]string, 0, len(queues)+1)
	keys = append(keys, r.k.leases)
	for _, q := range queues {
		keys = append(keys, r.k.queue(q))
	}
	var (
		backoff = reconnectBackoff()
		failing bool
	)
	for {
		if r.ctx.Err() != nil {
			return nil, ErrClosed
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		// Taken before the script runs, so a push landing after the script
		// looked still wakes this Pop.
		wake := r.wake.wait()
		lease, next, err := r.dequeue(ctx, keys)
		var sleep time.Duration
		switch {
		case err == nil:
			if failing {
				r.log.Info("queue: redis reachable again", "queues", queues)
				failing = false
			}
			backoff = reconnectBackoff()
			if lease != nil {
				return lease, nil
			}
			sleep = r.opts.PollInterval
			if next >= 0 {
				sleep = min(sleep, max(next, time.Millisecond))
			}
		case r.ctx.Err() != nil:
			return nil, ErrClosed
		case ctx.Err() != nil:
			return nil, ctx.Err()
		default:
			if !failing {
				r.log.Warn("queue: redis unavailable, retrying pop", "queues", queues, "err", err)
				failing = true
			}
			sleep = nextWait(backoff)
		}
		if err := r.sleep(ctx, sleep, wake); err != nil {
			return nil, err
		}
	}
}

// sleep waits d, a wake-up, ctx or Close, whichever comes first.
func (r *Redis) sleep(ctx context.Context, d time.Duration, wake <-chan struct{}) error {
	r.waiting.Add(1)
	defer r.waiting.Add(-1)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-r.ctx.Done():
		return ErrClosed
	case <-wake:
	case <-t.C:
	}
	return nil
}

// dequeue runs one pop attempt: a lease, or nil and the time until the
// earliest lease expires (-1 if none is held).
func (r *Redis) dequeue(ctx context.Context, keys []string) (*RedisLease, time.Duration, error) {
	res, err := dequeueScript.Run(ctx, r.client, keys, r.k.msgPrefix, r.opts.Lease.Milliseconds(), r.k.queuePrefix, r.k.wake, reclaimBatch).Slice()
	if err != nil {
		return nil, 0, fmt.Errorf("queue: pop from redis: %w", err)
	}
	if len(res) < 2 {
		return nil, 0, fmt.Errorf("queue: pop from redis: unexpected reply %v", res)
	}
	if found, _ := res[0].(int64); found == 0 {
		next, _ := res[1].(int64)
		if next < 0 {
			return nil, -1, nil
		}
		return nil, time.Duration(next) * time.Millisecond, nil
	}
	if len(res) != 4 {
		return nil, 0, fmt.Errorf("queue: pop from redis: unexpected reply %v", res)
	}
	id, _ := res[1].(string)
	body, _ := res[2].(string)
	n, _ := res[3].(int64)
	l := &RedisLease{r: r, id: id, token: strconv.FormatInt(n, 10), deliveries: int(n)}
	if err := json.Unmarshal([]byte(body), &l.m); err != nil {
		// The message stays leased and comes back after the lease; a
		// corrupt body is a bug worth surfacing, not a reason to drop it.
		return nil, 0, fmt.Errorf("queue: decode message %s: %w", id, err)
	}
	return l, 0, nil
}

// Len counts the messages waiting (not leased) in the named queue.
func (r *Redis) Len(ctx context.Context, name string) (int, error) {
	n, err := r.client.ZCard(ctx, r.k.queue(name)).Result()
	if err != nil {
		return 0, fmt.Errorf("queue: length of %q: %w", name, err)
	}
	return int(n), nil
}

// Leased counts the messages held by consumers across all queues.
func (r *Redis) Leased(ctx context.Context) (int, error) {
	n, err := r.client.ZCard(ctx, r.k.leases).Result()
	if err != nil {
		return 0, fmt.Errorf("queue: count leases: %w", err)
	}
	return int(n), nil
}

// Close makes Push and Pop return ErrClosed and stops background loops.
// Leases already handed out keep working (Ack, Extend, Requeue), so a
// draining worker can still settle its running tasks.
func (r *Redis) Close() error {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	r.cancel()
	r.wg.Wait()
	return nil
}

// goBackground runs fn tracked by Close, unless the queue is closed.
func (r *Redis) goBackground(fn func()) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return false
	}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		fn()
	}()
	return true
}

type keys struct {
	seq, leases, wake, done, tis string
	msgPrefix, queuePrefix       string
}

func newKeys(prefix string) keys {
	t := "{" + prefix + "}:"
	return keys{
		seq: t + "seq", leases: t + "leases", wake: t + "wake", done: t + "done", tis: t + "tis",
		msgPrefix: t + "m:", queuePrefix: t + "q:",
	}
}

func (k keys) queue(name string) string { return k.queuePrefix + name }
