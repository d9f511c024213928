#include <gtest/gtest.h>

#include <functional>
#include <set>
#include <string>

#include "idempotency/fingerprint.h"

namespace tokenizer {
namespace {

PaymentMethod sample() {
  PaymentMethod pm;
  pm.card_number = "4111111111111111";
  pm.cvv = "123";
  pm.month = 9;
  pm.year = 2031;
  pm.first_name = "Ada";
  pm.last_name = "Lovelace";
  pm.email = "ada@example.com";
  pm.brand = CardBrand::visa;
  return pm;
}

FingerprintKey test_key(const char* secret = "0123456789abcdef0123456789abcdef") {
  auto key = FingerprintKey::from_secret(secret);
  EXPECT_TRUE(key);
  return *key;
}

TEST(Fingerprint, IsSixtyFourLowercaseHexDigits) {
  const std::string fp = request_fingerprint(sample(), test_key());
  ASSERT_EQ(fp.size(), 64u);
  for (const char c : fp) {
    EXPECT_TRUE((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) << fp;
  }
}

TEST(Fingerprint, EqualPaymentMethodsGiveEqualFingerprints) {
  const FingerprintKey key = test_key();
  PaymentMethod a = sample();
  PaymentMethod b;  // built field by field in another order
  b.email = std::string("ada@") + "example.com";
  b.last_name = "Lovelace";
  b.first_name = "Ada";
  b.year = 2031;
  b.month = 9;
  b.cvv = "123";
  b.card_number = std::string("4111") + "111111111111";
  EXPECT_EQ(request_fingerprint(a, key), request_fingerprint(b, key));
}

struct Change {
  const char* name;
  std::function<void(PaymentMethod&)> apply;
};

TEST(Fingerprint, AnyFieldChangeChangesIt) {
  const FingerprintKey key = test_key();
  const std::string base = request_fingerprint(sample(), key);
  const Change changes[] = {
      {"card_number", [](PaymentMethod& p) { p.card_number = "4012888888881881"; }},
      {"card_number_length", [](PaymentMethod& p) { p.card_number += "1"; }},
      {"cvv", [](PaymentMethod& p) { p.cvv = "124"; }},
      {"month", [](PaymentMethod& p) { p.month = 10; }},
      {"year", [](PaymentMethod& p) { p.year = 2032; }},
      {"first_name", [](PaymentMethod& p) { p.first_name = "Ado"; }},
      {"first_name_case", [](PaymentMethod& p) { p.first_name = "ada"; }},
      {"last_name", [](PaymentMethod& p) { p.last_name = "Byron"; }},
      {"email", [](PaymentMethod& p) { p.email = "ada@example.org"; }},
      {"email_absent", [](PaymentMethod& p) { p.email.reset(); }},
      {"email_empty", [](PaymentMethod& p) { p.email = ""; }},
      // Field boundaries are length-prefixed: moving characters between fields matters.
      {"name_boundary",
       [](PaymentMethod& p) {
         p.first_name = "AdaL";
         p.last_name = "ovelace";
       }},
      {"month_year_boundary",
       [](PaymentMethod& p) {
         p.month = 1;
         p.year = 92031;
       }},
  };
  std::set<std::string> seen = {base};
  for (const auto& change : changes) {
    PaymentMethod pm = sample();
    change.apply(pm);
    const std::string fp = request_fingerprint(pm, key);
    EXPECT_NE(fp, base) << change.name;
    EXPECT_TRUE(seen.insert(fp).second) << change.name << " collides with another change";
  }
}

TEST(Fingerprint, AbsentAndEmptyEmailDiffer) {
  const FingerprintKey key = test_key();
  PaymentMethod absent = sample();
  absent.email.reset();
  PaymentMethod empty = sample();
  empty.email = "";
  EXPECT_NE(request_fingerprint(absent, key), request_fingerprint(empty, key));
}

TEST(Fingerprint, DependsOnTheKey) {
  const PaymentMethod pm = sample();
  EXPECT_NE(request_fingerprint(pm, test_key("0123456789abcdef0123456789abcdef")),
            request_fingerprint(pm, test_key("fedcba9876543210fedcba9876543210")));
  const FingerprintKey g1 = FingerprintKey::generate();
  const FingerprintKey g2 = FingerprintKey::generate();
  EXPECT_NE(request_fingerprint(pm, g1), request_fingerprint(pm, g2));
  EXPECT_EQ(request_fingerprint(pm, g1), request_fingerprint(pm, g1));
}

TEST(Fingerprint, DoesNotContainTheCardNumberOrCvvDigits) {
  const PaymentMethod pm = sample();
  const std::string fp = request_fingerprint(pm, test_key());
  EXPECT_EQ(fp.find(pm.card_number), std::string::npos);
  EXPECT_EQ(fp.find(pm.first_six()), std::string::npos);
}

TEST(FingerprintKey, RejectsShortSecrets) {
  const auto key = FingerprintKey::from_secret("short");
  ASSERT_FALSE(key);
  EXPECT_EQ(key.error().code, "invalid_idempotency_secret");
  EXPECT_EQ(key.error().message.find("short"), std::string::npos);
  EXPECT_TRUE(FingerprintKey::from_secret(std::string(16, 'x')));
}

TEST(FingerprintKey, SharedStoreNeedsAConfiguredSecret) {
  const auto missing = make_fingerprint_key("", /*store_is_shared=*/true);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, "invalid_idempotency_secret");
  EXPECT_NE(missing.error().message.find("--idempotency-secret"), std::string::npos);

  EXPECT_TRUE(make_fingerprint_key("", /*store_is_shared=*/false));
  EXPECT_FALSE(make_fingerprint_key("short", /*store_is_shared=*/false));

  // Two instances configured with one secret agree; that is what lets them share Redis.
  const auto a = make_fingerprint_key("0123456789abcdef0123456789abcdef", true);
  const auto b = make_fingerprint_key("0123456789abcdef0123456789abcdef", true);
  ASSERT_TRUE(a);
  ASSERT_TRUE(b);
  EXPECT_EQ(request_fingerprint(sample(), *a), request_fingerprint(sample(), *b));
}

}  // namespace
}  // namespace tokenizer
