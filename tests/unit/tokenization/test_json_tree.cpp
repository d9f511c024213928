#include <gtest/gtest.h>
#include <simdjson.h>

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "json_tree_text.h"
#include "tokenization/json_tree.h"

namespace tokenizer {
namespace {

using Json = nlohmann::json;
using Type = JsonNode::Type;

constexpr int kDepth = 32;

// nlohmann's verdict and type for `text`, the behaviour JsonTree must reproduce.
bool nlohmann_accepts(const std::string& text) {
  return !Json::parse(text, nullptr, /*allow_exceptions=*/false).is_discarded();
}

Type nlohmann_type(const Json& j) {
  switch (j.type()) {
    case Json::value_t::null: return Type::null;
    case Json::value_t::boolean: return Type::boolean;
    case Json::value_t::number_unsigned: return Type::number_unsigned;
    case Json::value_t::number_integer: return Type::number_integer;
    case Json::value_t::number_float: return Type::number_float;
    case Json::value_t::string: return Type::string;
    case Json::value_t::array: return Type::array;
    case Json::value_t::object: return Type::object;
    default: break;
  }
  ADD_FAILURE() << "unexpected nlohmann type";
  return Type::null;
}

struct NumberCase {
  std::string text;
  Type type;
  std::uint64_t unsigned_value = 0;  // number_unsigned
  std::int64_t integer_value = 0;    // number_integer
};

std::string digits(std::size_t n, char c) { return std::string(n, c); }

// 1.797...e308 written out as 309 digits: finite, but more digits than RapidJSON reads.
std::string just_under_dbl_max() { return "17976931348623157" + std::string(292, '0'); }

std::vector<NumberCase> number_cases() {
  return {
      {"0", Type::number_unsigned, 0},
      {"7", Type::number_unsigned, 7},
      {"9223372036854775807", Type::number_unsigned, 9223372036854775807ULL},
      {"9223372036854775808", Type::number_unsigned, 9223372036854775808ULL},
      {"18446744073709551615", Type::number_unsigned, 18446744073709551615ULL},
      {"18446744073709551616", Type::number_float},
      {"10000000000000000000000", Type::number_float},
      {"-0", Type::number_integer, 0, 0},
      {"-1", Type::number_integer, 0, -1},
      {"-9223372036854775808", Type::number_integer, 0, INT64_MIN},
      {"-9223372036854775809", Type::number_float},
      {"-18446744073709551615", Type::number_float},
      {"1E2", Type::number_float},
      {"1e2", Type::number_float},
      {"1e+2", Type::number_float},
      {"7.0", Type::number_float},
      {"-0.0", Type::number_float},
      {"0e400", Type::number_float},
      {"1e-400", Type::number_float},
      {"-1e-400", Type::number_float},
      {"0.0000000001e310", Type::number_float},
      {just_under_dbl_max(), Type::number_float},
      {"-" + just_under_dbl_max(), Type::number_float},
  };
}

TEST(JsonTree, NumbersAreTypedAsNlohmannTypesThemAtTheBoundaries) {
  for (const NumberCase& c : number_cases()) {
    // Alone, in an array and as a member: the last two with a number RapidJSON calls too big
    // next to it, which makes JsonTree read the text a second time (rewritten).
    for (const std::string& text :
         {c.text, "[" + c.text + "]", "[0e400, " + c.text + "]",
          R"({"a": )" + c.text + R"(, "b": 1e400000000000000000000000000000000000000)" + "}",
          R"({"b": 0e999, "a": )" + c.text + "}"}) {
      SCOPED_TRACE(text.substr(0, 80));
      const bool is_object = text.front() == '{';
      const bool refused = text.find("1e4000") != std::string::npos;
      ASSERT_EQ(nlohmann_accepts(text), !refused);
      JsonTree doc;
      if (refused) {
        EXPECT_EQ(doc.parse(text, kDepth), JsonParseResult::not_json);
        continue;
      }
      ASSERT_EQ(doc.parse(text, kDepth), JsonParseResult::ok);
      const JsonNode* value = &doc.root();
      if (is_object) {
        value = doc.member(doc.root(), "a");
      } else if (text.front() == '[') {
        const auto [begin, end] = doc.elements(doc.root());
        ASSERT_NE(begin, end);
        value = end - 1;
      }
      ASSERT_NE(value, nullptr);
      EXPECT_EQ(value->type(), c.type);
      EXPECT_TRUE(value->is_number());
      EXPECT_EQ(value->is_number_integer(),
                c.type == Type::number_unsigned || c.type == Type::number_integer);
      if (c.type == Type::number_unsigned) {
        EXPECT_EQ(value->as_unsigned(), c.unsigned_value);
      }
      if (c.type == Type::number_integer) {
        EXPECT_EQ(value->as_integer(), c.integer_value);
      }
    }
    // The table itself agrees with nlohmann.
    const Json j = Json::parse(c.text, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << c.text.substr(0, 40);
    EXPECT_EQ(nlohmann_type(j), c.type) << c.text.substr(0, 40);
  }
}

TEST(JsonTree, NumbersThatOverflowADoubleMakeTheDocumentInvalid) {
  for (const std::string& text :
       {std::string("1e309"), std::string("-1e309"), std::string("[1e400]"), digits(309, '9'),
        "-" + digits(309, '9'), "1" + digits(400, '0'), "0." + digits(400, '0') + "1e800",
        std::string("[0e400, 1e309]"), std::string(R"({"x": 0e400, "y": 2e308})")}) {
    SCOPED_TRACE(text.substr(0, 60));
    EXPECT_FALSE(nlohmann_accepts(text));
    JsonTree doc;
    EXPECT_EQ(doc.parse(text, kDepth), JsonParseResult::not_json);
  }
}

TEST(JsonTree, MalformedNumbersAreRefused) {
  for (const char* text : {"01", "-", "1.", ".5", "+1", "1e", "1e+", "-01", "0x10", "1.5.3",
                           "[1.5.3]", "[01.5]", "[- 1]", "NaN", "Infinity", "-Infinity",
                           "[0e400, 1.]", "[0e400, 01]"}) {
    SCOPED_TRACE(text);
    EXPECT_FALSE(nlohmann_accepts(text));
    JsonTree doc;
    EXPECT_EQ(doc.parse(text, kDepth), JsonParseResult::not_json);
  }
}

TEST(JsonTree, TheRewriteOfHugeExponentsLeavesStringsAlone) {
  JsonTree doc;
  ASSERT_EQ(doc.parse(R"({"s": "1e400 -0.5 \"2.5\"", "x": 0e400, "n": 12345678901234567890})",
                      kDepth),
            JsonParseResult::ok);
  EXPECT_EQ(doc.member(doc.root(), "s")->as_string(), R"(1e400 -0.5 "2.5")");
  EXPECT_TRUE(doc.member(doc.root(), "x")->is_number_float());
  EXPECT_EQ(doc.member(doc.root(), "n")->as_unsigned(), 12345678901234567890ULL);
}

TEST(JsonTree, EveryTypeAndItsAccessors) {
  JsonTree doc;
  ASSERT_EQ(doc.parse(R"({"n": null, "t": true, "f": false, "s": "text", "e": "",
                          "a": [1, "two", [], {}], "o": {"k": -3}})",
                      kDepth),
            JsonParseResult::ok);
  const JsonNode& root = doc.root();
  ASSERT_TRUE(root.is_object());
  EXPECT_EQ(root.size(), 7u);
  EXPECT_TRUE(doc.member(root, "n")->is_null());
  EXPECT_TRUE(doc.member(root, "t")->is_boolean());
  EXPECT_TRUE(doc.member(root, "t")->as_bool());
  EXPECT_FALSE(doc.member(root, "f")->as_bool());
  EXPECT_FALSE(doc.member(root, "f")->is_number());
  EXPECT_EQ(doc.member(root, "s")->as_string(), "text");
  EXPECT_EQ(doc.member(root, "s")->size(), 4u);
  EXPECT_TRUE(doc.member(root, "e")->is_string());
  EXPECT_TRUE(doc.member(root, "e")->as_string().empty());

  const JsonNode* a = doc.member(root, "a");
  ASSERT_TRUE(a->is_array());
  ASSERT_EQ(a->size(), 4u);
  const auto [begin, end] = doc.elements(*a);
  ASSERT_EQ(end - begin, 4);
  EXPECT_EQ(begin[0].as_unsigned(), 1u);
  EXPECT_EQ(begin[1].as_string(), "two");
  EXPECT_TRUE(begin[2].is_array());
  EXPECT_EQ(begin[2].size(), 0u);
  EXPECT_TRUE(begin[3].is_object());
  EXPECT_EQ(doc.elements(begin[2]).first, doc.elements(begin[2]).second);

  EXPECT_EQ(doc.path({"o", "k"})->as_integer(), -3);
  EXPECT_EQ(doc.path({"o", "missing"}), nullptr);
  EXPECT_EQ(doc.path({"s", "k"}), nullptr);  // a step that is not an object
  EXPECT_EQ(doc.member(*a, "0"), nullptr);   // arrays have no members
  EXPECT_EQ(doc.member(root, "missing"), nullptr);
  EXPECT_EQ(doc.elements(root).first, nullptr);  // objects have no elements
}

TEST(JsonTree, TopLevelScalarsAreDocuments) {
  for (const char* text : {"null", "true", "false", "\"s\"", "42", "[]", "{}", " \t\r\n{} \n"}) {
    SCOPED_TRACE(text);
    EXPECT_TRUE(nlohmann_accepts(text));
    JsonTree doc;
    EXPECT_EQ(doc.parse(text, kDepth), JsonParseResult::ok);
  }
}

TEST(JsonTree, NotJson) {
  for (const char* text : {"", " ", "{", "}", "[1,]", R"({"a":1,})", "{'a':1}", "{a:1}",
                           R"({"a" 1})", "{} {}", "{} x", "nul", "True", "[1 2]", "// c\n{}",
                           "\"unterminated", R"("bad \x escape")", R"("\u12")"}) {
    SCOPED_TRACE(text);
    EXPECT_FALSE(nlohmann_accepts(text));
    JsonTree doc;
    EXPECT_EQ(doc.parse(text, kDepth), JsonParseResult::not_json);
  }
}

TEST(JsonTree, WithDuplicateKeysTheLastOneCounts) {
  JsonTree doc;
  ASSERT_EQ(doc.parse(R"({"a": 1, "b": {"c": 1, "c": "x"}, "a": 2, "a": 3})", kDepth),
            JsonParseResult::ok);
  EXPECT_EQ(doc.member(doc.root(), "a")->as_unsigned(), 3u);
  EXPECT_EQ(doc.path({"b", "c"})->as_string(), "x");
  EXPECT_EQ(doc.root().size(), 4u);  // the members as written
  EXPECT_EQ(Json::parse(R"({"a": 1, "a": 3})")["a"], 3);
}

TEST(JsonTree, KeysAreComparedWithTheirFullLength) {
  JsonTree doc;
  ASSERT_EQ(doc.parse(R"({"card\u0000": 1, "car": 2, "card": 3})", kDepth), JsonParseResult::ok);
  EXPECT_EQ(doc.member(doc.root(), "card")->as_unsigned(), 3u);
  EXPECT_EQ(doc.member(doc.root(), std::string_view("card\0", 5))->as_unsigned(), 1u);
  EXPECT_EQ(doc.member(doc.root(), "ca"), nullptr);
}

TEST(JsonTree, OneLeadingByteOrderMarkIsSkipped) {
  const std::string bom = "\xEF\xBB\xBF";
  for (const auto& [text, ok] : std::vector<std::pair<std::string, bool>>{
           {bom + R"({"a": 1})", true},
           {bom + "7", true},
           {bom, false},
           {bom + bom + "{}", false},
           {" " + bom + "{}", false},
           {"[" + bom + "]", false},
       }) {
    SCOPED_TRACE(::testing::PrintToString(text));
    EXPECT_EQ(nlohmann_accepts(text), ok);
    JsonTree doc;
    EXPECT_EQ(doc.parse(text, kDepth), ok ? JsonParseResult::ok : JsonParseResult::not_json);
  }
  JsonTree doc;
  ASSERT_EQ(doc.parse(bom + R"({"a": 1})", kDepth), JsonParseResult::ok);
  EXPECT_EQ(doc.member(doc.root(), "a")->as_unsigned(), 1u);
}

TEST(JsonTree, SurrogatePairsAreDecodedAndLoneOnesRefused) {
  JsonTree doc;
  ASSERT_EQ(doc.parse(R"("\ud83d\ude00 \u00e9\u20AC")", kDepth), JsonParseResult::ok);
  EXPECT_EQ(doc.root().as_string(), "\xF0\x9F\x98\x80 \xC3\xA9\xE2\x82\xAC");
  for (const char* text : {R"("\ude00")", R"("a\udfffb")", R"(["\udc00"])", R"({"\udc00": 1})",
                           R"("\ud83d")", R"("\ud83dx")", R"("\ud83d\u0041")",
                           R"("\ud83d\ud83d")", R"("\ude00\ud83d")"}) {
    SCOPED_TRACE(text);
    EXPECT_FALSE(nlohmann_accepts(text));
    EXPECT_EQ(doc.parse(text, kDepth), JsonParseResult::not_json);
  }
}

TEST(JsonTree, EscapedNulIsKeptAndARawNulEndsTheText) {
  JsonTree doc;
  ASSERT_EQ(doc.parse(R"(["a\u0000b"])", kDepth), JsonParseResult::ok);
  EXPECT_EQ(doc.elements(doc.root()).first->as_string(), std::string_view("a\0b", 3));

  // nlohmann read a NUL byte as the end of its input.
  for (const auto& [text, ok] : std::vector<std::pair<std::string, bool>>{
           {std::string("{}\0 trailing garbage", 19), true},
           {std::string("[1]\0", 4), true},
           {std::string("\0{}", 3), false},
           {std::string("[1,\0 2]", 7), false},
           {std::string("\"a\0b\"", 5), false},
       }) {
    SCOPED_TRACE(::testing::PrintToString(text));
    EXPECT_EQ(nlohmann_accepts(text), ok);
    EXPECT_EQ(doc.parse(text, kDepth), ok ? JsonParseResult::ok : JsonParseResult::not_json);
  }
}

TEST(JsonTree, EveryRawControlByteIsRefusedInAStringAtEveryOffset) {
  // RapidJSON 1.1's SSE2 string scan misses 0x1A..0x1F past a 16-byte boundary.
  JsonTree doc;
  for (int c = 0x01; c < 0x20; ++c) {
    for (std::size_t n = 0; n <= 48; ++n) {
      const std::string text = "[\"" + std::string(n, 'a') + static_cast<char>(c) + "bc\"]";
      SCOPED_TRACE(::testing::Message() << "byte " << c << " after " << n);
      EXPECT_EQ(doc.parse(text, kDepth), JsonParseResult::not_json);
      if (n == 0) {
        EXPECT_FALSE(nlohmann_accepts(text));
      }
    }
  }
  // Outside strings only the JSON whitespace is allowed.
  for (int c = 0x01; c < 0x20; ++c) {
    const std::string text = std::string("[1,") + static_cast<char>(c) + "2]";
    const bool whitespace = c == '\t' || c == '\n' || c == '\r';
    SCOPED_TRACE(c);
    EXPECT_EQ(nlohmann_accepts(text), whitespace);
    EXPECT_EQ(doc.parse(text, kDepth), whitespace ? JsonParseResult::ok : JsonParseResult::not_json);
  }
  // Escaped, they are text; after a NUL they are past the end.
  ASSERT_EQ(doc.parse(R"(["\u001a\u001F\n"])", kDepth), JsonParseResult::ok);
  EXPECT_EQ(doc.elements(doc.root()).first->as_string(), "\x1a\x1f\n");
  EXPECT_EQ(doc.parse(std::string("[1]\0\x1b", 5), kDepth), JsonParseResult::ok);
}

TEST(JsonTree, StringsOfEveryLengthAndEscapeOffsetParseExactly) {
  // In situ with SSE2: each string is scanned 16 bytes at a time from its first 16-byte
  // boundary, and the text after an escape is copied back over the escape's bytes.
  JsonTree doc;
  for (std::size_t lead = 0; lead < 16; ++lead) {  // shifts the string against the alignment
    for (std::size_t n = 1; n <= 48; ++n) {
      SCOPED_TRACE(::testing::Message() << "lead " << lead << ", length " << n);
      const std::string s(n, 'T');
      const std::string pad(lead, ' ');
      ASSERT_EQ(doc.parse(pad + "[\"" + s + "\"]", kDepth), JsonParseResult::ok);
      EXPECT_EQ(doc.elements(doc.root()).first->as_string(), s);

      // An escape n bytes in, then more text and a second string.
      ASSERT_EQ(doc.parse(pad + "[\"" + s + "\\u0041" + std::string(40, 'U') + "\", \"" + s +
                              "\\n\\\"\"]",
                          kDepth),
                JsonParseResult::ok);
      const auto [first, end] = doc.elements(doc.root());
      ASSERT_EQ(end - first, 2);
      EXPECT_EQ(first[0].as_string(), s + "A" + std::string(40, 'U'));
      EXPECT_EQ(first[1].as_string(), s + "\n\"");

      // Unterminated strings of every length.
      EXPECT_EQ(doc.parse(pad + "[\"" + s, kDepth), JsonParseResult::not_json);
    }
  }
}

TEST(JsonTree, PrescanVerdictsComeFirst) {
  JsonTree doc;
  EXPECT_EQ(doc.parse("[\"\xff\"]", kDepth), JsonParseResult::invalid_utf8);
  EXPECT_EQ(doc.parse("[\"\xed\xa0\x80\"]", kDepth), JsonParseResult::invalid_utf8);
  EXPECT_EQ(doc.parse(std::string(33, '[') + std::string(33, ']'), kDepth),
            JsonParseResult::too_deep);
  EXPECT_EQ(doc.parse(std::string(32, '[') + std::string(32, ']'), kDepth), JsonParseResult::ok);
  EXPECT_EQ(doc.parse(std::string(100000, '['), kDepth), JsonParseResult::too_deep);
  EXPECT_EQ(doc.parse("[[[]]]", 2), JsonParseResult::too_deep);
}

TEST(JsonTree, ATreeCanBeReusedAndAFailedParseLeavesNoDocument) {
  JsonTree doc;
  ASSERT_EQ(doc.parse(R"({"a": "first"})", kDepth), JsonParseResult::ok);
  EXPECT_EQ(doc.member(doc.root(), "a")->as_string(), "first");
  ASSERT_EQ(doc.parse(R"({"b": ["second"]})", kDepth), JsonParseResult::ok);
  EXPECT_EQ(doc.member(doc.root(), "a"), nullptr);
  EXPECT_EQ(doc.path({"b"})->size(), 1u);
  EXPECT_EQ(doc.parse("[1, 2", kDepth), JsonParseResult::not_json);
  ASSERT_EQ(doc.parse("[3]", kDepth), JsonParseResult::ok);
  EXPECT_EQ(doc.elements(doc.root()).first->as_unsigned(), 3u);
}

TEST(JsonTree, LargeDocumentsKeepEveryValue) {
  std::string text = "[";
  for (int i = 0; i < 5000; ++i) {
    text += (i ? "," : "") + std::string(R"({"k":)") + std::to_string(i) + R"(,"s":"v)" +
            std::to_string(i) + "\"}";
  }
  text += "]";
  JsonTree doc;
  ASSERT_EQ(doc.parse(text, kDepth), JsonParseResult::ok);
  const auto [begin, end] = doc.elements(doc.root());
  ASSERT_EQ(end - begin, 5000);
  for (int i = 0; i < 5000; ++i) {
    ASSERT_EQ(doc.member(begin[i], "k")->as_unsigned(), static_cast<std::uint64_t>(i));
    ASSERT_EQ(doc.member(begin[i], "s")->as_string(), "v" + std::to_string(i));
  }
}

// --- The two parse paths (simdjson first, RapidJSON as the reference) ----------------------

// A vault reply and a tokenize request as they usually are.
const char* const kVaultReply =
    R"({"transaction":{"token":"JWmmpFQ8","created_at":"2026-11-24T10:29:04Z","succeeded":true,)"
    R"("payment_method":{"token":"U8usIGzB","email":null,"test":true,"last_four_digits":"1111",)"
    R"("card_type":"visa","month":12,"year":2030,"full_name":"A B","errors":[]}}})";
const char* const kRequest =
    R"({"payment_method":{"card_number":"4111111111111111","cvv":"123","month":12,"year":2030,)"
    R"("first_name":"Ann","last_name":"Lee","email":"a@example.com"}})";

// parse() and the reference path agree on the verdict and, when it is ok, on the tree.
void expect_same_as_reference(const std::string& text, int depth = kDepth) {
  JsonTree reference;
  JsonTree doc;
  const JsonParseResult expected = reference.parse_reference(text, depth);
  ASSERT_EQ(doc.parse(text, depth), expected) << ::testing::PrintToString(text);
  if (expected == JsonParseResult::ok) {
    EXPECT_EQ(testing::json_tree_text(doc), testing::json_tree_text(reference))
        << ::testing::PrintToString(text);
  }
}

// Runs `checks` once for each simdjson implementation this CPU can run (AVX-512, AVX2, SSE4.2,
// portable...), each on a new thread, so that JsonTree's per-thread parser is made with it:
// production may select another one than this machine does.
void for_each_simdjson_implementation(const std::function<void()>& checks) {
  const simdjson::implementation* const original = simdjson::get_active_implementation();
  int ran = 0;
  for (const simdjson::implementation* impl : simdjson::get_available_implementations()) {
    if (!impl->supported_by_runtime_system()) continue;
    simdjson::get_active_implementation() = impl;
    std::thread([&] {
      SCOPED_TRACE("simdjson implementation " + impl->name());
      checks();
    }).join();
    ++ran;
  }
  simdjson::get_active_implementation() = original;
  EXPECT_GE(ran, 2) << "at least one SIMD implementation and the fallback";
}

TEST(JsonTreePaths, OrdinaryDocumentsTakeTheFastPathAndBuildTheReferenceTree) {
  for (const std::string text : {kVaultReply, kRequest, "[]", "{}", "\"\"", "0", "[-1,2.5,true]"}) {
    JsonTree fast;
    JsonTree reference;
    ASSERT_TRUE(fast.parse_fast(text, kDepth)) << text;
    ASSERT_EQ(reference.parse_reference(text, kDepth), JsonParseResult::ok) << text;
    EXPECT_EQ(testing::json_tree_text(fast), testing::json_tree_text(reference)) << text;
  }
  JsonTree doc;
  ASSERT_TRUE(doc.parse_fast(kVaultReply, kDepth));
  EXPECT_EQ(doc.path({"transaction", "payment_method", "month"})->as_unsigned(), 12u);
  EXPECT_EQ(doc.path({"transaction", "payment_method", "card_type"})->as_string(), "visa");
  EXPECT_TRUE(doc.path({"transaction", "payment_method", "email"})->is_null());
}

TEST(JsonTreePaths, WhatNlohmannAcceptedAndSimdjsonRefusesIsLeftToTheReference) {
  const std::vector<std::string> texts = {
      "\xEF\xBB\xBF{\"a\":1}",                  // a byte order mark
      std::string("{\"a\":1}\0junk", 12),        // a NUL ending the text
      "[18446744073709551616]",                    // an integer past 64 bits (a float)
      "[17" + std::string(307, '0') + "]",          // 309 digits, still a finite double
      "[-0]", "{\"a\":-0}", "-0", "[1,-0]",       // the integer -0 (simdjson reads 0),
      "{\"a\": -0}", "[\n-0\t]", "[\r-0,1]",       // wherever a value may start
      "{\"k\":\"a -0b\"}",                        // in a string after a space: looks like one
  };
  for (const std::string& text : texts) {
    JsonTree doc;
    EXPECT_FALSE(doc.parse_fast(text, kDepth)) << ::testing::PrintToString(text);
    // nlohmann accepted every one of them: so must parse(), through the reference path.
    EXPECT_EQ(doc.parse(text, kDepth), JsonParseResult::ok) << ::testing::PrintToString(text);
  }
  JsonTree doc;
  ASSERT_EQ(doc.parse("[-0]", kDepth), JsonParseResult::ok);
  EXPECT_EQ(doc.elements(doc.root()).first->type(), Type::number_integer) << "as nlohmann typed it";
}

TEST(JsonTreePaths, DashZeroInsideWordsKeepsTheFastPath) {
  // Dates, UUIDs and tokens hold "-0" after a letter or digit: never the integer -0.
  // Nor are -0.5 and -0e1, floats for both parsers.
  for (const std::string text : {R"({"d":"2026-01-05"})", R"({"id":"9b1d-0f3a-4c2e"})",
                                 R"(["a-0", "x-0y"])", R"({"n":-0.5,"e":-0e1,"f":[-0.0]})"}) {
    JsonTree fast;
    JsonTree reference;
    ASSERT_EQ(reference.parse_reference(text, kDepth), JsonParseResult::ok) << text;
    ASSERT_TRUE(fast.parse_fast(text, kDepth)) << text;
    EXPECT_EQ(testing::json_tree_text(fast), testing::json_tree_text(reference)) << text;
  }
}

TEST(JsonTreePaths, EveryVerdictIsTheReferences) {
  const std::vector<std::string> texts = {
      "", " ", "[", "[1,]", "{\"a\"}", "{\"a\":1,}", "[01]", "[1.]", "[.5]", "[+1]", "[1e]",
      "[-]", "[1e309]", "[-1e309]", "[0e400]", "[1e-400]", "[1.7976931348623157e308]", "[1.8e308]",
      "[18446744073709551615]", "[-9223372036854775808]", "[-9223372036854775809]", "[-0.0]",
      "[\"\\udc00\"]", "[\"\\ud800\"]", "[\"\\ud800\\u0041\"]", "[\"\\ud83d\\udcb3\"]",
      "[\"\\u0000\"]", "[\"\\x\"]", "[\"a\x1f\"]", "[\"a\x7f\"]", "[\"\xC3\x28\"]",
      "[\"\xED\xA0\x80\"]", "[\"\xF4\x90\x80\x80\"]", "[\"\xC0\xAF\"]", "[\"\xE2\x82\xAC\"]",
      "[\"a\"\"b\"]", "{\"a\":1 \"b\":2}", "[1] [2]", "[1]\n", "\t[1]\r\n", "[True]", "[nul]",
      "{\"a\":1,\"a\":2}", "/*c*/[1]", "['a']", "[NaN]", "[Infinity]", "\xEF\xBB\xBF\xEF\xBB\xBF[1]",
  };
  for_each_simdjson_implementation([&] {
    for (const std::string& text : texts) expect_same_as_reference(text);
    for (const std::string text : {kVaultReply, kRequest}) expect_same_as_reference(text);
  });
}

TEST(JsonTreePaths, DepthLimitsAreTheReferences) {
  for_each_simdjson_implementation([] {
    for (int depth : {1, 2, 3, 31, 32, 33}) {
      for (int levels = depth - 1; levels <= depth + 1; ++levels) {
        expect_same_as_reference(std::string(levels, '[') + std::string(levels, ']'), depth);
        std::string objects;
        for (int i = 0; i < levels; ++i) objects += "{\"k\":";
        objects += "1" + std::string(levels, '}');
        expect_same_as_reference(objects, depth);
      }
    }
  });
  JsonTree doc;
  EXPECT_TRUE(doc.parse_fast(std::string(32, '[') + std::string(32, ']'), 32));
  EXPECT_FALSE(doc.parse_fast(std::string(33, '[') + std::string(33, ']'), 32));
  EXPECT_EQ(doc.parse(std::string(33, '[') + std::string(33, ']'), 32), JsonParseResult::too_deep);
}

TEST(JsonTreePaths, ATreeKeepsItsStringsWhileAnotherParsesOnTheSameThread) {
  // The fast path's parser is per thread and reused: a tree must own what it points at.
  JsonTree first;
  ASSERT_TRUE(first.parse_fast(R"({"name":"first \u00e9","list":["a","b"]})", kDepth));
  JsonTree second;
  ASSERT_TRUE(second.parse_fast(R"({"name":"SECOND, and longer than the first one"})", kDepth));
  EXPECT_EQ(first.member(first.root(), "name")->as_string(), "first \xC3\xA9");
  EXPECT_EQ(first.elements(*first.member(first.root(), "list")).first->as_string(), "a");
  EXPECT_EQ(second.member(second.root(), "name")->as_string(),
            "SECOND, and longer than the first one");
}

TEST(JsonTreePaths, TextsOver16KiBTakeTheReferencePathOnly) {
  const std::string big = "[\"" + std::string(16 * 1024, 'x') + "\"]";
  JsonTree doc;
  EXPECT_FALSE(doc.parse_fast(big, kDepth));
  ASSERT_EQ(doc.parse(big, kDepth), JsonParseResult::ok);
  EXPECT_EQ(doc.elements(doc.root()).first->size(), 16u * 1024);
  const std::string fits = "[\"" + std::string(16 * 1024 - 4, 'x') + "\"]";
  EXPECT_TRUE(doc.parse_fast(fits, kDepth));
}

}  // namespace
}  // namespace tokenizer
