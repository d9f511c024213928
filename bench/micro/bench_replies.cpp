// Micro-benchmarks of what the service writes and reads per request besides the client's
// body: the success reply (map_execution), an error reply (make_error), the vault create
// request (VaultClient::build_request) and the vault's 201 reply (map_result).
#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <benchmark/benchmark.h>

#include "common/clock.h"
#include "http/api_error.h"
#include "http/tokenize_outcome.h"
#include "sample_payloads.h"
#include "tokenization/payment_method.h"
#include "upstream/http_transport.h"
#include "upstream/vault_client.h"

namespace tokenizer {
namespace {

PaymentMethod sample_card() {
  PaymentMethod card;
  card.card_number = "4111111111111111";
  card.cvv = "123";
  card.month = 12;
  card.year = 2031;
  card.first_name = "Ada";
  card.last_name = "Lovelace";
  card.email = "ada@example.com";
  card.brand = CardBrand::visa;
  return card;
}

HttpResult vault_created_result() {
  HttpResult result;
  HttpResponse response;
  response.status = 201;
  response.headers["content-type"] = "application/json";
  response.body = bench::kVaultCreatedReply;
  result.response = std::move(response);
  return result;
}

void BM_SuccessReply_MapAndSerialize(benchmark::State& state) {
  const PaymentMethod card = sample_card();
  auto attempt = std::make_shared<VaultAttempt>();
  attempt->outcome = VaultOutcome::success;
  attempt->http_status = 201;
  attempt->token = "7rbEKaJ9wiwkwfyV0Qp4XRkvsE1";
  ExecutionResult result;
  result.outcome = ExecutionOutcome::completed;
  result.attempts = 1;
  result.last = AttemptReport{AttemptClass::success, std::nullopt, std::chrono::milliseconds(1),
                              attempt};
  const std::string request_id = "0b5f1c0e-6a53-4f7e-9f55-2c3a5d1e8e21";
  const auto now = std::chrono::system_clock::now();
  for (auto _ : state) {
    TokenizeReply reply = map_execution(result, card, request_id, now);
    benchmark::DoNotOptimize(reply);
  }
  state.SetLabel(std::to_string(map_execution(result, card, request_id, now).response.body.size()) +
                 " bytes");
}
BENCHMARK(BM_SuccessReply_MapAndSerialize);

void BM_ErrorReply_ValidationFailed(benchmark::State& state) {
  const std::vector<FieldErrorBody> errors = {
      {"payment_method.card_number", "invalid_luhn", "The card number is not valid."},
      {"payment_method.cvv", "invalid_format", "The CVV must be 3 digits."}};
  const std::string request_id = "0b5f1c0e-6a53-4f7e-9f55-2c3a5d1e8e21";
  for (auto _ : state) {
    ApiResponse response = make_error(ApiErrorCode::validation_failed, request_id, {}, errors);
    benchmark::DoNotOptimize(response);
  }
}
BENCHMARK(BM_ErrorReply_ValidationFailed);

// A transport that is never used: build_request() and map_result() are pure.
class UnusedTransport final : public HttpTransport {
 public:
  void send(HttpRequest, Callback) override {}
  void shutdown() override {}
};

void BM_VaultRequest_Build(benchmark::State& state) {
  UnusedTransport transport;
  const VaultClient vault(transport, VaultConfig{"http://127.0.0.1:8081", "demo-key", "demo-secret"});
  const PaymentMethod card = sample_card();
  const std::vector<std::pair<std::string, std::string>> headers = {
      {"x-request-id", "0b5f1c0e-6a53-4f7e-9f55-2c3a5d1e8e21"},
      {"x-datadog-trace-id", "1234567890123456789"},
      {"x-datadog-parent-id", "987654321987654321"},
      {"x-datadog-sampling-priority", "1"}};
  for (auto _ : state) {
    HttpRequest request = vault.build_request(card, headers, std::chrono::milliseconds(2000));
    benchmark::DoNotOptimize(request);
  }
}
BENCHMARK(BM_VaultRequest_Build);

void BM_VaultReply_Parse(benchmark::State& state) {
  const HttpResult result = vault_created_result();
  const auto now = std::chrono::system_clock::now();
  for (auto _ : state) {
    VaultAttempt attempt = VaultClient::map_result(result, now);
    if (attempt.outcome != VaultOutcome::success) state.SkipWithError("not mapped to success");
    benchmark::DoNotOptimize(attempt);
  }
}
BENCHMARK(BM_VaultReply_Parse);

}  // namespace
}  // namespace tokenizer
