// JSON writer. See json_writer.h.
#include "common/json_writer.h"

#include <charconv>
#include <cstddef>

namespace tokenizer {
namespace {

constexpr char kHex[] = "0123456789abcdef";
constexpr char kReplacement[] = "\xEF\xBF\xBD";  // U+FFFD

// Whether a byte needs more than a plain copy: '"', '\', a control character or a byte of
// a multi-byte sequence (which has to be checked).
bool is_special(unsigned char c) { return c < 0x20 || c == '"' || c == '\\' || c >= 0x80; }

// For the sequence starting at text[i] (a byte >= 0x80): its length when it is well-formed
// UTF-8 (Unicode table 3-7: no overlong forms, no surrogates, nothing above U+10FFFF), else
// 0 with `valid_prefix` set to how many of its bytes were acceptable before the first one
// that was not (0 when the first byte cannot start a sequence).
std::size_t utf8_sequence(std::string_view text, std::size_t i, std::size_t& valid_prefix) {
  const auto b0 = static_cast<unsigned char>(text[i]);
  std::size_t length = 0;
  unsigned char low = 0x80;  // range of the second byte; later bytes are 80..BF
  unsigned char high = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    length = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    length = 3;
    if (b0 == 0xE0) low = 0xA0;   // overlong
    if (b0 == 0xED) high = 0x9F;  // UTF-16 surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    length = 4;
    if (b0 == 0xF0) low = 0x90;   // overlong
    if (b0 == 0xF4) high = 0x8F;  // above U+10FFFF
  } else {
    valid_prefix = 0;  // a continuation byte, C0, C1 or F5..FF
    return 0;
  }
  for (std::size_t k = 1; k < length; ++k) {
    if (i + k >= text.size()) {
      valid_prefix = k;
      return 0;
    }
    const auto b = static_cast<unsigned char>(text[i + k]);
    if (b < low || b > high) {
      valid_prefix = k;
      return 0;
    }
    low = 0x80;
    high = 0xBF;
  }
  return length;
}

}  // namespace

void append_json_string(std::string& out, std::string_view text) {
  out.push_back('"');
  std::size_t i = 0;
  while (i < text.size()) {
    // Copy the run of plain bytes in one go.
    std::size_t run = i;
    while (run < text.size() && !is_special(static_cast<unsigned char>(text[run]))) ++run;
    out.append(text.data() + i, run - i);
    i = run;
    if (i == text.size()) break;

    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      std::size_t valid_prefix = 0;
      const std::size_t n = utf8_sequence(text, i, valid_prefix);
      if (n > 0) {
        out.append(text.data() + i, n);
        i += n;
      } else {
        // As nlohmann's replace handler: one U+FFFD for the bad byte, or for the valid
        // beginning of a sequence cut short (the byte that broke it is then read afresh).
        out.append(kReplacement);
        i += valid_prefix == 0 ? 1 : valid_prefix;
      }
      continue;
    }
    out.push_back('\\');
    switch (c) {
      case '"': out.push_back('"'); break;
      case '\\': out.push_back('\\'); break;
      case '\b': out.push_back('b'); break;
      case '\t': out.push_back('t'); break;
      case '\n': out.push_back('n'); break;
      case '\f': out.push_back('f'); break;
      case '\r': out.push_back('r'); break;
      default:
        out.append("u00");
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 0xF]);
        break;
    }
    ++i;
  }
  out.push_back('"');
}

void append_json_int(std::string& out, long long value) {
  char buffer[24];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  out.append(buffer, result.ptr);
}

}  // namespace tokenizer
