#include "idempotency/memory_store.h"

#include <algorithm>
#include <functional>
#include <list>
#include <mutex>
#include <unordered_map>

#include "common/random.h"

namespace tokenizer {

namespace {

using SteadyTime = std::chrono::steady_clock::time_point;

struct Entry {
  std::string fingerprint;
  std::string token;                       // holder of the reservation, while in flight
  std::optional<StoredResponse> response;  // set once completed
  SteadyTime expires;
  std::list<const std::string*>::iterator position;  // in Shard::order
};

// Length-prefixed so ("ab", "c") and ("a", "bc") differ.
std::string composite(std::string_view scope, std::string_view key) {
  std::string out = std::to_string(scope.size());
  out.push_back(':');
  out.append(scope);
  out.append(key);
  return out;
}

}  // namespace

struct MemoryIdempotencyStore::Shard {
  std::mutex mutex;
  std::size_t capacity = 1;
  std::unordered_map<std::string, Entry> entries;
  std::list<const std::string*> order;  // front: most recently written; points at map keys

  using Iterator = std::unordered_map<std::string, Entry>::iterator;

  void erase(Iterator it) {
    order.erase(it->second.position);
    entries.erase(it);
  }

  // The live entry for `k`, dropping it if it has expired.
  Iterator find_live(const std::string& k, SteadyTime now) {
    auto it = entries.find(k);
    if (it != entries.end() && it->second.expires <= now) {
      erase(it);
      return entries.end();
    }
    return it;
  }

  void touch(Iterator it) { order.splice(order.begin(), order, it->second.position); }

  // Drops expired entries from the old end and, while full, the oldest live ones too, so one
  // more entry fits. Returns how many live entries were evicted.
  std::uint64_t make_room(SteadyTime now) {
    std::uint64_t evicted = 0;
    while (!order.empty()) {
      auto it = entries.find(*order.back());
      const bool expired = it->second.expires <= now;
      if (!expired && entries.size() < capacity) break;
      if (!expired) ++evicted;
      erase(it);
    }
    return evicted;
  }

  Iterator insert(const std::string& k, Entry entry, SteadyTime now,
                  std::atomic<std::uint64_t>& evictions) {
    evictions.fetch_add(make_room(now), std::memory_order_relaxed);
    auto [it, inserted] = entries.emplace(k, std::move(entry));
    (void)inserted;
    order.push_front(&it->first);
    it->second.position = order.begin();
    return it;
  }
};

MemoryIdempotencyStore::MemoryIdempotencyStore(const Clock& clock, MemoryStoreOptions options)
    : clock_(clock), options_(options) {
  const std::size_t shards = std::max<std::size_t>(1, options_.shard_count);
  const std::size_t max_entries = std::max<std::size_t>(1, options_.max_entries);
  // Never more shards than entries, so every shard can hold at least one record and the
  // total never exceeds max_entries.
  const std::size_t count = std::min(shards, max_entries);
  for (std::size_t i = 0; i < count; ++i) {
    auto shard = std::make_unique<Shard>();
    shard->capacity = max_entries / count;
    shards_.push_back(std::move(shard));
  }
}

MemoryIdempotencyStore::~MemoryIdempotencyStore() = default;

MemoryIdempotencyStore::Shard& MemoryIdempotencyStore::shard_for(const std::string& k) {
  return *shards_[std::hash<std::string>{}(k) % shards_.size()];
}

Expected<BeginResult> MemoryIdempotencyStore::begin(std::string_view scope, std::string_view key,
                                                    std::string_view fingerprint) {
  const std::string k = composite(scope, key);
  Shard& shard = shard_for(k);
  std::lock_guard<std::mutex> lock(shard.mutex);
  const SteadyTime now = clock_.steady();
  auto it = shard.find_live(k, now);
  BeginResult result;
  if (it == shard.entries.end()) {
    Entry entry;
    entry.fingerprint = std::string(fingerprint);
    entry.token = secure_random_hex(16);
    entry.expires = now + options_.ttls.lock_ttl;
    result.kind = BeginResult::Kind::started;
    result.reservation =
        Reservation{std::string(scope), std::string(key), entry.fingerprint, entry.token};
    shard.insert(k, std::move(entry), now, evictions_);
    return result;
  }
  const Entry& entry = it->second;
  if (entry.fingerprint != fingerprint) {
    result.kind = BeginResult::Kind::mismatch;
  } else if (!entry.response) {
    result.kind = BeginResult::Kind::in_flight;
  } else {
    result.kind = BeginResult::Kind::replay;
    result.response = entry.response;
  }
  return result;
}

Expected<FinishResult> MemoryIdempotencyStore::complete(const Reservation& reservation,
                                                        const StoredResponse& response) {
  const std::string k = composite(reservation.scope, reservation.key);
  Shard& shard = shard_for(k);
  std::lock_guard<std::mutex> lock(shard.mutex);
  const SteadyTime now = clock_.steady();
  auto it = shard.find_live(k, now);
  if (it == shard.entries.end()) {
    // Our reservation expired or was evicted, and nobody took the key: still the first outcome.
    Entry entry;
    entry.fingerprint = reservation.fingerprint;
    entry.response = response;
    entry.expires = now + options_.ttls.record_ttl;
    shard.insert(k, std::move(entry), now, evictions_);
    return FinishResult::applied;
  }
  Entry& entry = it->second;
  if (entry.response || entry.token != reservation.token) return FinishResult::reservation_lost;
  entry.token.clear();
  entry.response = response;
  entry.expires = now + options_.ttls.record_ttl;
  shard.touch(it);
  return FinishResult::applied;
}

Expected<FinishResult> MemoryIdempotencyStore::abandon(const Reservation& reservation) {
  const std::string k = composite(reservation.scope, reservation.key);
  Shard& shard = shard_for(k);
  std::lock_guard<std::mutex> lock(shard.mutex);
  auto it = shard.find_live(k, clock_.steady());
  if (it == shard.entries.end() || it->second.response || it->second.token != reservation.token) {
    return FinishResult::reservation_lost;
  }
  shard.erase(it);
  return FinishResult::applied;
}

std::size_t MemoryIdempotencyStore::size() const {
  std::size_t total = 0;
  for (const auto& shard : shards_) {
    std::lock_guard<std::mutex> lock(shard->mutex);
    total += shard->entries.size();
  }
  return total;
}

}  // namespace tokenizer
