// RetryBudget: caps retries to a share of recent requests (Envoy's retry budget, counted
// over a sliding time window instead of Envoy's active-request gauge), so that an outage
// does not multiply the load on the vault.
//
// A retry is allowed while
//     retries in the window < max(min_retries, requests in the window * percent / 100)
// The floor lets a low-traffic instance still retry a transient failure. With the defaults
// (20 %, floor 10, 10 s window of 1 s buckets), 200 requests in 10 s may make at most 40
// retries: the vault sees at most 1.2x the client traffic.
//
//   RetryBudget budget({}, SystemClock::instance());
//   budget.record_request();                 // once per client request (RetryExecutor does it)
//   if (budget.try_acquire_retry()) { ... }  // once per retry; consumes a token when true
//
// Thread-safe (one mutex held for a few additions). Reads time from the injected Clock.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>

#include "common/clock.h"
#include "resilience/sliding_window.h"

namespace tokenizer {

struct RetryBudgetConfig {
  int percent = 20;      // retries allowed per 100 requests in the window (0..100+)
  int min_retries = 10;  // floor of allowed retries per window
  std::chrono::milliseconds window{10000};
  int window_buckets = 10;
};

class RetryBudget {
 public:
  RetryBudget(RetryBudgetConfig config, const Clock& clock);

  // Counts one client request (not one attempt).
  void record_request();

  // True, and counts a retry, when the budget has room; false otherwise.
  bool try_acquire_retry();

  struct Snapshot {
    std::int64_t requests = 0;  // in the window
    std::int64_t retries = 0;   // in the window
    std::int64_t allowed = 0;   // max(min_retries, requests * percent / 100)
  };
  Snapshot snapshot() const;

  const RetryBudgetConfig& config() const { return config_; }

 private:
  struct Counts {
    std::int64_t requests = 0;
    std::int64_t retries = 0;
    Counts& operator+=(const Counts& o) {
      requests += o.requests;
      retries += o.retries;
      return *this;
    }
  };
  Snapshot snapshot_locked(std::chrono::steady_clock::time_point now) const;

  RetryBudgetConfig config_;
  const Clock& clock_;
  mutable std::mutex mu_;
  SlidingWindow<Counts> window_;
};

}  // namespace tokenizer
