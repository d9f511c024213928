// CircuitBreaker: per-upstream closed → open → half-open → closed state machine, after
// resilience4j's count-by-time CircuitBreaker.
//
// - closed: every call is permitted and its result lands in a sliding time window
//   (default 10 s in 10 buckets). Once the window holds at least `min_calls` calls and the
//   failure rate >= `failure_rate_percent` or the slow-call rate (duration >=
//   `slow_call_duration`) >= `slow_call_rate_percent`, the breaker opens.
// - open: every call is rejected at once with `retry_after` = the remaining open time.
//   After `open_duration` the next try_acquire() (or state()) moves it to half-open.
// - half-open: at most `half_open_probes` probe permits are handed out (in flight or
//   completed; a released probe gives its slot back). When that many probes have
//   succeeded, the breaker closes with an empty window; any failed (or slow, when the
//   slow-call trigger is on) probe reopens it for another `open_duration`.
//
// The caller decides what a failure is (the retry executor: connect errors, resets,
// timeouts, 5xx, 429 and fatal answers are failures; a vault 422 is a success).
//
//   auto permit = breaker.try_acquire();
//   if (!permit) return reply_503(permit.retry_after());
//   ... call the vault ...
//   breaker.record(permit, CallResult::failure(elapsed));   // or success(...), or release(permit)
//
// Every permitted call must end in exactly one record() or release() (release = the call
// was abandoned and says nothing about the vault); otherwise a half-open probe slot leaks.
// A permit recorded after the breaker has changed state (a call that straddled the
// transition) is ignored, so it cannot skew the new period.
//
// Thread-safe: one mutex guards the state; the transition observer runs outside it, in
// transition order, on the thread that caused the transition (or one already notifying).
// The observer may call state()/snapshot(); it must not throw. Time comes from the
// injected Clock; the breaker never starts timers (open → half-open happens lazily).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "resilience/sliding_window.h"

namespace tokenizer {

enum class BreakerState { closed, open, half_open };

// "closed", "open", "half_open": stable names for metrics, logs and /readyz.
const char* breaker_state_name(BreakerState state);

struct CircuitBreakerConfig {
  std::chrono::milliseconds window{10000};
  int window_buckets = 10;
  int min_calls = 20;
  int failure_rate_percent = 50;  // 1..100; 0 disables the failure-rate trigger
  std::chrono::milliseconds slow_call_duration{2000};
  int slow_call_rate_percent = 80;  // 1..100; 0 disables the slow-call trigger
  std::chrono::milliseconds open_duration{5000};
  int half_open_probes = 3;  // < 1 is treated as 1
};

struct CallResult {
  enum class Outcome { success, failure };
  Outcome outcome = Outcome::success;
  std::chrono::nanoseconds duration{0};

  static CallResult success(std::chrono::nanoseconds d) { return {Outcome::success, d}; }
  static CallResult failure(std::chrono::nanoseconds d) { return {Outcome::failure, d}; }
};

class CircuitBreaker {
 public:
  using State = BreakerState;
  using TransitionObserver = std::function<void(BreakerState from, BreakerState to)>;

  // The answer of try_acquire(): a permission to call (pass it back to record/release),
  // or a rejection with the time after which asking again makes sense.
  class Permit {
   public:
    Permit() = default;  // a rejected permit with no retry_after
    bool allowed() const { return allowed_; }
    explicit operator bool() const { return allowed_; }
    // Rejected in open state: the remaining open time (rounded up to the millisecond).
    // Rejected in half-open (all probes out): 0, meaning "soon".  Allowed: 0.
    std::chrono::milliseconds retry_after() const { return retry_after_; }
    // True when this permit is a half-open probe.
    bool probe() const { return probe_; }

   private:
    friend class CircuitBreaker;
    bool allowed_ = false;
    bool probe_ = false;
    std::uint64_t generation_ = 0;
    std::chrono::milliseconds retry_after_{0};
  };

  struct Snapshot {
    BreakerState state = BreakerState::closed;
    std::int64_t calls = 0;     // in the window (closed state)
    std::int64_t failures = 0;  // in the window
    std::int64_t slow_calls = 0;
    int probes_in_use = 0;    // half-open: probe permits handed out and not released
    int probe_successes = 0;  // half-open
    std::chrono::milliseconds open_remaining{0};  // open: time left before half-open
  };

  CircuitBreaker(std::string name, CircuitBreakerConfig config, const Clock& clock,
                 TransitionObserver observer = {});
  CircuitBreaker(const CircuitBreaker&) = delete;
  CircuitBreaker& operator=(const CircuitBreaker&) = delete;

  // Replaces the observer (for wiring telemetry after construction).
  void set_transition_observer(TransitionObserver observer);

  Permit try_acquire();
  void record(const Permit& permit, CallResult result);
  void release(const Permit& permit);

  // The current state; moves open → half-open first when the open time is over.
  BreakerState state();
  const char* state_name() { return breaker_state_name(state()); }
  Snapshot snapshot();

  const std::string& name() const { return name_; }
  const CircuitBreakerConfig& config() const { return config_; }

 private:
  using TimePoint = std::chrono::steady_clock::time_point;
  struct Counts {
    std::int64_t calls = 0;
    std::int64_t failures = 0;
    std::int64_t slow = 0;
    Counts& operator+=(const Counts& o) {
      calls += o.calls;
      failures += o.failures;
      slow += o.slow;
      return *this;
    }
  };

  void advance_locked(TimePoint now);  // open → half-open when due
  void transition_locked(BreakerState to, TimePoint now);
  bool should_open_locked(TimePoint now) const;
  bool is_slow(std::chrono::nanoseconds d) const;
  void notify();  // delivers queued transitions to the observer, outside mu_

  const std::string name_;
  CircuitBreakerConfig config_;
  const Clock& clock_;

  std::mutex mu_;
  BreakerState state_ = BreakerState::closed;
  std::uint64_t generation_ = 1;  // bumped on every transition
  SlidingWindow<Counts> window_;
  TimePoint opened_at_{};
  int probes_in_use_ = 0;
  int probe_successes_ = 0;
  TransitionObserver observer_;
  std::vector<std::pair<BreakerState, BreakerState>> pending_;
  bool notifying_ = false;
};

}  // namespace tokenizer
