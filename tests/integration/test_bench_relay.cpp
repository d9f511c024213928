// bench-relay (bench/relay/relay_main.cpp), row r of bench/run: it must pass the vault's reply
// through unchanged and fail visibly, or the floor it measures is not the one it claims.
// Built and run only with -DTOKENIZER_BUILD_BENCH=ON (scripts/test turns it on).
#include <gtest/gtest.h>

#include <csignal>
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
  // Values the relay could not have made up, to see them arrive at the vault as sent.
  call.headers = {"Content-Type: application/json; charset=utf-8",
                  "Accept: application/json; q=0.9"};
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

  // Both requests reached the vault through the relay, with the client's headers.
  HttpCall log;
  log.url = sim.base_url() + "/__sim/requests";
  const nlohmann::json seen = reply_json(http_request(log))["requests"];
  ASSERT_EQ(seen.size(), 2u) << seen.dump();
  for (const auto& request : seen) {
    EXPECT_EQ(request["method"], "POST") << request.dump();
    EXPECT_EQ(request["path"], "/v1/payment_methods.json") << request.dump();
    EXPECT_EQ(request["headers"]["content-type"], "application/json; charset=utf-8")
        << request.dump();
    EXPECT_EQ(request["headers"]["accept"], "application/json; q=0.9") << request.dump();
  }

  // SIGTERM stops it cleanly.
  relay.signal(SIGTERM);
  EXPECT_EQ(relay.wait_exit(std::chrono::seconds(10)), 0) << relay.stderr_text();
}

// Row p of bench/run: the relay adds the tokenizer's trace-propagation headers, as given, to
// every vault request, so p/r is what writing them costs on the stack alone.
TEST(BenchRelay, AddsTheGivenHeadersToEveryVaultRequest) {
  ChildProcess sim = start_sim();
  ASSERT_TRUE(sim.wait_for_port()) << sim.stderr_text();
  const std::string traceparent = "00-6b05947b00000000450ae492077a38e7-6eb08e611329609d-01";
  ChildProcess relay(BENCH_RELAY_BIN,
                     {"--upstream-url", sim.base_url(), "--threads", "1", "--upstream-threads", "1",
                      "--header", "traceparent: " + traceparent, "--header",
                      "x-datadog-tags:_dd.p.tid=6b05947b00000000,_dd.p.dm=-1"});
  ASSERT_TRUE(relay.wait_for_port()) << relay.stderr_text();
  for (int i = 0; i < 2; ++i) {
    const HttpReply ok = http_request(vault_call(relay.base_url(), true));
    ASSERT_EQ(ok.status, 201) << ok.body << ok.error;
  }
  HttpCall log;
  log.url = sim.base_url() + "/__sim/requests";
  const nlohmann::json seen = reply_json(http_request(log))["requests"];
  ASSERT_EQ(seen.size(), 2u) << seen.dump();
  for (const auto& request : seen) {
    EXPECT_EQ(request["headers"]["traceparent"], traceparent) << request.dump();
    EXPECT_EQ(request["headers"]["x-datadog-tags"], "_dd.p.tid=6b05947b00000000,_dd.p.dm=-1")
        << request.dump();
    EXPECT_EQ(request["headers"]["accept"], "application/json; q=0.9") << request.dump();
  }
}

TEST(BenchRelay, RefusesAHeaderWithoutNameOrValue) {
  for (const char* bad : {"no-colon", ": value", "name:", "name:   "}) {
    ChildProcess relay(BENCH_RELAY_BIN, {"--upstream-url", "http://127.0.0.1:9", "--header", bad});
    EXPECT_EQ(relay.wait_exit(std::chrono::seconds(10)), 2) << bad;
    EXPECT_NE(relay.stderr_text().find("--header"), std::string::npos) << relay.stderr_text();
  }
}

TEST(BenchRelay, AnswersBadGatewayWhenTheVaultIsUnreachable) {
  RefusingPort refusing;
  ASSERT_GT(refusing.port(), 0);
  const std::string refusing_url = "http://127.0.0.1:" + std::to_string(refusing.port());

  ChildProcess relay(BENCH_RELAY_BIN, {"--upstream-url", refusing_url, "--threads", "1",
                                       "--upstream-threads", "1"});
  ASSERT_TRUE(relay.wait_for_port()) << relay.stderr_text();
  const HttpReply reply = http_request(vault_call(relay.base_url(), true));
  EXPECT_EQ(reply.status, 502) << reply.body << reply.error;
  EXPECT_NE(reply.body.find("vault unreachable"), std::string::npos) << reply.body;
}

}  // namespace
}  // namespace tokenizer::testing
