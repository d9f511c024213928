// FakeIdempotencyStore: an IdempotencyStore for handler tests, with public knobs.
//
// Real semantics (it wraps a MemoryIdempotencyStore driven by the test's Clock, so started /
// in_flight / replay / mismatch and TTLs behave as in production) plus:
//   - `unavailable = true` makes every call fail with Error{"idempotency_unavailable"}, as a
//     Redis outage would;
//   - counters and the list of completed responses, to assert what the handler stored and
//     whether it abandoned a reservation after a transient failure.
// Thread-safe (knobs and counters are atomics, the response list is mutex-protected).
// Link tk_idempotency.
#pragma once

#include <atomic>
#include <mutex>
#include <vector>

#include "common/clock.h"
#include "idempotency/idempotency_store.h"
#include "idempotency/memory_store.h"

namespace tokenizer::testing {

class FakeIdempotencyStore final : public IdempotencyStore {
 public:
  explicit FakeIdempotencyStore(const Clock& clock, IdempotencyTtls ttls = {})
      : real_(clock, MemoryStoreOptions{ttls, 10000, 1}) {}

  Expected<BeginResult> begin(std::string_view scope, std::string_view key,
                              std::string_view fingerprint) override {
    ++begins;
    if (unavailable) return down();
    return real_.begin(scope, key, fingerprint);
  }
  Expected<FinishResult> complete(const Reservation& reservation,
                                  const StoredResponse& response) override {
    ++completes;
    if (unavailable) return down();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      completed_.push_back(response);
    }
    return real_.complete(reservation, response);
  }
  Expected<FinishResult> abandon(const Reservation& reservation) override {
    ++abandons;
    if (unavailable) return down();
    return real_.abandon(reservation);
  }

  std::vector<StoredResponse> completed_responses() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return completed_;
  }

  // Knobs.
  std::atomic<bool> unavailable{false};
  // Observations (every call counts, failed ones included).
  std::atomic<int> begins{0};
  std::atomic<int> completes{0};
  std::atomic<int> abandons{0};

 private:
  static Error down() { return Error{kIdempotencyUnavailable, "fake store: unavailable"}; }

  MemoryIdempotencyStore real_;
  mutable std::mutex mutex_;
  std::vector<StoredResponse> completed_;
};

}  // namespace tokenizer::testing
