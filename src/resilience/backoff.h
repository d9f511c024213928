// Backoff: full-jitter exponential back-off (AWS Architecture Blog, "Exponential Backoff
// and Jitter"): the delay before retry number r (r = 1 before the second attempt) is drawn
// uniformly from [0, min(cap, base * 2^(r-1))).
//
//   Backoff backoff({std::chrono::milliseconds(25), std::chrono::milliseconds(1000)});
//   auto delay = backoff.delay(1, random);  // in [0, 25 ms)
//
// Full jitter spreads the retries of many clients that failed together over the whole
// interval, which is what keeps a recovering vault from being hit by synchronised waves.
// A plain value: immutable after construction, thread-safe when `random` is
// (SystemRandom is). Out-of-range settings are clamped (negative → 0, cap < base → base);
// the config module validates the flags.
#pragma once

#include <chrono>

#include "common/random.h"

namespace tokenizer {

struct BackoffConfig {
  std::chrono::milliseconds base{25};
  std::chrono::milliseconds cap{1000};
};

class Backoff {
 public:
  explicit Backoff(BackoffConfig config = {});

  // The upper bound of the delay before retry `retry` (1-based): min(cap, base * 2^(retry-1)).
  // retry < 1 is treated as 1.
  std::chrono::nanoseconds ceiling(int retry) const;

  // A delay drawn uniformly from [0, ceiling(retry)) with one draw from `random`.
  std::chrono::nanoseconds delay(int retry, Random& random) const;

  const BackoffConfig& config() const { return config_; }

 private:
  BackoffConfig config_;
};

}  // namespace tokenizer
