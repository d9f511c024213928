// ServiceUnderTest: the real `upstream-sim` and `tokenizer` binaries started on loopback
// ports chosen by the OS, with helpers to call the API and drive the simulator's faults.
// Paths to the binaries come from the build (TOKENIZER_BIN, UPSTREAM_SIM_BIN).
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "http_client.h"
#include "process.h"

namespace tokenizer::testing {

inline constexpr const char kClientUser[] = "demo";
inline constexpr const char kClientPassword[] = "demo-password";
// The header for raw requests: Base64 of kClientUser ":" kClientPassword.
inline constexpr const char kClientAuthorization[] = "Authorization: Basic ZGVtbzpkZW1vLXBhc3N3b3Jk";
inline constexpr const char kVaultKey[] = "demo-key";
inline constexpr const char kVaultSecret[] = "demo-secret";

struct ServiceOptions {
  std::vector<std::string> tokenizer_args;  // appended (later flags win)
  std::map<std::string, std::string> tokenizer_env;
  bool start_sim = true;
  std::string upstream_url;  // default: the sim
};

inline ServiceOptions with_args(std::vector<std::string> args) {
  ServiceOptions o;
  o.tokenizer_args = std::move(args);
  return o;
}

// A valid request body for `card` (defaults to a Visa test card).
std::string card_body(const std::string& card = "4111111111111111", const std::string& cvv = "123",
                      const std::string& month = "\"12\"", const std::string& year = "\"2030\"");

class ServiceUnderTest {
 public:
  explicit ServiceUnderTest(ServiceOptions options = {});
  // Scans everything both processes wrote for the card numbers this suite sent through
  // tokenize() and for the credentials it used: any hit fails the test (issue 8).
  ~ServiceUnderTest();

  bool ok() const { return ok_; }
  std::string url(const std::string& path) const { return tokenizer_->base_url() + path; }
  std::string sim_url(const std::string& path) const { return sim_->base_url() + path; }
  ChildProcess& tokenizer() { return *tokenizer_; }
  ChildProcess& sim() { return *sim_; }

  // POST the tokenize endpoint with the demo credentials and a JSON content type.
  HttpReply tokenize(const std::string& body, std::vector<std::string> headers = {});
  HttpReply tokenize(CurlSession& session, const std::string& body,
                     std::vector<std::string> headers = {});

  // upstream-sim control.
  void set_faults(const nlohmann::json& faults);
  void clear_faults();
  long vault_requests();  // GET /__sim/stats → requests
  nlohmann::json sim_requests();  // GET /__sim/requests → requests

  // JSON log lines of the tokenizer (non-JSON lines skipped).
  std::vector<nlohmann::json> log_lines() const;

 private:
  void remember_card(const std::string& body);

  bool ok_ = false;
  std::mutex cards_mu_;  // tokenize() is called from many client threads at once
  std::vector<std::string> sent_card_numbers_;
  std::vector<std::string> secrets_;
  std::unique_ptr<ChildProcess> sim_;
  std::unique_ptr<ChildProcess> tokenizer_;
};

// The reply body as JSON (discarded value when it is not JSON).
nlohmann::json reply_json(const HttpReply& r);
// The error body's stable `code`, or "".
std::string error_code(const HttpReply& r);
// An error reply: this status and code, and the headers every response carries.
void expect_error(const HttpReply& r, long status, const std::string& code);

HttpCall tokenize_call(const std::string& url, const std::string& body,
                       std::vector<std::string> headers);

// A fixture whose tests share one ServiceUnderTest with default options, started once per
// suite; each test starts with the simulator's faults cleared.
// A suite that needs options hides SetUpTestSuite() with one calling start(its options).
class SharedServiceTest : public ::testing::Test {
 protected:
  static void start(ServiceOptions options) { service_ = new ServiceUnderTest(std::move(options)); }
  static void SetUpTestSuite() { start({}); }
  static void TearDownTestSuite() {
    delete service_;
    service_ = nullptr;
  }
  void SetUp() override {
    ASSERT_TRUE(service_->ok()) << service_->tokenizer().stderr_text();
    service_->clear_faults();
  }
  static ServiceUnderTest* service_;
};

}  // namespace tokenizer::testing
