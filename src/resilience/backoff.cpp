#include "resilience/backoff.h"

#include <algorithm>

namespace tokenizer {

Backoff::Backoff(BackoffConfig config) : config_(config) {
  config_.base = std::max(config_.base, std::chrono::milliseconds(0));
  config_.cap = std::max(config_.cap, config_.base);
}

std::chrono::nanoseconds Backoff::ceiling(int retry) const {
  const std::chrono::nanoseconds cap = config_.cap;
  std::chrono::nanoseconds bound = config_.base;
  // Doubling stops as soon as the cap is reached, so large retry numbers cannot overflow.
  for (int i = 1; i < retry && bound < cap && bound.count() > 0; ++i) bound *= 2;
  return std::min(bound, cap);
}

std::chrono::nanoseconds Backoff::delay(int retry, Random& random) const {
  const double bound = static_cast<double>(ceiling(retry).count());
  return std::chrono::nanoseconds(static_cast<std::int64_t>(random.next_unit() * bound));
}

}  // namespace tokenizer
