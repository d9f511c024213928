// VaultClient: request building, result mapping (every vault status and body shape),
// Retry-After forms, message sanitizing, and create_payment_method over FakeTransport.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>

#include "fake_clock.h"
#include "fake_transport.h"
#include "upstream/vault_client.h"

namespace tokenizer {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;
using testing::FakeTransport;

constexpr const char* kTestPan = "4111111111111111";  // public test card number

PaymentMethod test_card(bool with_email = true) {
  PaymentMethod card;
  card.card_number = kTestPan;
  card.cvv = "123";
  card.month = 12;
  card.year = 2031;
  card.first_name = "Ada";
  card.last_name = "Lovelace";
  if (with_email) card.email = "ada@example.com";
  return card;
}

const char* kCreated = R"({"transaction": {
  "token": "TXtransaction", "succeeded": true, "state": "succeeded",
  "transaction_type": "AddPaymentMethod", "retained": true,
  "payment_method": {"token": "PMabc123XYZ", "storage_state": "retained",
    "card_type": "visa", "first_six_digits": "411111", "last_four_digits": "1111",
    "number": "XXXX-XXXX-XXXX-1111", "month": 12, "year": 2031, "errors": []}}})";

VaultAttempt map(int status, const std::string& body,
                 std::map<std::string, std::string> headers = {}) {
  testing::FakeClock clock;
  return VaultClient::map_result(FakeTransport::reply(status, body, std::move(headers)),
                                 clock.wall());
}

std::string header(const HttpRequest& r, const std::string& name) {
  for (const auto& h : r.headers) {
    if (h.first == name) return h.second;
  }
  return "<absent>";
}

// --- map_result: successes ---------------------------------------------------------------

TEST(VaultMapResult, CreatedWithTokenIsSuccessWithTheMaskedCard) {
  const VaultAttempt a = map(201, kCreated);
  EXPECT_EQ(a.outcome, VaultOutcome::success);
  EXPECT_EQ(a.http_status, 201);
  EXPECT_EQ(a.token, "PMabc123XYZ");  // the payment method's token, not the transaction's
  EXPECT_EQ(a.card.brand, "visa");
  EXPECT_EQ(a.card.first_six, "411111");
  EXPECT_EQ(a.card.last_four, "1111");
  EXPECT_EQ(a.card.month, 12);
  EXPECT_EQ(a.card.year, 2031);
  EXPECT_TRUE(a.request_sent);
  EXPECT_FALSE(a.transport_error.has_value());
  EXPECT_TRUE(a.rejections.empty());
}

TEST(VaultMapResult, OkWithTokenIsAlsoSuccess) {
  EXPECT_EQ(map(200, kCreated).outcome, VaultOutcome::success);
}

TEST(VaultMapResult, CardFieldsInOddShapesAreDroppedNotTrusted) {
  const VaultAttempt a = map(201, R"({"transaction": {"payment_method": {"token": "t1",
      "card_type": "Visa Card!", "first_six_digits": "41111X", "last_four_digits": "11111",
      "month": "07", "year": "2031"}}})");
  EXPECT_EQ(a.outcome, VaultOutcome::success);
  EXPECT_EQ(a.card.brand, "");
  EXPECT_EQ(a.card.first_six, "");
  EXPECT_EQ(a.card.last_four, "");
  EXPECT_EQ(a.card.month, 7);
  EXPECT_EQ(a.card.year, 2031);
}

// --- map_result: 2xx that is not a usable success -------------------------------------------

struct BadCreatedCase {
  const char* name;
  int status;
  std::string body;
};

class VaultBadCreated : public ::testing::TestWithParam<BadCreatedCase> {};

TEST_P(VaultBadCreated, IsBadResponse) {
  const auto& c = GetParam();
  const VaultAttempt a = map(c.status, c.body);
  EXPECT_EQ(a.outcome, VaultOutcome::bad_response) << c.name;
  EXPECT_EQ(a.http_status, c.status);
  EXPECT_TRUE(a.token.empty());
  EXPECT_TRUE(a.request_sent);
  EXPECT_EQ(a.detail.find("SECRETMARKER"), std::string::npos) << "detail echoes the body";
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, VaultBadCreated,
    ::testing::Values(
        BadCreatedCase{"empty", 201, ""},
        BadCreatedCase{"html", 201, "<html>SECRETMARKER</html>"},
        BadCreatedCase{"truncated", 201, R"({"transaction": {"payment_method": {"token": "t)"},
        BadCreatedCase{"array", 201, "[1,2,3]"},
        BadCreatedCase{"no_transaction", 201, R"({"payment_method": {"token": "t1"}})"},
        BadCreatedCase{"no_payment_method", 201, R"({"transaction": {"token": "TX1"}})"},
        BadCreatedCase{"missing_token", 201, R"({"transaction": {"payment_method": {}}})"},
        BadCreatedCase{"empty_token", 201, R"({"transaction": {"payment_method": {"token": ""}}})"},
        BadCreatedCase{"numeric_token", 201,
                       R"({"transaction": {"payment_method": {"token": 12345}}})"},
        BadCreatedCase{"token_with_spaces", 201,
                       R"({"transaction": {"payment_method": {"token": "a b<script>"}}})"},
        BadCreatedCase{"succeeded_false", 201,
                       R"({"transaction": {"succeeded": false, "payment_method": {"token": "t1"}}})"},
        BadCreatedCase{"deep_nesting", 201, std::string(100, '[') + std::string(100, ']')},
        BadCreatedCase{"no_content", 204, ""},
        BadCreatedCase{"accepted_with_token", 202, kCreated}),
    [](const auto& info) { return std::string(info.param.name); });

// --- map_result: what counts as JSON ---------------------------------------------------------
// The reply parser is RapidJSON; these pin the places where it would, left alone, read a body
// differently from the nlohmann parser it replaced.

std::string created_with(const std::string& payment_method_fields) {
  return R"({"transaction": {"payment_method": {"token": "t1")" + payment_method_fields + "}}}";
}

struct JsonEdgeCase {
  const char* name;
  std::string body;
  VaultOutcome outcome;
};

void PrintTo(const JsonEdgeCase& c, std::ostream* os) { *os << c.name; }

class VaultJsonEdge : public ::testing::TestWithParam<JsonEdgeCase> {};

TEST_P(VaultJsonEdge, MapsAsBefore) {
  const auto& c = GetParam();
  const VaultAttempt a = map(201, c.body);
  EXPECT_EQ(a.outcome, c.outcome) << c.name << ": " << a.detail;
  if (c.outcome == VaultOutcome::bad_response) {
    EXPECT_EQ(a.detail, "vault 201: body is not JSON") << c.name;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Bodies, VaultJsonEdge,
    ::testing::Values(
        JsonEdgeCase{"byte_order_mark", "\xEF\xBB\xBF" + created_with(""), VaultOutcome::success},
        JsonEdgeCase{"two_byte_order_marks", "\xEF\xBB\xBF\xEF\xBB\xBF" + created_with(""),
                     VaultOutcome::bad_response},
        JsonEdgeCase{"surrogate_pair", created_with(R"(, "x": "\ud83d\udcb3")"),
                     VaultOutcome::success},
        JsonEdgeCase{"lone_low_surrogate", created_with(R"(, "x": "\udc00")"),
                     VaultOutcome::bad_response},
        JsonEdgeCase{"lone_low_surrogate_in_a_key", created_with(R"(, "\udfff": 1)"),
                     VaultOutcome::bad_response},
        JsonEdgeCase{"lone_high_surrogate", created_with(R"(, "x": "\ud800 ")"),
                     VaultOutcome::bad_response},
        JsonEdgeCase{"escaped_backslash_then_u", created_with(R"(, "x": "\\udc00")"),
                     VaultOutcome::success},
        JsonEdgeCase{"zero_with_a_huge_exponent", created_with(R"(, "x": 0e400, "y": -0.0E+999)"),
                     VaultOutcome::success},
        JsonEdgeCase{"309_digit_integer_below_dbl_max",
                     created_with(", \"x\": 17" + std::string(307, '0')), VaultOutcome::success},
        JsonEdgeCase{"tiny_number", created_with(R"(, "x": 1e-400)"), VaultOutcome::success},
        JsonEdgeCase{"largest_double", created_with(R"(, "x": 1.7976931348623157e308)"),
                     VaultOutcome::success},
        JsonEdgeCase{"number_over_dbl_max", created_with(R"(, "x": 1.8e308)"),
                     VaultOutcome::bad_response},
        JsonEdgeCase{"overflow_rapidjson_reads_as_infinity", created_with(R"(, "x": 10e308)"),
                     VaultOutcome::bad_response},
        JsonEdgeCase{"overflow_rapidjson_calls_too_big", created_with(R"(, "x": 1e309)"),
                     VaultOutcome::bad_response},
        JsonEdgeCase{"huge_exponent_beside_a_bad_token",
                     created_with(R"(, "x": 0e400, "y": 01)"), VaultOutcome::bad_response},
        JsonEdgeCase{"nul_byte_ends_the_document", created_with("") + std::string(1, '\0') + "junk",
                     VaultOutcome::success},
        JsonEdgeCase{"nul_byte_inside_a_string",
                     created_with(", \"x\": \"a" + std::string(1, '\0') + "\""),
                     VaultOutcome::bad_response},
        JsonEdgeCase{"trailing_text", created_with("") + " x", VaultOutcome::bad_response},
        JsonEdgeCase{"trailing_comma", created_with(","), VaultOutcome::bad_response},
        JsonEdgeCase{"comment", "/* c */" + created_with(""), VaultOutcome::bad_response},
        JsonEdgeCase{"single_quotes", "{'transaction': 1}", VaultOutcome::bad_response},
        JsonEdgeCase{"invalid_utf8_in_a_string", created_with(", \"x\": \"\xC3\x28\""),
                     VaultOutcome::bad_response},
        JsonEdgeCase{"encoded_surrogate_in_a_string", created_with(", \"x\": \"\xED\xA0\x80\""),
                     VaultOutcome::bad_response},
        JsonEdgeCase{"nan", created_with(", \"x\": NaN"), VaultOutcome::bad_response},
        JsonEdgeCase{"depth_32",
                     created_with(", \"x\": " + std::string(29, '[') + std::string(29, ']')),
                     VaultOutcome::success},
        JsonEdgeCase{"depth_33",
                     created_with(", \"x\": " + std::string(30, '[') + std::string(30, ']')),
                     VaultOutcome::bad_response}),
    [](const auto& info) { return std::string(info.param.name); });

// RapidJSON scans strings 16 bytes at a time (SSE2): every string length and position of an
// escape relative to a 16-byte boundary must give the same result as a byte-by-byte scan.
// Under ASan (scripts/test's sanitizer pass) this also catches a scan reading past the text.
TEST(VaultMapResult, StringsOfEveryLengthAndEscapeOffsetParseExactly) {
  for (std::size_t n = 1; n <= 48; ++n) {
    const std::string token(n, 'T');
    const VaultAttempt last = map(201, R"({"transaction":{"payment_method":{"token":")" + token +
                                           R"("}}})");
    ASSERT_EQ(last.outcome, VaultOutcome::success) << n << ": " << last.detail;
    EXPECT_EQ(last.token, token) << n;

    // An escape n bytes in: the text after it is copied back over the escape's bytes
    // (in situ), at every offset from a 16-byte boundary.
    const VaultAttempt escaped = map(
        201, created_with(", \"token\": \"" + token + "\\u0041" + std::string(40, 'U') + "\""));
    ASSERT_EQ(escaped.outcome, VaultOutcome::success) << n << ": " << escaped.detail;
    EXPECT_EQ(escaped.token, token + "A" + std::string(40, 'U')) << n;

    // Raw control bytes are refused at every offset (RapidJSON's SSE2 scan alone lets
    // 0x1A..0x1F through past a 16-byte boundary; nlohmann refused them).
    for (const char control : {'\x01', '\x1a', '\x1f'}) {
      EXPECT_EQ(map(201, created_with(", \"x\": \"" + std::string(n, 'a') + control + "\""))
                    .outcome,
                VaultOutcome::bad_response)
          << n << " " << static_cast<int>(control);
    }

    // A raw line break n bytes into a string is still refused.
    EXPECT_EQ(map(201, created_with(", \"x\": \"" + std::string(n, 'a') + "\n\"")).outcome,
              VaultOutcome::bad_response)
        << n;
  }
}

TEST(VaultMapResult, TokenThatLooksLikeANumberSurvivesTheRewriteOfHugeExponents) {
  // 0e400 outside the string makes the parser take its second path; the string is untouched.
  const VaultAttempt a = map(201, R"({"transaction": {"payment_method": {"token": "1e400x",
      "x": 0e400, "card_type": "visa"}}})");
  EXPECT_EQ(a.outcome, VaultOutcome::success);
  EXPECT_EQ(a.token, "1e400x");
  EXPECT_EQ(a.card.brand, "visa");
}

TEST(VaultMapResult, WithDuplicateKeysTheLastOneCounts) {
  EXPECT_EQ(map(201, created_with(R"(, "token": "t2")")).token, "t2");
  EXPECT_EQ(map(201, created_with(R"(, "token": 5)")).outcome, VaultOutcome::bad_response);
  EXPECT_EQ(map(201, R"({"transaction": {"payment_method": {"token": "t1"}},
                        "transaction": {"payment_method": {"token": "t9"}}})")
                .token,
            "t9");
  EXPECT_EQ(map(201, R"({"transaction": {"payment_method": {"token": "t1"}}, "transaction": 7})")
                .outcome,
            VaultOutcome::bad_response);
  const VaultAttempt r = map(422, R"({"errors": [{"message": "first"}],
                                      "errors": [{"message": "second"}, {"message": "third"}]})");
  ASSERT_EQ(r.rejections.size(), 2u);
  EXPECT_EQ(r.rejections[0].message, "second");
}

TEST(VaultMapResult, EscapesAreDecodedAndEmbeddedNulsKept) {
  EXPECT_EQ(map(201, R"({"transaction": {"payment_method": {"token": "t\u0031\/x"}}})").outcome,
            VaultOutcome::bad_response);  // "t1/x": '/' is not a token character
  EXPECT_EQ(map(201, R"({"transaction": {"payment_method": {"token": "t\u0031"}}})").token, "t1");
  // A NUL inside the token must not cut it to a valid-looking "t1".
  EXPECT_EQ(map(201, R"({"transaction": {"payment_method": {"token": "t1\u0000<x>"}}})").outcome,
            VaultOutcome::bad_response);
  // Nor inside a key: "token\u0000" is not "token".
  EXPECT_EQ(map(201, R"({"transaction": {"payment_method": {"token\u0000": "t1"}}})").outcome,
            VaultOutcome::bad_response);
}

TEST(VaultMapResult, MonthAndYearAcceptOnlyIntegersAndShortDigitStrings) {
  struct Case {
    std::string json;
    int expected;
  };
  for (const Case& c : {Case{"12", 12}, Case{"0", 0}, Case{"-0", 0}, Case{"9999", 9999},
                        Case{"10000", 0}, Case{"-1", 0}, Case{"12.0", 0}, Case{"1e1", 0},
                        Case{"18446744073709551615", 0}, Case{"9223372036854775807", 0},
                        Case{"-9223372036854775808", 0}, Case{"123456789012345678901234", 0},
                        Case{"\"07\"", 7}, Case{"\"0099\"", 99}, Case{"\"12345\"", 0},
                        Case{"\"1a\"", 0}, Case{"\"\"", 0}, Case{"\"-1\"", 0}, Case{"true", 0},
                        Case{"null", 0}, Case{"[12]", 0}, Case{"{\"m\": 12}", 0}}) {
    const VaultAttempt a =
        map(201, created_with(", \"month\": " + c.json + ", \"year\": " + c.json));
    ASSERT_EQ(a.outcome, VaultOutcome::success) << c.json;
    EXPECT_EQ(a.card.month, c.expected) << c.json;
    EXPECT_EQ(a.card.year, c.expected) << c.json;
  }
}

TEST(VaultMapResult, SucceededMustBeTheBooleanFalseToCount) {
  for (const char* value : {"0", "\"false\"", "null", "[]", "true"}) {
    const std::string body =
        std::string(R"({"transaction": {"succeeded": )") + value +
        R"(, "payment_method": {"token": "t1"}}})";
    EXPECT_EQ(map(201, body).outcome, VaultOutcome::success) << value;
  }
}

// --- map_result: rejections -------------------------------------------------------------------

TEST(VaultMapResult, UnprocessableWithErrorsIsRejectedWithEveryError) {
  const VaultAttempt a = map(422, R"({"errors": [
      {"attribute": "first_name", "key": "errors.blank", "message": "First name can't be blank"},
      {"attribute": "number", "key": "errors.invalid", "message": "Number is invalid"}]})");
  EXPECT_EQ(a.outcome, VaultOutcome::rejected);
  EXPECT_EQ(a.http_status, 422);
  ASSERT_EQ(a.rejections.size(), 2u);
  EXPECT_EQ(a.rejections[0].attribute, "first_name");
  EXPECT_EQ(a.rejections[0].key, "errors.blank");
  EXPECT_EQ(a.rejections[0].message, "First name can't be blank");
  EXPECT_EQ(a.rejections[1].attribute, "number");
  EXPECT_EQ(a.rejections[1].message, "Number is invalid");
}

TEST(VaultMapResult, RejectionsInsideTheTransactionAreReadToo) {
  const VaultAttempt a = map(422, R"({"transaction": {"succeeded": false, "payment_method": {
      "errors": [{"attribute": "year", "key": "errors.expired", "message": "Card expired"}]}}})");
  EXPECT_EQ(a.outcome, VaultOutcome::rejected);
  ASSERT_EQ(a.rejections.size(), 1u);
  EXPECT_EQ(a.rejections[0].key, "errors.expired");
}

TEST(VaultMapResult, RejectionTextEchoingACardNumberIsStripped) {
  const VaultAttempt a = map(422, R"({"errors": [
      {"attribute": "number", "key": "errors.invalid", "message": "Number 4111111111111111 is bad"},
      {"attribute": "number", "key": "errors.invalid", "message": "Got 4111 1111 1111 1111 here"},
      {"attribute": "number", "key": "errors.invalid", "message": "Got 4111-1111-1111-1111."},
      {"attribute": "4111111111111111", "key": "errors.4111111111111111", "message": "x"}]})");
  ASSERT_EQ(a.outcome, VaultOutcome::rejected);
  ASSERT_EQ(a.rejections.size(), 4u);
  EXPECT_EQ(a.rejections[0].message, "Number [redacted] is bad");
  EXPECT_EQ(a.rejections[1].message, "Got [redacted] here");
  EXPECT_EQ(a.rejections[2].message, "Got [redacted].");
  EXPECT_EQ(a.rejections[3].attribute, "");
  EXPECT_EQ(a.rejections[3].key, "");
  for (const auto& r : a.rejections) {
    EXPECT_EQ(r.message.find("1111"), std::string::npos) << r.message;
  }
}

TEST(VaultMapResult, RejectionIdentifiersMustBeSafe) {
  const VaultAttempt a = map(422, R"({"errors": [
      {"attribute": "first name<script>", "key": "errors.blank\n", "message": "m"},
      {"attribute": 42, "message": "no key"}]})");
  ASSERT_EQ(a.rejections.size(), 2u);
  EXPECT_EQ(a.rejections[0].attribute, "");
  EXPECT_EQ(a.rejections[0].key, "");
  EXPECT_EQ(a.rejections[1].attribute, "");
  EXPECT_EQ(a.rejections[1].message, "no key");
}

TEST(VaultMapResult, UnprocessableWithoutAnErrorListIsBadResponse) {
  EXPECT_EQ(map(422, "").outcome, VaultOutcome::bad_response);
  EXPECT_EQ(map(422, "not json at all").outcome, VaultOutcome::bad_response);
  EXPECT_EQ(map(422, "{}").outcome, VaultOutcome::bad_response);
  EXPECT_EQ(map(422, R"({"errors": "oops"})").outcome, VaultOutcome::bad_response);
}

TEST(VaultMapResult, EmptyErrorListIsStillARejection) {
  const VaultAttempt a = map(422, R"({"errors": []})");
  EXPECT_EQ(a.outcome, VaultOutcome::rejected);
  EXPECT_TRUE(a.rejections.empty());
}

TEST(VaultMapResult, RejectionCountIsCapped) {
  json errors = json::array();
  for (int i = 0; i < 100; ++i) errors.push_back({{"attribute", "a"}, {"message", "m"}});
  const VaultAttempt a = map(422, json{{"errors", errors}}.dump());
  EXPECT_EQ(a.outcome, VaultOutcome::rejected);
  EXPECT_EQ(a.rejections.size(), 20u);
}

// --- map_result: every other status -----------------------------------------------------------

struct StatusCase {
  int status;
  VaultOutcome outcome;
};

class VaultStatus : public ::testing::TestWithParam<StatusCase> {};

TEST_P(VaultStatus, MapsToItsOutcome) {
  const auto& c = GetParam();
  const VaultAttempt a = map(c.status, R"({"errors": [{"key": "errors.x", "message": "m"}]})");
  EXPECT_EQ(a.outcome, c.outcome) << c.status << " gave " << outcome_name(a.outcome);
  EXPECT_EQ(a.http_status, c.status);
  EXPECT_TRUE(a.request_sent);
  EXPECT_TRUE(a.token.empty());
}

INSTANTIATE_TEST_SUITE_P(
    Table, VaultStatus,
    ::testing::Values(StatusCase{401, VaultOutcome::auth_failed},
                      StatusCase{402, VaultOutcome::auth_failed},
                      StatusCase{403, VaultOutcome::auth_failed},
                      StatusCase{429, VaultOutcome::throttled},
                      StatusCase{503, VaultOutcome::throttled},
                      StatusCase{500, VaultOutcome::server_error},
                      StatusCase{502, VaultOutcome::server_error},
                      StatusCase{504, VaultOutcome::server_error},
                      StatusCase{599, VaultOutcome::server_error},
                      StatusCase{408, VaultOutcome::timeout},
                      StatusCase{400, VaultOutcome::bad_response},
                      StatusCase{404, VaultOutcome::bad_response},
                      StatusCase{405, VaultOutcome::bad_response},
                      StatusCase{409, VaultOutcome::bad_response},
                      StatusCase{413, VaultOutcome::bad_response},
                      StatusCase{415, VaultOutcome::bad_response},
                      StatusCase{100, VaultOutcome::bad_response},
                      StatusCase{302, VaultOutcome::bad_response},
                      StatusCase{600, VaultOutcome::bad_response}),
    [](const auto& info) { return std::to_string(info.param.status); });

TEST(VaultMapResult, ThrottledCarriesRetryAfterSeconds) {
  const VaultAttempt a = map(429, "", {{"retry-after", "2"}});
  EXPECT_EQ(a.outcome, VaultOutcome::throttled);
  ASSERT_TRUE(a.retry_after.has_value());
  EXPECT_EQ(*a.retry_after, 2s);
}

TEST(VaultMapResult, ThrottledCarriesRetryAfterDate) {
  // FakeClock's wall time is Mon, 23 Nov 2026 10:00:00 GMT.
  const VaultAttempt a = map(503, "", {{"retry-after", "Mon, 23 Nov 2026 10:00:30 GMT"}});
  EXPECT_EQ(a.outcome, VaultOutcome::throttled);
  ASSERT_TRUE(a.retry_after.has_value());
  EXPECT_EQ(*a.retry_after, 30s);
}

TEST(VaultMapResult, ThrottledWithoutRetryAfterHasNone) {
  EXPECT_FALSE(map(503, "").retry_after.has_value());
  EXPECT_FALSE(map(429, "", {{"retry-after", "soon"}}).retry_after.has_value());
}

TEST(VaultMapResult, ServerErrorKeepsRetryAfterButOthersIgnoreIt) {
  EXPECT_EQ(map(500, "", {{"retry-after", "7"}}).retry_after, std::optional(7s));
  EXPECT_FALSE(map(422, R"({"errors": []})", {{"retry-after", "7"}}).retry_after.has_value());
}

// --- map_result: transport errors -------------------------------------------------------------

struct TransportCase {
  TransportError::Kind kind;
  bool sent;
  VaultOutcome outcome;
  bool expect_sent;
};

class VaultTransportError : public ::testing::TestWithParam<TransportCase> {};

TEST_P(VaultTransportError, MapsByKind) {
  const auto& c = GetParam();
  HttpResult result = FakeTransport::error(c.kind, c.sent, "curl: something happened");
  result.elapsed = 1234ns;
  const VaultAttempt a = VaultClient::map_result(result, testing::FakeClock().wall());
  EXPECT_EQ(a.outcome, c.outcome) << transport_error_kind_name(c.kind);
  EXPECT_EQ(a.request_sent, c.expect_sent);
  EXPECT_EQ(a.http_status, 0);
  EXPECT_EQ(a.transport_error, std::optional(c.kind));
  EXPECT_EQ(a.elapsed, 1234ns);
  EXPECT_NE(a.detail.find(transport_error_kind_name(c.kind)), std::string::npos) << a.detail;
}

INSTANTIATE_TEST_SUITE_P(
    Kinds, VaultTransportError,
    ::testing::Values(
        TransportCase{TransportError::Kind::connect_failed, false, VaultOutcome::connect_error, false},
        TransportCase{TransportError::Kind::connect_failed, true, VaultOutcome::connect_error, false},
        TransportCase{TransportError::Kind::reset, false, VaultOutcome::reset, false},
        TransportCase{TransportError::Kind::reset, true, VaultOutcome::reset, true},
        TransportCase{TransportError::Kind::timeout, true, VaultOutcome::timeout, true},
        TransportCase{TransportError::Kind::tls, false, VaultOutcome::tls_error, false},
        TransportCase{TransportError::Kind::cancelled, false, VaultOutcome::connect_error, false},
        TransportCase{TransportError::Kind::cancelled, true, VaultOutcome::reset, true},
        TransportCase{TransportError::Kind::other, true, VaultOutcome::bad_response, true}));

TEST(VaultMapResult, ElapsedIsCopiedFromTheResult) {
  HttpResult r = FakeTransport::reply(201, kCreated);
  r.elapsed = 42ms;
  EXPECT_EQ(VaultClient::map_result(r, testing::FakeClock().wall()).elapsed, 42ms);
}

TEST(VaultOutcomeName, EveryOutcomeHasItsLowercaseName) {
  const std::vector<std::pair<VaultOutcome, std::string>> names = {
      {VaultOutcome::success, "success"},           {VaultOutcome::rejected, "rejected"},
      {VaultOutcome::auth_failed, "auth_failed"},   {VaultOutcome::throttled, "throttled"},
      {VaultOutcome::server_error, "server_error"}, {VaultOutcome::bad_response, "bad_response"},
      {VaultOutcome::timeout, "timeout"},           {VaultOutcome::connect_error, "connect_error"},
      {VaultOutcome::reset, "reset"},               {VaultOutcome::tls_error, "tls_error"}};
  std::set<std::string> seen;
  for (const auto& [outcome, name] : names) {
    EXPECT_EQ(outcome_name(outcome), name);
    seen.insert(outcome_name(outcome));
  }
  EXPECT_EQ(seen.size(), names.size());
}

TEST(TransportErrorKindName, EveryKindHasItsName) {
  EXPECT_STREQ(transport_error_kind_name(TransportError::Kind::connect_failed), "connect_failed");
  EXPECT_STREQ(transport_error_kind_name(TransportError::Kind::reset), "reset");
  EXPECT_STREQ(transport_error_kind_name(TransportError::Kind::timeout), "timeout");
  EXPECT_STREQ(transport_error_kind_name(TransportError::Kind::tls), "tls");
  EXPECT_STREQ(transport_error_kind_name(TransportError::Kind::cancelled), "cancelled");
  EXPECT_STREQ(transport_error_kind_name(TransportError::Kind::other), "other");
}

// --- Retry-After ------------------------------------------------------------------------------

struct RetryAfterCase {
  const char* value;
  std::optional<long long> seconds;
};

class VaultRetryAfter : public ::testing::TestWithParam<RetryAfterCase> {};

TEST_P(VaultRetryAfter, Parses) {
  const auto& c = GetParam();
  const auto got = VaultClient::parse_retry_after(c.value, testing::FakeClock().wall());
  ASSERT_EQ(got.has_value(), c.seconds.has_value()) << "'" << c.value << "'";
  if (got) {
    EXPECT_EQ(got->count(), *c.seconds) << "'" << c.value << "'";
  }
}

INSTANTIATE_TEST_SUITE_P(
    Forms, VaultRetryAfter,
    ::testing::Values(RetryAfterCase{"0", 0}, RetryAfterCase{"1", 1}, RetryAfterCase{" 120 ", 120},
                      RetryAfterCase{"86401", 86400}, RetryAfterCase{"99999999999999999999", 86400},
                      RetryAfterCase{"", std::nullopt}, RetryAfterCase{"-5", std::nullopt},
                      RetryAfterCase{"1.5", std::nullopt}, RetryAfterCase{"abc", std::nullopt},
                      RetryAfterCase{"Mon, 23 Nov 2026 10:01:00 GMT", 60},
                      RetryAfterCase{"Monday, 23-Nov-26 10:00:10 GMT", 10},
                      RetryAfterCase{"Mon Nov 23 10:00:45 2026", 45},
                      RetryAfterCase{"Sun, 22 Nov 2026 10:00:00 GMT", 0},
                      RetryAfterCase{"Tue, 01 Dec 2026 10:00:00 GMT", 86400},
                      // Far future: must not overflow the clock (fuzz_vault_response).
                      RetryAfterCase{"Sun, 06 Dec 202604", 86400}));

// --- sanitize_message -------------------------------------------------------------------------

TEST(VaultSanitize, KeepsOrdinaryTextAndShortNumbers) {
  EXPECT_EQ(VaultClient::sanitize_message("Year 2031 must be 4 digits"),
            "Year 2031 must be 4 digits");
  EXPECT_EQ(VaultClient::sanitize_message("  padded  "), "padded");
}

TEST(VaultSanitize, RemovesControlAndNonAsciiBytesAndCaps) {
  EXPECT_EQ(VaultClient::sanitize_message("a\x01\nb\tc\xc3\xa9"), "abc");
  EXPECT_EQ(VaultClient::sanitize_message(std::string(500, 'x')).size(), 200u);
}

TEST(VaultSanitize, RedactsDigitRunsEvenWhenSplitByControlBytes) {
  EXPECT_EQ(VaultClient::sanitize_message("n=411111"), "n=[redacted]");
  EXPECT_EQ(VaultClient::sanitize_message("n=41111"), "n=41111");
  EXPECT_EQ(VaultClient::sanitize_message("4111\n1111\x7f" "1111 1111"), "[redacted]");
  EXPECT_EQ(VaultClient::sanitize_message("a 12 34 5 b"), "a 12 34 5 b");
  EXPECT_EQ(VaultClient::sanitize_message("a 12 34 56 b"), "a [redacted] b");
}

// --- validate ---------------------------------------------------------------------------------

TEST(VaultValidate, AcceptsAGoodConfigAndNamesTheBadSetting) {
  EXPECT_TRUE(VaultClient::validate({"https://core.spreedly.com", "key", "secret"}).has_value());
  EXPECT_TRUE(VaultClient::validate({"http://127.0.0.1:8080/", "key", "secret"}).has_value());
  const auto bad_url = VaultClient::validate({"ftp://x", "key", "secret"});
  ASSERT_FALSE(bad_url.has_value());
  EXPECT_EQ(bad_url.error().code, "invalid_upstream_url");
  EXPECT_FALSE(VaultClient::validate({"https://", "key", "secret"}).has_value());
  EXPECT_FALSE(VaultClient::validate({"https://u:p@host", "key", "secret"}).has_value());
  const auto no_key = VaultClient::validate({"https://h", "", "secret"});
  ASSERT_FALSE(no_key.has_value());
  EXPECT_EQ(no_key.error().code, "invalid_upstream_key");
  const auto bad_secret = VaultClient::validate({"https://h", "key", "se\ncret"});
  ASSERT_FALSE(bad_secret.has_value());
  EXPECT_EQ(bad_secret.error().code, "invalid_upstream_secret");
  EXPECT_EQ(bad_secret.error().message.find("se\ncret"), std::string::npos);
}

// --- build_request ----------------------------------------------------------------------------

TEST(VaultBuildRequest, PostsToTheCreateEndpointWithBasicAuthAndJsonHeaders) {
  FakeTransport transport;
  VaultClient client(transport, VaultConfig{"https://vault.example.test/", "Aladdin", "open sesame"});
  const HttpRequest r = client.build_request(test_card(), {}, 1500ms);
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.url, "https://vault.example.test/v1/payment_methods.json");
  EXPECT_EQ(r.timeout, 1500ms);
  EXPECT_EQ(header(r, "Authorization"), "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");  // RFC 7617
  EXPECT_EQ(header(r, "Content-Type"), "application/json");
  EXPECT_EQ(header(r, "Accept"), "application/json");
}

TEST(VaultBuildRequest, BodyHasExactlyTheVaultShape) {
  FakeTransport transport;
  VaultClient client(transport, VaultConfig{"https://v", "k", "s"});
  const json body = json::parse(client.build_request(test_card(), {}, 1s).body);
  ASSERT_EQ(body.size(), 1u);
  const json& pm = body.at("payment_method");
  std::set<std::string> pm_keys;
  for (const auto& item : pm.items()) pm_keys.insert(item.key());
  EXPECT_EQ(pm_keys, (std::set<std::string>{"credit_card", "email", "retained"}));
  EXPECT_EQ(pm.at("email"), "ada@example.com");
  EXPECT_EQ(pm.at("retained"), true);
  const json& cc = pm.at("credit_card");
  std::set<std::string> cc_keys;
  for (const auto& item : cc.items()) cc_keys.insert(item.key());
  EXPECT_EQ(cc_keys, (std::set<std::string>{"first_name", "last_name", "number",
                                            "verification_value", "month", "year"}));
  EXPECT_EQ(cc.at("first_name"), "Ada");
  EXPECT_EQ(cc.at("last_name"), "Lovelace");
  EXPECT_EQ(cc.at("number"), kTestPan);
  EXPECT_EQ(cc.at("verification_value"), "123");
  EXPECT_EQ(cc.at("month"), "12");
  EXPECT_EQ(cc.at("year"), "2031");
}

TEST(VaultBuildRequest, EmailIsAbsentWhenNotGiven) {
  FakeTransport transport;
  VaultClient client(transport, VaultConfig{"https://v", "k", "s"});
  const json body = json::parse(client.build_request(test_card(false), {}, 1s).body);
  EXPECT_FALSE(body.at("payment_method").contains("email"));
  EXPECT_TRUE(body.at("payment_method").contains("retained"));
}

// The body as build_request made it through an nlohmann DOM before it was written
// directly: the reference for the wire bytes.
std::string nlohmann_create_body(const PaymentMethod& card) {
  json credit_card = {
      {"first_name", card.first_name},
      {"last_name", card.last_name},
      {"number", card.card_number},
      {"verification_value", card.cvv},
      {"month", std::to_string(card.month)},
      {"year", std::to_string(card.year)},
  };
  json payment_method = {{"credit_card", std::move(credit_card)}, {"retained", true}};
  if (card.email) payment_method["email"] = *card.email;
  const json body = {{"payment_method", std::move(payment_method)}};
  return body.dump(-1, ' ', false, json::error_handler_t::replace);
}

TEST(VaultBuildRequest, BodyIsByteForByteWhatTheNlohmannDomWrote) {
  FakeTransport transport;
  VaultClient client(transport, VaultConfig{"https://v", "k", "s"});
  const std::vector<std::string> names = {
      "Ada", "", "O'Brien-Smith", "Zo\xC3\xAB", "\xE6\x97\xA5\xE6\x9C\xAC", "\xF0\x9F\x92\xB3",
      "say \"hi\"", "back\\slash", std::string("tab\tnl\ncr\rnul\0end", 18), "\x7f\x01\x1f",
      "bad\xFF\xC3(\xE2\x82", std::string(300, 'x')};
  const std::vector<std::optional<std::string>> emails = {
      std::nullopt, std::string("ada@example.com"), std::string(""), std::string("a\"b@c\\d")};
  const std::vector<std::string> numbers = {kTestPan, "378282246310005", "4000056655665556123"};
  const std::vector<std::string> cvvs = {"123", "1234", ""};
  int checked = 0;
  for (std::size_t i = 0; i < names.size() * names.size(); ++i) {
    PaymentMethod card = test_card();
    card.first_name = names[i % names.size()];
    card.last_name = names[(i / names.size()) % names.size()];
    card.email = emails[i % emails.size()];
    card.card_number = numbers[i % numbers.size()];
    card.cvv = cvvs[i % cvvs.size()];
    card.month = 1 + static_cast<int>(i % 12);
    card.year = i % 7 == 0 ? -5 : 1999 + static_cast<int>(i);
    ASSERT_EQ(client.build_request(card, {}, 1s).body, nlohmann_create_body(card)) << "case " << i;
    ++checked;
  }
  EXPECT_EQ(checked, 144);
}

TEST(VaultBuildRequest, KeepsExtraHeadersButNotOnesItOwnsOrUnsafeOnes) {
  FakeTransport transport;
  VaultClient client(transport, VaultConfig{"https://v", "k", "s"});
  const HttpRequest r = client.build_request(
      test_card(),
      {{"traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"},
       {"X-Request-Id", "req-42"},
       {"authorization", "Basic evil"},
       {"X-Split", "a\r\nX-Injected: 1"},
       {"X-Lf", "a\nX-Injected: 1"},
       {"X-Cr", "a\rX-Injected: 1"},
       {"X-Nul", std::string("a\0b", 3)},
       {"Bad Name", "v"}},
      1s);
  EXPECT_EQ(header(r, "traceparent"), "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
  EXPECT_EQ(header(r, "X-Request-Id"), "req-42");
  EXPECT_EQ(header(r, "authorization"), "<absent>");
  EXPECT_EQ(header(r, "X-Split"), "<absent>");
  EXPECT_EQ(header(r, "X-Lf"), "<absent>");
  EXPECT_EQ(header(r, "X-Cr"), "<absent>");
  EXPECT_EQ(header(r, "X-Nul"), "<absent>");
  EXPECT_EQ(header(r, "Bad Name"), "<absent>");
  int authorizations = 0;
  for (const auto& h : r.headers) authorizations += (h.first == "Authorization") ? 1 : 0;
  EXPECT_EQ(authorizations, 1);
}

// --- create_payment_method --------------------------------------------------------------------

TEST(VaultCreate, SendsOneAttemptAndMapsTheReply) {
  FakeTransport transport;
  transport.script(FakeTransport::reply(201, kCreated));
  VaultClient client(transport, VaultConfig{"https://v", "k", "s"});
  std::optional<VaultAttempt> got;
  client.create_payment_method(test_card(), AttemptOptions{750ms, {{"X-Request-Id", "r1"}}},
                               [&](VaultAttempt a) { got = std::move(a); });
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->outcome, VaultOutcome::success);
  EXPECT_EQ(got->token, "PMabc123XYZ");
  ASSERT_EQ(transport.request_count(), 1u);
  const HttpRequest sent = transport.requests().at(0);
  EXPECT_EQ(sent.timeout, 750ms);
  EXPECT_EQ(header(sent, "X-Request-Id"), "r1");
}

TEST(VaultCreate, CompletesOnlyWhenTheTransportDoes) {
  FakeTransport transport;
  transport.complete_immediately = false;
  VaultClient client(transport, VaultConfig{"https://v", "k", "s"});
  int calls = 0;
  VaultOutcome outcome = VaultOutcome::success;
  client.create_payment_method(test_card(), AttemptOptions{}, [&](VaultAttempt a) {
    ++calls;
    outcome = a.outcome;
  });
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(transport.pending_count(), 1u);
  ASSERT_TRUE(transport.complete_next(
      FakeTransport::error(TransportError::Kind::timeout, true)));
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(outcome, VaultOutcome::timeout);
  EXPECT_FALSE(transport.complete_next());
}

TEST(VaultCreate, RemovesTheAttemptsOwnCvvFromRejections) {
  FakeTransport transport;
  transport.script(FakeTransport::reply(422, R"({"errors": [{"attribute": "verification_value",
      "key": "errors.invalid", "message": "Verification value 123 is invalid, 1234 too"}]})"));
  VaultClient client(transport, VaultConfig{"https://v", "k", "s"});
  std::optional<VaultAttempt> got;
  client.create_payment_method(test_card(), AttemptOptions{},
                               [&](VaultAttempt a) { got = std::move(a); });
  ASSERT_TRUE(got.has_value());
  ASSERT_EQ(got->outcome, VaultOutcome::rejected);
  ASSERT_EQ(got->rejections.size(), 1u);
  EXPECT_EQ(got->rejections[0].message, "Verification value [redacted] is invalid, 1234 too");
}

TEST(VaultCreate, ShutDownTransportGivesANotSentFailure) {
  FakeTransport transport;
  transport.shutdown();
  VaultClient client(transport, VaultConfig{"https://v", "k", "s"});
  std::optional<VaultAttempt> got;
  client.create_payment_method(test_card(), AttemptOptions{},
                               [&](VaultAttempt a) { got = std::move(a); });
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->transport_error, std::optional(TransportError::Kind::cancelled));
  EXPECT_FALSE(got->request_sent);
}

}  // namespace
}  // namespace tokenizer
