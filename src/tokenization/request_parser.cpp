#include "tokenization/request_parser.h"

#include <chrono>
#include <cstdint>
#include <optional>

#include "tokenization/card_brand.h"
#include "tokenization/json_tree.h"

namespace tokenizer {
namespace {

namespace code = field_code;
namespace path = field_path;

bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool all_digits(std::string_view s) {
  for (char c : s) {
    if (!is_digit(c)) return false;
  }
  return true;
}

bool is_json_whitespace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Decodes the code point starting at s[i] and advances i. `s` must be valid UTF-8
// (guaranteed: the pre-scan checked the body, and JsonTree decodes escapes to UTF-8 and
// refuses lone surrogates).
char32_t next_code_point(std::string_view s, std::size_t& i) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char b0 = b(i);
  if (b0 < 0x80) {
    i += 1;
    return b0;
  }
  if (b0 < 0xE0 && i + 1 < s.size()) {
    const char32_t cp = (char32_t{b0} & 0x1F) << 6 | (b(i + 1) & 0x3F);
    i += 2;
    return cp;
  }
  if (b0 < 0xF0 && i + 2 < s.size()) {
    const char32_t cp =
        (char32_t{b0} & 0x0F) << 12 | char32_t{b(i + 1) & 0x3Fu} << 6 | (b(i + 2) & 0x3F);
    i += 3;
    return cp;
  }
  if (i + 3 < s.size()) {
    const char32_t cp = (char32_t{b0} & 0x07) << 18 | char32_t{b(i + 1) & 0x3Fu} << 12 |
                        char32_t{b(i + 2) & 0x3Fu} << 6 | (b(i + 3) & 0x3F);
    i += 4;
    return cp;
  }
  i = s.size();  // truncated sequence: cannot happen for valid UTF-8
  return 0xFFFD;
}

bool is_control(char32_t cp) { return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F); }

bool is_space_separator(char32_t cp) {
  return cp == 0x20 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) ||
         cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

// --- UTC calendar (proleptic Gregorian), from days since 1970-01-01 -------------------

struct YearMonth {
  long long year;
  int month;  // 1..12
};

YearMonth utc_year_month(std::chrono::system_clock::time_point t) {
  using Days = std::chrono::duration<long long, std::ratio<86400>>;
  long long z = std::chrono::floor<Days>(t.time_since_epoch()).count() + 719468;
  const long long era = (z >= 0 ? z : z - 146096) / 146097;
  const long long doe = z - era * 146097;                                       // [0, 146096]
  const long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;  // [0, 399]
  const long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);                // [0, 365]
  const long long mp = (5 * doy + 2) / 153;                                     // [0, 11]
  const int month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  const long long year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  return {year, month};
}

// --- field checks ---------------------------------------------------------------------

class Checker {
 public:
  Checker(const Clock& clock, const ParseLimits& limits) : clock_(clock), limits_(limits) {}

  void fail(const char* field, const char* error_code, std::string message) {
    errors_.push_back(FieldError{field, error_code, std::move(message)});
  }
  std::vector<FieldError> take_errors() { return std::move(errors_); }
  bool has_errors() const { return !errors_.empty(); }

  // Returns the string value, or nullopt after recording `required`/`invalid_type`.
  // An empty string is reported as required.
  std::optional<std::string_view> required_string(const JsonNode* value, const char* field,
                                                  const char* label) {
    if (value == nullptr || value->is_null()) {
      fail(field, code::kRequired, std::string(label) + " is required");
      return std::nullopt;
    }
    if (!value->is_string()) {
      fail(field, code::kInvalidType, std::string(label) + " must be a JSON string");
      return std::nullopt;
    }
    const std::string_view s = value->as_string();
    if (s.empty()) {
      fail(field, code::kRequired, std::string(label) + " is required");
      return std::nullopt;
    }
    return s;
  }

  // card_number → digits and brand.
  bool card_number(const JsonNode* value, std::string& digits, std::optional<CardBrand>& brand) {
    const char* f = path::kCardNumber;
    const auto raw = required_string(value, f, "card number");
    if (!raw) return false;
    digits.clear();
    for (char c : *raw) {
      if (is_digit(c)) {
        if (digits.size() <= kMaxCardDigits) digits.push_back(c);
      } else if (c != ' ' && c != '-') {
        fail(f, code::kInvalidFormat, "card number may contain only digits, spaces and dashes");
        return false;
      }
    }
    if (digits.empty()) {
      fail(f, code::kRequired, "card number is required");
      return false;
    }
    if (digits.size() < kMinCardDigits || digits.size() > kMaxCardDigits) {
      fail(f, code::kInvalidLength, "card number must have between 12 and 19 digits");
      return false;
    }
    brand = detect_card_brand(digits);
    if (!brand) {
      fail(f, code::kUnsupportedBrand,
           "card brand is not supported (accepted: visa, mastercard, amex, discover, jcb, "
           "diners, unionpay)");
      return false;
    }
    if (!is_valid_card_length(*brand, digits.size())) {
      fail(f, code::kInvalidLength,
           std::string("card number has a number of digits that ") + brand_name(*brand) +
               " does not issue");
      return false;
    }
    if (!luhn_valid(digits)) {
      fail(f, code::kLuhnCheckFailed, "card number is not valid (check digit mismatch)");
      return false;
    }
    return true;
  }

  bool cvv(const JsonNode* value, std::optional<CardBrand> brand, std::string& out) {
    const char* f = path::kCvv;
    const auto raw = required_string(value, f, "cvv");
    if (!raw) return false;
    if (!all_digits(*raw)) {
      fail(f, code::kInvalidFormat, "cvv must contain only digits");
      return false;
    }
    if (brand) {
      const std::size_t want = cvv_length(*brand);
      if (raw->size() != want) {
        fail(f, code::kInvalidLength,
             std::string("cvv must have ") + std::to_string(want) + " digits for " +
                 brand_name(*brand));
        return false;
      }
    } else if (raw->size() != 3 && raw->size() != 4) {
      fail(f, code::kInvalidLength, "cvv must have 3 or 4 digits");
      return false;
    }
    out.assign(raw->data(), raw->size());
    return true;
  }

  // Reads an integer JSON number or a digits-only string of at most `max_digits`
  // characters (min_digits..max_digits). Records the failure and returns nullopt.
  std::optional<long long> integer_field(const JsonNode* value, const char* field,
                                         const char* label, std::size_t min_digits,
                                         std::size_t max_digits, const char* length_message) {
    if (value == nullptr || value->is_null()) {
      fail(field, code::kRequired, std::string(label) + " is required");
      return std::nullopt;
    }
    if (value->is_number_unsigned()) {
      const std::uint64_t v = value->as_unsigned();
      return v > 1000000000ULL ? 1000000000LL : static_cast<long long>(v);
    }
    if (value->is_number_integer()) {
      const std::int64_t v = value->as_integer();
      return v < -1000000000LL ? -1000000000LL : static_cast<long long>(v);
    }
    if (!value->is_string()) {
      fail(field, code::kInvalidType,
           std::string(label) + " must be an integer or a string of digits");
      return std::nullopt;
    }
    const std::string_view s = value->as_string();
    if (s.empty()) {
      fail(field, code::kRequired, std::string(label) + " is required");
      return std::nullopt;
    }
    if (!all_digits(s)) {
      fail(field, code::kInvalidFormat, std::string(label) + " must contain only digits");
      return std::nullopt;
    }
    if (s.size() < min_digits || s.size() > max_digits) {
      fail(field, code::kInvalidLength, length_message);
      return std::nullopt;
    }
    long long v = 0;
    for (char c : s) v = v * 10 + (c - '0');
    return v;
  }

  bool month(const JsonNode* value, int& out) {
    const auto v =
        integer_field(value, path::kMonth, "month", 1, 2, "month must have 1 or 2 digits");
    if (!v) return false;
    if (*v < 1 || *v > 12) {
      fail(path::kMonth, code::kOutOfRange, "month must be between 1 and 12");
      return false;
    }
    out = static_cast<int>(*v);
    return true;
  }

  bool year(const JsonNode* value, int& out) {
    const auto v = integer_field(value, path::kYear, "year", 4, 4, "year must have 4 digits");
    if (!v) return false;
    if (*v < 1000 || *v > 9999) {
      fail(path::kYear, code::kInvalidLength, "year must have 4 digits");
      return false;
    }
    out = static_cast<int>(*v);
    return true;
  }

  void expiry(int month, int year) {
    const YearMonth now = utc_year_month(clock_.wall());
    const long long expiry_index = static_cast<long long>(year) * 12 + (month - 1);
    const long long now_index = now.year * 12 + (now.month - 1);
    if (expiry_index < now_index) {
      fail(path::kYear, code::kExpired, "card has expired");
    } else if (expiry_index - now_index > 12LL * limits_.max_years_ahead) {
      fail(path::kYear, code::kTooFarInFuture,
           "expiry date is more than " + std::to_string(limits_.max_years_ahead) +
               " years in the future");
    }
  }

  bool name(const JsonNode* value, const char* field, const char* label, std::string& out) {
    const auto raw = required_string(value, field, label);
    if (!raw) return false;
    std::size_t code_points = 0;
    bool blank = true;
    bool control = false;
    for (std::size_t i = 0; i < raw->size();) {
      const char32_t cp = next_code_point(*raw, i);
      ++code_points;
      if (!is_space_separator(cp)) blank = false;
      if (is_control(cp)) control = true;
    }
    if (blank) {
      fail(field, code::kRequired, std::string(label) + " is required");
      return false;
    }
    if (code_points > limits_.max_name_code_points) {
      fail(field, code::kTooLong,
           std::string(label) + " must be at most " + std::to_string(limits_.max_name_code_points) +
               " characters");
      return false;
    }
    if (control) {
      fail(field, code::kInvalidCharacters,
           std::string(label) + " must not contain control characters");
      return false;
    }
    out.assign(raw->data(), raw->size());
    return true;
  }

  bool email(const JsonNode* value, std::optional<std::string>& out) {
    const char* f = path::kEmail;
    if (value == nullptr || value->is_null()) return true;
    if (!value->is_string()) {
      fail(f, code::kInvalidType, "email must be a JSON string");
      return false;
    }
    const std::string_view s = value->as_string();
    if (s.empty()) return true;
    if (s.size() > limits_.max_email_bytes) {
      fail(f, code::kTooLong,
           "email must be at most " + std::to_string(limits_.max_email_bytes) + " bytes");
      return false;
    }
    if (!well_formed_email(s)) {
      fail(f, code::kInvalidFormat, "email is not a well-formed address");
      return false;
    }
    out = std::string(s);
    return true;
  }

 private:
  static bool is_atext(char32_t cp) {
    if (cp >= 0xA0) return true;  // non-ASCII letters (RFC 6531); C1 controls excluded
    if (cp >= 0x80) return false;
    const char c = static_cast<char>(cp);
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c)) return true;
    switch (c) {
      case '!':
      case '#':
      case '$':
      case '%':
      case '&':
      case '\'':
      case '*':
      case '+':
      case '/':
      case '=':
      case '?':
      case '^':
      case '_':
      case '`':
      case '{':
      case '|':
      case '}':
      case '~':
      case '-': return true;
      default: return false;
    }
  }

  static bool is_label_char(char32_t cp) {
    if (cp >= 0xA0) return true;
    if (cp >= 0x80) return false;
    const char c = static_cast<char>(cp);
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '-';
  }

  static bool well_formed_email(std::string_view s) {
    const std::size_t at = s.find('@');
    if (at == std::string_view::npos || s.find('@', at + 1) != std::string_view::npos) {
      return false;
    }
    const std::string_view local = s.substr(0, at);
    const std::string_view domain = s.substr(at + 1);
    if (local.empty() || local.size() > 64 || domain.empty() || domain.size() > 253) return false;

    // local: dot-atom
    if (local.front() == '.' || local.back() == '.') return false;
    char32_t previous = 0;
    for (std::size_t i = 0; i < local.size();) {
      const char32_t cp = next_code_point(local, i);
      if (cp == '.') {
        if (previous == '.') return false;
      } else if (!is_atext(cp)) {
        return false;
      }
      previous = cp;
    }

    // domain: labels
    std::size_t labels = 0;
    std::size_t start = 0;
    while (true) {
      const std::size_t dot = domain.find('.', start);
      const std::string_view label = domain.substr(
          start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
      if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
        return false;
      }
      for (std::size_t i = 0; i < label.size();) {
        if (!is_label_char(next_code_point(label, i))) return false;
      }
      ++labels;
      if (dot == std::string_view::npos) {
        return labels >= 2 && !all_digits(label);  // the top-level label is never numeric
      }
      start = dot + 1;
    }
  }

  const Clock& clock_;
  const ParseLimits& limits_;
  std::vector<FieldError> errors_;
};

ParseFailure failure(ParseFailureKind kind, std::string message) {
  return ParseFailure{kind, std::move(message), {}};
}


}  // namespace

const char* parse_failure_kind_name(ParseFailureKind kind) {
  switch (kind) {
    case ParseFailureKind::malformed_json: return "malformed_json";
    case ParseFailureKind::invalid_request: return "invalid_request";
    case ParseFailureKind::validation_failed: return "validation_failed";
  }
  return "malformed_json";
}

ParseOutcome parse_tokenize_request(std::string_view body, const Clock& clock,
                                    const ParseLimits& limits) {
  using K = ParseFailureKind;

  bool blank = true;
  for (char c : body) {
    if (!is_json_whitespace(c)) {
      blank = false;
      break;
    }
  }
  if (blank) return failure(K::malformed_json, "request body is empty");

  // The parser's own error text would quote the input: only its verdict is used.
  JsonTree doc;
  switch (doc.parse(body, limits.max_depth)) {
    case JsonParseResult::ok: break;
    case JsonParseResult::invalid_utf8:
      return failure(K::malformed_json, "request body is not valid UTF-8");
    case JsonParseResult::too_deep:
      return failure(K::malformed_json, "request body nests objects or arrays deeper than " +
                                            std::to_string(limits.max_depth) + " levels");
    case JsonParseResult::not_json:
      return failure(K::malformed_json, "request body is not valid JSON");
  }
  if (!doc.root().is_object()) {
    return failure(K::malformed_json, "request body must be a JSON object");
  }

  const JsonNode* pm = doc.member(doc.root(), "payment_method");
  if (pm == nullptr || pm->is_null()) {
    return failure(K::invalid_request, "payment_method is required");
  }
  if (!pm->is_object()) {
    return failure(K::invalid_request, "payment_method must be a JSON object");
  }

  Checker check(clock, limits);
  PaymentMethod result;
  std::optional<CardBrand> brand;
  const bool card_ok = check.card_number(doc.member(*pm, "card_number"), result.card_number, brand);
  check.cvv(doc.member(*pm, "cvv"), brand, result.cvv);
  const bool month_ok = check.month(doc.member(*pm, "month"), result.month);
  const bool year_ok = check.year(doc.member(*pm, "year"), result.year);
  if (month_ok && year_ok) check.expiry(result.month, result.year);
  check.name(doc.member(*pm, "first_name"), path::kFirstName, "first name", result.first_name);
  check.name(doc.member(*pm, "last_name"), path::kLastName, "last name", result.last_name);
  check.email(doc.member(*pm, "email"), result.email);

  if (check.has_errors()) {
    ParseFailure f =
        failure(K::validation_failed, "payment_method has invalid fields; see errors for each one");
    f.errors = check.take_errors();
    return f;
  }
  if (card_ok && brand) result.brand = *brand;
  return result;
}

}  // namespace tokenizer
