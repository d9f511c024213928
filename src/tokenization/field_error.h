// FieldError: one invalid field of a tokenize request, and the stable vocabulary that
// describes it (field paths and per-field codes).
//
// `parse_tokenize_request()` (request_parser.h) returns every FieldError of a request at
// once; the HTTP layer copies them verbatim into the `errors` array of a 422
// `validation_failed` body. Codes and paths are part of the public API contract: clients
// branch on them, so never rename one (add new ones instead). Messages are for people,
// are built only from fixed text and configured limits, and never contain the submitted
// value (no PAN, CVV, name or email). Header-only constants; thread-safe.
#pragma once

#include <string>

namespace tokenizer {

struct FieldError {
  std::string field;    // a path from field_path below, e.g. "payment_method.cvv"
  std::string code;     // one of field_code below
  std::string message;  // human-readable; never carries the submitted value
};

// Field paths, as they appear in FieldError::field.
namespace field_path {
inline constexpr const char kCardNumber[] = "payment_method.card_number";
inline constexpr const char kCvv[] = "payment_method.cvv";
inline constexpr const char kMonth[] = "payment_method.month";
inline constexpr const char kYear[] = "payment_method.year";
inline constexpr const char kFirstName[] = "payment_method.first_name";
inline constexpr const char kLastName[] = "payment_method.last_name";
inline constexpr const char kEmail[] = "payment_method.email";
}  // namespace field_path

// Per-field codes, as they appear in FieldError::code. Each field reports at most one code
// (the first rule it breaks, in the order the rules are listed for it).
namespace field_code {
// A required field is absent, JSON null, or an empty (or, for names, whitespace-only)
// string. Fields: card_number, cvv, month, year, first_name, last_name.
inline constexpr const char kRequired[] = "required";
// The JSON type is not accepted: card_number, cvv, names and email must be strings
// (a CVV or PAN as a JSON number would lose leading zeros or precision); month and year
// must be a string or an integer JSON number (not a fraction, boolean, array or object).
inline constexpr const char kInvalidType[] = "invalid_type";
// Characters that the field cannot hold: card_number has something other than digits,
// spaces and dashes; cvv, month or year (as a string) has a non-digit; email is not a
// well-formed address (see request_parser.h for the accepted form).
inline constexpr const char kInvalidFormat[] = "invalid_format";
// Wrong number of digits: card_number outside 12..19 digits or not a length its brand
// issues; cvv not 3 digits (4 for amex; 3 or 4 when the brand is unknown); month string
// not 1 or 2 digits; year not exactly 4 digits (as a string or an integer).
inline constexpr const char kInvalidLength[] = "invalid_length";
// card_number: its IIN (leading digits) belongs to no supported brand.
inline constexpr const char kUnsupportedBrand[] = "unsupported_brand";
// card_number: the Luhn (mod 10) check digit does not match.
inline constexpr const char kLuhnCheckFailed[] = "luhn_check_failed";
// month: not between 1 and 12.
inline constexpr const char kOutOfRange[] = "out_of_range";
// year (reported on the year field, covering month/year together): the card expired
// before the current UTC month. A card is valid through the last day of its expiry month.
inline constexpr const char kExpired[] = "expired";
// year: the expiry month is more than ParseLimits::max_years_ahead (20) years after the
// current UTC month (e.g. in November 2026, 11/2046 is accepted and 12/2046 is not).
inline constexpr const char kTooFarInFuture[] = "too_far_in_future";
// first_name/last_name over 100 Unicode code points; email over 254 bytes.
inline constexpr const char kTooLong[] = "too_long";
// first_name/last_name contain a control character (Unicode category Cc: U+0000..U+001F,
// U+007F..U+009F), e.g. a newline or NUL.
inline constexpr const char kInvalidCharacters[] = "invalid_characters";
}  // namespace field_code

}  // namespace tokenizer
