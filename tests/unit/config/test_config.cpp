#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "config/config.h"

namespace tokenizer {
namespace {

ConfigResult parse(std::vector<std::string> args) {
  args.insert(args.begin(), "tokenizer");
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  return parse_config(static_cast<int>(argv.size()), argv.data());
}

const std::vector<std::string> kMinimal = {"--upstream-key", "k", "--upstream-secret", "s",
                                           "--basic-auth", "alice:pw"};

std::vector<std::string> with(std::vector<std::string> extra) {
  auto args = kMinimal;
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

TEST(Config, DefaultsMatchTheDocumentation) {
  const auto r = parse(kMinimal);
  ASSERT_EQ(r.kind, ConfigResult::Kind::ok) << r.message;
  EXPECT_EQ(r.config.listen.host, "0.0.0.0");
  EXPECT_EQ(r.config.listen.port, 3000);
  EXPECT_EQ(r.config.upstream_url, "https://core.spreedly.com");
  EXPECT_EQ(r.config.upstream_timeout, std::chrono::milliseconds(5000));
  EXPECT_EQ(r.config.upstream_attempt_timeout, std::chrono::milliseconds(2000));
  EXPECT_EQ(r.config.max_body_bytes, 16u * 1024u);
  EXPECT_EQ(r.config.retry.max_attempts, 3);
  EXPECT_EQ(r.config.retry.budget_percent, 20);
  EXPECT_EQ(r.config.breaker.min_calls, 20);
  ASSERT_EQ(r.config.clients.size(), 1u);
  EXPECT_EQ(r.config.clients[0].user, "alice");
  EXPECT_EQ(r.config.clients[0].password, "pw");
}

TEST(Config, EnvironmentFallbackAndFlagPrecedence) {
  ::setenv("TOKENIZER_UPSTREAM_TIMEOUT_MS", "4321", 1);
  ::setenv("TOKENIZER_MAX_IN_FLIGHT", "77", 1);
  auto r = parse(with({"--max-in-flight", "88"}));
  ::unsetenv("TOKENIZER_UPSTREAM_TIMEOUT_MS");
  ::unsetenv("TOKENIZER_MAX_IN_FLIGHT");
  ASSERT_EQ(r.kind, ConfigResult::Kind::ok) << r.message;
  EXPECT_EQ(r.config.upstream_timeout, std::chrono::milliseconds(4321));
  EXPECT_EQ(r.config.max_in_flight, 88);
}

struct BadCase {
  std::vector<std::string> args;
  std::string names;  // the setting the one-line error must name
};

class ConfigErrors : public ::testing::TestWithParam<BadCase> {};

TEST_P(ConfigErrors, NameTheSettingOnOneLine) {
  const auto r = parse(GetParam().args);
  ASSERT_EQ(r.kind, ConfigResult::Kind::error);
  EXPECT_NE(r.message.find(GetParam().names), std::string::npos) << r.message;
  EXPECT_EQ(r.message.find('\n'), std::string::npos) << r.message;
}

INSTANTIATE_TEST_SUITE_P(
    Table, ConfigErrors,
    ::testing::Values(
        BadCase{with({"--listen", "nope"}), "--listen"},
        BadCase{with({"--listen", "127.0.0.1:70000"}), "--listen"},
        BadCase{with({"--upstream-timeout-ms", "0"}), "--upstream-timeout-ms"},
        BadCase{with({"--upstream-timeout-ms", "abc"}), "--upstream-timeout-ms"},
        BadCase{with({"--upstream-attempt-timeout-ms", "6000"}), "--upstream-attempt-timeout-ms"},
        BadCase{with({"--upstream-url", "ftp://x"}), "--upstream-url"},
        BadCase{with({"--upstream-url", "http://vault.example.com"}), "--upstream-url"},
        BadCase{with({"--log-level", "loud"}), "--log-level"},
        BadCase{with({"--log-format", "xml"}), "--log-format"},
        BadCase{with({"--breaker-failure-rate", "0"}), "--breaker-failure-rate"},
        BadCase{with({"--retry-max-attempts", "0"}), "--retry-max-attempts"},
        BadCase{with({"--idempotency-store", "mysql://x"}), "--idempotency-store"},
        BadCase{with({"--idempotency-store", "redis://127.0.0.1:6379/0"}), "--idempotency-secret"},
        BadCase{with({"--tls-cert", "/nonexistent"}), "--tls-cert"},
        BadCase{with({"--basic-auth", "alice:pw,alice:pw2"}), "--basic-auth"},
        BadCase{with({"--basic-auth", "nopassword"}), "--basic-auth"},
        BadCase{with({"--no-such-flag"}), "--no-such-flag"},
        BadCase{{"--upstream-secret", "s", "--basic-auth", "a:b"}, "--upstream-key"},
        BadCase{{"--upstream-key", "k", "--upstream-secret", "s"}, "--basic-auth"}));

TEST(Config, UpstreamThreadsDefaultToOnePerCoreAndAreBounded) {
  const auto defaults = parse(kMinimal);
  ASSERT_EQ(defaults.kind, ConfigResult::Kind::ok) << defaults.message;
  EXPECT_GE(defaults.config.upstream_threads, 2);
  EXPECT_EQ(defaults.config.upstream_max_connections, 2048);

  const auto three = parse(with({"--upstream-threads", "3"}));
  ASSERT_EQ(three.kind, ConfigResult::Kind::ok) << three.message;
  EXPECT_EQ(three.config.upstream_threads, 3);

  const auto too_many = parse(with({"--upstream-threads", "65"}));
  EXPECT_NE(too_many.kind, ConfigResult::Kind::ok);
  EXPECT_NE(too_many.message.find("--upstream-threads"), std::string::npos) << too_many.message;
  const auto over_connections =
      parse(with({"--upstream-threads", "4", "--upstream-max-connections", "2"}));
  EXPECT_NE(over_connections.kind, ConfigResult::Kind::ok);
  EXPECT_NE(over_connections.message.find("--upstream-threads"), std::string::npos);
}

TEST(Config, UnauthenticatedNeedsExplicitFlag) {
  const auto r = parse({"--upstream-key", "k", "--upstream-secret", "s", "--allow-unauthenticated"});
  ASSERT_EQ(r.kind, ConfigResult::Kind::ok) << r.message;
  EXPECT_TRUE(r.config.clients.empty());
}

TEST(Config, PlainHttpOnlyToLoopback) {
  EXPECT_EQ(parse(with({"--upstream-url", "http://127.0.0.1:8081"})).kind, ConfigResult::Kind::ok);
  EXPECT_EQ(parse(with({"--upstream-url", "http://[::1]:8081/"})).kind, ConfigResult::Kind::ok);
  EXPECT_EQ(parse(with({"--upstream-url", "http://localhost:8081"})).config.upstream_url,
            "http://localhost:8081");
}

TEST(Config, HashedCredentialsAreRecognised) {
  const auto r = parse({"--upstream-key", "k", "--upstream-secret", "s", "--basic-auth",
                        "bob:pbkdf2-sha256$100000$c2FsdA$aGFzaA"});
  ASSERT_EQ(r.kind, ConfigResult::Kind::ok) << r.message;
  EXPECT_TRUE(r.config.clients[0].password.empty());
  EXPECT_FALSE(r.config.clients[0].password_hash.empty());
}

TEST(Config, HelpAndDescribeNeverShowSecrets) {
  ::setenv("TOKENIZER_UPSTREAM_SECRET", "env-secret-value-123", 1);
  const auto help = parse({"--help"});
  ::unsetenv("TOKENIZER_UPSTREAM_SECRET");
  ASSERT_EQ(help.kind, ConfigResult::Kind::help);
  EXPECT_NE(help.message.find("--upstream-timeout-ms"), std::string::npos);
  EXPECT_NE(help.message.find("TOKENIZER_UPSTREAM_TIMEOUT_MS"), std::string::npos);
  EXPECT_EQ(help.message.find("env-secret-value-123"), std::string::npos);

  const auto r = parse({"--upstream-key", "key-value-xyz", "--upstream-secret", "secret-value-xyz",
                        "--basic-auth", "alice:password-value-xyz"});
  ASSERT_EQ(r.kind, ConfigResult::Kind::ok) << r.message;
  for (const auto& [k, v] : describe(r.config)) {
    EXPECT_EQ(v.find("value-xyz"), std::string::npos) << k << "=" << v;
  }
}

TEST(ListenAddress, ParsesV4AndV6) {
  auto a = parse_listen_address("127.0.0.1:0");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->port, 0);
  auto b = parse_listen_address("[::1]:8080");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->host, "::1");
  EXPECT_EQ(b->to_string(), "[::1]:8080");
  EXPECT_FALSE(parse_listen_address("::1:80"));
  EXPECT_FALSE(parse_listen_address(":80"));
  EXPECT_FALSE(parse_listen_address("host:"));
}

}  // namespace
}  // namespace tokenizer
