// SamplerLimiter: the token bucket that caps how many traces per second the sampling
// rules may keep (`DD_TRACE_RATE_LIMIT`, default 100), as dd-trace-cpp's limiter does.
//
// The bucket holds at most ceil(rate) tokens and refills continuously at `rate` tokens per
// second of the injected Clock's steady time; each kept trace takes one. `allow()` also
// reports the effective rate (allowed / asked, averaged over the current and the previous
// nine one-second windows), which the local root carries as `_dd.limit_psr`.
//
// Thread-safe (one mutex; allow() is a few arithmetic operations). The Clock must outlive it.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <mutex>

#include "common/clock.h"

namespace tokenizer {

class SamplerLimiter {
 public:
  struct Result {
    bool allowed = false;
    double effective_rate = 1.0;
  };

  SamplerLimiter(const Clock& clock, double per_second);

  Result allow();

 private:
  static constexpr std::size_t kPreviousWindows = 9;

  const Clock& clock_;
  const double per_second_;
  const double max_tokens_;
  std::mutex mutex_;
  double tokens_;
  std::chrono::steady_clock::time_point last_refill_;
  std::chrono::steady_clock::time_point window_start_;
  std::uint64_t window_allowed_ = 0;
  std::uint64_t window_asked_ = 0;
  std::array<double, kPreviousWindows> previous_rates_;  // most recent first
};

}  // namespace tokenizer
