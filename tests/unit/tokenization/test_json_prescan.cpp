#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "tokenization/json_prescan.h"

namespace tokenizer {
namespace {

std::string nested(int depth) { return std::string(depth, '[') + std::string(depth, ']'); }

TEST(JsonPrescan, DepthLimitIsInclusive) {
  EXPECT_EQ(prescan_json(nested(32), 32), JsonPrescanResult::ok);
  EXPECT_EQ(prescan_json(nested(33), 32), JsonPrescanResult::too_deep);
  EXPECT_EQ(prescan_json(nested(1), 1), JsonPrescanResult::ok);
  EXPECT_EQ(prescan_json(nested(2), 1), JsonPrescanResult::too_deep);
  EXPECT_EQ(prescan_json("{\"a\":{\"b\":[1,{}]}}", 4), JsonPrescanResult::ok);
  EXPECT_EQ(prescan_json("{\"a\":{\"b\":[1,{}]}}", 3), JsonPrescanResult::too_deep);
}

TEST(JsonPrescan, SiblingsDoNotAddDepth) {
  std::string wide = "[";
  for (int i = 0; i < 1000; ++i) wide += "[],";
  wide += "[]]";
  EXPECT_EQ(prescan_json(wide, 2), JsonPrescanResult::ok);
}

TEST(JsonPrescan, BracketsInsideStringsDoNotCount) {
  const std::string body =
      "{\"a\":\"" + std::string(100, '[') + "\\\"" + std::string(100, '{') + "\\\\\",\"b\":[]}";
  EXPECT_EQ(prescan_json(body, 2), JsonPrescanResult::ok);
  // After the string closes (the escaped backslash did not escape the quote), brackets count.
  EXPECT_EQ(prescan_json(R"({"a":"\\",[[[]]]})", 3), JsonPrescanResult::too_deep);
}

TEST(JsonPrescan, HugeNestingStopsEarly) {
  const std::string body(100000, '[');
  EXPECT_EQ(prescan_json(body, 32), JsonPrescanResult::too_deep);
}

TEST(JsonPrescan, Utf8WellFormedness) {
  struct Case {
    std::string bytes;
    bool valid;
  };
  const std::vector<Case> cases = {
      {"plain ascii", true},
      {"\xC3\xA9", true},          // é
      {"\xE2\x82\xAC", true},      // €
      {"\xF0\x9F\x98\x80", true},  // 😀
      {"\xF4\x8F\xBF\xBF", true},  // U+10FFFF
      {"\xEF\xBB\xBF", true},      // BOM is a valid code point
      {"\xFF", false},
      {"\x80", false},              // lone continuation
      {"\xC3", false},              // truncated
      {"\xE2\x82", false},          // truncated
      {"\xC0\xAF", false},          // overlong '/'
      {"\xC1\xBF", false},          // overlong
      {"\xE0\x80\xAF", false},      // overlong
      {"\xF0\x80\x80\xAF", false},  // overlong
      {"\xED\xA0\x80", false},      // surrogate U+D800
      {"\xF4\x90\x80\x80", false},  // above U+10FFFF
      {"\xF5\x80\x80\x80", false},
      {"\xC3\x28", false},  // bad continuation
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(::testing::PrintToString(c.bytes));
    EXPECT_EQ(is_valid_utf8(c.bytes), c.valid);
    const std::string in_string = "{\"a\":\"" + c.bytes + "\"}";
    EXPECT_EQ(prescan_json(in_string, 32),
              c.valid ? JsonPrescanResult::ok : JsonPrescanResult::invalid_utf8);
    const std::string outside = "[1," + c.bytes + "]";
    EXPECT_EQ(prescan_json(outside, 32),
              c.valid ? JsonPrescanResult::ok : JsonPrescanResult::invalid_utf8);
  }
}

// The byte-at-a-time state machine prescan_json replaced: the specification the table-driven
// scan must agree with on every input.
std::size_t reference_utf8_length(std::string_view s, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char b0 = byte(i);
  const std::size_t left = s.size() - i;
  const auto cont = [&](std::size_t k) { return (byte(i + k) & 0xC0) == 0x80; };
  if (b0 >= 0xC2 && b0 <= 0xDF) return left >= 2 && cont(1) ? 2 : 0;
  if (b0 >= 0xE0 && b0 <= 0xEF) {
    if (left < 3 || !cont(1) || !cont(2)) return 0;
    if (b0 == 0xE0 && byte(i + 1) < 0xA0) return 0;
    if (b0 == 0xED && byte(i + 1) > 0x9F) return 0;
    return 3;
  }
  if (b0 >= 0xF0 && b0 <= 0xF4) {
    if (left < 4 || !cont(1) || !cont(2) || !cont(3)) return 0;
    if (b0 == 0xF0 && byte(i + 1) < 0x90) return 0;
    if (b0 == 0xF4 && byte(i + 1) > 0x8F) return 0;
    return 4;
  }
  return 0;
}

JsonPrescanResult reference_prescan(std::string_view body, int max_depth) {
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  std::size_t i = 0;
  while (i < body.size()) {
    const unsigned char c = static_cast<unsigned char>(body[i]);
    if (c >= 0x80) {
      const std::size_t n = reference_utf8_length(body, i);
      if (n == 0) return JsonPrescanResult::invalid_utf8;
      i += n;
      escaped = false;
      continue;
    }
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > max_depth) return JsonPrescanResult::too_deep;
    } else if ((c == '}' || c == ']') && depth > 0) {
      --depth;
    }
    ++i;
  }
  return JsonPrescanResult::ok;
}

bool reference_utf8(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    if (static_cast<unsigned char>(text[i]) < 0x80) {
      ++i;
      continue;
    }
    const std::size_t n = reference_utf8_length(text, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

TEST(JsonPrescan, AgreesWithTheByteAtATimeScanOnRandomInputs) {
  // Pieces that exercise every branch: structure, strings and escapes, valid and broken UTF-8.
  const std::vector<std::string> pieces = {
      "{", "}", "[", "]", "\"", "\\", "\\\"", ":", ",", " ", "a", "1", "abcdefghij",
      "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\x80", "\xc0\xaf", "\xed\xa0\x80",
      "\xe0\x80\x80", "\xf4\x90\x80\x80", "\xff", "\xc3", "\xe2\x82", "\\\xc3\xa9", "\\\x80"};
  std::mt19937 rng(20261123);
  int disagreements = 0;
  for (int round = 0; round < 200000 && disagreements < 5; ++round) {
    std::string body;
    const int count = static_cast<int>(rng() % 24);
    for (int k = 0; k < count; ++k) body += pieces[rng() % pieces.size()];
    const int max_depth = static_cast<int>(rng() % 6);
    const JsonPrescanResult want = reference_prescan(body, max_depth);
    const JsonPrescanResult got = prescan_json(body, max_depth);
    if (got != want) {
      ++disagreements;
      ADD_FAILURE() << "depth " << max_depth << " body " << ::testing::PrintToString(body);
    }
    if (is_valid_utf8(body) != reference_utf8(body)) {
      ++disagreements;
      ADD_FAILURE() << "utf8 " << ::testing::PrintToString(body);
    }
  }
}

TEST(JsonPrescan, Utf8CheckFindsABadByteAfterLongAsciiRuns) {
  for (std::size_t prefix = 0; prefix < 40; ++prefix) {
    std::string text(prefix, 'a');
    EXPECT_TRUE(is_valid_utf8(text + "\xc3\xa9" + std::string(9, 'b')));
    EXPECT_FALSE(is_valid_utf8(text + "\x80" + std::string(9, 'b'))) << prefix;
    EXPECT_FALSE(is_valid_utf8(text + "\xc3")) << prefix;
  }
}

}  // namespace
}  // namespace tokenizer
