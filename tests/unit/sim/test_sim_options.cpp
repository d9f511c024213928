#include "sim/sim_options.h"

#include <vector>

#include <gtest/gtest.h>

#include "scoped_env.h"

namespace tokenizer {
namespace {

SimCommandLine parse(std::vector<const char*> args) {
  args.insert(args.begin(), "upstream-sim");
  return parse_sim_command_line(static_cast<int>(args.size()), args.data());
}

using testing::ScopedEnv;

TEST(SimOptions, Defaults) {
  const auto out = parse({});
  ASSERT_TRUE(out.config.has_value()) << out.message;
  const SimConfig& config = *out.config;
  EXPECT_EQ(config.server.host, "127.0.0.1");
  EXPECT_EQ(config.server.port, 8081);
  EXPECT_EQ(config.server.threads, 2);
  EXPECT_TRUE(config.server.tls_cert.empty());
  EXPECT_EQ(config.server.hang_cap, std::chrono::milliseconds(120000));
  EXPECT_EQ(config.credentials.environment_key, "demo-key");
  EXPECT_EQ(config.credentials.access_secret, "demo-secret");
  EXPECT_FALSE(config.faults.injects_errors());
}

TEST(SimOptions, EveryFlag) {
  const auto out = parse({"--listen", "[::1]:0", "--environment-key", "k", "--access-secret", "s",
                          "--threads", "4", "--tls-cert", "c.pem", "--tls-key", "k.pem", "--faults",
                          R"({"latency_ms": 100})", "--hang-cap-ms", "500"});
  ASSERT_TRUE(out.config.has_value()) << out.message;
  EXPECT_EQ(out.config->server.host, "::1");
  EXPECT_EQ(out.config->server.port, 0);
  EXPECT_EQ(out.config->server.threads, 4);
  EXPECT_EQ(out.config->server.tls_cert, "c.pem");
  EXPECT_EQ(out.config->server.tls_key, "k.pem");
  EXPECT_EQ(out.config->server.hang_cap, std::chrono::milliseconds(500));
  EXPECT_EQ(out.config->credentials.environment_key, "k");
  EXPECT_EQ(out.config->credentials.access_secret, "s");
  EXPECT_EQ(out.config->faults.latency, std::chrono::milliseconds(100));
}

TEST(SimOptions, EnvironmentFallbackAndFlagPrecedence) {
  ScopedEnv listen("UPSTREAM_SIM_LISTEN", "0.0.0.0:9000");
  ScopedEnv secret("UPSTREAM_SIM_ACCESS_SECRET", "from-env");
  auto out = parse({});
  ASSERT_TRUE(out.config.has_value()) << out.message;
  EXPECT_EQ(out.config->server.host, "0.0.0.0");
  EXPECT_EQ(out.config->server.port, 9000);
  EXPECT_EQ(out.config->credentials.access_secret, "from-env");
  out = parse({"--listen", "127.0.0.1:9001"});
  EXPECT_EQ(out.config->server.port, 9001);
}

TEST(SimOptions, BadValuesExitTwoWithOneLineNamingTheSetting) {
  const std::pair<std::vector<const char*>, const char*> cases[] = {
      {{"--listen", "nohost"}, "--listen"},      {{"--listen", "127.0.0.1:70000"}, "--listen"},
      {{"--listen", "::1:80"}, "--listen"},      {{"--listen", "127.0.0.1:8x"}, "--listen"},
      {{"--threads", "0"}, "--threads"},         {{"--threads", "many"}, "--threads"},
      {{"--tls-cert", "c.pem"}, "--tls-key"},    {{"--faults", R"({"status": 1000})"}, "--faults"},
      {{"--hang-cap-ms", "5"}, "--hang-cap-ms"}, {{"--access-secret", ""}, "--access-secret"},
      {{"--no-such-flag"}, "no-such-flag"},
  };
  for (const auto& [args, setting] : cases) {
    const auto out = parse(args);
    EXPECT_FALSE(out.config.has_value()) << setting;
    EXPECT_EQ(out.exit_code, 2) << setting;
    EXPECT_NE(out.message.find(setting), std::string::npos) << out.message;
    EXPECT_EQ(out.message.find('\n'), std::string::npos) << out.message;
  }
}

TEST(SimOptions, HelpExitsZeroAndNeverShowsTheSecret) {
  ScopedEnv secret("UPSTREAM_SIM_ACCESS_SECRET", "super-secret-value");
  const auto out = parse({"--help"});
  EXPECT_FALSE(out.config.has_value());
  EXPECT_EQ(out.exit_code, 0);
  EXPECT_NE(out.message.find("--listen"), std::string::npos);
  EXPECT_NE(out.message.find("UPSTREAM_SIM_ACCESS_SECRET"), std::string::npos);
  EXPECT_EQ(out.message.find("demo-secret"), std::string::npos);
  EXPECT_EQ(out.message.find("super-secret-value"), std::string::npos);
}

TEST(ListenAddress, Parses) {
  EXPECT_EQ(parse_listen_address("localhost:1")->host, "localhost");
  EXPECT_EQ(parse_listen_address("[::]:65535")->port, 65535);
  EXPECT_FALSE(parse_listen_address(":80").has_value());
  EXPECT_FALSE(parse_listen_address("[]:80").has_value());
  EXPECT_FALSE(parse_listen_address("host:").has_value());
}

}  // namespace
}  // namespace tokenizer
