// TokenizeHandler: `POST /api/v1/payment_methods/tokenize`, end to end.
//
// Pipeline, each step answering with its own stable error code when it fails:
//   body size (413, connection closed) → failed-login throttle per address (429) →
//   Basic auth (401) → per-client rate limit (429) → Content-Type (415) → parse and
//   validate (400/422) → Idempotency-Key syntax (400) → in-flight limit (503 overloaded) →
//   idempotency reservation (replay / 409 / 422 / 503) → vault call through the retry
//   executor (deadline, retries, breaker) → reply.
// The vault call is asynchronous: `handle()` returns as soon as the call is queued, and the
// reply is sent from the curl loop (or timer) thread when the executor finishes. Nothing of
// the request is used after handle() returns except what the call state copied (or moved).
//
// Cost: one state object per request (`Call`, a RetryCall: the executor needs no
// std::function of ours), the request's headers read in one pass, span options built once,
// span tags formatted only when the span records. bench/micro/bench_handler.cpp measures a
// whole request.
//
// Telemetry per request: a server span (`http.request`) continuing any incoming Datadog or
// W3C context, child spans for validation, the idempotency lookup and each vault attempt
// (whose context is injected into the vault request), RED metrics, and one access-log line
// correlated with the trace. The card number and CVV stay in the call state only (wiped
// when it is destroyed); they never reach a span, a metric, a log line or an error body.
//
// Thread-safe: handle() is called concurrently from every server thread. Every dependency
// must outlive the handler and every call still in flight (the Application drains first).
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "http/basic_auth.h"
#include "http/http_types.h"
#include "http/rate_limiter.h"
#include "idempotency/fingerprint.h"
#include "idempotency/idempotency_store.h"
#include "resilience/load_shedder.h"
#include "resilience/retry_executor.h"
#include "telemetry/logger.h"
#include "telemetry/metrics.h"
#include "telemetry/tracer.h"
#include "upstream/vault_client.h"

namespace tokenizer {

inline constexpr const char kTokenizeRoute[] = "/api/v1/payment_methods/tokenize";

struct TokenizeDependencies {
  const Clock& clock;
  const Authenticator& authenticator;
  KeyedRateLimiter* client_limiter;        // null = off
  KeyedRateLimiter& auth_failure_limiter;  // per source address
  const VaultClient& vault;
  std::string vault_host;  // for client spans (out.host)
  int vault_port = 0;
  RetryExecutor& executor;
  LoadShedder& shedder;
  IdempotencyStore& idempotency;
  const FingerprintKey& fingerprint_key;
  Metrics& metrics;
  Tracer& tracer;
  Logger& logger;
  std::function<const char*()> breaker_state;  // for client span tags
  std::size_t max_body_bytes = 16 * 1024;
  bool access_log = true;
  std::string url_scheme = "http";  // "https" when serving TLS
};

class TokenizeHandler {
 public:
  explicit TokenizeHandler(TokenizeDependencies deps);

  void handle(ApiRequest request, ResponderPtr responder);

  // Tokenize requests between acceptance and reply (for draining).
  int in_flight() const { return in_flight_.load(); }

 private:
  struct Call;
  void start_attempt(Call& call, const AttemptContext& ctx, AttemptCallback report);
  void complete(Call& call, ExecutionResult result);
  void finish(Call& call, ApiResponse response, std::string_view error_code);

  TokenizeDependencies d_;
  std::string vault_port_text_;  // d_.vault_port, formatted once for client spans
  std::atomic<int> in_flight_{0};
};

}  // namespace tokenizer
