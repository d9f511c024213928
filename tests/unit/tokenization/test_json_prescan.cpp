#include <gtest/gtest.h>

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

}  // namespace
}  // namespace tokenizer
