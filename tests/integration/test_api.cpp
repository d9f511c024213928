// Integration: the tokenize API over HTTP against the real binaries (issue 3's table).
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <future>
#include <thread>

#include "support/service.h"

namespace tokenizer::testing {
namespace {

using nlohmann::json;

using ApiTest = SharedServiceTest;

TEST_F(ApiTest, TokenizesAValidCard) {
  const auto r = service_->tokenize(card_body(), {"X-Request-Id: it-success-1"});
  ASSERT_EQ(r.status, 200) << r.body;
  const json j = reply_json(r);
  EXPECT_EQ(j["status"], "success");
  EXPECT_FALSE(j["payment_method_token"].get<std::string>().empty());
  EXPECT_EQ(j["card"]["brand"], "visa");
  EXPECT_EQ(j["card"]["first_six"], "411111");
  EXPECT_EQ(j["card"]["last_four"], "1111");
  EXPECT_EQ(j["card"]["expiry_month"], 12);
  EXPECT_EQ(j["card"]["expiry_year"], 2030);
  EXPECT_EQ(j["request_id"], "it-success-1");
  EXPECT_EQ(r.headers.at("x-request-id"), "it-success-1");
  EXPECT_EQ(r.headers.at("cache-control"), "no-store");
  EXPECT_EQ(r.headers.at("x-content-type-options"), "nosniff");
  EXPECT_EQ(r.headers.at("content-type"), "application/json");
  EXPECT_EQ(r.headers.count("server"), 0u);
  EXPECT_EQ(r.body.find("4111111111111111"), std::string::npos);
  EXPECT_EQ(r.body.find("\"123\""), std::string::npos);
}

TEST_F(ApiTest, IntegerExpiryAndOtherBrands) {
  const auto amex = service_->tokenize(card_body("378282246310005", "1234", "7", "2031"));
  ASSERT_EQ(amex.status, 200) << amex.body;
  EXPECT_EQ(reply_json(amex)["card"]["brand"], "amex");
  EXPECT_EQ(reply_json(amex)["card"]["expiry_month"], 7);
  const auto mc = service_->tokenize(card_body("2223003122003222"));
  ASSERT_EQ(mc.status, 200) << mc.body;
  EXPECT_EQ(reply_json(mc)["card"]["brand"], "mastercard");
}

TEST_F(ApiTest, InsaneRequestIdIsReplaced) {
  const auto r = service_->tokenize(card_body(), {"X-Request-Id: bad id with spaces"});
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.headers.at("x-request-id"), "bad id with spaces");
  EXPECT_EQ(r.headers.at("x-request-id").size(), 32u);
}

TEST_F(ApiTest, KeepAliveReusesOneConnection) {
  CurlSession session;
  long connects = 0;
  for (int i = 0; i < 5; ++i) {
    const auto r = service_->tokenize(session, card_body());
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.headers.at("connection"), "Keep-Alive");
    connects += r.connects;
  }
  EXPECT_EQ(connects, 1);
}

TEST_F(ApiTest, KeepAliveOnRawHttp11WithoutConnectionHeader) {
  RawConnection conn(service_->tokenizer().port());
  ASSERT_TRUE(conn.ok());
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(conn.send_all("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
    const auto resp = conn.read_response();
    ASSERT_NE(resp.find("200 OK"), std::string::npos) << resp;
    EXPECT_NE(resp.find("Keep-Alive"), std::string::npos) << resp;
  }
}

// A client that sends its request and its FIN back to back: the server sees both in one
// (edge-triggered) event, and must still notice the FIN and close, not keep the descriptor.
TEST_F(ApiTest, ARequestFollowedByTheClientsFinEndsWithTheServerClosing) {
  for (int i = 0; i < 10; ++i) {
    RawConnection conn(service_->tokenizer().port());
    ASSERT_TRUE(conn.ok());
    ASSERT_TRUE(conn.send_all("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
    ASSERT_TRUE(conn.shutdown_write());
    EXPECT_TRUE(conn.closed_by_peer(std::chrono::seconds(5))) << "attempt " << i;
  }
}

TEST_F(ApiTest, Unauthorized) {
  HttpCall call = tokenize_call(service_->url("/api/v1/payment_methods/tokenize"), card_body(), {});
  call.basic_user.clear();
  auto r = http_request(call);
  expect_error(r, 401, "unauthorized");
  EXPECT_EQ(r.headers.at("www-authenticate"), "Basic realm=\"tokenizer\"");
  call.basic_user = kClientUser;
  call.basic_password = "wrong";
  expect_error(http_request(call), 401, "unauthorized");
}

TEST_F(ApiTest, MalformedJson) {
  expect_error(service_->tokenize("{not json"), 400, "malformed_json");
  expect_error(service_->tokenize(""), 400, "malformed_json");
  expect_error(service_->tokenize("{\"payment_method\": {\"first_name\": \"\xff\xfe\"}}"), 400,
               "malformed_json");
  std::string deep;
  for (int i = 0; i < 33; ++i) deep += "[";
  for (int i = 0; i < 33; ++i) deep += "]";
  expect_error(service_->tokenize("{\"a\":" + deep + "}"), 400, "malformed_json");
  std::string very_deep(10000, '[');
  expect_error(service_->tokenize(very_deep), 400, "malformed_json");
}

TEST_F(ApiTest, InvalidRequest) {
  expect_error(service_->tokenize("{}"), 400, "invalid_request");
  expect_error(service_->tokenize("{\"payment_method\": [1]}"), 400, "invalid_request");
}

TEST_F(ApiTest, ValidationListsEveryField) {
  const auto r = service_->tokenize(
      R"({"payment_method":{"card_number":"4111111111111112","month":13,"year":"20x0","first_name":"","last_name":"L","cvv":"12","email":"nope","extra":"ignored-5555"}})");
  expect_error(r, 422, "validation_failed");
  const json j = reply_json(r);
  std::set<std::string> fields;
  for (const auto& e : j["errors"]) {
    fields.insert(e["field"]);
    EXPECT_FALSE(e["code"].get<std::string>().empty());
    EXPECT_FALSE(e["message"].get<std::string>().empty());
  }
  EXPECT_EQ(fields, (std::set<std::string>{"payment_method.card_number", "payment_method.month",
                                           "payment_method.year", "payment_method.first_name",
                                           "payment_method.cvv", "payment_method.email"}));
  EXPECT_EQ(r.body.find("4111111111111112"), std::string::npos);
  EXPECT_EQ(r.body.find("ignored-5555"), std::string::npos);
}

TEST_F(ApiTest, PayloadTooLargeClosesTheConnection) {
  const std::string padding(20 * 1024, 'x');
  expect_error(service_->tokenize("{\"pad\":\"" + padding + "\"}"), 413, "payload_too_large");
  const std::string mib(1024 * 1024, 'x');
  const auto r = service_->tokenize("{\"pad\":\"" + mib + "\"}");
  expect_error(r, 413, "payload_too_large");
  EXPECT_EQ(r.headers.at("connection"), "Close");
  // The service is still healthy afterwards.
  EXPECT_EQ(service_->tokenize(card_body()).status, 200);
}

TEST_F(ApiTest, UnsupportedMediaType) {
  expect_error(service_->tokenize(card_body(), {"Content-Type: text/plain"}), 415,
               "unsupported_media_type");
  EXPECT_EQ(service_->tokenize(card_body(), {"Content-Type: application/json; charset=utf-8"}).status,
            200);
}

TEST_F(ApiTest, HeaderValuesPistacheCouldNotParseReachTheApiAsSent) {
  // Pistache's typed parsers used to answer these themselves, in plain text and without a
  // request id; the service reads headers raw, so they get the API's own answers.
  const auto r = service_->tokenize(card_body(), {"Content-Type: json", "X-Request-Id: it-ct-1"});
  expect_error(r, 415, "unsupported_media_type");
  EXPECT_EQ(r.headers.at("x-request-id"), "it-ct-1");
  EXPECT_EQ(service_->tokenize(card_body(), {"Accept: application/json;;;q=x"}).status, 200);
}

TEST_F(ApiTest, MethodNotAllowedAndNotFound) {
  HttpCall call;
  call.url = service_->url("/api/v1/payment_methods/tokenize");
  auto r = http_request(call);
  expect_error(r, 405, "method_not_allowed");
  EXPECT_EQ(r.headers.at("allow"), "POST");
  call.url = service_->url("/api/v1/nothing");
  expect_error(http_request(call), 404, "not_found");
}

TEST_F(ApiTest, VaultRejectsTheCard) {
  const auto r = service_->tokenize(card_body("4000000000000002"));
  expect_error(r, 422, "card_rejected");
  const json j = reply_json(r);
  ASSERT_TRUE(j["errors"].is_array());
  EXPECT_EQ(r.body.find("4000000000000002"), std::string::npos);
}

TEST_F(ApiTest, VaultServerErrorIsAnUpstreamError) {
  expect_error(service_->tokenize(card_body("4000000000000119")), 502, "upstream_error");
  service_->set_faults({{"mode", "garbage"}});
  expect_error(service_->tokenize(card_body()), 502, "upstream_error");
}

TEST_F(ApiTest, VaultAccountInactiveIsAnUpstreamAuthFailure) {
  expect_error(service_->tokenize(card_body("4000000000000069")), 502, "upstream_auth_failed");
}

TEST_F(ApiTest, HealthProbesAndMetricsNeedNoAuth) {
  ASSERT_EQ(service_->tokenize(card_body()).status, 200);  // some API traffic to count
  HttpCall call;
  call.url = service_->url("/healthz");
  EXPECT_EQ(http_request(call).status, 200);
  call.url = service_->url("/readyz");
  auto ready = http_request(call);
  EXPECT_EQ(ready.status, 200);
  EXPECT_EQ(reply_json(ready)["components"]["upstream_circuit_breaker"], "closed");
  call.url = service_->url("/metrics");
  auto metrics = http_request(call);
  EXPECT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find("tokenizer_http_requests_total"), std::string::npos);
  EXPECT_EQ(metrics.body.find("route=\"/healthz\""), std::string::npos)
      << "probes must not be counted as API traffic";
}

TEST(ApiUpstream, WrongVaultCredentialsAreAnUpstreamAuthFailure) {
  ServiceUnderTest s(with_args({"--upstream-secret", "not-the-secret"}));
  ASSERT_TRUE(s.ok());
  expect_error(s.tokenize(card_body()), 502, "upstream_auth_failed");
}

TEST(ApiUpstream, HangingVaultTimesOutWithinTheDeadline) {
  ServiceUnderTest s(with_args({"--upstream-timeout-ms", "800", "--upstream-attempt-timeout-ms", "400"}));
  ASSERT_TRUE(s.ok());
  s.set_faults({{"mode", "hang"}});
  const auto r = s.tokenize(card_body());
  expect_error(r, 504, "upstream_timeout");
  EXPECT_LT(r.seconds, 3.0);
  // No server thread is stuck: the next request works at once.
  s.clear_faults();
  EXPECT_EQ(s.tokenize(card_body()).status, 200);
}

TEST(ApiUpstream, SlowVaultDoesNotBlockOtherRequests) {
  ServiceUnderTest s(with_args({"--threads", "2"}));
  ASSERT_TRUE(s.ok());
  s.set_faults({{"latency_ms", 1500}});
  constexpr int kClients = 24;  // far more than the 2 server threads
  std::vector<std::future<HttpReply>> replies;
  for (int i = 0; i < kClients; ++i) {
    replies.push_back(std::async(std::launch::async, [&s] { return s.tokenize(card_body()); }));
  }
  // While all of them wait on the vault, the server still answers at once.
  HttpCall health;
  health.url = s.url("/healthz");
  const auto h = http_request(health);
  EXPECT_EQ(h.status, 200);
  EXPECT_LT(h.seconds, 1.0);
  double slowest = 0;
  for (auto& f : replies) {
    const auto r = f.get();
    EXPECT_EQ(r.status, 200) << r.body;
    slowest = std::max(slowest, r.seconds);
  }
  // Serialised on 2 threads this would take 12 × 1.5 s; concurrent it takes about 1.5 s.
  EXPECT_LT(slowest, 6.0);
}

TEST(ApiLifecycle, SigtermDrainsAnInFlightRequest) {
  ServiceUnderTest s(with_args({"--drain-timeout-ms", "5000"}));
  ASSERT_TRUE(s.ok());
  s.set_faults({{"latency_ms", 1000}});
  auto in_flight = std::async(std::launch::async, [&s] { return s.tokenize(card_body()); });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (s.vault_requests() < 1 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_GE(s.vault_requests(), 1);
  s.tokenizer().signal(SIGTERM);
  const auto r = in_flight.get();
  EXPECT_EQ(r.status, 200) << r.body;
  const auto status = s.tokenizer().wait_exit(std::chrono::seconds(10));
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(*status, 0);
  bool saw_draining = false;
  for (const auto& line : s.log_lines()) {
    if (line.value("message", "") == "draining") saw_draining = true;
  }
  EXPECT_TRUE(saw_draining);
}

TEST(ApiLifecycle, BadConfigurationExitsWithStatus2AndOneLine) {
  ChildProcess p(TOKENIZER_BIN, {"--upstream-key", "k", "--upstream-secret", "s", "--basic-auth",
                                 "a:b", "--upstream-timeout-ms", "-5"});
  const auto status = p.wait_exit(std::chrono::seconds(10));
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(*status, 2);
  const std::string err = p.stderr_text();
  EXPECT_NE(err.find("--upstream-timeout-ms"), std::string::npos) << err;
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
}

TEST(ApiLifecycle, RefusesToStartWithoutClientCredentials) {
  ChildProcess p(TOKENIZER_BIN, {"--upstream-key", "k", "--upstream-secret", "s"});
  const auto status = p.wait_exit(std::chrono::seconds(10));
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(*status, 2);
}

}  // namespace
}  // namespace tokenizer::testing
