#include "service.h"

#include <algorithm>
#include <sstream>

#include <gtest/gtest.h>

namespace tokenizer::testing {

std::string card_body(const std::string& card, const std::string& cvv, const std::string& month,
                      const std::string& year) {
  return R"({"payment_method":{"card_number":")" + card + R"(","month":)" + month +
         R"(,"year":)" + year + R"(,"first_name":"Ada","last_name":"Lovelace","cvv":")" + cvv +
         R"(","email":"ada@example.com"}})";
}

ServiceUnderTest::ServiceUnderTest(ServiceOptions options) {
  std::string upstream = options.upstream_url;
  if (options.start_sim) {
    sim_ = std::make_unique<ChildProcess>(
        UPSTREAM_SIM_BIN, std::vector<std::string>{"--listen", "127.0.0.1:0", "--environment-key",
                                                    kVaultKey, "--access-secret", kVaultSecret});
    if (!sim_->wait_for_port()) return;
    if (upstream.empty()) upstream = sim_->base_url();
  }
  std::vector<std::string> args = {"--listen", "127.0.0.1:0", "--upstream-url", upstream,
                                   "--upstream-key", kVaultKey, "--upstream-secret", kVaultSecret,
                                   "--basic-auth", std::string(kClientUser) + ":" + kClientPassword,
                                   "--threads", "2"};
  args.insert(args.end(), options.tokenizer_args.begin(), options.tokenizer_args.end());
  secrets_ = {kClientPassword, kVaultSecret};
  auto env = options.tokenizer_env;
  // No Datadog agent in tests unless a test starts its fake one.
  if (env.find("DD_TRACE_AGENT_URL") == env.end()) env["DD_TRACE_AGENT_URL"] = "http://127.0.0.1:9";
  tokenizer_ = std::make_unique<ChildProcess>(TOKENIZER_BIN, args, env);
  ok_ = tokenizer_->wait_for_port();
}

ServiceUnderTest::~ServiceUnderTest() {
  std::lock_guard<std::mutex> lock(cards_mu_);
  std::string written;
  for (ChildProcess* p : {tokenizer_.get(), sim_.get()}) {
    if (p != nullptr) written += p->stdout_text() + p->stderr_text();
  }
  for (const auto& pan : sent_card_numbers_) {
    EXPECT_EQ(written.find(pan), std::string::npos)
        << "a card number sent by this test appears in the service's output";
  }
  for (const auto& secret : secrets_) {
    EXPECT_EQ(written.find(secret), std::string::npos)
        << "a credential appears in the service's output";
  }
}

void ServiceUnderTest::remember_card(const std::string& body) {
  const auto j = nlohmann::json::parse(body, nullptr, false);
  if (!j.is_object() || !j.contains("payment_method") || !j["payment_method"].is_object()) return;
  const auto& pm = j["payment_method"];
  if (!pm.contains("card_number") || !pm["card_number"].is_string()) return;
  std::string digits;
  for (char c : pm["card_number"].get<std::string>()) {
    if (c >= '0' && c <= '9') digits.push_back(c);
  }
  // Long enough to be a card number, not a fragment that could appear by chance.
  std::lock_guard<std::mutex> lock(cards_mu_);
  if (digits.size() >= 12 && sent_card_numbers_.size() < 1000 &&
      std::find(sent_card_numbers_.begin(), sent_card_numbers_.end(), digits) ==
          sent_card_numbers_.end()) {
    sent_card_numbers_.push_back(digits);
  }
}

nlohmann::json reply_json(const HttpReply& r) {
  return nlohmann::json::parse(r.body, nullptr, false);
}

std::string error_code(const HttpReply& r) {
  const auto j = reply_json(r);
  return j.is_object() ? j.value("code", "") : "";
}

void expect_error(const HttpReply& r, long status, const std::string& code) {
  EXPECT_EQ(r.status, status) << r.body;
  const auto j = reply_json(r);
  ASSERT_TRUE(j.is_object()) << r.body;
  EXPECT_EQ(j.value("code", ""), code) << r.body;
  EXPECT_FALSE(j.value("error", "").empty());
  EXPECT_FALSE(j.value("request_id", "").empty());
  EXPECT_EQ(r.headers.count("x-request-id"), 1u);
  EXPECT_EQ(r.headers.count("content-type") ? r.headers.at("content-type") : "", "application/json");
  EXPECT_EQ(r.headers.count("cache-control") ? r.headers.at("cache-control") : "", "no-store");
}

HttpCall tokenize_call(const std::string& url, const std::string& body,
                       std::vector<std::string> headers) {
  HttpCall call;
  call.method = "POST";
  call.url = url;
  call.body = body;
  call.basic_user = kClientUser;
  call.basic_password = kClientPassword;
  call.headers = std::move(headers);
  bool has_type = false;
  for (const auto& h : call.headers) {
    if (h.rfind("Content-Type:", 0) == 0 || h.rfind("content-type:", 0) == 0) has_type = true;
  }
  if (!has_type) call.headers.push_back("Content-Type: application/json");
  return call;
}

HttpReply ServiceUnderTest::tokenize(const std::string& body, std::vector<std::string> headers) {
  remember_card(body);
  return http_request(tokenize_call(url("/api/v1/payment_methods/tokenize"), body, std::move(headers)));
}

HttpReply ServiceUnderTest::tokenize(CurlSession& session, const std::string& body,
                                     std::vector<std::string> headers) {
  remember_card(body);
  return session.perform(
      tokenize_call(url("/api/v1/payment_methods/tokenize"), body, std::move(headers)));
}

void ServiceUnderTest::set_faults(const nlohmann::json& faults) {
  HttpCall call;
  call.method = "POST";
  call.url = sim_url("/__sim/faults");
  call.body = faults.dump();
  call.headers = {"Content-Type: application/json"};
  http_request(call);
}

void ServiceUnderTest::clear_faults() {
  HttpCall call;
  call.method = "DELETE";
  call.url = sim_url("/__sim/faults");
  http_request(call);
}

long ServiceUnderTest::vault_requests() {
  HttpCall call;
  call.url = sim_url("/__sim/stats");
  auto reply = http_request(call);
  auto j = nlohmann::json::parse(reply.body, nullptr, false);
  return j.is_object() && j.contains("requests") ? j["requests"].get<long>() : -1;
}

nlohmann::json ServiceUnderTest::sim_requests() {
  HttpCall call;
  call.url = sim_url("/__sim/requests");
  auto reply = http_request(call);
  auto j = nlohmann::json::parse(reply.body, nullptr, false);
  return j.is_object() ? j["requests"] : nlohmann::json::array();
}

std::vector<nlohmann::json> ServiceUnderTest::log_lines() const {
  std::vector<nlohmann::json> out;
  for (const auto& line : tokenizer_->stdout_lines()) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_object()) out.push_back(std::move(j));
  }
  return out;
}

ServiceUnderTest* SharedServiceTest::service_ = nullptr;

}  // namespace tokenizer::testing
