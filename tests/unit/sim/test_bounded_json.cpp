#include "sim/bounded_json.h"

#include <string>

#include <gtest/gtest.h>

namespace tokenizer {
namespace {

std::string nested(int depth) { return std::string(depth, '[') + std::string(depth, ']'); }

TEST(BoundedJson, ParsesOrdinaryDocuments) {
  auto doc = parse_bounded_json(R"({"a": [1, {"b": "c"}]})");
  ASSERT_TRUE(doc.has_value());
  EXPECT_EQ((*doc)["a"][1]["b"], "c");
}

TEST(BoundedJson, AcceptsNestingUpToTheLimitAndRejectsDeeper) {
  EXPECT_TRUE(parse_bounded_json(nested(kMaxJsonDepth)).has_value());
  auto deep = parse_bounded_json(nested(kMaxJsonDepth + 1));
  ASSERT_FALSE(deep.has_value());
  EXPECT_EQ(deep.error().code, "too_deep");
  // A million levels are refused by the pre-scan, before any tree exists.
  EXPECT_EQ(parse_bounded_json(std::string(1000000, '[')).error().code, "too_deep");
}

TEST(BoundedJson, BracketsInsideStringsDoNotCount) {
  const std::string text =
      "{\"s\": \"" + std::string(100, '[') + "\\\"" + std::string(100, '{') + "\"}";
  EXPECT_TRUE(parse_bounded_json(text).has_value());
}

TEST(BoundedJson, RejectsMalformedInputWithoutEchoingIt) {
  for (const std::string bad : {"", "{", "{\"a\":1} trailing", "\"\xff\xfe\"", "nul"}) {
    auto doc = parse_bounded_json(bad);
    ASSERT_FALSE(doc.has_value()) << bad;
    EXPECT_EQ(doc.error().code, "malformed_json");
    if (!bad.empty()) {
      EXPECT_EQ(doc.error().message.find(bad), std::string::npos);
    }
  }
}

}  // namespace
}  // namespace tokenizer
