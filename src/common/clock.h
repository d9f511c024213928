// Clock: the one source of time for every component that reasons about it (expiry
// checks, breaker windows, back-off, TTLs, rate limits, span timestamps).
//
// Production code holds a `const Clock&` (usually the process-wide SystemClock) and
// never calls std::chrono::*::now() itself, so unit tests drive time with a FakeClock
// (tests/fakes/fake_clock.h) and never sleep. Implementations are thread-safe.
#pragma once

#include <chrono>

namespace tokenizer {

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time: for timestamps shown to people and for card expiry.
  virtual std::chrono::system_clock::time_point wall() const = 0;
  // Monotonic time: for durations, deadlines, windows and TTLs.
  virtual std::chrono::steady_clock::time_point steady() const = 0;
};

class SystemClock final : public Clock {
 public:
  std::chrono::system_clock::time_point wall() const override {
    return std::chrono::system_clock::now();
  }
  std::chrono::steady_clock::time_point steady() const override {
    return std::chrono::steady_clock::now();
  }
  // The process-wide instance.
  static const SystemClock& instance() {
    static const SystemClock clock;
    return clock;
  }
};

}  // namespace tokenizer
