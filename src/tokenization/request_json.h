// read_request_json: the JSON reader behind parse_tokenize_request(). One pass over the raw
// body that (1) accepts exactly what nlohmann_json 3.11's strict parser accepts (RFC 8259; a
// leading UTF-8 BOM is skipped; a NUL byte after the top-level value ends the input, as it
// does for nlohmann; numbers that overflow a double are errors) and (2) picks out the values
// the validator reads: whether the top level is an object, its "payment_method" member, and
// that object's card_number, cvv, month, year, first_name, last_name and email. Duplicate
// keys: the last one wins (nlohmann's object semantics). Keys and strings are compared and
// returned decoded (escapes resolved, \u surrogate pairs joined; a lone surrogate is an error).
//
// Why not a DOM: nlohmann's parse of a 160-byte body was ~17 k instructions and ~30
// allocations, the biggest part of validating a request. This reader allocates only for
// strings that contain escapes (decoded into RequestJson::storage) and for number tokens that
// are not 64-bit integers (floats, which the validator refuses anyway, checked with strtod).
// tests/unit/tokenization/test_request_json.cpp checks it against nlohmann on generated and
// mutated bodies.
//
// Precondition: `body` passed prescan_json(body, max_depth) (valid UTF-8, nesting bounded);
// the reader relies on it for UTF-8 inside strings and bounds its recursion by max_depth.
// Pure; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace tokenizer {

struct RequestJsonValue {
  enum class Kind {
    absent,  // no such member
    null,
    boolean,
    string,
    unsigned_integer,  // a non-negative integer that fits 64 bits (nlohmann: number_unsigned)
    signed_integer,    // a negative integer that fits 64 bits, "-0" included (number_integer)
    floating,          // any other number (number_float)
    object,
    array,
  };
  Kind kind = Kind::absent;
  std::string_view text;          // string: the decoded value (into the body or storage)
  std::uint64_t unsigned_value = 0;  // unsigned_integer
  std::int64_t signed_value = 0;     // signed_integer
};

struct RequestJson {
  RequestJson() = default;
  ~RequestJson();  // wipes `storage` (an escaped card number or CVV may be there)
  RequestJson(const RequestJson&) = delete;  // the views point into `storage`
  RequestJson& operator=(const RequestJson&) = delete;

  RequestJsonValue payment_method;  // its kind (its members are the fields below)
  RequestJsonValue card_number;
  RequestJsonValue cvv;
  RequestJsonValue month;
  RequestJsonValue year;
  RequestJsonValue first_name;
  RequestJsonValue last_name;
  RequestJsonValue email;
  // Decoded strings that contained escapes, one per field above (card_number first).
  std::string storage[7];
};

enum class RequestJsonStatus {
  ok,             // a JSON object; `out` holds what it has
  not_json,       // not a JSON text nlohmann would accept
  not_an_object,  // valid JSON, but the top level is not an object
};

RequestJsonStatus read_request_json(std::string_view body, int max_depth, RequestJson& out);

}  // namespace tokenizer
