// bench-relay (bench/relay/relay_main.cpp), row r of bench/run: it must pass the vault's reply
// through unchanged and fail visibly, or the floor it measures is not the one it claims.
// Built and run only with -DTOKENIZER_BUILD_BENCH=ON (scripts/test turns it on).
#include <gtest/gtest.h>

#include <string>

#include "support/http_client.h"
#include "support/process.h"
#include "support/service.h"

namespace tokenizer::testing {
namespace {

// What wrk's vault mode posts (bench/tokenize.lua): the vault's own payload and credentials.
const char kVaultBody[] =
    R"({"payment_method":{"credit_card":{"first_name":"Ada","last_name":"Lovelace",)"
    R"("number":"4111111111111111","verification_value":"123","month":"12","year":"2030"}}})";

HttpCall vault_call(const std::string& url, bool with_credentials) {
  HttpCall call;
  call.method = "POST";
  call.url = url + "/v1/payment_methods.json";
  call.headers = {"Content-Type: application/json", "Accept: application/json"};
  call.body = kVaultBody;
  if (with_credentials) {
    call.basic_user = kVaultKey;
    call.basic_password = kVaultSecret;
  }
  return call;
}

ChildProcess start_sim() {
  return ChildProcess(UPSTREAM_SIM_BIN, {"--listen", "127.0.0.1:0", "--environment-key", kVaultKey,
                                         "--access-secret", kVaultSecret, "--threads", "1"});
}

TEST(BenchRelay, PassesTheVaultsStatusAndBodyBothWays) {
  ChildProcess sim = start_sim();
  ASSERT_TRUE(sim.wait_for_port()) << sim.stderr_text();
  ChildProcess relay(BENCH_RELAY_BIN, {"--upstream-url", sim.base_url(), "--threads", "1",
                                       "--upstream-threads", "1"});
  ASSERT_TRUE(relay.wait_for_port()) << relay.stderr_text();

  const HttpReply ok = http_request(vault_call(relay.base_url(), true));
  ASSERT_EQ(ok.status, 201) << ok.body << ok.error;
  const nlohmann::json body = reply_json(ok);
  EXPECT_EQ(body["transaction"]["succeeded"], true) << ok.body;
  EXPECT_EQ(body["transaction"]["payment_method"]["last_four_digits"], "1111") << ok.body;
  EXPECT_EQ(body["transaction"]["payment_method"]["first_name"], "Ada") << ok.body;

  // Without the vault's credentials the vault refuses, and the relay passes the refusal on.
  const HttpReply refused = http_request(vault_call(relay.base_url(), false));
  EXPECT_EQ(refused.status, 401) << refused.body;
  EXPECT_NE(refused.body.find("errors.access_denied"), std::string::npos) << refused.body;

  // Both requests reached the vault through the relay.
  HttpCall stats;
  stats.url = sim.base_url() + "/__sim/stats";
  const nlohmann::json counted = reply_json(http_request(stats));
  EXPECT_EQ(counted["requests"], 2) << counted.dump();
}

TEST(BenchRelay, AnswersBadGatewayWhenTheVaultIsUnreachable) {
  std::string closed_url;
  {
    ChildProcess sim = start_sim();
    ASSERT_TRUE(sim.wait_for_port()) << sim.stderr_text();
    closed_url = sim.base_url();
    sim.signal(SIGTERM);
    ASSERT_TRUE(sim.wait_exit(std::chrono::seconds(10)).has_value());
  }
  ChildProcess relay(BENCH_RELAY_BIN, {"--upstream-url", closed_url, "--threads", "1",
                                       "--upstream-threads", "1"});
  ASSERT_TRUE(relay.wait_for_port()) << relay.stderr_text();
  const HttpReply reply = http_request(vault_call(relay.base_url(), true));
  EXPECT_EQ(reply.status, 502) << reply.body << reply.error;
  EXPECT_NE(reply.body.find("vault unreachable"), std::string::npos) << reply.body;
}

}  // namespace
}  // namespace tokenizer::testing
