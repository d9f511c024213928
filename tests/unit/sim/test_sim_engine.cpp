#include "sim/sim_engine.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "fake_clock.h"
#include "fake_random.h"

namespace tokenizer {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;

constexpr const char* kGoodAuth = "Basic ZGVtby1rZXk6ZGVtby1zZWNyZXQ=";  // demo-key:demo-secret

std::string card_body(const std::string& number) {
  return json{{"payment_method",
               {{"credit_card",
                 {{"first_name", "Ada"},
                  {"last_name", "Lovelace"},
                  {"number", number},
                  {"verification_value", "123"},
                  {"month", "12"},
                  {"year", "2031"}}}}}}
      .dump();
}

SimRequest vault_request(const std::string& number = "4111111111111111",
                         const char* auth = kGoodAuth) {
  SimRequest request;
  request.method = "POST";
  request.path = "/v1/payment_methods.json";
  request.headers = {{"content-type", "application/json"}, {"x-request-id", "req-1"}};
  if (auth != nullptr) request.headers.emplace_back("authorization", auth);
  request.body = card_body(number);
  return request;
}

SimRequest sim_request(const std::string& method, const std::string& path,
                       const std::string& body = "") {
  SimRequest request;
  request.method = method;
  request.path = path;
  request.body = body;
  return request;
}

class SimEngineTest : public ::testing::Test {
 protected:
  testing::FakeClock clock_;
  testing::FakeRandom random_{testing::FakeRandom::unit(0.9)};
  SimEngine engine_{SimCredentials{"demo-key", "demo-secret"}, clock_, random_};

  FaultConfig faults(const char* text) {
    auto parsed = parse_fault_config(text);
    EXPECT_TRUE(parsed.has_value()) << text;
    return parsed.has_value() ? *parsed : FaultConfig{};
  }
};

TEST_F(SimEngineTest, StoresAValidCard) {
  const Plan plan = engine_.handle(vault_request());
  EXPECT_EQ(plan.action, PlanAction::kReply);
  EXPECT_TRUE(plan.vault_api);
  EXPECT_EQ(plan.delay.count(), 0);
  EXPECT_EQ(plan.reply.status, 201);
  const json body = json::parse(plan.reply.body);
  EXPECT_EQ(body["transaction"]["payment_method"]["last_four_digits"], "1111");
  EXPECT_EQ(engine_.stats().count_for(201), 1u);
}

TEST_F(SimEngineTest, RejectsWrongOrMissingCredentials) {
  for (const char* auth : {"Basic ZGVtby1rZXk6d3Jvbmc=", "Bearer ZGVtby1rZXk6ZGVtby1zZWNyZXQ=",
                           "Basic !!!!", "Basic", static_cast<const char*>(nullptr)}) {
    const Plan plan = engine_.handle(vault_request("4111111111111111", auth));
    EXPECT_EQ(plan.reply.status, 401) << (auth ? auth : "none");
    EXPECT_EQ(json::parse(plan.reply.body)["errors"][0]["key"], "errors.access_denied");
    ASSERT_EQ(plan.reply.headers.size(), 1u);
    EXPECT_EQ(plan.reply.headers[0].first, "WWW-Authenticate");
  }
  EXPECT_EQ(engine_.handle(vault_request("4111111111111111", "basic ZGVtby1rZXk6ZGVtby1zZWNyZXQ="))
                .reply.status,
            201);
}

TEST_F(SimEngineTest, ValidationFailuresAre422AndBadJson400) {
  const Plan invalid = engine_.handle(vault_request("4111111111111112"));
  EXPECT_EQ(invalid.reply.status, 422);
  EXPECT_EQ(json::parse(invalid.reply.body)["errors"][0]["attribute"], "number");
  SimRequest not_json = vault_request();
  not_json.body = "number=4111111111111111";
  const Plan bad = engine_.handle(not_json);
  EXPECT_EQ(bad.reply.status, 400);
  EXPECT_EQ(bad.reply.body.find("4111111111111111"), std::string::npos);
}

TEST_F(SimEngineTest, OtherVaultRoutesAndMethods) {
  EXPECT_EQ(engine_.handle(sim_request("GET", "/v1/payment_methods.json")).reply.status, 405);
  EXPECT_EQ(engine_.handle(sim_request("POST", "/v1/gateways.json")).reply.status, 404);
  EXPECT_EQ(engine_.stats().requests(), 2u);  // both count as vault API requests
  EXPECT_EQ(engine_.handle(sim_request("GET", "/nowhere")).reply.status, 404);
  EXPECT_EQ(engine_.stats().requests(), 2u);
}

TEST_F(SimEngineTest, TestCardsHaveFixedBehaviours) {
  struct Case {
    const char* number;
    int status;
    const char* key;
    const char* retry_after;
  };
  for (const Case& c : {Case{"4000000000000002", 422, "errors.processing_failed", nullptr},
                        Case{"4000000000000069", 402, "errors.account_inactive", nullptr},
                        Case{"4000000000000119", 500, "errors.internal_server_error", nullptr},
                        Case{"4000000000009995", 503, "errors.service_unavailable", "1"}}) {
    const Plan plan = engine_.handle(vault_request(c.number));
    EXPECT_EQ(plan.action, PlanAction::kReply);
    EXPECT_EQ(plan.reply.status, c.status) << c.number;
    EXPECT_EQ(json::parse(plan.reply.body)["errors"][0]["key"], c.key);
    if (c.retry_after != nullptr) {
      ASSERT_EQ(plan.reply.headers.size(), 1u);
      EXPECT_EQ(plan.reply.headers[0],
                (std::pair<std::string, std::string>{"Retry-After", c.retry_after}));
    } else {
      EXPECT_TRUE(plan.reply.headers.empty());
    }
  }
  const Plan slow = engine_.handle(vault_request("4000000000000341"));
  EXPECT_EQ(slow.reply.status, 201);
  EXPECT_EQ(slow.delay, milliseconds(2000));
  EXPECT_EQ(engine_.handle(vault_request("4000000000000101")).action, PlanAction::kHang);
  EXPECT_EQ(engine_.stats().count_for(kOutcomeHang), 1u);
  EXPECT_EQ(engine_.stats().faults_injected(), 0u);
}

TEST_F(SimEngineTest, StatusFaultComesBeforeCredentialsAndCarriesRetryAfter) {
  engine_.set_faults(faults(R"({"status": 503, "retry_after": 2, "latency_ms": 50})"));
  const Plan plan = engine_.handle(vault_request("4111111111111111", nullptr));
  EXPECT_EQ(plan.reply.status, 503);
  EXPECT_EQ(plan.delay, milliseconds(50));
  EXPECT_EQ(json::parse(plan.reply.body)["errors"][0]["key"], "errors.service_unavailable");
  ASSERT_EQ(plan.reply.headers.size(), 1u);
  EXPECT_EQ(plan.reply.headers[0].second, "2");
  EXPECT_EQ(engine_.stats().faults_injected(), 1u);
  EXPECT_EQ(random_.draws, 0);  // error_rate 1 needs no draw
}

TEST_F(SimEngineTest, ModesBecomePlans) {
  engine_.set_faults(faults(R"({"mode": "reset", "latency_ms": 30})"));
  Plan plan = engine_.handle(vault_request());
  EXPECT_EQ(plan.action, PlanAction::kReset);
  EXPECT_EQ(plan.delay, milliseconds(30));

  engine_.set_faults(faults(R"({"mode": "garbage"})"));
  plan = engine_.handle(vault_request());
  EXPECT_EQ(plan.action, PlanAction::kReply);
  EXPECT_EQ(plan.reply.status, 201);
  EXPECT_TRUE(json::parse(plan.reply.body, nullptr, false).is_discarded());

  engine_.set_faults(faults(R"({"mode": "hang", "latency_ms": 30})"));
  plan = engine_.handle(vault_request());
  EXPECT_EQ(plan.action, PlanAction::kHang);

  const auto stats = engine_.stats().stats_json();
  EXPECT_EQ(stats["by_status"]["reset"], 1);
  EXPECT_EQ(stats["by_status"]["201"], 1);
  EXPECT_EQ(stats["by_status"]["hang"], 1);
  EXPECT_EQ(stats["faults_injected"], 3);
}

TEST_F(SimEngineTest, ErrorRateDrawsFromTheInjectedRandom) {
  testing::FakeRandom alternating(
      {testing::FakeRandom::unit(0.25), testing::FakeRandom::unit(0.75)});
  SimEngine engine(SimCredentials{"demo-key", "demo-secret"}, clock_, alternating,
                   faults(R"({"status": 500, "error_rate": 0.5})"));
  std::vector<int> statuses;
  for (int i = 0; i < 4; ++i) statuses.push_back(engine.handle(vault_request()).reply.status);
  EXPECT_EQ(statuses, (std::vector<int>{500, 201, 500, 201}));
  EXPECT_EQ(alternating.draws, 4);
  EXPECT_EQ(engine.stats().faults_injected(), 2u);
}

TEST_F(SimEngineTest, LatencyAppliesToEveryVaultReplyButNotToManagement) {
  engine_.set_faults(faults(R"({"latency_ms": 100})"));
  EXPECT_EQ(engine_.handle(vault_request()).delay, milliseconds(100));
  EXPECT_EQ(engine_.handle(vault_request("4111111111111111", nullptr)).delay, milliseconds(100));
  EXPECT_EQ(engine_.handle(sim_request("GET", "/__sim/stats")).delay, milliseconds(0));
  EXPECT_EQ(engine_.handle(sim_request("GET", "/__sim/stats")).vault_api, false);
}

TEST_F(SimEngineTest, FaultsEndpointReplacesReadsAndResets) {
  Plan plan = engine_.handle(sim_request("POST", "/__sim/faults", R"({"status": 429})"));
  EXPECT_EQ(plan.reply.status, 200);
  EXPECT_EQ(json::parse(plan.reply.body)["status"], 429);
  EXPECT_EQ(engine_.faults().status, 429);
  // A new document replaces the whole set.
  engine_.handle(sim_request("POST", "/__sim/faults", R"({"latency_ms": 5})"));
  EXPECT_FALSE(engine_.faults().status.has_value());
  EXPECT_EQ(
      json::parse(engine_.handle(sim_request("GET", "/__sim/faults")).reply.body)["latency_ms"], 5);

  plan = engine_.handle(sim_request("POST", "/__sim/faults", R"({"mode": "sideways"})"));
  EXPECT_EQ(plan.reply.status, 400);
  EXPECT_EQ(json::parse(plan.reply.body)["errors"][0]["key"], "errors.invalid_faults");
  EXPECT_EQ(engine_.faults().latency, milliseconds(5));  // unchanged by a bad document

  plan = engine_.handle(sim_request("DELETE", "/__sim/faults"));
  EXPECT_EQ(plan.reply.status, 200);
  EXPECT_EQ(engine_.faults().latency, milliseconds(0));
  EXPECT_EQ(engine_.handle(sim_request("PATCH", "/__sim/faults")).reply.status, 405);
}

TEST_F(SimEngineTest, ManagementEndpoints) {
  engine_.handle(vault_request());
  const json stats = json::parse(engine_.handle(sim_request("GET", "/__sim/stats")).reply.body);
  EXPECT_EQ(stats["requests"], 1);
  EXPECT_EQ(stats["by_status"]["201"], 1);

  const json requests =
      json::parse(engine_.handle(sim_request("GET", "/__sim/requests")).reply.body);
  ASSERT_EQ(requests["requests"].size(), 1u);
  const auto& logged = requests["requests"][0];
  EXPECT_EQ(logged["method"], "POST");
  EXPECT_EQ(logged["path"], "/v1/payment_methods.json");
  EXPECT_EQ(logged["headers"]["x-request-id"], "req-1");
  EXPECT_EQ(logged["headers"]["authorization"], "Basic [redacted]");
  EXPECT_FALSE(logged.contains("body"));
  EXPECT_EQ(requests.dump().find("4111111111111111"), std::string::npos);

  engine_.handle(sim_request("DELETE", "/__sim/requests"));
  EXPECT_TRUE(
      json::parse(engine_.handle(sim_request("GET", "/__sim/requests")).reply.body)["requests"]
          .empty());

  const json cards = json::parse(engine_.handle(sim_request("GET", "/__sim/cards")).reply.body);
  EXPECT_FALSE(cards["cards"].empty());
  const Plan metrics = engine_.handle(sim_request("GET", "/metrics"));
  EXPECT_EQ(metrics.reply.content_type, "text/plain; version=0.0.4");
  EXPECT_NE(metrics.reply.body.find("upstream_sim_requests_total{status=\"201\"} 1"),
            std::string::npos);
  EXPECT_EQ(engine_.handle(sim_request("GET", "/healthz")).reply.status, 200);
  EXPECT_EQ(engine_.stats().requests(), 1u);  // management calls are not vault requests
}

}  // namespace
}  // namespace tokenizer
