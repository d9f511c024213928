#include "resilience/circuit_breaker.h"

#include <algorithm>

namespace tokenizer {

namespace {

std::chrono::milliseconds ceil_ms(std::chrono::nanoseconds d) {
  if (d <= std::chrono::nanoseconds(0)) return std::chrono::milliseconds(0);
  return std::chrono::ceil<std::chrono::milliseconds>(d);
}

}  // namespace

const char* breaker_state_name(BreakerState state) {
  switch (state) {
    case BreakerState::closed:
      return "closed";
    case BreakerState::open:
      return "open";
    case BreakerState::half_open:
      return "half_open";
  }
  return "unknown";
}

CircuitBreaker::CircuitBreaker(std::string name, CircuitBreakerConfig config, const Clock& clock,
                               TransitionObserver observer)
    : name_(std::move(name)),
      config_(config),
      clock_(clock),
      window_(config.window, config.window_buckets, clock.steady()),
      observer_(std::move(observer)) {
  config_.min_calls = std::max(config_.min_calls, 1);
  config_.half_open_probes = std::max(config_.half_open_probes, 1);
}

void CircuitBreaker::set_transition_observer(TransitionObserver observer) {
  std::lock_guard<std::mutex> lock(mu_);
  observer_ = std::move(observer);
}

CircuitBreaker::Permit CircuitBreaker::try_acquire() {
  Permit permit;
  {
    const TimePoint now = clock_.steady();
    std::lock_guard<std::mutex> lock(mu_);
    advance_locked(now);
    permit.generation_ = generation_;
    switch (state_) {
      case BreakerState::closed:
        permit.allowed_ = true;
        break;
      case BreakerState::open:
        permit.retry_after_ = ceil_ms(opened_at_ + config_.open_duration - now);
        break;
      case BreakerState::half_open:
        if (probes_in_use_ < config_.half_open_probes) {
          ++probes_in_use_;
          permit.allowed_ = true;
          permit.probe_ = true;
        }
        break;
    }
  }
  notify();
  return permit;
}

void CircuitBreaker::record(const Permit& permit, CallResult result) {
  if (!permit.allowed_) return;
  {
    const TimePoint now = clock_.steady();
    std::lock_guard<std::mutex> lock(mu_);
    if (permit.generation_ != generation_) return;  // straddled a transition: ignored
    const bool failure = result.outcome == CallResult::Outcome::failure;
    const bool slow = is_slow(result.duration);
    if (state_ == BreakerState::closed) {
      Counts& bucket = window_.at(now);
      bucket.calls += 1;
      bucket.failures += failure ? 1 : 0;
      bucket.slow += slow ? 1 : 0;
      if (should_open_locked(now)) transition_locked(BreakerState::open, now);
    } else if (state_ == BreakerState::half_open && permit.probe_) {
      if (failure || (slow && config_.slow_call_rate_percent > 0)) {
        transition_locked(BreakerState::open, now);
      } else if (++probe_successes_ >= config_.half_open_probes) {
        transition_locked(BreakerState::closed, now);
      }
    }
  }
  notify();
}

void CircuitBreaker::release(const Permit& permit) {
  if (!permit.allowed_ || !permit.probe_) return;
  std::lock_guard<std::mutex> lock(mu_);
  if (permit.generation_ == generation_ && state_ == BreakerState::half_open &&
      probes_in_use_ > 0) {
    --probes_in_use_;
  }
}

BreakerState CircuitBreaker::state() {
  BreakerState s;
  {
    const TimePoint now = clock_.steady();
    std::lock_guard<std::mutex> lock(mu_);
    advance_locked(now);
    s = state_;
  }
  notify();
  return s;
}

CircuitBreaker::Snapshot CircuitBreaker::snapshot() {
  Snapshot s;
  {
    const TimePoint now = clock_.steady();
    std::lock_guard<std::mutex> lock(mu_);
    advance_locked(now);
    s.state = state_;
    if (state_ == BreakerState::closed) {
      const Counts total = window_.total(now);
      s.calls = total.calls;
      s.failures = total.failures;
      s.slow_calls = total.slow;
    }
    if (state_ == BreakerState::half_open) {
      s.probes_in_use = probes_in_use_;
      s.probe_successes = probe_successes_;
    }
    if (state_ == BreakerState::open)
      s.open_remaining = ceil_ms(opened_at_ + config_.open_duration - now);
  }
  notify();
  return s;
}

void CircuitBreaker::advance_locked(TimePoint now) {
  if (state_ == BreakerState::open && now >= opened_at_ + config_.open_duration) {
    transition_locked(BreakerState::half_open, now);
  }
}

void CircuitBreaker::transition_locked(BreakerState to, TimePoint now) {
  pending_.emplace_back(state_, to);
  state_ = to;
  ++generation_;
  probes_in_use_ = 0;
  probe_successes_ = 0;
  if (to == BreakerState::open) opened_at_ = now;
  if (to == BreakerState::closed) window_.clear();
}

bool CircuitBreaker::should_open_locked(TimePoint now) const {
  const Counts total = window_.total(now);
  if (total.calls < config_.min_calls) return false;
  const bool failing = config_.failure_rate_percent > 0 &&
                       total.failures * 100 >= config_.failure_rate_percent * total.calls;
  const bool slow = config_.slow_call_rate_percent > 0 &&
                    total.slow * 100 >= config_.slow_call_rate_percent * total.calls;
  return failing || slow;
}

bool CircuitBreaker::is_slow(std::chrono::nanoseconds d) const {
  return d >= config_.slow_call_duration;
}

void CircuitBreaker::notify() {
  std::unique_lock<std::mutex> lock(mu_);
  if (notifying_ || pending_.empty()) return;
  notifying_ = true;
  while (!pending_.empty()) {
    std::vector<std::pair<BreakerState, BreakerState>> batch;
    batch.swap(pending_);
    TransitionObserver observer = observer_;
    lock.unlock();
    if (observer) {
      for (const auto& [from, to] : batch) observer(from, to);
    }
    lock.lock();
  }
  notifying_ = false;
}

}  // namespace tokenizer
