package queue

import "github.com/redis/go-redis/v9"

// Data layout under the hash-tagged prefix T = "{prefix}:" (one hash slot,
// so every script may touch all keys even on Redis Cluster):
//
//	T seq          INCR counter; message ids are its value as 16 hex digits
//	T q:<queue>    ZSET of waiting ids, score -priority; equal scores sort
//	               by member, and fixed-width ids make that arrival order
//	T m:<id>       HASH body (JSON Message), q, p, n (deliveries), tok
//	               (delivery token of the current holder, "0" when waiting),
//	               ti (its try field in T tis)
//	T leases       ZSET of held ids, score = lease expiry in ms (Redis TIME)
//	T tis          HASH try field (see tryField) → id of the message that
//	               asks for that try, until Ack; makes Push idempotent and
//	               lets the scheduler ask whether a message was lost
//	T wake         pub/sub channel: a queue name gained a waiting message
//	T done         pub/sub channel: a task instance finished, i.e. its
//	               message was acked (JSON TIKey)
//
// Invariant kept by every script: an id is in exactly one of its q:<queue>
// set (tok "0") or leases (tok = delivery count), until Ack deletes it.
//
// Expiries use Redis's clock (TIME inside the script), never a worker's, so
// clock skew between hosts cannot expire a lease early.

// pushScript: KEYS seq, q:<queue>, tis; ARGV msgPrefix, body, queue,
// priority, wake channel, try field. Returns the new id, or the id of the
// message already asking for that try (nothing is added then).
var pushScript = redis.NewScript(`
local have = redis.call('HGET', KEYS[3], ARGV[6])
if have then return have end
local id = string.format('%016x', redis.call('INCR', KEYS[1]))
redis.call('HSET', ARGV[1] .. id, 'body', ARGV[2], 'q', ARGV[3], 'p', ARGV[4], 'tok', '0', 'n', '0', 'ti', ARGV[6])
redis.call('HSET', KEYS[3], ARGV[6], id)
redis.call('ZADD', KEYS[2], -tonumber(ARGV[4]), id)
redis.call('PUBLISH', ARGV[5], ARGV[3])
return id
`)

// dequeueScript first returns up to ARGV[5] expired leases (of any queue) to
// their queues, then leases the best waiting message across KEYS[2..]: the
// lowest score (highest priority), ties broken by the lower id (older).
// KEYS leases, q:<queue>...; ARGV msgPrefix, lease ms, queuePrefix, wake
// channel, reclaim batch.
// Returns {1, id, body, token} or {0, ms until the next lease expires | -1}.
var dequeueScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[5]))
for _, id in ipairs(expired) do
  redis.call('ZREM', KEYS[1], id)
  local mk = ARGV[1] .. id
  local m = redis.call('HMGET', mk, 'q', 'p')
  if m[1] then
    redis.call('HSET', mk, 'tok', '0')
    redis.call('ZADD', ARGV[3] .. m[1], -tonumber(m[2]), id)
    redis.call('PUBLISH', ARGV[4], m[1])
  end
end
while true do
  local bestKey, bestId, bestScore = nil, nil, nil
  for i = 2, #KEYS do
    local head = redis.call('ZRANGE', KEYS[i], 0, 0, 'WITHSCORES')
    if head[1] then
      local s = tonumber(head[2])
      if not bestKey or s < bestScore or (s == bestScore and head[1] < bestId) then
        bestKey, bestId, bestScore = KEYS[i], head[1], s
      end
    end
  end
  if not bestKey then break end
  redis.call('ZREM', bestKey, bestId)
  local mk = ARGV[1] .. bestId
  local body = redis.call('HGET', mk, 'body')
  if body then
    local n = redis.call('HINCRBY', mk, 'n', 1)
    redis.call('HSET', mk, 'tok', n)
    redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), bestId)
    return {1, bestId, body, n}
  end
  -- an id without its hash cannot be delivered; dropping it keeps the
  -- queue from wedging on it
end
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if first[1] then
  return {0, math.max(tonumber(first[2]) - now, 0)}
end
return {0, -1}
`)

// ackScript deletes the message if the caller holds it, or if nobody does
// (the lease expired and it waits again: the caller has stored the outcome,
// so another run would only be skipped), and publishes the task instance on
// the done channel. A message already gone is acked. KEYS leases, tis;
// ARGV msgKey, id, token, queuePrefix, done channel, done payload. Returns
// 1, or 0 when another consumer holds it.
var ackScript = redis.NewScript(`
local m = redis.call('HMGET', ARGV[1], 'tok', 'q', 'ti')
if not m[1] then
  redis.call('ZREM', KEYS[1], ARGV[2])
  return 1
end
if m[1] ~= ARGV[3] and m[1] ~= '0' then return 0 end
redis.call('ZREM', KEYS[1], ARGV[2])
redis.call('ZREM', ARGV[4] .. m[2], ARGV[2])
redis.call('DEL', ARGV[1])
if m[3] and redis.call('HGET', KEYS[2], m[3]) == ARGV[2] then
  redis.call('HDEL', KEYS[2], m[3])
end
redis.call('PUBLISH', ARGV[5], ARGV[6])
return 1
`)

// extendScript pushes the caller's lease expiry to now + ARGV[4] ms. An
// expired lease nobody has reclaimed yet is still the caller's and revives.
// KEYS leases; ARGV msgKey, id, token, lease ms. Returns 1, or 0 if lost.
var extendScript = redis.NewScript(`
if redis.call('HGET', ARGV[1], 'tok') ~= ARGV[3] then return 0 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[4]), ARGV[2])
return 1
`)

// requeueScript puts a held message back at its original place (its id
// keeps its arrival order) and wakes waiting consumers. Already waiting or
// gone is success. KEYS leases; ARGV msgKey, id, token, queuePrefix, wake
// channel. Returns 1, or 0 when another consumer holds it.
var requeueScript = redis.NewScript(`
local m = redis.call('HMGET', ARGV[1], 'tok', 'q', 'p')
if not m[1] or m[1] == '0' then return 1 end
if m[1] ~= ARGV[3] then return 0 end
redis.call('ZREM', KEYS[1], ARGV[2])
redis.call('HSET', ARGV[1], 'tok', '0')
redis.call('ZADD', ARGV[4] .. m[2], -tonumber(m[3]), ARGV[2])
redis.call('PUBLISH', ARGV[5], m[2])
return 1
`)
