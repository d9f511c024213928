// RetryPolicy: the decision table that says whether a finished vault attempt may be
// retried, for a vault whose create call is NOT idempotent (a retried create that reached
// the vault may store the card twice). The reasoning is in src/resilience/README.md.
//
//   class                retried?                         reason
//   success, rejected    never (a final answer)           ""
//   fatal                never (TLS, auth, garbage)       ""
//   connect_failed       yes                              "connect_failed"
//   reset_before_send    yes                              "reset"
//   reset_after_send     only if retry_reset_after_send   "reset"
//   throttled (429/503)  yes, after Retry-After if given  "throttled"
//   server_error (5xx)   only if retry_on_server_error    "server_error"
//   timeout              only if retry_on_timeout         "timeout"
// and in every case only while attempt_number < max_attempts.
//
//   RetryPolicy policy(RetryPolicyConfig{});
//   RetryDecision d = policy.decide(AttemptClass::throttled, 1, std::chrono::seconds(1));
//   // d.retry == true, d.reason == "throttled", d.delay_hint == 1 s
//
// A plain value: immutable, thread-safe. Reasons and class names are static strings
// (stable: they become metric labels and span tags).
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace tokenizer {

// What one attempt at the vault came to, as classified by the caller (the vault client).
enum class AttemptClass {
  success,            // 2xx with a usable body
  rejected,           // 4xx (e.g. 422 card rejected): a final answer, never retried
  connect_failed,     // DNS, refused, unreachable, connect timeout: nothing was sent
  reset_before_send,  // connection reset/closed before any byte of the request was sent
  reset_after_send,   // reset/closed after the request was (maybe) sent, before a full reply
  throttled,          // 429 or 503, with an optional Retry-After
  server_error,       // any other 5xx
  timeout,            // the attempt's read timeout elapsed after the request was sent
  fatal,              // TLS failure, our credentials refused (401/403), garbage body: never retried
};

// Stable snake_case name of the class ("connect_failed", ...).
const char* attempt_class_name(AttemptClass cls);

struct RetryPolicyConfig {
  int max_attempts = 3;  // attempts in total, the first included; < 1 is treated as 1
  bool retry_on_server_error = false;
  bool retry_on_timeout = false;
  bool retry_reset_after_send = false;
};

struct RetryDecision {
  bool retry = false;      // retry now (after the delay)
  bool retryable = false;  // this class is retryable under the config (even if attempts ran out)
  // For a retryable class: "connect_failed" | "reset" | "throttled" | "server_error" |
  // "timeout". Empty for a class that is never retried. Points to a static string.
  std::string_view reason;
  // The delay the upstream asked for (its Retry-After), when it gave one; otherwise the
  // caller uses its back-off.
  std::optional<std::chrono::milliseconds> delay_hint;
};

class RetryPolicy {
 public:
  explicit RetryPolicy(RetryPolicyConfig config = {});

  // `attempt_number` is the 1-based number of the attempt that just finished;
  // `retry_after` is the upstream's Retry-After of that attempt, if any.
  RetryDecision decide(AttemptClass cls, int attempt_number,
                       std::optional<std::chrono::milliseconds> retry_after = std::nullopt) const;

  const RetryPolicyConfig& config() const { return config_; }

 private:
  RetryPolicyConfig config_;
};

}  // namespace tokenizer
