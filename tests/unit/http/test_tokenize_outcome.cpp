#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "fake_clock.h"
#include "http/api_error.h"
#include "http/tokenize_outcome.h"

namespace tokenizer {
namespace {

using nlohmann::json;

PaymentMethod visa() {
  PaymentMethod pm;
  pm.card_number = "4111111111111111";
  pm.cvv = "123";
  pm.month = 12;
  pm.year = 2030;
  pm.brand = CardBrand::visa;
  return pm;
}

ExecutionResult with_attempt(ExecutionOutcome outcome, VaultAttempt attempt,
                             std::optional<std::chrono::milliseconds> retry_after = {}) {
  ExecutionResult r;
  r.outcome = outcome;
  r.attempts = 1;
  r.retry_after = retry_after;
  AttemptReport report;
  report.cls = classify_attempt(attempt);
  report.payload = std::make_shared<VaultAttempt>(std::move(attempt));
  r.last = std::move(report);
  return r;
}

VaultAttempt attempt(VaultOutcome o, bool sent = true) {
  VaultAttempt a;
  a.outcome = o;
  a.request_sent = sent;
  return a;
}

std::string header(const ApiResponse& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return {};
}

const auto kNow = testing::FakeClock().wall();

TEST(ApiError, EveryErrorIsJsonWithCodeMessageAndRequestId) {
  for (int c = 0; c <= static_cast<int>(ApiErrorCode::upstream_timeout); ++c) {
    const auto code = static_cast<ApiErrorCode>(c);
    const ApiResponse r = make_error(code, "req-1");
    EXPECT_EQ(r.status, api_error_status(code));
    const json j = json::parse(r.body);
    EXPECT_EQ(j["code"], api_error_code_name(code));
    EXPECT_FALSE(j["error"].get<std::string>().empty());
    EXPECT_EQ(j["request_id"], "req-1");
    EXPECT_FALSE(j.contains("errors"));
  }
}

TEST(ApiError, ValidationErrorsAreListedAndInvalidBytesCannotBreakTheBody) {
  const ApiResponse r = make_error(ApiErrorCode::validation_failed, "r", "",
                                   {{"payment_method.cvv", "invalid_length", "bad \xff"}});
  const json j = json::parse(r.body);
  ASSERT_EQ(j["errors"].size(), 1u);
  EXPECT_EQ(j["errors"][0]["field"], "payment_method.cvv");
  EXPECT_EQ(r.status, 422);
}

struct MappingCase {
  ExecutionOutcome outcome;
  VaultOutcome vault;
  bool sent;
  int status;
  const char* code;  // "" for success
};

class Mapping : public ::testing::TestWithParam<MappingCase> {};

TEST_P(Mapping, StatusAndCode) {
  const auto& c = GetParam();
  VaultAttempt a = attempt(c.vault, c.sent);
  a.token = "tok_123";
  const TokenizeReply reply = map_execution(with_attempt(c.outcome, a), visa(), "req", kNow);
  EXPECT_EQ(reply.response.status, c.status);
  EXPECT_EQ(reply.error_code, c.code);
  const json j = json::parse(reply.response.body);
  if (c.status != 200) {
    EXPECT_EQ(j["code"], c.code);
  }
  EXPECT_EQ(reply.response.body.find("4111111111111111"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(
    Table, Mapping,
    ::testing::Values(
        MappingCase{ExecutionOutcome::completed, VaultOutcome::success, true, 200, ""},
        MappingCase{ExecutionOutcome::completed, VaultOutcome::rejected, true, 422, "card_rejected"},
        MappingCase{ExecutionOutcome::completed, VaultOutcome::auth_failed, true, 502,
                    "upstream_auth_failed"},
        MappingCase{ExecutionOutcome::completed, VaultOutcome::bad_response, true, 502,
                    "upstream_error"},
        MappingCase{ExecutionOutcome::completed, VaultOutcome::server_error, true, 502,
                    "upstream_error"},
        MappingCase{ExecutionOutcome::completed, VaultOutcome::tls_error, false, 502,
                    "upstream_error"},
        MappingCase{ExecutionOutcome::completed, VaultOutcome::reset, true, 502, "upstream_error"},
        MappingCase{ExecutionOutcome::attempts_exhausted, VaultOutcome::reset, false, 503,
                    "upstream_unavailable"},
        MappingCase{ExecutionOutcome::attempts_exhausted, VaultOutcome::connect_error, false, 503,
                    "upstream_unavailable"},
        MappingCase{ExecutionOutcome::budget_exhausted, VaultOutcome::throttled, true, 503,
                    "upstream_unavailable"},
        MappingCase{ExecutionOutcome::completed, VaultOutcome::timeout, true, 504,
                    "upstream_timeout"},
        MappingCase{ExecutionOutcome::deadline_exceeded, VaultOutcome::connect_error, false, 504,
                    "upstream_timeout"},
        MappingCase{ExecutionOutcome::deadline_exceeded, VaultOutcome::server_error, true, 504,
                    "upstream_timeout"}));

TEST(Mapping, SuccessBodyHasTheTokenAndTheMaskedCardOnly) {
  VaultAttempt a = attempt(VaultOutcome::success);
  a.token = "tok_abc";
  const auto reply = map_execution(with_attempt(ExecutionOutcome::completed, a), visa(), "rid", kNow);
  const json j = json::parse(reply.response.body);
  EXPECT_EQ(j["status"], "success");
  EXPECT_EQ(j["payment_method_token"], "tok_abc");
  EXPECT_EQ(j["created_at"], "2026-11-23T10:00:00Z");
  EXPECT_EQ(j["card"], json({{"brand", "visa"}, {"first_six", "411111"}, {"last_four", "1111"},
                             {"expiry_month", 12}, {"expiry_year", 2030}}));
  EXPECT_EQ(j["request_id"], "rid");
  EXPECT_TRUE(reply.final_outcome);
  EXPECT_EQ(reply.response.body.find("123"), std::string::npos);  // no CVV
}

// The success body as map_execution built it through an nlohmann DOM before it was written
// directly: the reference for the wire bytes.
std::string nlohmann_success_body(const std::string& token, const PaymentMethod& card,
                                  const std::string& request_id,
                                  std::chrono::system_clock::time_point now) {
  const json body = {
      {"status", "success"},
      {"payment_method_token", token},
      {"created_at", format_rfc3339(now)},
      {"card",
       {{"brand", brand_name(card.brand)},
        {"first_six", card.first_six()},
        {"last_four", card.last_four()},
        {"expiry_month", card.month},
        {"expiry_year", card.year}}},
      {"request_id", request_id},
  };
  return body.dump(-1, ' ', false, json::error_handler_t::replace);
}

TEST(Mapping, SuccessBodyIsByteForByteWhatTheNlohmannDomWrote) {
  const std::vector<std::string> tokens = {
      "tok_abc", "7rbEKaJ9wiwkwfyV0Qp4XRkvsE1", "", "a.b-c_d", std::string(256, 'Z'),
      // Beyond what the vault client lets through, to pin the escaping as well.
      "q\"uote\\back/slash", std::string("ctl\x01\x1f\t\n\r\b\f\x7f", 12),
      "caf\xC3\xA9 \xF0\x9F\x92\xB3",
      "bad\xFF\xC3(utf8\xE2\x82"};
  const std::vector<std::string> request_ids = {"rid", "0b5f1c0e-6a53-4f7e-9f55-2c3a5d1e8e21",
                                                "a:b.c_d-e", "", "id\"with\\quote"};
  const std::vector<std::string> numbers = {"4111111111111111", "378282246310005",
                                            "6011111111111117", "3530111333300000",
                                            "6200000000000005", "4000056655665556123", "41", ""};
  const CardBrand brands[] = {CardBrand::visa,     CardBrand::mastercard, CardBrand::amex,
                              CardBrand::discover, CardBrand::jcb,        CardBrand::diners,
                              CardBrand::unionpay};
  const std::chrono::system_clock::time_point times[] = {
      kNow, std::chrono::system_clock::time_point{},
      kNow + std::chrono::hours(24 * 400) + std::chrono::milliseconds(999)};
  int checked = 0;
  for (std::size_t i = 0; i < tokens.size() * request_ids.size() * numbers.size(); ++i) {
    PaymentMethod card = visa();
    card.brand = brands[i % 7];
    card.card_number = numbers[i % numbers.size()];
    card.month = 1 + static_cast<int>(i % 12);
    card.year = i % 5 == 0 ? -1 : 2024 + static_cast<int>(i % 40);
    const std::string& token = tokens[i % tokens.size()];
    const std::string& request_id = request_ids[(i / tokens.size()) % request_ids.size()];
    const auto now = times[i % 3];
    VaultAttempt a = attempt(VaultOutcome::success);
    a.token = token;
    const auto reply =
        map_execution(with_attempt(ExecutionOutcome::completed, a), card, request_id, now);
    ASSERT_EQ(reply.response.status, 200);
    ASSERT_EQ(reply.response.body, nlohmann_success_body(token, card, request_id, now))
        << "case " << i;
    ++checked;
  }
  EXPECT_EQ(checked, 360);
}

TEST(Mapping, OnlyTokensAndCardRejectionsAreFinalForIdempotency) {
  EXPECT_TRUE(map_execution(with_attempt(ExecutionOutcome::completed, attempt(VaultOutcome::rejected)),
                            visa(), "r", kNow)
                  .final_outcome);
  for (auto o : {VaultOutcome::server_error, VaultOutcome::timeout, VaultOutcome::throttled,
                 VaultOutcome::auth_failed, VaultOutcome::connect_error}) {
    EXPECT_FALSE(map_execution(with_attempt(ExecutionOutcome::completed, attempt(o)), visa(), "r", kNow)
                     .final_outcome);
  }
}

TEST(Rfc3339, EachSecondIsFormattedWhateverCameBefore) {
  using std::chrono::milliseconds;
  using std::chrono::seconds;
  const std::chrono::system_clock::time_point t(seconds(1795428000));  // 2026-11-23T10:00:00Z
  // The same second twice, the next one, back again, and a far one: a formatted second is
  // reused only for that second.
  EXPECT_EQ(format_rfc3339(t), "2026-11-23T10:00:00Z");
  EXPECT_EQ(format_rfc3339(t + milliseconds(999)), "2026-11-23T10:00:00Z");
  EXPECT_EQ(format_rfc3339(t + seconds(1)), "2026-11-23T10:00:01Z");
  EXPECT_EQ(format_rfc3339(t), "2026-11-23T10:00:00Z");
  EXPECT_EQ(format_rfc3339(std::chrono::system_clock::time_point{}), "1970-01-01T00:00:00Z");
  EXPECT_EQ(format_rfc3339(t + seconds(86400 * 40)), "2027-01-02T10:00:00Z");
}

TEST(Mapping, BreakerOpenGivesRetryAfterFromTheRemainingOpenTime) {
  ExecutionResult r;
  r.outcome = ExecutionOutcome::breaker_open;
  r.retry_after = std::chrono::milliseconds(2100);
  const auto reply = map_execution(r, visa(), "r", kNow);
  EXPECT_EQ(reply.response.status, 503);
  EXPECT_EQ(header(reply.response, "Retry-After"), "3");
}

TEST(Mapping, ThrottledKeepsTheVaultsRetryAfter) {
  VaultAttempt a = attempt(VaultOutcome::throttled);
  a.retry_after = std::chrono::seconds(30);
  const auto reply = map_execution(with_attempt(ExecutionOutcome::deadline_exceeded, a,
                                                std::chrono::milliseconds(30000)),
                                   visa(), "r", kNow);
  EXPECT_EQ(reply.response.status, 503);
  EXPECT_EQ(header(reply.response, "Retry-After"), "30");
}

TEST(Mapping, VaultRejectionReasonsAreMappedToOurFieldNames) {
  VaultAttempt a = attempt(VaultOutcome::rejected);
  a.rejections = {{"number", "errors.invalid", "Number is invalid"},
                  {"", "errors.processing_failed", ""}};
  const auto reply = map_execution(with_attempt(ExecutionOutcome::completed, a), visa(), "r", kNow);
  const json j = json::parse(reply.response.body);
  ASSERT_EQ(j["errors"].size(), 2u);
  EXPECT_EQ(j["errors"][0]["field"], "payment_method.card_number");
  EXPECT_EQ(j["errors"][0]["code"], "errors.invalid");
  EXPECT_EQ(j["errors"][1]["field"], "payment_method");
  EXPECT_FALSE(j["errors"][1]["message"].get<std::string>().empty());
}

TEST(ClassifyAttempt, ResetsSplitOnWhetherTheRequestWasSent) {
  EXPECT_EQ(classify_attempt(attempt(VaultOutcome::reset, false)), AttemptClass::reset_before_send);
  EXPECT_EQ(classify_attempt(attempt(VaultOutcome::reset, true)), AttemptClass::reset_after_send);
  VaultAttempt cancelled = attempt(VaultOutcome::connect_error, false);
  cancelled.transport_error = TransportError::Kind::cancelled;
  EXPECT_EQ(classify_attempt(cancelled), AttemptClass::fatal);
  EXPECT_EQ(classify_attempt(attempt(VaultOutcome::rejected)), AttemptClass::rejected);
  EXPECT_EQ(classify_attempt(attempt(VaultOutcome::tls_error)), AttemptClass::fatal);
}

}  // namespace
}  // namespace tokenizer
