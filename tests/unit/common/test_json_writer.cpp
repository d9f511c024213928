// JSON writer: every escape, UTF-8 passing through, ill-formed UTF-8 replaced, and the
// same bytes as nlohmann::json::dump() (which the writer replaced on the hot path) for
// every single byte, every pair of bytes and many random strings.
#include <gtest/gtest.h>

#include <climits>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <random>
#include <string>

#include "common/json_writer.h"

namespace tokenizer {
namespace {

std::string written(std::string_view text) {
  std::string out;
  append_json_string(out, text);
  return out;
}

// What the code before the writer produced.
std::string nlohmann_dump(const std::string& text) {
  return nlohmann::json(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

TEST(JsonWriterString, PlainTextIsQuoted) {
  EXPECT_EQ(written(""), R"("")");
  EXPECT_EQ(written("Ada Lovelace"), R"("Ada Lovelace")");
  EXPECT_EQ(written("a/b'c~"), R"("a/b'c~")");  // '/' is not escaped (nlohmann does not)
}

TEST(JsonWriterString, QuoteAndBackslashAreEscaped) {
  EXPECT_EQ(written(R"(say "hi")"), R"("say \"hi\"")");
  EXPECT_EQ(written(R"(C:\dir\)"), R"("C:\\dir\\")");
  EXPECT_EQ(written(R"(\")"), R"("\\\"")");
}

TEST(JsonWriterString, EveryControlCharacterIsEscaped) {
  const char* const kExpected[32] = {
      "\\u0000", "\\u0001", "\\u0002", "\\u0003", "\\u0004", "\\u0005", "\\u0006", "\\u0007",
      "\\b",     "\\t",     "\\n",     "\\u000b", "\\f",     "\\r",     "\\u000e", "\\u000f",
      "\\u0010", "\\u0011", "\\u0012", "\\u0013", "\\u0014", "\\u0015", "\\u0016", "\\u0017",
      "\\u0018", "\\u0019", "\\u001a", "\\u001b", "\\u001c", "\\u001d", "\\u001e", "\\u001f"};
  for (int c = 0; c < 32; ++c) {
    const std::string text = "a" + std::string(1, static_cast<char>(c)) + "b";
    EXPECT_EQ(written(text), std::string("\"a") + kExpected[c] + "b\"") << "byte " << c;
  }
}

TEST(JsonWriterString, DelIsNotAControlCharacterForJson) {
  EXPECT_EQ(written("\x7f"), "\"\x7f\"");
}

TEST(JsonWriterString, ValidMultiByteUtf8PassesThrough) {
  for (const std::string& text : {
           std::string("caf\xC3\xA9"),                 // U+00E9, 2 bytes
           std::string("\xC2\x80"),                    // U+0080, smallest 2-byte
           std::string("\xDF\xBF"),                    // U+07FF
           std::string("\xE0\xA0\x80"),                // U+0800, smallest 3-byte
           std::string("\xE2\x82\xAC 5"),              // U+20AC euro sign
           std::string("\xED\x9F\xBF"),                // U+D7FF, just below the surrogates
           std::string("\xEE\x80\x80"),                // U+E000, just above them
           std::string("\xEF\xBF\xBF"),                // U+FFFF
           std::string("\xF0\x90\x80\x80"),            // U+10000, smallest 4-byte
           std::string("\xF0\x9F\x92\xB3 card"),       // U+1F4B3
           std::string("\xF4\x8F\xBF\xBF"),            // U+10FFFF, the last code point
           std::string("\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E"),  // three CJK characters
       }) {
    EXPECT_EQ(written(text), "\"" + text + "\"") << text;
  }
}

TEST(JsonWriterString, IllFormedUtf8BecomesReplacementCharacters) {
  const std::string r = "\xEF\xBF\xBD";  // U+FFFD
  struct Case {
    std::string in, out;
  };
  for (const Case& c : {
           Case{"\x80", r},                          // lone continuation byte
           Case{"a\xFF" "b", "a" + r + "b"},         // never valid
           Case{"\xC0\xAF", r + r},                  // overlong '/': C0 cannot start
           Case{"\xC3", r},                          // cut short by the end
           Case{"\xC3(", r + "("},                   // cut short: '(' is read afresh
           Case{"\xE0\x80\x80", r + r + r},          // overlong 3-byte
           Case{"\xED\xA0\x80", r + r + r},          // UTF-16 surrogate U+D800
           Case{"\xE2\x82", r},                      // 2 of 3 bytes, then the end
           Case{"\xE2\x82" "x", r + "x"},            // 2 of 3 bytes, then ASCII
           Case{"\xF4\x90\x80\x80", r + r + r + r},  // above U+10FFFF
           Case{"\xF0\x9F\x92", r},                  // 3 of 4 bytes
           Case{"\xF0\x9F\x92\"", r + "\\\""},       // 3 of 4, then a quote to escape
       }) {
    EXPECT_EQ(written(c.in), "\"" + c.out + "\"");
    EXPECT_EQ(written(c.in), nlohmann_dump(c.in));
  }
}

TEST(JsonWriterString, AppendsWithoutTouchingWhatIsThere) {
  std::string out = "{\"k\":";
  append_json_string(out, "v");
  EXPECT_EQ(out, "{\"k\":\"v\"");
}

TEST(JsonWriterString, SameBytesAsNlohmannForEverySingleByteAndEveryPair) {
  for (int a = 0; a < 256; ++a) {
    const std::string one(1, static_cast<char>(a));
    ASSERT_EQ(written(one), nlohmann_dump(one)) << "byte " << a;
    for (int b = 0; b < 256; ++b) {
      const std::string two = one + static_cast<char>(b);
      ASSERT_EQ(written(two), nlohmann_dump(two)) << "bytes " << a << " " << b;
    }
  }
}

TEST(JsonWriterString, SameBytesAsNlohmannForRandomStrings) {
  // Fixed seed: the same strings on every run. Mostly valid text with some multi-byte
  // characters, with a share of arbitrary bytes so broken sequences appear everywhere.
  std::mt19937 rng(20261123);
  const std::string pieces[] = {"a", "Z", "0", " ", "\"", "\\", "/", "\n", "\t", "\x01",
                                "\x1f", "\x7f", "\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x92\xB3",
                                "\xED\x9F\xBF", "\xF4\x8F\xBF\xBF"};
  for (int round = 0; round < 20000; ++round) {
    std::string text;
    const int length = static_cast<int>(rng() % 24);
    for (int k = 0; k < length; ++k) {
      if (rng() % 4 == 0) {
        text.push_back(static_cast<char>(rng() % 256));
      } else {
        text += pieces[rng() % (sizeof pieces / sizeof pieces[0])];
      }
    }
    ASSERT_EQ(written(text), nlohmann_dump(text)) << "round " << round;
  }
}

TEST(JsonWriterInt, WritesDecimalLikeNlohmann) {
  for (long long v : {0LL, 1LL, 7LL, 12LL, 2031LL, -1LL, -2031LL, LLONG_MAX, LLONG_MIN}) {
    std::string out;
    append_json_int(out, v);
    EXPECT_EQ(out, nlohmann::json(v).dump()) << v;
  }
}

}  // namespace
}  // namespace tokenizer
