// StoreHarness (tests only): one IdempotencyStore implementation plus the means to make its
// records age, so the contract tests in test_store_contract.cpp run unchanged against every
// implementation.
//   - memory: a FakeClock drives expiry for real;
//   - redis:  a real redis-server (redis_server.h); Redis expires keys by its own clock, so
//             the harness checks the PTTL the store set and then expires the key (PEXPIRE 0),
//             which is what Redis does when that time has passed.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "fake_clock.h"
#include "idempotency/idempotency_store.h"

namespace tokenizer::testing {

class StoreHarness {
 public:
  virtual ~StoreHarness() = default;
  virtual IdempotencyStore& store() = 0;
  // A second store as a second service instance would build it (same settings).
  virtual std::unique_ptr<IdempotencyStore> another_instance() = 0;
  // Whether instances share records (Redis) or each has its own (memory).
  virtual bool shared_between_instances() const = 0;
  // Asserts the record for (scope, key), written just now with `ttl`, is still alive when
  // `ttl` has almost passed (memory: advances the clock to 1 ms before it).
  virtual void age_to_just_before(const std::string& scope, const std::string& key,
                                  std::chrono::milliseconds ttl) = 0;
  // Lets the remaining lifetime pass (call after age_to_just_before).
  virtual void age_past(const std::string& scope, const std::string& key) = 0;
  // Non-empty: the backend is not installed here and the test is skipped (no redis-server).
  virtual std::string skip_reason() const { return {}; }
  // Non-empty: the backend is installed but failed to start; the test fails.
  virtual std::string setup_error() const { return {}; }

  FakeClock clock;
  IdempotencyTtls ttls{std::chrono::hours(1), std::chrono::seconds(30)};
};

std::unique_ptr<StoreHarness> make_memory_harness();
std::unique_ptr<StoreHarness> make_redis_harness();

}  // namespace tokenizer::testing
