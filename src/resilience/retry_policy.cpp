#include "resilience/retry_policy.h"

#include <algorithm>

namespace tokenizer {

const char* attempt_class_name(AttemptClass cls) {
  switch (cls) {
    case AttemptClass::success:
      return "success";
    case AttemptClass::rejected:
      return "rejected";
    case AttemptClass::connect_failed:
      return "connect_failed";
    case AttemptClass::reset_before_send:
      return "reset_before_send";
    case AttemptClass::reset_after_send:
      return "reset_after_send";
    case AttemptClass::throttled:
      return "throttled";
    case AttemptClass::server_error:
      return "server_error";
    case AttemptClass::timeout:
      return "timeout";
    case AttemptClass::fatal:
      return "fatal";
  }
  return "unknown";
}

RetryPolicy::RetryPolicy(RetryPolicyConfig config) : config_(config) {
  config_.max_attempts = std::max(config_.max_attempts, 1);
}

RetryDecision RetryPolicy::decide(AttemptClass cls, int attempt_number,
                                  std::optional<std::chrono::milliseconds> retry_after) const {
  RetryDecision d;
  switch (cls) {
    case AttemptClass::success:
    case AttemptClass::rejected:
    case AttemptClass::fatal:
      return d;
    case AttemptClass::connect_failed:
      d.retryable = true;
      d.reason = "connect_failed";
      break;
    case AttemptClass::reset_before_send:
      d.retryable = true;
      d.reason = "reset";
      break;
    case AttemptClass::reset_after_send:
      d.retryable = config_.retry_reset_after_send;
      d.reason = "reset";
      break;
    case AttemptClass::throttled:
      d.retryable = true;
      d.reason = "throttled";
      if (retry_after && *retry_after >= std::chrono::milliseconds(0)) d.delay_hint = retry_after;
      break;
    case AttemptClass::server_error:
      d.retryable = config_.retry_on_server_error;
      d.reason = "server_error";
      break;
    case AttemptClass::timeout:
      d.retryable = config_.retry_on_timeout;
      d.reason = "timeout";
      break;
  }
  if (!d.retryable) {
    d.reason = {};
    d.delay_hint.reset();
    return d;
  }
  d.retry = attempt_number < config_.max_attempts;
  return d;
}

}  // namespace tokenizer
