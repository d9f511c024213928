// make_idempotency_store: turns the `--idempotency-store` setting into an IdempotencyStore.
//
//   "memory"                  MemoryIdempotencyStore (bounded by max_entries; one process only)
//   "redis://host:port/db"    RedisIdempotencyStore (shared between instances; see redis_url.h)
// Anything else is Error{"invalid_idempotency_store"} naming the setting. No I/O happens here
// (a Redis that is down at start-up only makes keyed requests fail with 503 until it is back;
// construct RedisIdempotencyStore directly and call ping() to check it eagerly).
//
// Wiring sketch (main):
//   auto store = make_idempotency_store(cfg.idempotency_store, SystemClock::instance(),
//       IdempotencyTtls{cfg.idempotency_ttl, lock_ttl}, cfg.idempotency_max_entries);
//   auto key = make_fingerprint_key(cfg.idempotency_secret,
//                                   is_shared_idempotency_store(cfg.idempotency_store));
// with lock_ttl above the overall vault deadline (e.g. max(60 s, 2 x upstream_timeout)).
// Pure apart from allocation; thread-safe.
#pragma once

#include <cstddef>
#include <memory>
#include <string_view>

#include "common/clock.h"
#include "common/expected.h"
#include "idempotency/idempotency_store.h"

namespace tokenizer {

Expected<std::unique_ptr<IdempotencyStore>> make_idempotency_store(std::string_view spec,
                                                                   const Clock& clock,
                                                                   IdempotencyTtls ttls,
                                                                   std::size_t max_entries);

// True for a store shared between processes (redis://...), which needs a configured
// fingerprint secret.
bool is_shared_idempotency_store(std::string_view spec);

}  // namespace tokenizer
