#include "sim/test_cards.h"
#include "tokenization/card_brand.h"

#include <set>
#include <string>

#include <gtest/gtest.h>

#include "sim/vault_request.h"

namespace tokenizer {
namespace {

TEST(TestCards, AreValidVisaNumbersWithDistinctBehaviours) {
  std::set<std::string_view> numbers, behaviours;
  for (const auto& card : test_cards()) {
    EXPECT_TRUE(luhn_valid(card.number)) << card.number;
    EXPECT_EQ(spreedly_card_type(card.number), "visa") << card.number;
    numbers.insert(card.number);
    behaviours.insert(card.behaviour);
  }
  EXPECT_EQ(numbers.size(), test_cards().size());
  EXPECT_EQ(behaviours.size(), test_cards().size());
}

TEST(TestCards, LeaveTheCommonTestCardsAlone) {
  for (const char* common : {"4111111111111111", "4242424242424242", "5555555555554444",
                             "378282246310005", "6011111111111117", "4012888888881881"}) {
    EXPECT_EQ(find_test_card(common), nullptr) << common;
  }
}

TEST(TestCards, FindsEachBehaviour) {
  const auto* rejected = find_test_card("4000000000000002");
  ASSERT_NE(rejected, nullptr);
  EXPECT_EQ(rejected->status, 422);
  EXPECT_EQ(rejected->error_key, "errors.processing_failed");
  EXPECT_EQ(find_test_card("4000000000000069")->status, 402);
  EXPECT_EQ(find_test_card("4000000000000119")->status, 500);
  EXPECT_EQ(find_test_card("4000000000009995")->retry_after_seconds, 1);
  EXPECT_GT(find_test_card("4000000000000341")->extra_delay.count(), 0);
  EXPECT_TRUE(find_test_card("4000000000000101")->hang);
}

TEST(TestCards, JsonListsEveryCard) {
  const auto json = test_cards_json();
  ASSERT_EQ(json["cards"].size(), test_cards().size());
  EXPECT_EQ(json["cards"][0]["number"], std::string(test_cards()[0].number));
  EXPECT_EQ(json["cards"][0]["behaviour"], std::string(test_cards()[0].behaviour));
  for (const auto& card : json["cards"]) {
    EXPECT_TRUE(card.contains("status"));
    EXPECT_TRUE(card.contains("hang"));
  }
}

}  // namespace
}  // namespace tokenizer
