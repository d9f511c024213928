// IdempotencyStore: remembers, per (client, Idempotency-Key), whether a tokenization is in
// flight or what its first completed outcome was, so retries replay instead of re-tokenizing.
//
// Protocol for one request that carries a key (see tokenize handler):
//   auto r = store.begin(client_id, key, request_fingerprint(pm, fingerprint_key));
//   !r                    -> 503 idempotency_unavailable (backend down; requests without a key
//                            are unaffected)
//   r->kind == started    -> call the vault, then
//                              200 token / 422 card rejection: store.complete(r->reservation, resp)
//                              5xx, timeout, open breaker:     store.abandon(r->reservation)
//   r->kind == in_flight  -> 409 idempotency_key_in_use
//   r->kind == mismatch   -> 422 idempotency_key_reused
//   r->kind == replay     -> r->response->status and ->body, header `Idempotent-Replayed: true`
// A different payload is reported as `mismatch` whether the first request is in flight or done.
//
// Expiry: a reservation (in flight) lives `lock_ttl` (default 60 s; keep it above the overall
// vault deadline) so an instance that crashes mid-request cannot lock a key forever; a completed
// record lives `record_ttl` (default 24 h) from completion. A reservation that expired (or was
// evicted) and was taken by another request is "lost": complete/abandon then change nothing
// and return FinishResult::reservation_lost; the other request's outcome wins.
//
// What is stored: scope and key (hashed in Redis), the fingerprint (an HMAC, see fingerprint.h)
// and the response (status, body with token and masked card, creation time) - never a PAN or
// CVV. Which responses to store is the caller's policy (the store stores what it is given).
//
// Thread-safety: every implementation is safe to call from any number of threads; begin is
// atomic (of N concurrent begins for one absent key, exactly one gets `started`, across every
// instance sharing the backend). Errors carry code `idempotency_unavailable`.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "common/expected.h"

namespace tokenizer {

inline constexpr const char* kIdempotencyUnavailable = "idempotency_unavailable";

struct IdempotencyTtls {
  std::chrono::milliseconds record_ttl{std::chrono::hours(24)};  // completed outcomes
  std::chrono::milliseconds lock_ttl{std::chrono::seconds(60)};  // in-flight reservations
};

struct StoredResponse {
  int status = 0;
  std::string body;
  // When the outcome was produced: set by the caller (clock.wall()); kept to the millisecond.
  std::chrono::system_clock::time_point created;
};

// Returned with `started`: hand it back to complete() or abandon(). Plain value, copyable.
struct Reservation {
  std::string scope;
  std::string key;
  std::string fingerprint;
  std::string token;  // random, identifies this holder of the key
};

struct BeginResult {
  enum class Kind { started, in_flight, replay, mismatch };
  Kind kind = Kind::started;
  Reservation reservation;                 // when started
  std::optional<StoredResponse> response;  // when replay
};

// "started", "in_flight", "replay", "mismatch" (for metrics labels and logs).
const char* begin_kind_name(BeginResult::Kind kind);

enum class FinishResult { applied, reservation_lost };

class IdempotencyStore {
 public:
  virtual ~IdempotencyStore() = default;

  // Atomically reserves (scope, key) for this request, or reports why not (see above).
  virtual Expected<BeginResult> begin(std::string_view scope, std::string_view key,
                                      std::string_view fingerprint) = 0;

  // Stores `response` as the outcome of the reservation, for record_ttl; releases the lock.
  // If the reservation expired and nobody took the key, the outcome is still stored.
  virtual Expected<FinishResult> complete(const Reservation& reservation,
                                          const StoredResponse& response) = 0;

  // Releases the reservation without storing anything, so the client may retry at once.
  virtual Expected<FinishResult> abandon(const Reservation& reservation) = 0;
};

}  // namespace tokenizer
