// FakeClock: a Clock whose time only moves when a test says so.
#pragma once

#include <atomic>
#include <chrono>

#include "common/clock.h"

namespace tokenizer::testing {

class FakeClock final : public Clock {
 public:
  // Starts at 2026-11-23T10:00:00Z wall time, and an arbitrary steady origin.
  FakeClock() : wall_ns_(1795428000LL * 1000000000LL), steady_ns_(1000000000LL) {}

  std::chrono::system_clock::time_point wall() const override {
    return std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(
            std::chrono::nanoseconds(wall_ns_.load())));
  }
  std::chrono::steady_clock::time_point steady() const override {
    return std::chrono::steady_clock::time_point(std::chrono::nanoseconds(steady_ns_.load()));
  }

  // Moves both clocks forward.
  template <typename Rep, typename Period>
  void advance(std::chrono::duration<Rep, Period> d) {
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
    wall_ns_ += ns;
    steady_ns_ += ns;
  }
  // Sets wall time (steady time is unaffected).
  void set_wall(std::chrono::system_clock::time_point t) {
    wall_ns_ = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  }

 private:
  std::atomic<long long> wall_ns_;
  std::atomic<long long> steady_ns_;
};

}  // namespace tokenizer::testing
