#include <gtest/gtest.h>

#include <string>

#include "idempotency/idempotency_key.h"

namespace tokenizer {
namespace {

struct KeyCase {
  const char* name;
  std::string header;
  bool valid;
  std::string key;  // expected normalised key when valid
};

class IdempotencyKeyTable : public ::testing::TestWithParam<KeyCase> {};

TEST_P(IdempotencyKeyTable, ParsesOrRejects) {
  const KeyCase& c = GetParam();
  const auto parsed = parse_idempotency_key(c.header);
  ASSERT_EQ(parsed.has_value(), c.valid) << (parsed ? *parsed : parsed.error().message);
  if (c.valid) {
    EXPECT_EQ(*parsed, c.key);
  } else {
    EXPECT_EQ(parsed.error().code, "invalid_idempotency_key");
  }
}

const std::string k255(255, 'k');
const std::string k256(256, 'k');

INSTANTIATE_TEST_SUITE_P(
    Cases, IdempotencyKeyTable,
    ::testing::Values(KeyCase{"uuid_raw", "8e03978e-40d5-43e8-bc93-6894a57f9324", true,
                              "8e03978e-40d5-43e8-bc93-6894a57f9324"},
                      KeyCase{"uuid_sf_string", "\"8e03978e-40d5-43e8-bc93-6894a57f9324\"", true,
                              "8e03978e-40d5-43e8-bc93-6894a57f9324"},
                      KeyCase{"single_char", "a", true, "a"},
                      KeyCase{"ows_trimmed", " \t key-1 \t", true, "key-1"},
                      KeyCase{"ows_around_quoted", "  \"key-1\"  ", true, "key-1"},
                      KeyCase{"inner_space_raw", "order 42", true, "order 42"},
                      KeyCase{"inner_space_quoted", "\" padded \"", true, " padded "},
                      KeyCase{"all_visible_ascii", "!#$%&'()*+,-./09:;<=>?@AZ[\\]^_`az{|}~", true,
                              "!#$%&'()*+,-./09:;<=>?@AZ[\\]^_`az{|}~"},
                      KeyCase{"quote_inside_raw", "ab\"c", true, "ab\"c"},
                      KeyCase{"escapes_decoded", "\"a\\\"b\\\\c\"", true, "a\"b\\c"},
                      KeyCase{"max_length_raw", k255, true, k255},
                      KeyCase{"max_length_quoted", "\"" + k255 + "\"", true, k255},
                      KeyCase{"empty", "", false, ""}, KeyCase{"only_spaces", "   ", false, ""},
                      KeyCase{"empty_quoted", "\"\"", false, ""},
                      KeyCase{"too_long_raw", k256, false, ""},
                      KeyCase{"too_long_quoted", "\"" + k256 + "\"", false, ""},
                      KeyCase{"tab_inside", "a\tb", false, ""},
                      KeyCase{"control_char", std::string("a\x01z"), false, ""},
                      KeyCase{"newline", "a\nb", false, ""},
                      KeyCase{"del_char", std::string("a\x7Fz"), false, ""},
                      KeyCase{"non_ascii_utf8", "cl\xC3\xA9", false, ""},
                      KeyCase{"nul_byte", std::string("a\0b", 3), false, ""},
                      KeyCase{"unterminated_quote", "\"abc", false, ""},
                      KeyCase{"bad_escape", "\"a\\nb\"", false, ""},
                      KeyCase{"dangling_escape", "\"abc\\", false, ""},
                      KeyCase{"sf_parameters_rejected", "\"abc\";v=1", false, ""},
                      KeyCase{"two_quoted_values", "\"abc\", \"def\"", false, ""},
                      KeyCase{"tab_inside_quoted", "\"a\tb\"", false, ""}),
    [](const ::testing::TestParamInfo<KeyCase>& info) { return std::string(info.param.name); });

TEST(IdempotencyKey, ErrorMessageDoesNotEchoTheHeader) {
  const auto parsed = parse_idempotency_key("secret-ish\x01value");
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error().message.find("secret-ish"), std::string::npos);
}

TEST(IdempotencyKey, RawAndQuotedFormsNameTheSameKey) {
  const auto raw = parse_idempotency_key("abc-123");
  const auto quoted = parse_idempotency_key("\"abc-123\"");
  ASSERT_TRUE(raw);
  ASSERT_TRUE(quoted);
  EXPECT_EQ(*raw, *quoted);
}

}  // namespace
}  // namespace tokenizer
