// Tokenize outcome mapping: the pure functions between the vault, the retry executor and
// the client's reply.
//
// - `classify_attempt()` turns one VaultAttempt into the retry executor's AttemptClass.
// - `map_execution()` turns the executor's final result (and the last vault attempt, if
//   any) into the HTTP reply, the metrics result, and whether the reply is a final outcome
//   that an idempotency key should replay (a token, or the vault's card rejection) or a
//   transient failure the client may retry with the same key.
//
// The mapping, and why:
//   success                         → 200 with the token and the masked card
//   vault 422                       → 422 card_rejected, the vault's reasons sanitized
//   vault 401/402/403               → 502 upstream_auth_failed (our credentials, not the client's)
//   breaker open                    → 503 upstream_unavailable, Retry-After = remaining open time
//   429/503 outlasting the retries  → 503 upstream_unavailable, Retry-After from the vault
//   connect failures, resets before → 503 upstream_unavailable: nothing reached the vault, so
//   any byte was sent                 the client may safely try again shortly
//   attempt or overall deadline     → 504 upstream_timeout
//   other 5xx, garbage, reset, TLS  → 502 upstream_error
// Pure; thread-safe.
#pragma once

#include <chrono>
#include <string>

#include "http/http_types.h"
#include "resilience/retry_executor.h"
#include "telemetry/metrics.h"
#include "tokenization/payment_method.h"
#include "upstream/vault_client.h"

namespace tokenizer {

AttemptClass classify_attempt(const VaultAttempt& attempt);

Metrics::UpstreamOutcome metrics_outcome(VaultOutcome outcome);

struct TokenizeReply {
  ApiResponse response;
  std::string error_code;  // empty on success
  Metrics::TokenizationResult result = Metrics::TokenizationResult::success;
  bool final_outcome = false;  // store for idempotent replay
};

TokenizeReply map_execution(const ExecutionResult& result, const PaymentMethod& card,
                            const std::string& request_id,
                            std::chrono::system_clock::time_point now);

// RFC 3339 UTC with seconds: 2026-11-23T10:00:00Z
std::string format_rfc3339(std::chrono::system_clock::time_point t);

}  // namespace tokenizer
