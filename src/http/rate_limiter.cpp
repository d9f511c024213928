#include "http/rate_limiter.h"

#include <algorithm>
#include <cmath>
#include <functional>

namespace tokenizer {

KeyedRateLimiter::KeyedRateLimiter(const Clock& clock, double rate_per_second, double burst,
                                   std::size_t max_keys)
    : clock_(clock),
      rate_(rate_per_second),
      burst_(std::max(1.0, burst)),
      max_keys_per_shard_(std::max<std::size_t>(1, max_keys / kShards)) {}

void KeyedRateLimiter::refill(Bucket& b, std::chrono::steady_clock::time_point now) const {
  const double elapsed = std::chrono::duration<double>(now - b.updated).count();
  if (elapsed > 0) {
    b.tokens = std::min(burst_, b.tokens + elapsed * rate_);
    b.updated = now;
  }
}

std::optional<std::chrono::milliseconds> KeyedRateLimiter::take(const std::string& key,
                                                                bool consume) {
  const auto now = clock_.steady();
  Shard& shard = shards_[std::hash<std::string>{}(key) % kShards];
  std::lock_guard<std::mutex> lock(shard.mu);
  auto it = shard.buckets.find(key);
  if (it == shard.buckets.end()) {
    if (shard.buckets.size() >= max_keys_per_shard_) {
      // Forget full buckets first (they carry no state); else the stalest one.
      auto victim = shard.buckets.begin();
      for (auto i = shard.buckets.begin(); i != shard.buckets.end(); ++i) {
        refill(i->second, now);
        if (i->second.tokens >= burst_) {
          victim = i;
          break;
        }
        if (i->second.updated < victim->second.updated) victim = i;
      }
      shard.buckets.erase(victim);
    }
    it = shard.buckets.emplace(key, Bucket{burst_, now}).first;
  }
  Bucket& b = it->second;
  refill(b, now);
  if (b.tokens >= 1.0) {
    if (consume) b.tokens -= 1.0;
    return std::nullopt;
  }
  const double wait_s = (1.0 - b.tokens) / rate_;
  return std::chrono::milliseconds(static_cast<long long>(std::ceil(wait_s * 1000.0)));
}

std::optional<std::chrono::milliseconds> KeyedRateLimiter::try_acquire(const std::string& key) {
  return take(key, true);
}

std::optional<std::chrono::milliseconds> KeyedRateLimiter::check(const std::string& key) {
  return take(key, false);
}

std::size_t KeyedRateLimiter::size() const {
  std::size_t n = 0;
  for (const auto& s : shards_) {
    std::lock_guard<std::mutex> lock(s.mu);
    n += s.buckets.size();
  }
  return n;
}

}  // namespace tokenizer
