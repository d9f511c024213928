#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "fake_clock.h"
#include "tokenization/request_parser.h"

namespace tokenizer {
namespace {

using Json = nlohmann::json;
using tokenizer::testing::FakeClock;
namespace code = field_code;
namespace path = field_path;

// UTC civil time → system_clock (days_from_civil, proleptic Gregorian).
std::chrono::system_clock::time_point utc(int y, int m, int d, int hh = 0, int mm = 0, int ss = 0) {
  y -= m <= 2;
  const long long era = (y >= 0 ? y : y - 399) / 400;
  const long long yoe = y - era * 400;
  const long long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  const long long days = era * 146097 + doe - 719468;
  return std::chrono::system_clock::time_point(
      std::chrono::seconds(days * 86400 + hh * 3600 + mm * 60 + ss));
}

Json valid_pm() {
  return Json{{"card_number", "4111111111111111"},
              {"month", "12"},
              {"year", "2030"},
              {"first_name", "Ada"},
              {"last_name", "Lovelace"},
              {"cvv", "123"},
              {"email", "ada@example.com"}};
}

std::string body_of(const Json& pm) { return Json{{"payment_method", pm}}.dump(); }

// A valid payment method with one field replaced (or removed when `value` is discarded).
std::string with_field(const std::string& key, const Json& value) {
  Json pm = valid_pm();
  if (value.is_discarded()) {
    pm.erase(key);
  } else {
    pm[key] = value;
  }
  return body_of(pm);
}

const Json kAbsent = Json(Json::value_t::discarded);

class RequestParserTest : public ::testing::Test {
 protected:
  ParseOutcome parse(std::string_view body, const ParseLimits& limits = {}) {
    return parse_tokenize_request(body, clock_, limits);
  }

  // The errors of a validation failure (empty, with a test failure, otherwise).
  std::vector<FieldError> errors_of(std::string_view body) {
    const auto outcome = parse(body);
    if (outcome.ok()) {
      ADD_FAILURE() << "expected a validation failure";
      return {};
    }
    EXPECT_EQ(outcome.failure().kind, ParseFailureKind::validation_failed)
        << outcome.failure().message;
    EXPECT_FALSE(outcome.failure().message.empty());
    return outcome.failure().errors;
  }

  // Asserts exactly one error, on `field` with `expected_code`.
  void expect_one_error(std::string_view body, const char* field, const char* expected_code) {
    const auto errors = errors_of(body);
    ASSERT_EQ(errors.size(), 1u) << body;
    EXPECT_EQ(errors[0].field, field);
    EXPECT_EQ(errors[0].code, expected_code);
    EXPECT_FALSE(errors[0].message.empty());
  }

  void expect_ok(std::string_view body) {
    const auto outcome = parse(body);
    EXPECT_TRUE(outcome.ok()) << (outcome.ok() ? "" : outcome.failure().message) << " "
                              << (outcome.ok() || outcome.failure().errors.empty()
                                      ? ""
                                      : outcome.failure().errors[0].code);
  }

  void expect_malformed(std::string_view body) {
    const auto outcome = parse(body);
    ASSERT_FALSE(outcome.ok());
    EXPECT_EQ(outcome.failure().kind, ParseFailureKind::malformed_json);
    EXPECT_FALSE(outcome.failure().message.empty());
    EXPECT_TRUE(outcome.failure().errors.empty());
  }

  FakeClock clock_;  // 2026-11-23T10:00:00Z
};

TEST_F(RequestParserTest, TestHelperCalendarMatchesTheFakeClock) {
  EXPECT_EQ(utc(2026, 11, 23, 10), clock_.wall());
}

TEST_F(RequestParserTest, ValidRequestYieldsAPaymentMethod) {
  auto outcome = parse(body_of(valid_pm()));
  ASSERT_TRUE(outcome.ok());
  const PaymentMethod pm = std::move(outcome).take_payment_method();
  EXPECT_EQ(pm.card_number, "4111111111111111");
  EXPECT_EQ(pm.cvv, "123");
  EXPECT_EQ(pm.month, 12);
  EXPECT_EQ(pm.year, 2030);
  EXPECT_EQ(pm.first_name, "Ada");
  EXPECT_EQ(pm.last_name, "Lovelace");
  ASSERT_TRUE(pm.email.has_value());
  EXPECT_EQ(*pm.email, "ada@example.com");
  EXPECT_EQ(pm.brand, CardBrand::visa);
  EXPECT_EQ(pm.first_six(), "411111");
  EXPECT_EQ(pm.last_four(), "1111");
}

TEST_F(RequestParserTest, SpacesAndDashesAreRemovedFromTheCardNumber) {
  const auto outcome = parse(with_field("card_number", " 5555-5555 5555-4444 "));
  ASSERT_TRUE(outcome.ok());
  EXPECT_EQ(outcome.payment_method().card_number, "5555555555554444");
  EXPECT_EQ(outcome.payment_method().brand, CardBrand::mastercard);
}

TEST_F(RequestParserTest, UnknownFieldsAreIgnored) {
  Json pm = valid_pm();
  pm["colour"] = "blue";
  pm["nested"] = Json{{"deep", Json::array({1, 2, 3})}};
  Json doc{{"payment_method", pm}, {"other", Json::object()}, {"retained", true}};
  expect_ok(doc.dump());
}

struct BrandCard {
  const char* number;
  CardBrand brand;
};

TEST_F(RequestParserTest, EveryVaultTestCardIsAcceptedWithItsBrand) {
  const std::vector<BrandCard> cards = {
      {"4111111111111111", CardBrand::visa},       {"4242424242424242", CardBrand::visa},
      {"4012888888881881", CardBrand::visa},       {"4222222222222", CardBrand::visa},
      {"5555555555554444", CardBrand::mastercard}, {"5105105105105100", CardBrand::mastercard},
      {"2223003122003222", CardBrand::mastercard}, {"378282246310005", CardBrand::amex},
      {"371449635398431", CardBrand::amex},        {"6011111111111117", CardBrand::discover},
      {"6011000990139424", CardBrand::discover},   {"3530111333300000", CardBrand::jcb},
      {"3566002020360505", CardBrand::jcb},        {"30569309025904", CardBrand::diners},
      {"38520000023237", CardBrand::diners},       {"6200000000000005", CardBrand::unionpay},
  };
  for (const auto& card : cards) {
    SCOPED_TRACE(card.number);
    Json pm = valid_pm();
    pm["card_number"] = card.number;
    pm["cvv"] = card.brand == CardBrand::amex ? "1234" : "123";
    const auto outcome = parse(body_of(pm));
    ASSERT_TRUE(outcome.ok()) << outcome.failure().errors.at(0).code;
    EXPECT_EQ(outcome.payment_method().brand, card.brand);
    EXPECT_EQ(outcome.payment_method().card_number, card.number);
  }
}

// `prefix` padded with zeros to n-1 digits, plus the Luhn check digit.
std::string luhn_number(const std::string& prefix, std::size_t n) {
  std::string body = prefix;
  body.resize(n - 1, '0');
  int sum = 0;
  bool double_it = true;  // the digit left of the check digit is doubled
  for (auto it = body.rbegin(); it != body.rend(); ++it) {
    int d = *it - '0';
    if (double_it) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
    double_it = !double_it;
  }
  return body + static_cast<char>('0' + (10 - sum % 10) % 10);
}

struct BrandLengths {
  const char* prefix;
  CardBrand brand;
  std::vector<std::size_t> valid;
};

TEST_F(RequestParserTest, WrongLengthsPerBrandAreRejected) {
  const std::vector<BrandLengths> brands = {
      {"4", CardBrand::visa, {13, 16, 19}},
      {"51", CardBrand::mastercard, {16}},
      {"2720", CardBrand::mastercard, {16}},
      {"34", CardBrand::amex, {15}},
      {"6011", CardBrand::discover, {16, 17, 18, 19}},
      {"3528", CardBrand::jcb, {16, 17, 18, 19}},
      {"36", CardBrand::diners, {14, 15, 16, 17, 18, 19}},
      {"62", CardBrand::unionpay, {16, 17, 18, 19}},
  };
  for (const auto& b : brands) {
    for (std::size_t n = 12; n <= 19; ++n) {
      const std::string number = luhn_number(b.prefix, n);
      SCOPED_TRACE(number);
      Json pm = valid_pm();
      pm["card_number"] = number;
      pm["cvv"] = b.brand == CardBrand::amex ? "1234" : "123";
      const bool valid = std::find(b.valid.begin(), b.valid.end(), n) != b.valid.end();
      if (valid) {
        expect_ok(body_of(pm));
      } else {
        expect_one_error(body_of(pm), path::kCardNumber, code::kInvalidLength);
      }
    }
  }
}

struct FieldCase {
  Json value;
  const char* code;  // nullptr: accepted
};

TEST_F(RequestParserTest, CardNumberRules) {
  const std::vector<FieldCase> cases = {
      {kAbsent, code::kRequired},
      {nullptr, code::kRequired},
      {"", code::kRequired},
      {" - -", code::kRequired},
      {4111111111111111ULL, code::kInvalidType},
      {Json::array({"4111111111111111"}), code::kInvalidType},
      {"4111.1111.1111.1111", code::kInvalidFormat},
      {"4111x11111111111", code::kInvalidFormat},
      {"4111\t1111 1111 1111", code::kInvalidFormat},
      {"\xd9\xa4\xd9\xa1\xd9\xa1", code::kInvalidFormat},  // Arabic-Indic digits
      {"41111111111", code::kInvalidLength},               // 11 digits
      {"41111111111111111111", code::kInvalidLength},      // 20 digits
      {std::string(5000, '4'), code::kInvalidLength},
      {"9111111111111111", code::kUnsupportedBrand},
      {"1234567812345670", code::kUnsupportedBrand},
      {"4111111111111112", code::kLuhnCheckFailed},
      {"5555555555554445", code::kLuhnCheckFailed},
      {"4111 1111 1111 1111", nullptr},
      {"4111-1111-1111-1111", nullptr},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.value.dump());
    const std::string body = with_field("card_number", c.value);
    if (c.code == nullptr) {
      expect_ok(body);
    } else {
      expect_one_error(body, path::kCardNumber, c.code);
    }
  }
}

struct CvvCase {
  const char* card;
  Json cvv;
  const char* code;
};

TEST_F(RequestParserTest, CvvRulesPerBrand) {
  const char* visa = "4111111111111111";
  const char* amex = "378282246310005";
  const std::vector<CvvCase> cases = {
      {visa, "123", nullptr},
      {visa, "000", nullptr},
      {visa, "1234", code::kInvalidLength},
      {visa, "12", code::kInvalidLength},
      {amex, "1234", nullptr},
      {amex, "123", code::kInvalidLength},
      {amex, "12345", code::kInvalidLength},
      {"5555555555554444", "123", nullptr},
      {"5555555555554444", "1234", code::kInvalidLength},
      {"6011111111111117", "1234", code::kInvalidLength},
      {"3530111333300000", "1234", code::kInvalidLength},
      {"30569309025904", "1234", code::kInvalidLength},
      {"6200000000000005", "1234", code::kInvalidLength},
      {visa, "12a", code::kInvalidFormat},
      {visa, " 123", code::kInvalidFormat},
      {visa, 123, code::kInvalidType},
      {visa, true, code::kInvalidType},
      {visa, "", code::kRequired},
      {visa, nullptr, code::kRequired},
      {visa, kAbsent, code::kRequired},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.card) + " cvv " + c.cvv.dump());
    Json pm = valid_pm();
    pm["card_number"] = c.card;
    if (c.cvv.is_discarded()) {
      pm.erase("cvv");
    } else {
      pm["cvv"] = c.cvv;
    }
    if (c.code == nullptr) {
      expect_ok(body_of(pm));
    } else {
      expect_one_error(body_of(pm), path::kCvv, c.code);
    }
  }
}

TEST_F(RequestParserTest, CvvOfAnUnknownBrandMayHave3Or4Digits) {
  for (const char* cvv : {"123", "1234", "12", "12345"}) {
    SCOPED_TRACE(cvv);
    Json pm = valid_pm();
    pm["card_number"] = "9111111111111111";
    pm["cvv"] = cvv;
    const auto errors = errors_of(body_of(pm));
    const bool cvv_ok = std::string(cvv).size() == 3 || std::string(cvv).size() == 4;
    ASSERT_EQ(errors.size(), cvv_ok ? 1u : 2u);
    EXPECT_EQ(errors[0].code, code::kUnsupportedBrand);
    if (!cvv_ok) {
      EXPECT_EQ(errors[1].field, path::kCvv);
      EXPECT_EQ(errors[1].code, code::kInvalidLength);
    }
  }
}

TEST_F(RequestParserTest, MonthAsStringOrInteger) {
  const std::vector<FieldCase> cases = {
      {"07", nullptr},
      {"7", nullptr},
      {7, nullptr},
      {"12", nullptr},
      {12, nullptr},
      {"01", nullptr},
      {1, nullptr},
      {"0", code::kOutOfRange},
      {"00", code::kOutOfRange},
      {"13", code::kOutOfRange},
      {0, code::kOutOfRange},
      {13, code::kOutOfRange},
      {-1, code::kOutOfRange},
      {18446744073709551615ULL, code::kOutOfRange},
      {"007", code::kInvalidLength},
      {"1a", code::kInvalidFormat},
      {"-1", code::kInvalidFormat},
      {" 7", code::kInvalidFormat},
      {7.0, code::kInvalidType},
      {7.5, code::kInvalidType},
      {true, code::kInvalidType},
      {Json::array(), code::kInvalidType},
      {Json::object(), code::kInvalidType},
      {"", code::kRequired},
      {nullptr, code::kRequired},
      {kAbsent, code::kRequired},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.value.dump());
    // December of a far year, so a valid month never expires.
    Json pm = valid_pm();
    pm["year"] = 2030;
    if (c.value.is_discarded()) {
      pm.erase("month");
    } else {
      pm["month"] = c.value;
    }
    if (c.code == nullptr) {
      const auto outcome = parse(body_of(pm));
      ASSERT_TRUE(outcome.ok());
      EXPECT_EQ(outcome.payment_method().month,
                c.value.is_string() ? std::stoi(c.value.get<std::string>()) : c.value.get<int>());
    } else {
      expect_one_error(body_of(pm), path::kMonth, c.code);
    }
  }
}

// A valid payment method whose `key` is the JSON text `raw`, written as is (so that numbers
// keep their exact spelling: "-0", "1E2", 20+ digits).
std::string with_raw_field(const std::string& key, const std::string& raw) {
  Json pm = valid_pm();
  pm.erase(key);
  std::string body = body_of(pm);
  body.insert(body.size() - 2, ",\"" + key + "\":" + raw);
  return body;
}

struct RawNumberCase {
  const char* raw;
  const char* code;  // nullptr: accepted
};

TEST_F(RequestParserTest, MonthNumbersAreIntegersOnlyAsJsonReadsThem) {
  // Integers: non-negative up to 2^64-1, negative down to -2^63 ("-0" is the integer 0).
  // Anything else (fraction, exponent, beyond those ranges) is a float: invalid_type.
  const std::vector<RawNumberCase> cases = {
      {"12", nullptr},
      {"0", code::kOutOfRange},
      {"-0", code::kOutOfRange},
      {"-1", code::kOutOfRange},
      {"9223372036854775807", code::kOutOfRange},
      {"9223372036854775808", code::kOutOfRange},
      {"18446744073709551615", code::kOutOfRange},
      {"-9223372036854775808", code::kOutOfRange},
      {"18446744073709551616", code::kInvalidType},
      {"10000000000000000000000", code::kInvalidType},
      {"-9223372036854775809", code::kInvalidType},
      {"12.0", code::kInvalidType},
      {"1E1", code::kInvalidType},
      {"1e1", code::kInvalidType},
      {"-0.0", code::kInvalidType},
      {"0e400", code::kInvalidType},
      {"1e-400", code::kInvalidType},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.raw);
    const std::string body = with_raw_field("month", c.raw);
    if (c.code == nullptr) {
      const auto outcome = parse(body);
      ASSERT_TRUE(outcome.ok());
      EXPECT_EQ(outcome.payment_method().month, 12);
    } else {
      expect_one_error(body, path::kMonth, c.code);
    }
  }
  // Not JSON: a leading zero, a number that overflows a double.
  expect_malformed(with_raw_field("month", "012"));
  expect_malformed(with_raw_field("month", "1e309"));
  expect_malformed(with_raw_field("month", "-" + std::string(400, '9')));
}

TEST_F(RequestParserTest, YearNumbersAreIntegersOnlyAsJsonReadsThem) {
  const std::vector<RawNumberCase> cases = {
      {"2030", nullptr},
      {"-0", code::kInvalidLength},
      {"-2030", code::kInvalidLength},
      {"18446744073709551615", code::kInvalidLength},
      {"-9223372036854775808", code::kInvalidLength},
      {"18446744073709551616", code::kInvalidType},
      {"-9223372036854775809", code::kInvalidType},
      {"2030.0", code::kInvalidType},
      {"2.03E3", code::kInvalidType},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.raw);
    const std::string body = with_raw_field("year", c.raw);
    if (c.code == nullptr) {
      const auto outcome = parse(body);
      ASSERT_TRUE(outcome.ok());
      EXPECT_EQ(outcome.payment_method().year, 2030);
    } else {
      expect_one_error(body, path::kYear, c.code);
    }
  }
}

TEST_F(RequestParserTest, RawControlBytesInStringsAreMalformedAtAnyOffset) {
  // RapidJSON 1.1's SSE2 string scan misses 0x1A..0x1F past a 16-byte boundary; the body
  // stays malformed, as it was with nlohmann.
  for (char c : {'\x01', '\x1a', '\x1b', '\x1f'}) {
    for (std::size_t n = 0; n < 40; ++n) {
      SCOPED_TRACE(::testing::Message() << static_cast<int>(c) << " after " << n);
      expect_malformed(with_raw_field("first_name", "\"" + std::string(n, 'a') + c + "b\""));
    }
  }
}

TEST_F(RequestParserTest, WithDuplicateFieldsTheLastOneCounts) {
  Json pm = valid_pm();
  pm.erase("cvv");
  std::string body = body_of(pm);
  body.insert(body.size() - 2, R"(,"cvv":"12","cvv":"123")");
  expect_ok(body);
  body.insert(body.size() - 2, R"(,"cvv":null)");
  expect_one_error(body, path::kCvv, code::kRequired);
  // ... and of the whole document.
  expect_ok(R"({"payment_method": 5, "payment_method": )" + body_of(valid_pm()).substr(18));
}

TEST_F(RequestParserTest, YearAsStringOrInteger) {
  const std::vector<FieldCase> cases = {
      {"2030", nullptr},
      {2030, nullptr},
      {"30", code::kInvalidLength},
      {30, code::kInvalidLength},
      {"20300", code::kInvalidLength},
      {20300, code::kInvalidLength},
      {-2030, code::kInvalidLength},
      {18446744073709551615ULL, code::kInvalidLength},
      {"20x0", code::kInvalidFormat},
      {"+2030", code::kInvalidFormat},
      {2030.0, code::kInvalidType},
      {false, code::kInvalidType},
      {Json::array({2030}), code::kInvalidType},
      {"", code::kRequired},
      {nullptr, code::kRequired},
      {kAbsent, code::kRequired},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.value.dump());
    const std::string body = with_field("year", c.value);
    if (c.code == nullptr) {
      const auto outcome = parse(body);
      ASSERT_TRUE(outcome.ok());
      EXPECT_EQ(outcome.payment_method().year, 2030);
    } else {
      expect_one_error(body, path::kYear, c.code);
    }
  }
}

struct ExpiryCase {
  std::chrono::system_clock::time_point now;
  int month;
  int year;
  const char* code;
};

TEST_F(RequestParserTest, ExpiryEdges) {
  const std::vector<ExpiryCase> cases = {
      // Valid through the last second of the expiry month (UTC)...
      {utc(2026, 11, 30, 23, 59, 59), 11, 2026, nullptr},
      // ...and expired from the first second of the next.
      {utc(2026, 12, 1, 0, 0, 0), 11, 2026, code::kExpired},
      {utc(2026, 12, 1, 0, 0, 0), 12, 2026, nullptr},
      {utc(2026, 11, 1, 0, 0, 0), 10, 2026, code::kExpired},
      {utc(2026, 12, 31, 23, 59, 59), 12, 2026, nullptr},
      {utc(2027, 1, 1, 0, 0, 0), 12, 2026, code::kExpired},
      {utc(2027, 1, 1, 0, 0, 0), 1, 2027, nullptr},
      {utc(2028, 2, 29, 23, 59, 59), 2, 2028, nullptr},  // leap day
      {utc(2028, 3, 1, 0, 0, 0), 2, 2028, code::kExpired},
      {utc(2026, 11, 23, 10), 1, 2000, code::kExpired},
      // At most 20 years ahead of the current month.
      {utc(2026, 11, 23, 10), 11, 2046, nullptr},
      {utc(2026, 11, 23, 10), 12, 2046, code::kTooFarInFuture},
      {utc(2026, 11, 23, 10), 1, 2047, code::kTooFarInFuture},
      {utc(2026, 11, 23, 10), 1, 9999, code::kTooFarInFuture},
      {utc(2026, 12, 1, 0, 0, 0), 12, 2046, nullptr},
      {utc(2026, 11, 30, 23, 59, 59), 12, 2046, code::kTooFarInFuture},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::to_string(c.month) + "/" + std::to_string(c.year) + " at " +
                 std::to_string(std::chrono::system_clock::to_time_t(c.now)));
    clock_.set_wall(c.now);
    Json pm = valid_pm();
    pm["month"] = c.month;
    pm["year"] = std::to_string(c.year);
    if (c.code == nullptr) {
      expect_ok(body_of(pm));
    } else {
      expect_one_error(body_of(pm), path::kYear, c.code);
    }
  }
}

TEST_F(RequestParserTest, ExpiryFollowsTheInjectedClock) {
  Json pm = valid_pm();
  pm["month"] = 11;
  pm["year"] = 2026;
  expect_ok(body_of(pm));
  clock_.advance(std::chrono::hours(24 * 8));  // 2026-12-01T10:00Z
  expect_one_error(body_of(pm), path::kYear, code::kExpired);
}

TEST_F(RequestParserTest, MaxYearsAheadIsConfigurable) {
  Json pm = valid_pm();
  pm["month"] = 12;
  pm["year"] = 2030;
  ParseLimits limits;
  limits.max_years_ahead = 2;
  const auto outcome = parse(body_of(pm), limits);
  ASSERT_FALSE(outcome.ok());
  ASSERT_EQ(outcome.failure().errors.size(), 1u);
  EXPECT_EQ(outcome.failure().errors[0].code, code::kTooFarInFuture);
}

TEST_F(RequestParserTest, NoExpiryCheckWhenMonthOrYearIsInvalid) {
  Json pm = valid_pm();
  pm["month"] = 13;
  pm["year"] = 1999;  // expired, but the month is invalid so only the month is reported
  expect_one_error(body_of(pm), path::kMonth, code::kOutOfRange);
}

std::string repeat(const std::string& s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

TEST_F(RequestParserTest, NameRules) {
  const std::vector<FieldCase> cases = {
      {"Ada", nullptr},
      {"A", nullptr},
      {"Zoë", nullptr},
      {"李", nullptr},
      {"O'Brien-Smith Jr.", nullptr},
      {repeat("a", 100), nullptr},
      {repeat("a", 101), code::kTooLong},
      {repeat("é", 100), nullptr},  // 200 bytes, 100 code points
      {repeat("é", 101), code::kTooLong},
      {repeat("😀", 100), nullptr},  // 400 bytes, 100 code points
      {repeat("😀", 101), code::kTooLong},
      {"", code::kRequired},
      {"   ", code::kRequired},
      {"\xc2\xa0", code::kRequired},  // no-break space only
      {nullptr, code::kRequired},
      {kAbsent, code::kRequired},
      {42, code::kInvalidType},
      {Json::array({"Ada"}), code::kInvalidType},
      {"Ada\nLovelace", code::kInvalidCharacters},
      {"Ada\r", code::kInvalidCharacters},
      {"\t", code::kInvalidCharacters},
      {std::string("Ada\0x", 5), code::kInvalidCharacters},
      {"Ada\x7f", code::kInvalidCharacters},
      {"Ada\xc2\x85", code::kInvalidCharacters},  // U+0085, a C1 control
      {"Ada\x1b[31m", code::kInvalidCharacters},
  };
  for (const char* field : {"first_name", "last_name"}) {
    const char* field_path =
        std::string(field) == "first_name" ? path::kFirstName : path::kLastName;
    for (const auto& c : cases) {
      SCOPED_TRACE(std::string(field) + " " + c.value.dump());
      const std::string body = with_field(field, c.value);
      if (c.code == nullptr) {
        const auto outcome = parse(body);
        ASSERT_TRUE(outcome.ok());
        const auto& pm = outcome.payment_method();
        EXPECT_EQ(std::string(field) == "first_name" ? pm.first_name : pm.last_name,
                  c.value.get<std::string>());
      } else {
        expect_one_error(body, field_path, c.code);
      }
    }
  }
}

TEST_F(RequestParserTest, NameLengthLimitIsConfigurable) {
  ParseLimits limits;
  limits.max_name_code_points = 3;
  Json pm = valid_pm();
  pm["last_name"] = "Lov";
  EXPECT_TRUE(parse(body_of(pm), limits).ok());
  pm["first_name"] = "Adam";
  const auto outcome = parse(body_of(pm), limits);
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.failure().errors.at(0).code, code::kTooLong);
}

// A well-formed address of exactly n bytes (n >= 70): a 64-byte local part and a domain
// of 63-byte labels ending in ".com".
std::string email_of_length(std::size_t n) {
  std::string domain;
  std::size_t remaining = n - 65 - 4;  // minus "local@" and ".com"
  while (remaining > 64) {
    domain += std::string(63, 'd') + ".";
    remaining -= 64;
  }
  domain += std::string(remaining, 'e') + ".com";
  return std::string(64, 'l') + "@" + domain;
}

TEST_F(RequestParserTest, EmailHelperBuildsExactLengths) {
  EXPECT_EQ(email_of_length(254).size(), 254u);
  EXPECT_EQ(email_of_length(255).size(), 255u);
}

TEST_F(RequestParserTest, EmailRules) {
  const std::vector<FieldCase> cases = {
      {"ada@example.com", nullptr},
      {"a.b+tag@sub.example.co.uk", nullptr},
      {"x@example.io", nullptr},
      {"o'brien@example.ie", nullptr},
      {"ADA_L-1@EXAMPLE.COM", nullptr},
      {"用户@例子.广告", nullptr},
      {"ada@xn--bcher-kva.example", nullptr},
      {email_of_length(254), nullptr},
      {email_of_length(255), code::kTooLong},
      {std::string(300, 'a'), code::kTooLong},
      {"ada", code::kInvalidFormat},
      {"ada@", code::kInvalidFormat},
      {"@example.com", code::kInvalidFormat},
      {"ada@example", code::kInvalidFormat},
      {"ada@@example.com", code::kInvalidFormat},
      {"a@b@example.com", code::kInvalidFormat},
      {"a..b@example.com", code::kInvalidFormat},
      {".ada@example.com", code::kInvalidFormat},
      {"ada.@example.com", code::kInvalidFormat},
      {"a da@example.com", code::kInvalidFormat},
      {"ada@example .com", code::kInvalidFormat},
      {"ada@-example.com", code::kInvalidFormat},
      {"ada@example-.com", code::kInvalidFormat},
      {"ada@example..com", code::kInvalidFormat},
      {"ada@.example.com", code::kInvalidFormat},
      {"ada@example.com.", code::kInvalidFormat},
      {"ada@example.123", code::kInvalidFormat},
      {"ada@exa_mple.com", code::kInvalidFormat},
      {"ada\n@example.com", code::kInvalidFormat},
      {"ada@example.com\r\n", code::kInvalidFormat},
      {"\"ada\"@example.com", code::kInvalidFormat},
      {"ada@[127.0.0.1]", code::kInvalidFormat},
      {std::string(65, 'a') + "@example.com", code::kInvalidFormat},
      {"ada@" + std::string(64, 'd') + ".com", code::kInvalidFormat},
      {5, code::kInvalidType},
      {true, code::kInvalidType},
      {Json::object(), code::kInvalidType},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.value.dump());
    const std::string body = with_field("email", c.value);
    if (c.code == nullptr) {
      const auto outcome = parse(body);
      ASSERT_TRUE(outcome.ok());
      ASSERT_TRUE(outcome.payment_method().email.has_value());
      EXPECT_EQ(*outcome.payment_method().email, c.value.get<std::string>());
    } else {
      expect_one_error(body, path::kEmail, c.code);
    }
  }
}

TEST_F(RequestParserTest, EmailIsOptional) {
  for (const Json& value : {kAbsent, Json(nullptr), Json("")}) {
    SCOPED_TRACE(value.is_discarded() ? "absent" : value.dump());
    const auto outcome = parse(with_field("email", value));
    ASSERT_TRUE(outcome.ok());
    EXPECT_FALSE(outcome.payment_method().email.has_value());
  }
}

TEST_F(RequestParserTest, EveryInvalidFieldIsReportedAtOnceInFieldOrder) {
  const Json pm{{"card_number", "4111111111111112"},
                {"cvv", "12"},
                {"month", "13"},
                {"year", 30},
                {"first_name", ""},
                {"last_name", "a\nb"},
                {"email", "nope"}};
  const auto errors = errors_of(body_of(pm));
  ASSERT_EQ(errors.size(), 7u);
  const std::vector<std::pair<const char*, const char*>> expected = {
      {path::kCardNumber, code::kLuhnCheckFailed}, {path::kCvv, code::kInvalidLength},
      {path::kMonth, code::kOutOfRange},           {path::kYear, code::kInvalidLength},
      {path::kFirstName, code::kRequired},         {path::kLastName, code::kInvalidCharacters},
      {path::kEmail, code::kInvalidFormat},
  };
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(errors[i].field, expected[i].first) << i;
    EXPECT_EQ(errors[i].code, expected[i].second) << i;
    EXPECT_FALSE(errors[i].message.empty()) << i;
  }
}

TEST_F(RequestParserTest, AnEmptyPaymentMethodReportsEveryRequiredField) {
  const auto errors = errors_of(R"({"payment_method": {}})");
  ASSERT_EQ(errors.size(), 6u);  // email is optional
  for (const auto& e : errors) EXPECT_EQ(e.code, code::kRequired) << e.field;
  EXPECT_EQ(errors[0].field, path::kCardNumber);
  EXPECT_EQ(errors[5].field, path::kLastName);
}

TEST_F(RequestParserTest, MalformedJson) {
  const std::vector<std::string> bodies = {
      "",
      "   \r\n\t",
      "{",
      R"({"payment_method": {"card_number": "4111)",
      R"({"payment_method": {"card_number": "4111111111111111"})",
      "not json",
      R"({"payment_method": {}} trailing)",
      R"({'payment_method': {}})",
      R"({"payment_method": {},})",
      "[]",
      R"([{"payment_method": {}}])",
      R"("payment_method")",
      "42",
      "null",
      "true",
  };
  for (const auto& body : bodies) {
    SCOPED_TRACE(body);
    expect_malformed(body);
  }
}

TEST_F(RequestParserTest, InvalidUtf8IsMalformed) {
  const std::vector<std::string> bodies = {
      "{\"payment_method\": {\"first_name\": \"Ad\xff\"}}",
      "{\"payment_method\": {\"first_name\": \"\xc0\xaf\"}}",      // overlong
      "{\"payment_method\": {\"first_name\": \"\xed\xa0\x80\"}}",  // surrogate
      "{\"payment_method\": {\"first_name\": \"\xc3\"}}",          // truncated
      "{\"payment_method\": {}, \"x\xfe\": 1}",
      "\xff{\"payment_method\": {}}",
  };
  for (const auto& body : bodies) {
    SCOPED_TRACE(::testing::PrintToString(body));
    expect_malformed(body);
    EXPECT_NE(parse(body).failure().message.find("UTF-8"), std::string::npos);
  }
  // A lone surrogate written as a JSON escape is also rejected (by the JSON parser).
  expect_malformed(R"({"payment_method": {"first_name": "\ud800"}})");
}

TEST_F(RequestParserTest, EscapedCharactersAreDecodedBeforeValidation) {
  expect_one_error(R"({"payment_method": {"card_number": "4111111111111111", "cvv": "123",
                       "month": 12, "year": 2030, "first_name": "Ada\u0000",
                       "last_name": "Lovelace"}})",
                   path::kFirstName, code::kInvalidCharacters);
  const auto outcome = parse(R"({"payment_method": {"card_number": "4111111111111111",
      "cvv": "123", "month": 12, "year": 2030, "first_name": "Zo\u00eb",
      "last_name": "\ud83d\ude00"}})");
  ASSERT_TRUE(outcome.ok());
  EXPECT_EQ(outcome.payment_method().first_name, "Zoë");
  EXPECT_EQ(outcome.payment_method().last_name, "😀");
}

// A valid request whose payment_method carries an unknown field nested so that the whole
// document has exactly `depth` levels.
std::string request_with_depth(int depth) {
  const int extra = depth - 2;  // the top object and payment_method are two levels
  std::string nested = std::string(extra, '[') + std::string(extra, ']');
  std::string pm = body_of(valid_pm());
  // Insert `"extra": <nested>,` right after `{"payment_method":{`.
  const std::string head = "{\"payment_method\":{";
  return head + "\"extra\":" + nested + "," + pm.substr(head.size());
}

TEST_F(RequestParserTest, NestingDepth32IsAcceptedAnd33Rejected) {
  expect_ok(request_with_depth(32));
  const std::string too_deep = request_with_depth(33);
  expect_malformed(too_deep);
  EXPECT_NE(parse(too_deep).failure().message.find("32"), std::string::npos);
}

TEST_F(RequestParserTest, DepthLimitIsConfigurable) {
  ParseLimits limits;
  limits.max_depth = 3;
  EXPECT_TRUE(parse(request_with_depth(3), limits).ok());
  EXPECT_FALSE(parse(request_with_depth(4), limits).ok());
}

TEST_F(RequestParserTest, HugeNestingIsRejectedWithoutCrashing) {
  const std::size_t n = 100000;
  expect_malformed(std::string(n, '['));
  expect_malformed(std::string(n, '[') + std::string(n, ']'));
  std::string objects;
  for (std::size_t i = 0; i < n; ++i) objects += "{\"a\":";
  objects += "1";
  objects += std::string(n, '}');
  expect_malformed(objects);
  // Deep nesting inside the payment method, after valid fields.
  std::string inner = body_of(valid_pm());
  inner.insert(inner.size() - 2, ",\"x\":" + std::string(n, '[') + std::string(n, ']'));
  expect_malformed(inner);
}

TEST_F(RequestParserTest, BracketsInsideStringsDoNotCountTowardsDepth) {
  Json pm = valid_pm();
  pm["note"] = std::string(1000, '[') + std::string(1000, '{');
  expect_ok(body_of(pm));
}

TEST_F(RequestParserTest, InvalidRequest) {
  const std::vector<std::string> bodies = {
      "{}",
      R"({"payment_method": null})",
      R"({"payment_method": "4111111111111111"})",
      R"({"payment_method": []})",
      R"({"payment_method": [{"card_number": "4111111111111111"}]})",
      R"({"payment_method": 5})",
      R"({"payment_method": true})",
      R"({"paymentMethod": {"card_number": "4111111111111111"}})",
      R"({"card_number": "4111111111111111", "cvv": "123"})",
  };
  for (const auto& body : bodies) {
    SCOPED_TRACE(body);
    const auto outcome = parse(body);
    ASSERT_FALSE(outcome.ok());
    EXPECT_EQ(outcome.failure().kind, ParseFailureKind::invalid_request);
    EXPECT_NE(outcome.failure().message.find("payment_method"), std::string::npos);
    EXPECT_TRUE(outcome.failure().errors.empty());
  }
}

TEST_F(RequestParserTest, FailureKindNamesMatchTheApiErrorCodes) {
  EXPECT_STREQ(parse_failure_kind_name(ParseFailureKind::malformed_json), "malformed_json");
  EXPECT_STREQ(parse_failure_kind_name(ParseFailureKind::invalid_request), "invalid_request");
  EXPECT_STREQ(parse_failure_kind_name(ParseFailureKind::validation_failed), "validation_failed");
}

// Every message the parser can produce for bodies carrying this card data.
std::vector<std::string> all_messages(const ParseOutcome& outcome) {
  std::vector<std::string> out;
  if (outcome.ok()) return out;
  out.push_back(outcome.failure().message);
  for (const auto& e : outcome.failure().errors) {
    out.push_back(e.message);
    out.push_back(e.field);
    out.push_back(e.code);
  }
  return out;
}

TEST_F(RequestParserTest, NoMessageEverContainsSubmittedValues) {
  const std::string pan = "4111111111111111";
  const std::string bad_luhn = "4111111111111129";
  const std::string cvv = "9876";
  const std::string first = "Quixotic";
  const std::string last = "Zebrafish";
  const std::string email = "secret.person@example.com";
  auto pm_with = [&](const std::string& number, const std::string& c, const Json& month,
                     const std::string& e) {
    return Json{{"card_number", number},
                {"cvv", c},
                {"month", month},
                {"year", "2030"},
                {"first_name", first + "\n"},
                {"last_name", last + std::string(100, 'x')},
                {"email", e + "@"}};
  };
  std::vector<std::string> bodies = {
      body_of(pm_with(pan, cvv, "13", email)),
      body_of(pm_with(bad_luhn, cvv, 12, email)),
      body_of(pm_with("4111 1111 1111 1111 4", "98a", "x", email)),
      body_of(pm_with("9876543210987654", cvv, 12, email)),
      body_of(pm_with("3782 8224 6310 005", cvv.substr(0, 3), 12, email)),
      // Malformed documents, where a JSON parser's diagnostics would quote the input.
      "{\"payment_method\": {\"card_number\": \"" + pan + "\", \"cvv\": \"" + cvv + "\"",
      "{\"payment_method\": {\"card_number\": " + pan + "x, \"cvv\": " + cvv + "}}",
      "{\"payment_method\": {\"card_number\": \"" + pan + "\xff\", \"cvv\": \"" + cvv + "\"}}",
      "{\"payment_method\": \"" + pan + " " + cvv + "\"}",
  };
  for (const auto& body : bodies) {
    SCOPED_TRACE(::testing::PrintToString(body));
    const auto outcome = parse(body);
    ASSERT_FALSE(outcome.ok());
    for (const auto& message : all_messages(outcome)) {
      for (const std::string& secret :
           {pan, bad_luhn, std::string("4111111111111111"), std::string("378282246310005"),
            std::string("9876543210987654"), cvv, first, last, email}) {
        EXPECT_EQ(message.find(secret), std::string::npos) << message;
      }
    }
  }
}

}  // namespace
}  // namespace tokenizer
