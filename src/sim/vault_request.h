// VaultRequest: how upstream-sim reads and validates a vault create body
// (`POST /v1/payment_methods.json`), the way the Spreedly-style vault does:
//
//   {"payment_method": {"credit_card": {"first_name", "last_name" | "full_name", "number",
//     "verification_value", "month", "year"}, "email", "retained", "metadata"}}
//
// Rules: first and last name required unless full_name is given (errors.blank); number
// required, spaces and dashes ignored, digits only, 12-19 long, Luhn (errors.invalid);
// verification_value optional, 3-4 digits; month 1-12 and 4-digit year, strings or
// integers (errors.blank / errors.invalid), not before the current month (year:
// errors.expired); email optional and well-formed. Every failing field is reported, in a
// fixed order, as {attribute, key, message}; messages never contain the submitted values.
//
// Pure functions, thread-safe. The returned CardSubmission holds the PAN: never log it.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "common/expected.h"

namespace tokenizer {

struct CardSubmission {
  std::string number;     // digits only (PAN)
  std::string card_type;  // Spreedly name (visa, master, american_express, ...) or empty
  std::string first_name;
  std::string last_name;
  std::string full_name;
  int month = 0;
  int year = 0;
  std::string email;  // empty when absent
  bool has_verification_value = false;
  bool retained = false;
};

struct FieldError {
  std::string attribute;  // empty for errors that are not about one field
  std::string key;        // e.g. errors.blank, errors.invalid, errors.expired
  std::string message;
};

struct VaultRequestCheck {
  CardSubmission card;
  std::vector<FieldError> errors;  // empty: the card may be stored
};

// Parses and validates a create body. An Error (code malformed_json or too_deep) means the
// body is not usable JSON at all; field problems are reported in `errors`.
Expected<VaultRequestCheck> check_vault_request(std::string_view body,
                                                std::chrono::system_clock::time_point now);

// Luhn is tokenization/card_brand.h's luhn_valid (one algorithm, one implementation). The
// brand table below is the vault's own on purpose: an independent simulator catches a
// mistake in the service's brand rules instead of repeating it.
// The Spreedly card_type for a digits-only number, from IIN ranges and lengths; empty when
// no brand matches.
std::string spreedly_card_type(std::string_view digits);

}  // namespace tokenizer
