// fuzz_request_body: the tokenize request body parser and validator
// (parse_tokenize_request, tokenization/request_parser.h) on arbitrary bytes.
//
// Input: the raw HTTP request body, as the handler would pass it (seeds: corpus/request_body/).
// Besides "no crash, no sanitizer report", it checks the documented contract:
// - messages are fixed text: printable ASCII, never a 13+ digit run of the input (a PAN),
//   and field errors use only the documented paths and codes, at most one per field;
// - a body that passes is really valid (digits-only PAN of a brand length with a good Luhn
//   digit, CVV of the brand's length, month 1..12, unexpired year at most 20 years ahead,
//   non-blank names) and parses again to the same card when re-encoded as JSON.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <string_view>

#include "fake_clock.h"
#include "fuzz_support.h"
#include "tokenization/card_brand.h"
#include "tokenization/request_parser.h"

namespace tokenizer {
namespace {

using fuzz::is_digit;

// The FakeClock's 2026-11-23 as a month index (year * 12 + month - 1).
constexpr long long kNowMonthIndex = 2026LL * 12 + 10;

bool luhn_ok(std::string_view digits) {  // an independent oracle
  int sum = 0;
  bool twice = false;
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    int d = *it - '0';
    if (twice) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    twice = !twice;
  }
  return sum % 10 == 0;
}

bool only_digits(std::string_view s) {
  for (char c : s) {
    if (!is_digit(c)) return false;
  }
  return !s.empty();
}

void check_message(std::string_view message, std::string_view input) {
  FUZZ_CHECK(!message.empty(), "every failure has a message");
  FUZZ_CHECK(fuzz::is_printable_ascii(message), "messages are fixed ASCII text");
  FUZZ_CHECK(!fuzz::leaks_digits_of(message, input, 13), "no PAN-like input digits in a message");
  FUZZ_CHECK(fuzz::longest_digit_run(message) <= 3, "messages carry at most limits, not values");
}

void check_failure(const ParseFailure& failure, std::string_view input) {
  check_message(failure.message, input);
  const std::string kind = parse_failure_kind_name(failure.kind);
  FUZZ_CHECK(kind == "malformed_json" || kind == "invalid_request" || kind == "validation_failed",
             "kind names are the API error codes");
  FUZZ_CHECK(failure.errors.empty() == (failure.kind != ParseFailureKind::validation_failed),
             "field errors exactly for validation_failed");
  static const std::set<std::string> kPaths = {
      field_path::kCardNumber, field_path::kCvv,      field_path::kMonth, field_path::kYear,
      field_path::kFirstName,  field_path::kLastName, field_path::kEmail};
  static const std::set<std::string> kCodes = {
      field_code::kRequired,      field_code::kInvalidType,       field_code::kInvalidFormat,
      field_code::kInvalidLength, field_code::kUnsupportedBrand,  field_code::kLuhnCheckFailed,
      field_code::kOutOfRange,    field_code::kExpired,           field_code::kTooFarInFuture,
      field_code::kTooLong,       field_code::kInvalidCharacters};
  std::set<std::string> seen;
  for (const FieldError& e : failure.errors) {
    FUZZ_CHECK(kPaths.count(e.field) == 1, "documented field path");
    FUZZ_CHECK(kCodes.count(e.code) == 1, "documented field code");
    FUZZ_CHECK(seen.insert(e.field).second, "at most one error per field");
    check_message(e.message, input);
  }
}

void check_valid(const PaymentMethod& pm, const Clock& clock) {
  const std::string& pan = pm.card_number;
  FUZZ_CHECK(only_digits(pan), "stored PAN is digits only");
  FUZZ_CHECK(pan.size() >= 12 && pan.size() <= 19, "PAN length 12..19");
  FUZZ_CHECK(luhn_ok(pan), "accepted PAN passes Luhn");
  const auto brand = detect_card_brand(pan);
  FUZZ_CHECK(brand && *brand == pm.brand, "brand is the PAN's brand");
  FUZZ_CHECK(is_valid_card_length(pm.brand, pan.size()), "PAN length issued by its brand");
  FUZZ_CHECK(only_digits(pm.cvv) && pm.cvv.size() == cvv_length(pm.brand), "CVV of brand length");
  FUZZ_CHECK(pm.month >= 1 && pm.month <= 12, "month 1..12");
  FUZZ_CHECK(pm.year >= 1000 && pm.year <= 9999, "four-digit year");
  const long long expiry = static_cast<long long>(pm.year) * 12 + (pm.month - 1);
  FUZZ_CHECK(expiry >= kNowMonthIndex, "not expired");
  FUZZ_CHECK(expiry - kNowMonthIndex <= 12 * 20, "at most 20 years ahead");
  FUZZ_CHECK(!pm.first_name.empty() && !pm.last_name.empty(), "names present");
  if (pm.email) FUZZ_CHECK(pm.email->find('@') != std::string::npos, "email has an @");

  // Re-encoded, the accepted card must parse to exactly the same card.
  nlohmann::json card = {{"card_number", pan},       {"cvv", pm.cvv},
                         {"month", pm.month},        {"year", std::to_string(pm.year)},
                         {"first_name", pm.first_name}, {"last_name", pm.last_name}};
  if (pm.email) card["email"] = *pm.email;
  const std::string body = nlohmann::json{{"payment_method", card}}.dump();
  const ParseOutcome again = parse_tokenize_request(body, clock);
  FUZZ_CHECK(again.ok(), "a re-encoded valid card is valid");
  const PaymentMethod& b = again.payment_method();
  FUZZ_CHECK(b.card_number == pan && b.cvv == pm.cvv && b.month == pm.month &&
                 b.year == pm.year && b.first_name == pm.first_name &&
                 b.last_name == pm.last_name && b.email == pm.email && b.brand == pm.brand,
             "re-encoded card round-trips");
}

}  // namespace
}  // namespace tokenizer

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const tokenizer::testing::FakeClock clock;  // 2026-11-23T10:00:00Z, never advanced
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  const tokenizer::ParseOutcome outcome = tokenizer::parse_tokenize_request(body, clock);
  if (outcome.ok()) {
    tokenizer::check_valid(outcome.payment_method(), clock);
  } else {
    tokenizer::check_failure(outcome.failure(), body);
  }
  return 0;
}
