#include "sim/vault_request.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "fake_clock.h"

namespace tokenizer {
namespace {

using nlohmann::json;

json valid_card() {
  return json{
      {"first_name", "Ada"},         {"last_name", "Lovelace"}, {"number", "4111111111111111"},
      {"verification_value", "123"}, {"month", "12"},           {"year", "2031"}};
}

std::string body_with(const json& card, const json& extra = json::object()) {
  json pm = extra;
  pm["credit_card"] = card;
  return json{{"payment_method", pm}}.dump();
}

// "attribute:key" of every error, in order.
std::vector<std::string> error_codes(const VaultRequestCheck& check) {
  std::vector<std::string> out;
  for (const auto& e : check.errors) out.push_back(e.attribute + ":" + e.key);
  return out;
}

class VaultRequestTest : public ::testing::Test {
 protected:
  Expected<VaultRequestCheck> check(const std::string& body) {
    return check_vault_request(body, clock_.wall());
  }
  testing::FakeClock clock_;  // 2026-11-23
};

TEST_F(VaultRequestTest, AcceptsAValidCard) {
  auto result = check(body_with(valid_card(), {{"email", "ada@example.com"}, {"retained", true}}));
  ASSERT_TRUE(result.has_value());
  EXPECT_TRUE(result->errors.empty());
  const auto& card = result->card;
  EXPECT_EQ(card.number, "4111111111111111");
  EXPECT_EQ(card.card_type, "visa");
  EXPECT_EQ(card.first_name, "Ada");
  EXPECT_EQ(card.last_name, "Lovelace");
  EXPECT_EQ(card.full_name, "Ada Lovelace");
  EXPECT_EQ(card.month, 12);
  EXPECT_EQ(card.year, 2031);
  EXPECT_EQ(card.email, "ada@example.com");
  EXPECT_TRUE(card.retained);
  EXPECT_TRUE(card.has_verification_value);
}

TEST_F(VaultRequestTest, AcceptsIntegersSpacesDashesAndFullName) {
  json card = valid_card();
  card.erase("first_name");
  card.erase("last_name");
  card.erase("verification_value");
  card["full_name"] = "Ada King Lovelace";
  card["number"] = "4111 1111-1111 1111";
  card["month"] = 1;
  card["year"] = 2027;
  auto result = check(body_with(card));
  ASSERT_TRUE(result.has_value());
  EXPECT_TRUE(result->errors.empty()) << result->errors[0].message;
  EXPECT_EQ(result->card.number, "4111111111111111");
  EXPECT_EQ(result->card.first_name, "Ada King");
  EXPECT_EQ(result->card.last_name, "Lovelace");
  EXPECT_FALSE(result->card.has_verification_value);
  EXPECT_FALSE(result->card.retained);
}

TEST_F(VaultRequestTest, ReportsEveryInvalidFieldInOrder) {
  json card = {{"first_name", ""},
               {"number", "4111111111111112"},
               {"verification_value", "12a"},
               {"month", "13"},
               {"year", "31"}};
  auto result = check(body_with(card, {{"email", "not-an-email"}}));
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(error_codes(*result),
            (std::vector<std::string>{"first_name:errors.blank", "last_name:errors.blank",
                                      "number:errors.invalid", "verification_value:errors.invalid",
                                      "month:errors.invalid", "year:errors.invalid",
                                      "email:errors.invalid"}));
  EXPECT_EQ(result->errors[0].message, "First name can't be blank");
}

TEST_F(VaultRequestTest, NumberRules) {
  const std::pair<json, bool> cases[] = {
      {"4111111111111111", true},  {"4111111111111112", false},      // Luhn
      {"41111111111a1111", false}, {"", false},                      // digits; blank
      {"4242424242", false},       {"41111111111111111111", false},  // 10 and 20 digits
      {4111111111111111, false},   {"378282246310005", true},        // a number, not a string
      {"6200000000000005", true},  {"2223003122003222", true},
  };
  for (const auto& [number, ok] : cases) {
    json card = valid_card();
    card["number"] = number;
    auto result = check(body_with(card));
    ASSERT_TRUE(result.has_value());
    EXPECT_EQ(result->errors.empty(), ok) << number;
    if (!ok) {
      EXPECT_EQ(result->errors[0].attribute, "number");
      EXPECT_EQ(result->errors[0].key, number == "" ? "errors.blank" : "errors.invalid");
      // The message never repeats the number.
      if (number.is_string() && !number.get<std::string>().empty()) {
        EXPECT_EQ(result->errors[0].message.find(number.get<std::string>()), std::string::npos);
      }
    }
  }
}

TEST_F(VaultRequestTest, ExpiryIsCheckedAgainstTheInjectedClock) {
  json card = valid_card();
  card["month"] = "11";
  card["year"] = "2026";  // the clock's own month: still valid
  EXPECT_TRUE(check(body_with(card))->errors.empty());
  card["month"] = "10";
  auto expired = check(body_with(card));
  ASSERT_EQ(expired->errors.size(), 1u);
  EXPECT_EQ(expired->errors[0].attribute, "year");
  EXPECT_EQ(expired->errors[0].key, "errors.expired");
  clock_.advance(std::chrono::hours(24 * 40));  // into 2027: November 2026 has passed too
  card["month"] = "11";
  EXPECT_EQ(check(body_with(card))->errors.size(), 1u);
}

TEST_F(VaultRequestTest, MissingFieldsAreBlank) {
  auto result = check(body_with(json::object()));
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(
      error_codes(*result),
      (std::vector<std::string>{"first_name:errors.blank", "last_name:errors.blank",
                                "number:errors.blank", "month:errors.blank", "year:errors.blank"}));
}

TEST_F(VaultRequestTest, MissingCreditCardIsAFieldError) {
  for (const char* body : {R"({})", R"({"payment_method": {}})", R"({"payment_method": 5})",
                           R"([1, 2])", R"({"payment_method": {"credit_card": "x"}})"}) {
    auto result = check(body);
    ASSERT_TRUE(result.has_value()) << body;
    ASSERT_EQ(result->errors.size(), 1u) << body;
    EXPECT_EQ(result->errors[0].key, "errors.blank");
  }
}

TEST_F(VaultRequestTest, NotJsonIsAnError) {
  EXPECT_EQ(check("card=4111111111111111").error().code, "malformed_json");
  EXPECT_EQ(check(std::string(100, '[')).error().code, "too_deep");
}

TEST(CardBrands, SpreedlyNamesFromIinRanges) {
  const std::pair<const char*, const char*> cases[] = {
      {"4111111111111111", "visa"},
      {"4222222222222", "visa"},
      {"5555555555554444", "master"},
      {"2223003122003222", "master"},
      {"378282246310005", "american_express"},
      {"6011111111111117", "discover"},
      {"3530111333300000", "jcb"},
      {"30569309025904", "diners_club"},
      {"38520000023237", "diners_club"},
      {"6200000000000005", "unionpay"},
      {"9999999999999995", ""},
      {"5555555555554", ""},
  };
  for (const auto& [number, brand] : cases) EXPECT_EQ(spreedly_card_type(number), brand) << number;
}

}  // namespace
}  // namespace tokenizer
