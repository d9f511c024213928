// LoadShedder: a maximum number of tokenize requests in flight (--max-in-flight). Beyond it
// the service answers 503 `overloaded` with `Retry-After: 1` without touching the vault.
// Health, readiness and metrics routes never go through it.
//
//   LoadShedder shedder(config.max_in_flight);
//   auto token = shedder.try_enter();
//   if (!token) return reply_overloaded();
//   auto held = std::make_shared<LoadShedder::InFlightToken>(std::move(*token));
//   ... capture `held` in the asynchronous completion; the slot frees when it is destroyed.
//
// Lock-free: one atomic counter, incremented with a compare-and-swap loop so in_flight()
// never exceeds the limit, even transiently. InFlightToken is move-only (wrap it in a
// shared_ptr to capture it in a std::function) and must not outlive the LoadShedder.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>

namespace tokenizer {

class LoadShedder {
 public:
  // RAII slot: frees its place when destroyed or released.
  class InFlightToken {
   public:
    InFlightToken(InFlightToken&& other) noexcept : owner_(other.owner_) { other.owner_ = nullptr; }
    InFlightToken& operator=(InFlightToken&& other) noexcept;
    InFlightToken(const InFlightToken&) = delete;
    InFlightToken& operator=(const InFlightToken&) = delete;
    ~InFlightToken() { release(); }
    // Frees the slot now (idempotent).
    void release();

   private:
    friend class LoadShedder;
    explicit InFlightToken(LoadShedder* owner) : owner_(owner) {}
    LoadShedder* owner_;
  };

  // max_in_flight < 1 is treated as 1.
  explicit LoadShedder(int max_in_flight);
  LoadShedder(const LoadShedder&) = delete;
  LoadShedder& operator=(const LoadShedder&) = delete;

  // A token when a slot is free; std::nullopt (and one more shed request counted) when not.
  std::optional<InFlightToken> try_enter();

  int in_flight() const { return in_flight_.load(std::memory_order_relaxed); }
  int limit() const { return limit_; }
  // Requests refused since start (for a counter metric).
  std::uint64_t shed_total() const { return shed_total_.load(std::memory_order_relaxed); }

 private:
  void leave() { in_flight_.fetch_sub(1, std::memory_order_acq_rel); }

  const int limit_;
  std::atomic<int> in_flight_{0};
  std::atomic<std::uint64_t> shed_total_{0};
};

}  // namespace tokenizer
