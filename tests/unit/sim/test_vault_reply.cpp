#include "sim/vault_reply.h"

#include <set>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "fake_clock.h"

namespace tokenizer {
namespace {

using nlohmann::json;

CardSubmission ada() {
  CardSubmission card;
  card.number = "4111111111111111";
  card.card_type = "visa";
  card.first_name = "Ada \"The\" Countess";
  card.last_name = "Lovelace\\\n";
  card.full_name = "Ada Lovelace";
  card.month = 12;
  card.year = 2031;
  card.email = "ada@example.com";
  card.has_verification_value = true;
  card.retained = true;
  return card;
}

bool base62(const std::string& s) {
  for (char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

TEST(VaultReply, TokensAreRandomBase62) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const auto token = random_vault_token();
    EXPECT_EQ(token.size(), 26u);
    EXPECT_TRUE(base62(token)) << token;
    seen.insert(token);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(VaultReply, SuccessHasTheVaultShapeAndNoCardData) {
  VaultReplyBuilder builder;
  testing::FakeClock clock;
  const std::string body = builder.success(ada(), clock.wall());
  const json doc = json::parse(body);
  const auto& txn = doc.at("transaction");
  EXPECT_EQ(txn["succeeded"], true);
  EXPECT_EQ(txn["state"], "succeeded");
  EXPECT_EQ(txn["transaction_type"], "AddPaymentMethod");
  EXPECT_EQ(txn["created_at"], "2026-11-23T10:00:00Z");
  const auto& pm = txn.at("payment_method");
  EXPECT_EQ(pm["token"].get<std::string>().size(), 26u);
  EXPECT_NE(pm["token"], txn["token"]);
  EXPECT_EQ(pm["card_type"], "visa");
  EXPECT_EQ(pm["first_six_digits"], "411111");
  EXPECT_EQ(pm["last_four_digits"], "1111");
  EXPECT_EQ(pm["number"], "XXXX-XXXX-XXXX-1111");
  EXPECT_EQ(pm["verification_value"], "XXX");
  EXPECT_EQ(pm["storage_state"], "retained");
  EXPECT_EQ(pm["month"], 12);
  EXPECT_EQ(pm["year"], 2031);
  EXPECT_EQ(pm["first_name"], "Ada \"The\" Countess");  // escaped and read back intact
  EXPECT_EQ(pm["last_name"], "Lovelace\\\n");
  EXPECT_EQ(pm["email"], "ada@example.com");
  EXPECT_EQ(pm["payment_method_type"], "credit_card");
  EXPECT_TRUE(pm["errors"].empty());
  EXPECT_EQ(body.find("4111111111111111"), std::string::npos);
}

TEST(VaultReply, CachedUnlessRetainedAndNullsForAbsentFields) {
  VaultReplyBuilder builder;
  CardSubmission card = ada();
  card.retained = false;
  card.email.clear();
  card.card_type.clear();
  card.has_verification_value = false;
  const json pm = json::parse(
      builder.success(card, testing::FakeClock().wall()))["transaction"]["payment_method"];
  EXPECT_EQ(pm["storage_state"], "cached");
  EXPECT_TRUE(pm["email"].is_null());
  EXPECT_TRUE(pm["card_type"].is_null());
  EXPECT_EQ(pm["verification_value"], "");
}

TEST(VaultReply, FingerprintIsStablePerBuilderAndKeyed) {
  VaultReplyBuilder a, b;
  EXPECT_EQ(a.fingerprint("4111111111111111"), a.fingerprint("4111111111111111"));
  EXPECT_NE(a.fingerprint("4111111111111111"), a.fingerprint("4242424242424242"));
  EXPECT_NE(a.fingerprint("4111111111111111"), b.fingerprint("4111111111111111"));
  EXPECT_EQ(a.fingerprint("4111111111111111").size(), 32u);
}

TEST(VaultReply, ErrorBodies) {
  const json fields = json::parse(VaultReplyBuilder::field_errors(
      {{"first_name", "errors.blank", "First name can't be blank"}, {"", "errors.x", "X"}}));
  ASSERT_EQ(fields["errors"].size(), 2u);
  EXPECT_EQ(fields["errors"][0]["attribute"], "first_name");
  EXPECT_EQ(fields["errors"][0]["key"], "errors.blank");
  EXPECT_FALSE(fields["errors"][1].contains("attribute"));

  EXPECT_EQ(json::parse(VaultReplyBuilder::injected_error(503))["errors"][0]["key"],
            "errors.service_unavailable");
  EXPECT_EQ(json::parse(VaultReplyBuilder::injected_error(401))["errors"][0]["key"],
            "errors.access_denied");
  EXPECT_EQ(json::parse(VaultReplyBuilder::injected_error(429))["errors"][0]["key"],
            "errors.rate_limit_exceeded");
  EXPECT_EQ(json::parse(VaultReplyBuilder::injected_error(418))["errors"][0]["key"],
            "errors.status_418");
}

TEST(VaultReply, GarbageIsNotJson) {
  EXPECT_TRUE(json::parse(VaultReplyBuilder::garbage(), nullptr, false).is_discarded());
}

}  // namespace
}  // namespace tokenizer
