// Tokenize request parser: turns the raw body of `POST /api/v1/payment_methods/tokenize`
// into a validated PaymentMethod, or into a failure the HTTP layer maps to an error reply.
//
// Usage (the HTTP handler):
//   ParseOutcome outcome = parse_tokenize_request(request.body, clock);
//   if (!outcome.ok()) {
//     const ParseFailure& f = outcome.failure();
//     // f.kind → ApiErrorCode (malformed_json 400, invalid_request 400,
//     // validation_failed 422); parse_failure_kind_name(f.kind) is the same string.
//     // f.message → "error"; f.errors → "errors" (validation_failed only).
//   } else {
//     PaymentMethod card = std::move(outcome).take_payment_method();
//   }
//
// Failure kinds, checked in this order:
//   malformed_json    empty or whitespace-only body; invalid UTF-8; nesting deeper than
//                     ParseLimits::max_depth (rejected by a byte pre-scan before a document
//                     is built, see json_prescan.h); not JSON; top level not an object.
//   invalid_request   `payment_method` missing, null, or not an object.
//   validation_failed one FieldError per invalid field, all fields checked (field_error.h
//                     lists paths and codes). Unknown fields anywhere are ignored.
//
// Field rules (each field reports the first rule it breaks):
//   card_number  JSON string; only digits, spaces, dashes; 12–19 digits once spaces and
//                dashes are removed; IIN of a supported brand (card_brand.h) with one of
//                its lengths; Luhn. Stored digits-only.
//   cvv          JSON string of digits; 4 digits for amex, 3 for other brands, 3 or 4
//                when no brand can be detected from the card number (the brand is used
//                whenever its IIN is recognised, even if length or Luhn fail).
//   month        integer or string of 1–2 digits ("07", "7", 7); 1..12.
//   year         integer or string; exactly 4 digits. Then, with a valid month: not
//                expired (valid through the last day of its expiry month, UTC, from
//                clock.wall()) and at most max_years_ahead years after the current month.
//   first_name,  JSON string; not empty or whitespace-only; at most max_name_code_points
//   last_name    Unicode code points; no control characters (Cc). Stored as sent.
//   email        optional: absent, null or "" means none. Otherwise a JSON string of at
//                most max_email_bytes bytes, of the form local@domain: local is 1–64
//                bytes of letters, digits, non-ASCII letters and !#$%&'*+/=?^_`{|}~-
//                with single inner dots; domain is two or more dot-separated labels of
//                1–63 letters, digits, non-ASCII letters or inner hyphens, the last not
//                all digits. Quoted local parts and IP-literal domains are not accepted.
//
// Messages (ParseFailure::message and FieldError::message) are fixed text plus
// configured limits; they never contain any submitted value, and never the JSON
// parser's own diagnostics (which quote the input).
//
// Thread-safety: a pure function of its arguments; call it from any thread.
// Cost: ~0.5 µs (~10k instructions) for a 200-byte body, half of it JsonTree::parse; no regex.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "common/clock.h"
#include "tokenization/field_error.h"
#include "tokenization/payment_method.h"

namespace tokenizer {

struct ParseLimits {
  int max_depth = 32;  // object/array nesting levels allowed
  std::size_t max_name_code_points = 100;
  std::size_t max_email_bytes = 254;
  int max_years_ahead = 20;
};

enum class ParseFailureKind { malformed_json, invalid_request, validation_failed };

// "malformed_json", "invalid_request", "validation_failed": the ApiErrorCode names.
const char* parse_failure_kind_name(ParseFailureKind kind);

struct ParseFailure {
  ParseFailureKind kind = ParseFailureKind::malformed_json;
  std::string message;             // human-readable, safe to return to the client
  std::vector<FieldError> errors;  // validation_failed only; in field order
};

// A valid PaymentMethod or a ParseFailure.
class ParseOutcome {
 public:
  ParseOutcome(PaymentMethod payment_method)  // NOLINT: implicit by design
      : data_(std::move(payment_method)) {}
  ParseOutcome(ParseFailure failure) : data_(std::move(failure)) {}  // NOLINT

  bool ok() const { return std::holds_alternative<PaymentMethod>(data_); }
  explicit operator bool() const { return ok(); }

  // Only when ok().
  const PaymentMethod& payment_method() const { return std::get<PaymentMethod>(data_); }
  PaymentMethod take_payment_method() && { return std::get<PaymentMethod>(std::move(data_)); }
  // Only when !ok().
  const ParseFailure& failure() const { return std::get<ParseFailure>(data_); }

 private:
  std::variant<PaymentMethod, ParseFailure> data_;
};

ParseOutcome parse_tokenize_request(std::string_view body, const Clock& clock,
                                    const ParseLimits& limits = {});

}  // namespace tokenizer
