// SlidingWindow<Bucket>: a time window split into equal buckets (a ring), the shared
// building block of the retry budget and the circuit breaker.
//
// The window covers the bucket that holds `now` plus the (buckets - 1) before it, so
// events leave the window with bucket granularity (10 s split into 10 buckets: an
// event leaves between 9 and 10 s after it was added). `Bucket` is a default-constructible
// value with `operator+=` (a struct of counters).
//
//   SlidingWindow<Counts> w(std::chrono::seconds(10), 10, clock.steady());
//   w.at(clock.steady()).calls += 1;
//   Counts c = w.total(clock.steady());
//
// Not thread-safe: the owner serialises access (RetryBudget and CircuitBreaker hold a
// mutex). Time before `origin` counts as the origin's bucket.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <vector>

namespace tokenizer {

template <typename Bucket>
class SlidingWindow {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  SlidingWindow(std::chrono::nanoseconds window, int buckets, TimePoint origin)
      : slots_(static_cast<std::size_t>(std::max(buckets, 1))),
        width_ns_(
            std::max<std::int64_t>(1, window.count() / static_cast<std::int64_t>(slots_.size()))),
        origin_(origin) {}

  // The bucket that holds `now`, emptied first if it last held an older period.
  Bucket& at(TimePoint now) {
    const std::int64_t epoch = epoch_of(now);
    Slot& slot = slots_[static_cast<std::size_t>(epoch % size())];
    if (slot.epoch != epoch) {
      slot.epoch = epoch;
      slot.value = Bucket{};
    }
    return slot.value;
  }

  // The sum of every bucket still inside the window at `now`.
  Bucket total(TimePoint now) const {
    const std::int64_t epoch = epoch_of(now);
    Bucket sum{};
    for (const Slot& slot : slots_) {
      if (slot.epoch >= 0 && slot.epoch <= epoch && slot.epoch > epoch - size()) sum += slot.value;
    }
    return sum;
  }

  // Forgets every event.
  void clear() {
    for (Slot& slot : slots_) slot = Slot{};
  }

 private:
  struct Slot {
    std::int64_t epoch = -1;
    Bucket value{};
  };

  std::int64_t size() const { return static_cast<std::int64_t>(slots_.size()); }
  std::int64_t epoch_of(TimePoint now) const {
    const auto since = std::chrono::duration_cast<std::chrono::nanoseconds>(now - origin_).count();
    return since <= 0 ? 0 : since / width_ns_;
  }

  std::vector<Slot> slots_;
  std::int64_t width_ns_;
  TimePoint origin_;
};

}  // namespace tokenizer
