// MemoryIdempotencyStore: the default IdempotencyStore, in this process's memory.
//
// Bounded: at most `max_entries` records (in flight + completed). Records are kept in write
// order (begin, then complete moves a record to the newest end); when full, expired records at
// the oldest end are dropped and, if still full, the oldest live record is evicted (counted in
// evictions()). Reads (replays) do not refresh a record. Time comes from the injected Clock (steady time for TTLs, wall time for
// StoredResponse::created), so tests drive expiry with a FakeClock. Expired records are dropped
// when touched or when they reach the eviction end.
//
// Records are spread over `shard_count` shards by hash of (scope, key), each with its own mutex
// and its own share of max_entries (so eviction order is per shard). Use shard_count = 1 for
// strict global oldest-first order. Does not share keys between processes: use the Redis store
// for several instances.
//
// Thread-safe. The Clock must outlive the store.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <vector>

#include "common/clock.h"
#include "idempotency/idempotency_store.h"

namespace tokenizer {

struct MemoryStoreOptions {
  IdempotencyTtls ttls;
  std::size_t max_entries = 100000;
  std::size_t shard_count = 16;
};

class MemoryIdempotencyStore final : public IdempotencyStore {
 public:
  explicit MemoryIdempotencyStore(const Clock& clock, MemoryStoreOptions options = {});
  ~MemoryIdempotencyStore() override;

  Expected<BeginResult> begin(std::string_view scope, std::string_view key,
                              std::string_view fingerprint) override;
  Expected<FinishResult> complete(const Reservation& reservation,
                                  const StoredResponse& response) override;
  Expected<FinishResult> abandon(const Reservation& reservation) override;

  // Records currently held (expired ones not yet dropped included).
  std::size_t size() const;
  // Live (unexpired) records evicted to make room, since construction.
  std::uint64_t evictions() const { return evictions_.load(std::memory_order_relaxed); }

 private:
  struct Shard;
  Shard& shard_for(const std::string& composite_key);

  const Clock& clock_;
  const MemoryStoreOptions options_;
  std::vector<std::unique_ptr<Shard>> shards_;
  std::atomic<std::uint64_t> evictions_{0};
};

}  // namespace tokenizer
