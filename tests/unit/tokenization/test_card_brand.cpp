#include <gtest/gtest.h>

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "tokenization/card_brand.h"

namespace tokenizer {
namespace {

struct TestCard {
  const char* number;
  CardBrand brand;
};

// The test numbers documented in /work/shared/VAULT-API.md.
const std::vector<TestCard> kVaultTestCards = {
    {"4111111111111111", CardBrand::visa},       {"4242424242424242", CardBrand::visa},
    {"4012888888881881", CardBrand::visa},       {"4222222222222", CardBrand::visa},
    {"5555555555554444", CardBrand::mastercard}, {"5105105105105100", CardBrand::mastercard},
    {"2223003122003222", CardBrand::mastercard}, {"378282246310005", CardBrand::amex},
    {"371449635398431", CardBrand::amex},        {"6011111111111117", CardBrand::discover},
    {"6011000990139424", CardBrand::discover},   {"3530111333300000", CardBrand::jcb},
    {"3566002020360505", CardBrand::jcb},        {"30569309025904", CardBrand::diners},
    {"38520000023237", CardBrand::diners},       {"6200000000000005", CardBrand::unionpay},
};

TEST(CardBrand, VaultTestCardsAreDetectedWithAValidLengthAndLuhn) {
  for (const auto& card : kVaultTestCards) {
    SCOPED_TRACE(card.number);
    const auto brand = detect_card_brand(card.number);
    ASSERT_TRUE(brand.has_value());
    EXPECT_EQ(*brand, card.brand);
    EXPECT_TRUE(is_valid_card_length(card.brand, std::string(card.number).size()));
    EXPECT_TRUE(luhn_valid(card.number));
  }
}

struct IinCase {
  const char* prefix;  // padded with zeros to 16 digits
  std::optional<CardBrand> brand;
};

TEST(CardBrand, IinRangeEdges) {
  const std::vector<IinCase> cases = {
      {"4", CardBrand::visa},
      {"50", std::nullopt},
      {"51", CardBrand::mastercard},
      {"55", CardBrand::mastercard},
      {"56", std::nullopt},
      {"2220", std::nullopt},
      {"2221", CardBrand::mastercard},
      {"2720", CardBrand::mastercard},
      {"2721", std::nullopt},
      {"34", CardBrand::amex},
      {"37", CardBrand::amex},
      {"33", std::nullopt},
      {"6010", std::nullopt},
      {"6011", CardBrand::discover},
      {"6012", std::nullopt},
      {"643", std::nullopt},
      {"644", CardBrand::discover},
      {"649", CardBrand::discover},
      {"65", CardBrand::discover},
      {"3527", std::nullopt},
      {"3528", CardBrand::jcb},
      {"3589", CardBrand::jcb},
      {"3590", std::nullopt},
      {"300", CardBrand::diners},
      {"305", CardBrand::diners},
      {"306", std::nullopt},
      {"36", CardBrand::diners},
      {"38", CardBrand::diners},
      {"39", CardBrand::diners},
      {"62", CardBrand::unionpay},
      // Discover co-accepted range: reported as unionpay (documented decision).
      {"622126", CardBrand::unionpay},
      {"622925", CardBrand::unionpay},
      {"60", std::nullopt},
      {"1", std::nullopt},
      {"7", std::nullopt},
      {"8", std::nullopt},
      {"9", std::nullopt},
      {"0", std::nullopt},
  };
  for (const auto& c : cases) {
    std::string number = c.prefix;
    number.resize(16, '0');
    SCOPED_TRACE(number);
    EXPECT_EQ(detect_card_brand(number), c.brand);
  }
}

TEST(CardBrand, ShortInputMatchesOnlyRangesItCovers) {
  EXPECT_EQ(detect_card_brand(""), std::nullopt);
  EXPECT_EQ(detect_card_brand("4"), CardBrand::visa);
  EXPECT_EQ(detect_card_brand("222"), std::nullopt);  // needs 4 digits for 2221–2720
  EXPECT_EQ(detect_card_brand("2221"), CardBrand::mastercard);
  EXPECT_EQ(detect_card_brand("4x"), CardBrand::visa);
  EXPECT_EQ(detect_card_brand("x4"), std::nullopt);
}

struct LengthRule {
  CardBrand brand;
  std::set<std::size_t> valid;
};

TEST(CardBrand, LengthsPerBrand) {
  const std::vector<LengthRule> rules = {
      {CardBrand::visa, {13, 16, 19}},
      {CardBrand::mastercard, {16}},
      {CardBrand::amex, {15}},
      {CardBrand::discover, {16, 17, 18, 19}},
      {CardBrand::jcb, {16, 17, 18, 19}},
      {CardBrand::diners, {14, 15, 16, 17, 18, 19}},
      {CardBrand::unionpay, {16, 17, 18, 19}},
  };
  for (const auto& rule : rules) {
    for (std::size_t n = 0; n <= 25; ++n) {
      SCOPED_TRACE(std::string(brand_name(rule.brand)) + " " + std::to_string(n));
      EXPECT_EQ(is_valid_card_length(rule.brand, n), rule.valid.count(n) == 1);
    }
  }
}

TEST(CardBrand, CvvLengths) {
  EXPECT_EQ(cvv_length(CardBrand::amex), 4u);
  for (auto b : {CardBrand::visa, CardBrand::mastercard, CardBrand::discover, CardBrand::jcb,
                 CardBrand::diners, CardBrand::unionpay}) {
    EXPECT_EQ(cvv_length(b), 3u) << brand_name(b);
  }
}

TEST(CardBrand, LuhnRejectsEverySingleDigitChange) {
  for (const auto& card : kVaultTestCards) {
    const std::string number = card.number;
    for (std::size_t i = 0; i < number.size(); ++i) {
      std::string changed = number;
      changed[i] = static_cast<char>('0' + (changed[i] - '0' + 1) % 10);
      EXPECT_FALSE(luhn_valid(changed)) << "position " << i << " of a " << brand_name(card.brand);
    }
  }
}

TEST(CardBrand, LuhnEdgeInputs) {
  EXPECT_FALSE(luhn_valid(""));
  EXPECT_FALSE(luhn_valid("4111 1111 1111 1111"));  // separators must be removed first
  EXPECT_FALSE(luhn_valid("411111111111111a"));
  EXPECT_TRUE(luhn_valid("0"));
  EXPECT_TRUE(luhn_valid("18"));
  EXPECT_FALSE(luhn_valid("19"));
  EXPECT_TRUE(luhn_valid("79927398713"));  // the classic worked example
  EXPECT_FALSE(luhn_valid("79927398710"));
}

TEST(CardBrand, NamesAreStableAndDistinct) {
  const std::vector<std::pair<CardBrand, std::string>> names = {
      {CardBrand::visa, "visa"},         {CardBrand::mastercard, "mastercard"},
      {CardBrand::amex, "amex"},         {CardBrand::discover, "discover"},
      {CardBrand::jcb, "jcb"},           {CardBrand::diners, "diners"},
      {CardBrand::unionpay, "unionpay"},
  };
  for (const auto& [brand, name] : names) EXPECT_EQ(brand_name(brand), name);
}

}  // namespace
}  // namespace tokenizer
