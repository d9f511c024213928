#include "tokenization/json_prescan.h"

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace tokenizer {
namespace {

// Length of the well-formed UTF-8 sequence starting at s[i] (which is >= 0x80), or 0.
std::size_t utf8_sequence_length(std::string_view s, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char b0 = byte(i);
  const std::size_t left = s.size() - i;
  const auto cont = [&](std::size_t k) { return (byte(i + k) & 0xC0) == 0x80; };
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    return left >= 2 && cont(1) ? 2 : 0;
  }
  if (b0 >= 0xE0 && b0 <= 0xEF) {
    if (left < 3 || !cont(1) || !cont(2)) return 0;
    const unsigned char b1 = byte(i + 1);
    if (b0 == 0xE0 && b1 < 0xA0) return 0;  // overlong
    if (b0 == 0xED && b1 > 0x9F) return 0;  // UTF-16 surrogate
    return 3;
  }
  if (b0 >= 0xF0 && b0 <= 0xF4) {
    if (left < 4 || !cont(1) || !cont(2) || !cont(3)) return 0;
    const unsigned char b1 = byte(i + 1);
    if (b0 == 0xF0 && b1 < 0x90) return 0;  // overlong
    if (b0 == 0xF4 && b1 > 0x8F) return 0;  // above U+10FFFF
    return 4;
  }
  return 0;  // continuation byte, 0xC0/0xC1 or 0xF5..0xFF
}

}  // namespace

namespace {

// Byte classes, so that the loops below skip ordinary bytes with one table load each: bytes
// the scan must look at outside strings ('"', brackets, non-ASCII) and inside them ('"', '\\',
// non-ASCII). (The byte-at-a-time state machine this replaced cost ~15 instructions a byte.)
struct ByteTable {
  bool special[256] = {};
};

constexpr ByteTable make_table(bool inside_string) {
  ByteTable t;
  for (int c = 0x80; c < 256; ++c) t.special[c] = true;
  t.special[static_cast<unsigned char>('"')] = true;
  if (inside_string) {
    t.special[static_cast<unsigned char>('\\')] = true;
  } else {
    t.special[static_cast<unsigned char>('{')] = true;
    t.special[static_cast<unsigned char>('[')] = true;
    t.special[static_cast<unsigned char>('}')] = true;
    t.special[static_cast<unsigned char>(']')] = true;
  }
  return t;
}

constexpr ByteTable kOutsideString = make_table(false);
constexpr ByteTable kInsideString = make_table(true);

// Index of the first byte at or after `i` that is '"', '\\' or non-ASCII (or `n`): eight bytes
// at a time, then byte by byte. A byte of `x` is zero iff the (x - 0x01..) & ~x test sets its
// high bit; borrows only flag bytes above a true zero, so the lowest flagged byte is exact.
std::size_t skip_string_bytes(const unsigned char* p, std::size_t i, std::size_t n) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
  constexpr std::uint64_t kHigh = 0x8080808080808080ULL;
  while (i + 8 <= n) {
    std::uint64_t w;
    std::memcpy(&w, p + i, sizeof w);
    const std::uint64_t quote = w ^ (kOnes * '"');
    const std::uint64_t backslash = w ^ (kOnes * '\\');
    const std::uint64_t hit =
        (((quote - kOnes) & ~quote) | ((backslash - kOnes) & ~backslash) | w) & kHigh;
    if (hit != 0) return i + static_cast<std::size_t>(__builtin_ctzll(hit)) / 8;
    i += 8;
  }
#endif
  while (i < n && !kInsideString.special[p[i]]) ++i;
  return i;
}

}  // namespace

JsonPrescanResult prescan_json(std::string_view body, int max_depth) {
  const std::size_t n = body.size();
  const auto byte = [&body](std::size_t k) { return static_cast<unsigned char>(body[k]); };
  int depth = 0;
  std::size_t i = 0;
  while (i < n) {
    // Outside strings.
    while (i < n && !kOutsideString.special[byte(i)]) ++i;
    if (i == n) break;
    const unsigned char c = byte(i);
    if (c >= 0x80) {
      const std::size_t len = utf8_sequence_length(body, i);
      if (len == 0) return JsonPrescanResult::invalid_utf8;
      i += len;
    } else if (c == '{' || c == '[') {
      if (++depth > max_depth) return JsonPrescanResult::too_deep;
      ++i;
    } else if (c == '}' || c == ']') {
      if (depth > 0) --depth;
      ++i;
    } else {  // '"': a string up to the next unescaped '"' (or the end of the body)
      ++i;
      const auto* p = reinterpret_cast<const unsigned char*>(body.data());
      while (true) {
        i = skip_string_bytes(p, i, n);
        if (i == n) break;
        const unsigned char s = byte(i);
        if (s == '"') {
          ++i;
          break;
        }
        if (s == '\\') {
          ++i;  // the escaped character: one ASCII byte, or a UTF-8 sequence checked below
          if (i < n && byte(i) < 0x80) ++i;
          continue;
        }
        const std::size_t len = utf8_sequence_length(body, i);
        if (len == 0) return JsonPrescanResult::invalid_utf8;
        i += len;
      }
    }
  }
  return JsonPrescanResult::ok;
}

bool is_valid_utf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    // ASCII runs eight bytes at a time.
    while (i + 8 <= text.size()) {
      std::uint64_t word;
      std::memcpy(&word, text.data() + i, sizeof word);
      if ((word & 0x8080808080808080ULL) != 0) break;
      i += 8;
    }
    if (i == text.size()) break;
    if (static_cast<unsigned char>(text[i]) < 0x80) {
      ++i;
      continue;
    }
    const std::size_t n = utf8_sequence_length(text, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

}  // namespace tokenizer
