#include <gtest/gtest.h>

#include <openssl/evp.h>

#include "http/basic_auth.h"

namespace tokenizer {
namespace {

std::string header_for(const std::string& user_colon_password) {
  std::string out(4 * ((user_colon_password.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(user_colon_password.data()),
                                static_cast<int>(user_colon_password.size()));
  out.resize(static_cast<std::size_t>(n));
  return "Basic " + out;
}

TEST(ParseBasicAuthorization, AcceptsWellFormedHeaders) {
  auto c = parse_basic_authorization(header_for("alice:s3cret:with:colons"));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->user, "alice");
  EXPECT_EQ(c->password, "s3cret:with:colons");
  EXPECT_TRUE(parse_basic_authorization("basic " + header_for("a:b").substr(6)));
  EXPECT_TRUE(parse_basic_authorization("  BASIC   " + header_for("a:").substr(6)));
}

TEST(ParseBasicAuthorization, RejectsMalformedHeaders) {
  for (std::string bad : {"", "Basic", "Basic ", "Bearer abc", "Basic !!!!", "Basic YWxpY2U=",
                          "Basic YQ", "Basic =YWJj", "Basic OmI=", "Digest x"}) {
    EXPECT_FALSE(parse_basic_authorization(bad)) << bad;
  }
  EXPECT_FALSE(parse_basic_authorization(header_for("a:b\x01")));
  EXPECT_FALSE(parse_basic_authorization("Basic " + std::string(10000, 'A')));
}

TEST(PasswordHash, RoundTripsAndRejectsWrongPasswords) {
  const auto line = hash_password("correct horse", 1000);
  EXPECT_EQ(line.rfind("pbkdf2-sha256$1000$", 0), 0u) << line;
  EXPECT_TRUE(verify_password_hash("correct horse", line));
  EXPECT_FALSE(verify_password_hash("correct horsf", line));
  EXPECT_NE(hash_password("correct horse", 1000), line);  // random salt
  EXPECT_FALSE(verify_password_hash("x", "pbkdf2-sha256$abc$x$y"));
  EXPECT_FALSE(verify_password_hash("x", "md5$1$2"));
  EXPECT_FALSE(verify_password_hash("x", "pbkdf2-sha256$10$c2FsdA$aGFzaA"));  // too few iterations
}

TEST(Authenticator, PlainAndHashedClients) {
  Authenticator auth({ClientCredential{"alice", "pw1", ""},
                      ClientCredential{"bob", "", hash_password("pw2", 1000)}});
  EXPECT_EQ(auth.authenticate(header_for("alice:pw1")), std::optional<std::string>("alice"));
  EXPECT_FALSE(auth.authenticate(header_for("alice:pw2")));
  EXPECT_EQ(auth.authenticate(header_for("bob:pw2")), std::optional<std::string>("bob"));
  EXPECT_EQ(auth.authenticate(header_for("bob:pw2")), std::optional<std::string>("bob"));  // cached
  EXPECT_FALSE(auth.authenticate(header_for("bob:pw1")));  // cache never accepts another password
  EXPECT_FALSE(auth.authenticate(header_for("carol:pw1")));
  EXPECT_FALSE(auth.authenticate(std::nullopt));
  EXPECT_TRUE(auth.has_plaintext_credentials());
}

TEST(ParseBasicAuthorization, AcceptsTheLongestCredentials) {
  // 4,096 base64 characters (the limit) decode to 3,072 bytes.
  const std::string user_password = "u:" + std::string(3070, 'p');
  const std::string header = header_for(user_password);
  ASSERT_EQ(header.size(), 6u + 4096u);
  auto c = parse_basic_authorization(header);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->user, "u");
  EXPECT_EQ(c->password, std::string(3070, 'p'));
  EXPECT_FALSE(parse_basic_authorization(header_for(user_password + "ppp")));  // 4,100 characters

  Authenticator auth({ClientCredential{"u", std::string(3070, 'p'), ""}});
  EXPECT_EQ(auth.authenticate(header), std::optional<std::string>("u"));
}

TEST(Authenticator, PlainTextPasswordsMustMatchExactly) {
  Authenticator auth({ClientCredential{"alice", "secret", ""}});
  for (std::string wrong : {"", "s", "secre", "secret ", "Secret", "secret\x7e", "secretsecret"}) {
    EXPECT_FALSE(auth.authenticate(header_for("alice:" + wrong))) << wrong;
  }
  EXPECT_EQ(auth.authenticate(header_for("alice:secret")), std::optional<std::string>("alice"));
  EXPECT_FALSE(auth.authenticate(header_for("Alice:secret")));  // user names are exact too
}

TEST(Authenticator, RememberedPasswordIsPerClient) {
  Authenticator auth({ClientCredential{"alice", "", hash_password("pw-a", 1000)},
                      ClientCredential{"bob", "", hash_password("pw-b", 1000)}});
  EXPECT_EQ(auth.authenticate(header_for("alice:pw-a")), std::optional<std::string>("alice"));
  EXPECT_EQ(auth.authenticate(header_for("bob:pw-b")), std::optional<std::string>("bob"));
  // Each cached digest only ever admits its own client with its own password.
  EXPECT_FALSE(auth.authenticate(header_for("bob:pw-a")));
  EXPECT_FALSE(auth.authenticate(header_for("alice:pw-b")));
  EXPECT_EQ(auth.authenticate(header_for("alice:pw-a")), std::optional<std::string>("alice"));
  EXPECT_FALSE(auth.has_plaintext_credentials());
}

TEST(Authenticator, MalformedHeadersAreRefused) {
  Authenticator auth({ClientCredential{"alice", "secret", ""}});
  for (std::string bad : {"", "Basic", "Bearer abc", "Basic !!!!", "Basic YWxpY2U="}) {
    EXPECT_FALSE(auth.authenticate(bad)) << bad;
  }
  EXPECT_FALSE(auth.authenticate(header_for("alice:secret\x01")));
}

}  // namespace
}  // namespace tokenizer
