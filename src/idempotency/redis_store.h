// RedisIdempotencyStore: IdempotencyStore shared by every `tokenizer` instance that points at the
// same Redis (`--idempotency-store redis://host:port/db`), through hiredis 0.14 from Debian.
//
// Atomicity: begin, complete and abandon are each one Lua script (EVALSHA, falling back to EVAL
// after a Redis restart flushed the script cache) over one hash per key, so check-and-reserve
// cannot interleave between instances. A reservation is written with PEXPIRE lock_ttl and a
// completed record with PEXPIRE record_ttl: expiry uses the Redis server's clock, not the
// injected Clock (which only stamps StoredResponse::created and times the reconnect back-off).
//
// Redis keys: `<key_prefix><hex sha256(scope)>:<hex sha256(key)>` (default prefix
// "tokenizer:idem:"), so client-controlled strings never shape Redis keys. Values: state,
// fingerprint, reservation token, status, body, created - no card data.
//
// BLOCKING: hiredis is used synchronously. Each call blocks the calling thread for at most
// about connect_timeout + command_timeout (default 100 ms each), or pool-wait + command_timeout
// when every connection is busy; host names are resolved with getaddrinfo (use an address or
// /etc/hosts to keep that bounded). Every failure (refused, timeout, reset, Redis error reply,
// all connections busy) is Error{"idempotency_unavailable"} - no hang and no retry inside the
// store: a command that timed out may still have run, and replaying a begin could report the
// caller's own reservation as in flight. One consequence to know: a begin that timed out after
// Redis applied it leaves a reservation until lock_ttl passes (retries see 409 until then).
// After a failed connect, new connections are not attempted for `reconnect_backoff` (failing
// at once instead), so an unreachable Redis costs one connect timeout per back-off period, not
// per request. Idle pooled connections closed by Redis (restart) are detected before use.
//
// Connections: a pool of at most `max_connections`, created on demand and reused; a connection
// that saw an I/O error is discarded. SIGPIPE from writing to a dead connection is suppressed
// for the calling thread (the process need not ignore it, though the service does).
//
// Thread-safe. The Clock must outlive the store. The constructor does no I/O: call ping() to
// check the address at start-up or for readiness.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "common/clock.h"
#include "idempotency/idempotency_store.h"
#include "idempotency/redis_url.h"

namespace tokenizer {

struct RedisStoreOptions {
  RedisUrl url;
  IdempotencyTtls ttls;
  std::chrono::milliseconds connect_timeout{100};
  std::chrono::milliseconds command_timeout{100};
  std::chrono::milliseconds reconnect_backoff{200};  // 0: try to connect on every call
  std::size_t max_connections = 16;
  std::string key_prefix = "tokenizer:idem:";
};

class RedisIdempotencyStore final : public IdempotencyStore {
 public:
  RedisIdempotencyStore(const Clock& clock, RedisStoreOptions options);
  ~RedisIdempotencyStore() override;
  RedisIdempotencyStore(const RedisIdempotencyStore&) = delete;
  RedisIdempotencyStore& operator=(const RedisIdempotencyStore&) = delete;

  Expected<BeginResult> begin(std::string_view scope, std::string_view key,
                              std::string_view fingerprint) override;
  Expected<FinishResult> complete(const Reservation& reservation,
                                  const StoredResponse& response) override;
  Expected<FinishResult> abandon(const Reservation& reservation) override;

  // PING through the pool: Ok when Redis answers within the timeouts.
  Expected<Ok> ping();

  // The Redis key that holds (scope, key) (for operators and tests).
  std::string redis_key(std::string_view scope, std::string_view key) const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tokenizer
