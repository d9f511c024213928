// KeyedRateLimiter: one token bucket per key (an authenticated client id, or a source
// address for failed logins), with an injected Clock.
//
// `try_acquire(key)` takes a token and returns nullopt when allowed, or how long until a
// token is available (for `Retry-After`). Buckets refill at `rate` tokens/s up to
// `burst`. Idle full buckets are forgotten, and the number of keys is bounded
// (`max_keys`; past it the stalest bucket is dropped) so hostile keys cannot grow memory.
// Thread-safe (sharded mutexes).
#pragma once

#include <array>
#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "common/clock.h"

namespace tokenizer {

class KeyedRateLimiter {
 public:
  KeyedRateLimiter(const Clock& clock, double rate_per_second, double burst,
                   std::size_t max_keys = 100000);

  // nullopt = allowed (a token was taken); otherwise the wait until one is available.
  std::optional<std::chrono::milliseconds> try_acquire(const std::string& key);
  // Like try_acquire but does not take a token: is the key currently throttled?
  std::optional<std::chrono::milliseconds> check(const std::string& key);

  std::size_t size() const;

 private:
  struct Bucket {
    double tokens = 0;
    std::chrono::steady_clock::time_point updated;
  };
  struct Shard {
    mutable std::mutex mu;
    std::unordered_map<std::string, Bucket> buckets;
  };
  static constexpr std::size_t kShards = 16;

  std::optional<std::chrono::milliseconds> take(const std::string& key, bool consume);
  void refill(Bucket& b, std::chrono::steady_clock::time_point now) const;

  const Clock& clock_;
  double rate_;
  double burst_;
  std::size_t max_keys_per_shard_;
  std::array<Shard, kShards> shards_;
};

}  // namespace tokenizer
