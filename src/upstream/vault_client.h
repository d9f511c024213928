// VaultClient: one "create payment method" attempt against the Spreedly-style vault
// (POST {base}/v1/payment_methods.json, see /work/shared/VAULT-API.md), mapped to a
// VaultAttempt that the rest of the service can reason about without reading HTTP.
//
// Use:
//   VaultClient vault(transport, VaultConfig{"https://core.spreedly.com", key, secret});
//   vault.create_payment_method(card, AttemptOptions{2000ms, {{"x-request-id", id}}},
//                               [](VaultAttempt a) { ... a.outcome ... a.token ... });
//
// One call = one HTTP attempt; this class never retries. Retries, deadlines across attempts
// and circuit breaking live in resilience/, which calls create_payment_method() once per
// attempt and decides from `outcome` and `request_sent` (see the mapping table below).
//
// Outcome mapping (map_result):
//   200/201 + non-empty transaction.payment_method.token  -> success (token, card)
//   200/201 with anything else (no token, not JSON, succeeded=false, odd token chars),
//   any other 2xx, 1xx or 3xx                              -> bad_response
//   422 with JSON errors (top-level "errors" or transaction.payment_method.errors)
//                                                          -> rejected (sanitized rejections)
//   422 whose body is not JSON / has no error list          -> bad_response
//   401, 402, 403                                           -> auth_failed (our credentials or
//                                                              account: never retried)
//   408                                                     -> timeout (the vault gave up
//                                                              waiting for our request)
//   429, 503                                                -> throttled (+ retry_after)
//   other 5xx                                               -> server_error (+ retry_after)
//   other 4xx (400, 404, 405, 409, 413, 415, ...)           -> bad_response: the vault could not
//      use what we sent or where we sent it (a bug or misconfiguration on our side, not the
//      card's fault). Never retried: the same request would fail the same way.
//   transport errors: connect_failed -> connect_error, reset -> reset, timeout -> timeout,
//      tls -> tls_error, other -> bad_response; cancelled (transport shutting down) ->
//      reset when the request may have been sent, else connect_error, with
//      transport_error == cancelled so callers can stop instead of retrying.
//
// Data handling: the request body holds the PAN and CVV; it lives only in the HttpRequest
// handed to the transport. `detail` and rejection messages never contain request data:
// rejection messages are reduced to printable ASCII, every run of 6+ digits (spaces and
// dashes between digits included) becomes "[redacted]", the attempt's own CVV is removed,
// and each message is capped at 200 characters. Attributes and keys are kept only when they
// are safe identifiers ([A-Za-z0-9_.-], at most 64 characters, no run of 6+ digits).
//
// Thread-safety: const after construction; create_payment_method() may be called from any
// thread. `done` runs on the transport's loop thread (see http_transport.h), exactly once.
// The transport and clock must outlive the client. VaultConfig holds the access secret:
// never log it.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/expected.h"
#include "tokenization/payment_method.h"
#include "upstream/http_transport.h"

namespace tokenizer {

struct VaultConfig {
  std::string base_url;         // scheme://host[:port], a trailing '/' is ignored
  std::string environment_key;  // Basic auth user
  std::string access_secret;    // Basic auth password (secret)
};

// Stable lowercase names (outcome_name) become metric label values.
enum class VaultOutcome {
  success,
  rejected,
  auth_failed,
  throttled,
  server_error,
  bad_response,
  timeout,
  connect_error,
  reset,
  tls_error,
};

// "success", "rejected", "auth_failed", "throttled", "server_error", "bad_response",
// "timeout", "connect_error", "reset", "tls_error".
const char* outcome_name(VaultOutcome outcome);

// The masked card the vault reports back (from transaction.payment_method); fields the vault
// did not send, or sent in an unexpected shape, stay empty / 0.
struct VaultCard {
  std::string brand;      // the vault's card_type, e.g. "visa"
  std::string first_six;  // exactly 6 digits or empty
  std::string last_four;  // exactly 4 digits or empty
  int month = 0;
  int year = 0;
};

// One entry of a 422's error list, sanitized (see above).
struct VaultRejection {
  std::string attribute;  // e.g. "first_name"; may be empty
  std::string key;        // e.g. "errors.blank"; may be empty
  std::string message;    // human text, safe to show to the client
};

struct VaultAttempt {
  using Outcome = VaultOutcome;

  Outcome outcome = Outcome::bad_response;
  int http_status = 0;  // 0 when no HTTP reply arrived
  std::string token;    // payment method token, success only
  VaultCard card;       // success only
  std::vector<VaultRejection> rejections;  // rejected only
  // From Retry-After (delta-seconds or HTTP-date; clamped to 0..86400 s) on 429/5xx.
  std::optional<std::chrono::seconds> retry_after;
  // False only when the request surely never reached the vault.
  bool request_sent = false;
  // Set when no HTTP reply arrived: the transport's classification (e.g. cancelled).
  std::optional<TransportError::Kind> transport_error;
  std::string detail;  // for logs only; never request data, never the response body
  std::chrono::nanoseconds elapsed{0};
};

struct AttemptOptions {
  // Whole-attempt timeout (connect + send + wait + receive).
  std::chrono::milliseconds timeout{2000};
  // Sent as given (trace propagation, request ids). Dropped: headers with CR/LF or an
  // invalid name, and ones this client owns (authorization, content-type, accept,
  // content-length, host, expect, transfer-encoding, connection).
  std::vector<std::pair<std::string, std::string>> extra_headers;
};

class VaultClient {
 public:
  using Done = std::function<void(VaultAttempt)>;

  // `clock` supplies "now" for Retry-After HTTP-dates.
  VaultClient(HttpTransport& transport, VaultConfig config,
              const Clock& clock = SystemClock::instance());

  // Checks a config once at start-up: http(s) URL with a host, non-empty key and secret,
  // no control characters. The error message names the setting, never its value.
  static Expected<Ok> validate(const VaultConfig& config);

  // The create request for one attempt (pure; exposed for tests).
  // Takes the extra headers by value: the ones it keeps are moved into the request.
  HttpRequest build_request(const PaymentMethod& card,
                            std::vector<std::pair<std::string, std::string>> extra_headers,
                            std::chrono::milliseconds timeout) const;

  // Sends one attempt; `done` gets the mapped result on the transport's loop thread.
  void create_payment_method(const PaymentMethod& card, AttemptOptions options,
                             Done done) const;

  // Maps a transport result to an attempt (pure). `now` is used for HTTP-date Retry-After.
  static VaultAttempt map_result(const HttpResult& result,
                                 std::chrono::system_clock::time_point now);

  // Retry-After value → seconds from `now` (negative dates give 0; clamped to 86400 s);
  // nullopt when it is neither delta-seconds nor an HTTP-date.
  static std::optional<std::chrono::seconds> parse_retry_after(
      const std::string& value, std::chrono::system_clock::time_point now);

  // Removes what must not leave the process from vault-provided text: non-printable and
  // non-ASCII bytes, runs of 6+ digits, and caps the length (exposed for tests).
  static std::string sanitize_message(const std::string& text);

  // POST target: {base_url}/v1/payment_methods.json
  const std::string& endpoint() const { return endpoint_; }

 private:
  HttpTransport& transport_;
  const Clock& clock_;
  std::string endpoint_;
  std::string authorization_;  // "Basic base64(key:secret)"
};

}  // namespace tokenizer
