#include "resilience/retry_budget.h"

#include <algorithm>

namespace tokenizer {

RetryBudget::RetryBudget(RetryBudgetConfig config, const Clock& clock)
    : config_(config),
      clock_(clock),
      window_(config.window, config.window_buckets, clock.steady()) {
  config_.percent = std::max(config_.percent, 0);
  config_.min_retries = std::max(config_.min_retries, 0);
}

void RetryBudget::record_request() {
  const auto now = clock_.steady();
  std::lock_guard<std::mutex> lock(mu_);
  window_.at(now).requests += 1;
}

bool RetryBudget::try_acquire_retry() {
  const auto now = clock_.steady();
  std::lock_guard<std::mutex> lock(mu_);
  const Snapshot s = snapshot_locked(now);
  if (s.retries >= s.allowed) return false;
  window_.at(now).retries += 1;
  return true;
}

RetryBudget::Snapshot RetryBudget::snapshot() const {
  const auto now = clock_.steady();
  std::lock_guard<std::mutex> lock(mu_);
  return snapshot_locked(now);
}

RetryBudget::Snapshot RetryBudget::snapshot_locked(
    std::chrono::steady_clock::time_point now) const {
  const Counts total = window_.total(now);
  Snapshot s;
  s.requests = total.requests;
  s.retries = total.retries;
  s.allowed = std::max<std::int64_t>(config_.min_retries, total.requests * config_.percent / 100);
  return s;
}

}  // namespace tokenizer
