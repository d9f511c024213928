// JSON writer: appends JSON strings and integers to a std::string, for bodies whose shape
// is fixed at compile time (the success reply, the vault request). The caller writes the
// punctuation and keys as literals and the values through these functions:
//
//   std::string body;
//   body.reserve(256);
//   body.append(R"({"name":)");
//   append_json_string(body, name);
//   body.append(R"(,"count":)");
//   append_json_int(body, count);
//   body.push_back('}');
//
// The bytes are those nlohmann::json::dump() writes for the same value (no indentation,
// ensure_ascii = false, error_handler_t::replace), so replacing a DOM by direct writing
// changes nothing on the wire: `"` and `\` are escaped, \b \t \n \f \r use their short
// forms, other control characters U+0000..U+001F become \u00xx (lowercase hex), DEL and
// every other valid UTF-8 sequence pass through unchanged, and each ill-formed UTF-8
// sequence becomes U+FFFD exactly where nlohmann puts one. The output is therefore always
// valid JSON, whatever bytes come in.
//
// Pure functions; thread-safe; they only append to `out`.
#pragma once

#include <string>
#include <string_view>

namespace tokenizer {

// Appends `text` as a quoted JSON string.
void append_json_string(std::string& out, std::string_view text);

// Appends `value` as a JSON number (decimal, '-' when negative).
void append_json_int(std::string& out, long long value);

}  // namespace tokenizer
