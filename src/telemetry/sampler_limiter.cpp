#include "telemetry/sampler_limiter.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace tokenizer {

SamplerLimiter::SamplerLimiter(const Clock& clock, double per_second)
    : clock_(clock),
      per_second_(std::max(per_second, 0.0)),
      max_tokens_(std::ceil(std::max(per_second, 0.0))),
      tokens_(max_tokens_),
      last_refill_(clock.steady()),
      window_start_(last_refill_) {
  previous_rates_.fill(1.0);
}

SamplerLimiter::Result SamplerLimiter::allow() {
  const auto now = clock_.steady();
  std::lock_guard<std::mutex> lock(mutex_);

  // Close the one-second windows that ended since the last call.
  const auto windows = std::chrono::duration_cast<std::chrono::seconds>(now - window_start_).count();
  if (windows > 0) {
    const double closed = window_asked_ > 0 ? static_cast<double>(window_allowed_) / window_asked_ : 1.0;
    const auto shift = static_cast<std::size_t>(std::min<long long>(windows, kPreviousWindows));
    std::move_backward(previous_rates_.begin(), previous_rates_.end() - shift, previous_rates_.end());
    std::fill(previous_rates_.begin(), previous_rates_.begin() + shift, 1.0);  // idle windows
    if (static_cast<std::size_t>(windows) <= kPreviousWindows) previous_rates_[shift - 1] = closed;
    window_start_ += std::chrono::seconds(windows);
    window_allowed_ = 0;
    window_asked_ = 0;
  }

  if (now > last_refill_) {
    const double elapsed = std::chrono::duration<double>(now - last_refill_).count();
    tokens_ = std::min(max_tokens_, tokens_ + elapsed * per_second_);
    last_refill_ = now;
  }

  Result result;
  ++window_asked_;
  if (tokens_ >= 1.0) {
    tokens_ -= 1.0;
    ++window_allowed_;
    result.allowed = true;
  }
  const double current = static_cast<double>(window_allowed_) / window_asked_;
  const double sum = std::accumulate(previous_rates_.begin(), previous_rates_.end(), 0.0) + current;
  result.effective_rate = sum / (kPreviousWindows + 1);
  return result;
}

}  // namespace tokenizer
