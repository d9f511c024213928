#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "resilience/retry_policy.h"

namespace tokenizer {
namespace {

using std::chrono::milliseconds;

// The specification, written independently of the implementation: which switch (if any)
// makes each class retryable, and the reason it is retried under.
enum class Needs { never, always, server_error_flag, timeout_flag, reset_after_send_flag };
struct Row {
  AttemptClass cls;
  const char* name;
  Needs needs;
  const char* reason;
};
const Row kTable[] = {
    {AttemptClass::success, "success", Needs::never, ""},
    {AttemptClass::rejected, "rejected", Needs::never, ""},
    {AttemptClass::connect_failed, "connect_failed", Needs::always, "connect_failed"},
    {AttemptClass::reset_before_send, "reset_before_send", Needs::always, "reset"},
    {AttemptClass::reset_after_send, "reset_after_send", Needs::reset_after_send_flag, "reset"},
    {AttemptClass::throttled, "throttled", Needs::always, "throttled"},
    {AttemptClass::server_error, "server_error", Needs::server_error_flag, "server_error"},
    {AttemptClass::timeout, "timeout", Needs::timeout_flag, "timeout"},
    {AttemptClass::fatal, "fatal", Needs::never, ""},
};

bool expected_retryable(Needs needs, const RetryPolicyConfig& c) {
  switch (needs) {
    case Needs::never:
      return false;
    case Needs::always:
      return true;
    case Needs::server_error_flag:
      return c.retry_on_server_error;
    case Needs::timeout_flag:
      return c.retry_on_timeout;
    case Needs::reset_after_send_flag:
      return c.retry_reset_after_send;
  }
  return false;
}

TEST(RetryPolicy, EveryClassUnderEveryConfiguration) {
  int checked = 0;
  for (int bits = 0; bits < 8; ++bits) {
    RetryPolicyConfig config;
    config.max_attempts = 3;
    config.retry_on_server_error = (bits & 1) != 0;
    config.retry_on_timeout = (bits & 2) != 0;
    config.retry_reset_after_send = (bits & 4) != 0;
    const RetryPolicy policy(config);
    for (const Row& row : kTable) {
      const bool retryable = expected_retryable(row.needs, config);
      for (int attempt = 1; attempt <= 4; ++attempt) {
        const RetryDecision d = policy.decide(row.cls, attempt);
        SCOPED_TRACE(std::string(row.name) + " config=" + std::to_string(bits) +
                     " attempt=" + std::to_string(attempt));
        EXPECT_EQ(d.retryable, retryable);
        EXPECT_EQ(d.retry, retryable && attempt < 3);
        EXPECT_EQ(d.reason, retryable ? std::string(row.reason) : std::string());
        EXPECT_FALSE(d.delay_hint.has_value());
        ++checked;
      }
    }
  }
  EXPECT_EQ(checked, 8 * 9 * 4);
}

TEST(RetryPolicy, DefaultsRetryOnlyWhatSurelyDidNotReachTheVaultAndBackPressure) {
  const RetryPolicy policy;  // max_attempts 3, every switch off
  EXPECT_TRUE(policy.decide(AttemptClass::connect_failed, 1).retry);
  EXPECT_TRUE(policy.decide(AttemptClass::reset_before_send, 1).retry);
  EXPECT_TRUE(policy.decide(AttemptClass::throttled, 1).retry);
  EXPECT_FALSE(policy.decide(AttemptClass::reset_after_send, 1).retry);
  EXPECT_FALSE(policy.decide(AttemptClass::server_error, 1).retry);
  EXPECT_FALSE(policy.decide(AttemptClass::timeout, 1).retry);
  EXPECT_FALSE(policy.decide(AttemptClass::rejected, 1).retry);
  EXPECT_FALSE(policy.decide(AttemptClass::fatal, 1).retry);
}

TEST(RetryPolicy, ThrottledHonoursRetryAfterAsTheDelayHint) {
  const RetryPolicy policy;
  const auto with = policy.decide(AttemptClass::throttled, 1, milliseconds(1500));
  ASSERT_TRUE(with.delay_hint.has_value());
  EXPECT_EQ(*with.delay_hint, milliseconds(1500));
  EXPECT_FALSE(policy.decide(AttemptClass::throttled, 1).delay_hint.has_value());
  // Retry-After is kept even when attempts ran out (the client gets it).
  const auto last = policy.decide(AttemptClass::throttled, 3, milliseconds(2000));
  EXPECT_FALSE(last.retry);
  EXPECT_TRUE(last.retryable);
  ASSERT_TRUE(last.delay_hint.has_value());
  EXPECT_EQ(*last.delay_hint, milliseconds(2000));
  // Only a throttling answer carries a hint; a negative Retry-After is ignored.
  EXPECT_FALSE(
      policy.decide(AttemptClass::connect_failed, 1, milliseconds(700)).delay_hint.has_value());
  EXPECT_FALSE(policy.decide(AttemptClass::throttled, 1, milliseconds(-5)).delay_hint.has_value());
}

TEST(RetryPolicy, MaxAttemptsBoundsRetries) {
  RetryPolicyConfig config;
  config.max_attempts = 1;
  EXPECT_FALSE(RetryPolicy(config).decide(AttemptClass::connect_failed, 1).retry);
  config.max_attempts = 0;  // treated as 1
  EXPECT_EQ(RetryPolicy(config).config().max_attempts, 1);
  config.max_attempts = 5;
  const RetryPolicy five(config);
  EXPECT_TRUE(five.decide(AttemptClass::connect_failed, 4).retry);
  EXPECT_FALSE(five.decide(AttemptClass::connect_failed, 5).retry);
}

TEST(RetryPolicy, ClassNamesAreStable) {
  for (const Row& row : kTable) EXPECT_STREQ(attempt_class_name(row.cls), row.name);
}

}  // namespace
}  // namespace tokenizer
