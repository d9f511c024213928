// TokenizeHandler end to end on fakes: the real validator, authenticator, retry executor,
// breaker, vault client and idempotency semantics, with a FakeTransport the test completes,
// a FakeScheduler for back-off and the watchdog, and a Logger whose lines the test reads.
// What it guards: the reply and its request id, the X-Request-Id sent to the vault, retries,
// the watchdog's 504 with the late vault reply ignored, idempotent replay, the in-flight count
// going back to zero, and no PAN or CVV in any log line.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "fake_clock.h"
#include "fake_idempotency_store.h"
#include "fake_random.h"
#include "fake_scheduler.h"
#include "fake_transport.h"
#include "http/basic_auth.h"
#include "http/rate_limiter.h"
#include "http/tokenize_handler.h"
#include "idempotency/fingerprint.h"
#include "resilience/circuit_breaker.h"
#include "resilience/load_shedder.h"
#include "resilience/retry_budget.h"
#include "resilience/retry_executor.h"
#include "telemetry/datadog_tracer.h"
#include "telemetry/logger.h"
#include "telemetry/metrics.h"
#include "telemetry/span_exporter.h"
#include "telemetry/tracer_config.h"
#include "upstream/vault_client.h"

namespace tokenizer {
namespace {

using std::chrono::milliseconds;
using testing::FakeTransport;

constexpr const char* kPan = "4111111111111111";
constexpr const char* kCvv = "837";

const char* kCreated = R"({"transaction": {"token": "TX1", "succeeded": true,
  "payment_method": {"token": "PMtoken123", "card_type": "visa", "first_six_digits": "411111",
    "last_four_digits": "1111", "month": 12, "year": 2031, "errors": []}}})";

class RecordingResponder final : public Responder {
 public:
  void send(ApiResponse response) override {
    std::lock_guard<std::mutex> lock(mu_);
    responses.push_back(std::move(response));
  }
  std::vector<ApiResponse> responses;

 private:
  std::mutex mu_;
};

class CollectingExporter final : public SpanExporter {
 public:
  void export_chunk(TraceChunk chunk) override {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& s : chunk.spans) names.push_back(s.name);
  }
  std::vector<std::string> names;

 private:
  std::mutex mu_;
};

std::string body(const std::string& pan = kPan) {
  return R"({"payment_method":{"card_number":")" + pan +
         R"(","month":"12","year":"2031","first_name":"Ada","last_name":"Lovelace","cvv":")" +
         kCvv + R"(","email":"ada@example.com"}})";
}

std::string header_of(const HttpRequest& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "<absent>";
}

std::string header_of(const ApiResponse& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "<absent>";
}

class TokenizeHandlerTest : public ::testing::Test {
 protected:
  explicit TokenizeHandlerTest(bool tracing = false) {
    transport_.complete_immediately = false;
    LoggerOptions lo;
    lo.asynchronous = false;
    logger_ = std::make_unique<Logger>(lo, clock_, [this](std::string_view lines) {
      std::lock_guard<std::mutex> lock(log_mu_);
      log_ += std::string(lines);
    });
    if (tracing) {
      TracerOptions to;
      to.sample_rate = 1.0;
      const EnvLookup no_env = [](std::string_view) { return std::optional<std::string>(); };
      auto config = finalize_tracer_config(to, no_env);
      EXPECT_TRUE(config);
      exporter_ = std::make_shared<CollectingExporter>();
      auto sampler = std::make_shared<TraceSampler>(config->sampling_rules, 1e9, clock_);
      tracer_ = std::make_unique<DatadogTracer>(*config, clock_, random_, exporter_, sampler);
    } else {
      tracer_ = std::make_unique<NullTracer>();
    }
    handler_ = std::make_unique<TokenizeHandler>(TokenizeDependencies{
        clock_, authenticator_, nullptr, auth_failures_, vault_, "vault.test", 443, executor_,
        shedder_, store_, fingerprint_key_, metrics_, *tracer_, *logger_,
        [this] { return breaker_.state_name(); }, 16 * 1024, true, "http"});
  }

  ApiRequest request(const std::string& request_id, const std::string& b = body()) {
    ApiRequest r;
    r.method = "POST";
    r.path = kTokenizeRoute;
    r.headers = {{"host", "tokenizer.test"},
                 {"content-type", "application/json"},
                 {"authorization", "Basic ZGVtbzpkZW1vLXBhc3N3b3Jk"}};  // demo:demo-password
    r.body = b;
    r.peer_address = "192.0.2.1";
    r.request_id = request_id;
    return r;
  }

  std::shared_ptr<RecordingResponder> send(ApiRequest r) {
    auto responder = std::make_shared<RecordingResponder>();
    handler_->handle(std::move(r), responder);
    return responder;
  }

  std::string log() {
    std::lock_guard<std::mutex> lock(log_mu_);
    return log_;
  }

  void expect_no_card_data_logged() {
    const std::string text = log();
    EXPECT_EQ(text.find(kPan), std::string::npos);
    EXPECT_EQ(text.find("\"837\""), std::string::npos);
    EXPECT_EQ(text.find("cvv"), std::string::npos);
  }

  testing::FakeClock clock_;
  testing::FakeRandom random_{testing::FakeRandom::unit(0.5)};
  testing::FakeScheduler scheduler_{clock_};
  FakeTransport transport_;
  VaultClient vault_{transport_, VaultConfig{"https://vault.test", "key", "secret"}, clock_};
  CircuitBreaker breaker_{"vault", CircuitBreakerConfig{}, clock_};
  RetryBudget budget_{RetryBudgetConfig{}, clock_};
  RetryExecutor executor_{RetryExecutorConfig{}, RetryPolicy(RetryPolicyConfig{}),
                          Backoff(BackoffConfig{milliseconds(100), milliseconds(1000)}),
                          breaker_, budget_, scheduler_, clock_, random_};
  LoadShedder shedder_{100};
  testing::FakeIdempotencyStore store_{clock_};
  FingerprintKey fingerprint_key_ = FingerprintKey::generate();
  Authenticator authenticator_{{ClientCredential{"demo", "demo-password", ""}}};
  KeyedRateLimiter auth_failures_{clock_, 1, 10};
  Metrics metrics_{[] {
    MetricsOptions o;
    o.process_metrics = false;
    return o;
  }()};
  std::mutex log_mu_;
  std::string log_;
  std::unique_ptr<Logger> logger_;
  std::shared_ptr<CollectingExporter> exporter_;
  std::unique_ptr<Tracer> tracer_;
  std::unique_ptr<TokenizeHandler> handler_;
};

TEST_F(TokenizeHandlerTest, SuccessAnswersWithTheTokenAndCarriesTheRequestIdToTheVault) {
  auto responder = send(request("req-success-1"));
  EXPECT_TRUE(responder->responses.empty());  // asynchronous: waits for the vault
  EXPECT_EQ(handler_->in_flight(), 1);
  ASSERT_EQ(transport_.pending_count(), 1u);
  const HttpRequest sent = transport_.requests().at(0);
  EXPECT_EQ(header_of(sent, "X-Request-Id"), "req-success-1");
  EXPECT_NE(sent.body.find(kPan), std::string::npos);  // the card goes to the vault only

  ASSERT_TRUE(transport_.complete_next(FakeTransport::reply(201, kCreated)));
  ASSERT_EQ(responder->responses.size(), 1u);
  const ApiResponse& r = responder->responses[0];
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("\"payment_method_token\":\"PMtoken123\""), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("\"request_id\":\"req-success-1\""), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find(kPan), std::string::npos);
  EXPECT_EQ(handler_->in_flight(), 0);
  const std::string text = log();
  EXPECT_NE(text.find("\"request_id\":\"req-success-1\""), std::string::npos) << text;
  EXPECT_NE(text.find("\"upstream_attempts\":1"), std::string::npos) << text;
  expect_no_card_data_logged();
}

TEST_F(TokenizeHandlerTest, ConnectFailureIsRetriedThenSucceeds) {
  auto responder = send(request("req-retry"));
  ASSERT_TRUE(transport_.complete_next(
      FakeTransport::error(TransportError::Kind::connect_failed, false, "refused")));
  EXPECT_TRUE(responder->responses.empty());
  scheduler_.advance(milliseconds(1000));  // the back-off
  ASSERT_EQ(transport_.request_count(), 2u);
  EXPECT_EQ(header_of(transport_.requests().at(1), "X-Request-Id"), "req-retry");
  ASSERT_TRUE(transport_.complete_next(FakeTransport::reply(201, kCreated)));
  ASSERT_EQ(responder->responses.size(), 1u);
  EXPECT_EQ(responder->responses[0].status, 200);
  const std::string text = log();
  EXPECT_NE(text.find("vault attempt failed"), std::string::npos) << text;
  EXPECT_NE(text.find("\"upstream_attempts\":2"), std::string::npos) << text;
  EXPECT_EQ(handler_->in_flight(), 0);
  expect_no_card_data_logged();
}

TEST_F(TokenizeHandlerTest, WatchdogAnswers504AndTheLateVaultReplyIsIgnored) {
  auto responder = send(request("req-slow"));
  ASSERT_EQ(transport_.pending_count(), 1u);
  scheduler_.advance(milliseconds(5500));  // deadline + watchdog grace
  ASSERT_EQ(responder->responses.size(), 1u);
  EXPECT_EQ(responder->responses[0].status, 504);
  EXPECT_NE(responder->responses[0].body.find("upstream_timeout"), std::string::npos);
  // The transfer still holds the request's state until the transport lets go of it.
  EXPECT_EQ(handler_->in_flight(), 1);
  ASSERT_TRUE(transport_.complete_next(FakeTransport::reply(201, kCreated)));
  EXPECT_EQ(responder->responses.size(), 1u);  // answered exactly once
  EXPECT_EQ(handler_->in_flight(), 0);
  expect_no_card_data_logged();
}

TEST_F(TokenizeHandlerTest, IdempotentRetryReplaysTheStoredReply) {
  auto with_key = [this](const std::string& id) {
    ApiRequest r = request(id);
    r.headers.emplace_back("idempotency-key", "order-42");
    return r;
  };
  auto first = send(with_key("req-a"));
  ASSERT_TRUE(transport_.complete_next(FakeTransport::reply(201, kCreated)));
  ASSERT_EQ(first->responses.size(), 1u);
  ASSERT_EQ(first->responses[0].status, 200);

  auto second = send(with_key("req-b"));
  ASSERT_EQ(second->responses.size(), 1u);  // answered at once, without the vault
  EXPECT_EQ(transport_.request_count(), 1u);
  EXPECT_EQ(second->responses[0].status, 200);
  EXPECT_EQ(second->responses[0].body, first->responses[0].body);
  EXPECT_EQ(header_of(second->responses[0], "Idempotent-Replayed"), "true");
  EXPECT_EQ(handler_->in_flight(), 0);
}

TEST_F(TokenizeHandlerTest, RefusalsNeverReachTheVault) {
  ApiRequest no_auth = request("req-401");
  no_auth.headers.pop_back();
  auto r401 = send(std::move(no_auth));
  ASSERT_EQ(r401->responses.size(), 1u);
  EXPECT_EQ(r401->responses[0].status, 401);
  EXPECT_EQ(header_of(r401->responses[0], "WWW-Authenticate"), "Basic realm=\"tokenizer\"");

  ApiRequest wrong_type = request("req-415");
  wrong_type.headers[1].second = "text/plain";
  auto r415 = send(std::move(wrong_type));
  ASSERT_EQ(r415->responses.size(), 1u);
  EXPECT_EQ(r415->responses[0].status, 415);

  auto r422 = send(request("req-422", body("4111111111111112")));  // Luhn
  ASSERT_EQ(r422->responses.size(), 1u);
  EXPECT_EQ(r422->responses[0].status, 422);
  EXPECT_EQ(r422->responses[0].body.find("4111111111111112"), std::string::npos);

  auto r400 = send(request("req-400", "{\"payment_method\":"));
  ASSERT_EQ(r400->responses.size(), 1u);
  EXPECT_EQ(r400->responses[0].status, 400);

  ApiRequest big = request("req-413", std::string(16 * 1024 + 1, ' '));
  auto r413 = send(std::move(big));
  ASSERT_EQ(r413->responses.size(), 1u);
  EXPECT_EQ(r413->responses[0].status, 413);
  EXPECT_TRUE(r413->responses[0].close_connection);

  EXPECT_EQ(transport_.request_count(), 0u);
  EXPECT_EQ(handler_->in_flight(), 0);
  for (const char* id : {"req-401", "req-415", "req-422", "req-400", "req-413"}) {
    EXPECT_NE(log().find(std::string("\"request_id\":\"") + id + "\""), std::string::npos) << id;
  }
  EXPECT_EQ(log().find("4111111111111112"), std::string::npos);
}

class TokenizeHandlerTracingTest : public TokenizeHandlerTest {
 protected:
  TokenizeHandlerTracingTest() : TokenizeHandlerTest(true) {}
};

TEST_F(TokenizeHandlerTracingTest, OneServerSpanWithValidationAndEachVaultAttempt) {
  auto responder = send(request("req-traced"));
  const HttpRequest first = transport_.requests().at(0);
  EXPECT_NE(header_of(first, "x-datadog-trace-id"), "<absent>");
  ASSERT_TRUE(transport_.complete_next(
      FakeTransport::error(TransportError::Kind::connect_failed, false, "refused")));
  scheduler_.advance(milliseconds(1000));
  ASSERT_TRUE(transport_.complete_next(FakeTransport::reply(201, kCreated)));
  ASSERT_EQ(responder->responses.size(), 1u);
  EXPECT_EQ(responder->responses[0].status, 200);
  tracer_->shutdown();
  std::vector<std::string> names = exporter_->names;
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"http.request", "tokenize.validate", "vault.request",
                                             "vault.request"}));
  const std::string text = log();
  EXPECT_NE(text.find("\"dd.trace_id\""), std::string::npos) << text;
  expect_no_card_data_logged();
}

}  // namespace
}  // namespace tokenizer
