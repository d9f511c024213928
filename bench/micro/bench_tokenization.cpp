// Micro-benchmarks of request validation: parse_tokenize_request() on the bodies the service
// sees (valid cards of every brand, a body with every field invalid, malformed JSON), and
// nlohmann's bare parse of the same body as a peer (the parser read bodies with nlohmann until
// it moved to JsonTree/RapidJSON; the whole validated parse is now cheaper than that parse alone).
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "tokenization/request_parser.h"

namespace tokenizer {
namespace {

// The common test cards of /work/shared/VAULT-API.md, one per brand and length.
std::vector<std::string> valid_bodies() {
  const std::vector<std::pair<std::string, std::string>> cards = {
      {"4111111111111111", "123"}, {"5555555555554444", "123"}, {"378282246310005", "1234"},
      {"6011111111111117", "123"}, {"3530111333300000", "123"}, {"30569309025904", "123"},
      {"6200000000000005", "123"}, {"4222222222222", "123"}};
  std::vector<std::string> bodies;
  for (const auto& [number, cvv] : cards) {
    bodies.push_back(R"({"payment_method":{"card_number":")" + number +
                     R"(","month":"12","year":"2031","first_name":"Ada","last_name":"Lovelace","cvv":")" +
                     cvv + R"(","email":"ada@example.com"}})");
  }
  return bodies;
}

void BM_ParseTokenizeRequest_Valid(benchmark::State& state) {
  const auto bodies = valid_bodies();
  const Clock& clock = SystemClock::instance();
  std::size_t i = 0;
  for (auto _ : state) {
    ParseOutcome outcome = parse_tokenize_request(bodies[i++ % bodies.size()], clock);
    if (!outcome.ok()) state.SkipWithError("a valid body was rejected");
    benchmark::DoNotOptimize(outcome);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ParseTokenizeRequest_Valid);

void BM_ParseTokenizeRequest_AllFieldsInvalid(benchmark::State& state) {
  const std::string body =
      R"({"payment_method":{"card_number":"4111111111111112","month":"13","year":"1999",)"
      R"("first_name":"","last_name":"\u0001","cvv":"12a","email":"not-an-email"}})";
  const Clock& clock = SystemClock::instance();
  for (auto _ : state) {
    ParseOutcome outcome = parse_tokenize_request(body, clock);
    if (outcome.ok()) state.SkipWithError("an invalid body was accepted");
    benchmark::DoNotOptimize(outcome);
  }
}
BENCHMARK(BM_ParseTokenizeRequest_AllFieldsInvalid);

void BM_ParseTokenizeRequest_Malformed(benchmark::State& state) {
  const std::string body = R"({"payment_method":{"card_number":"4111111111111111","month":)";
  const Clock& clock = SystemClock::instance();
  for (auto _ : state) {
    ParseOutcome outcome = parse_tokenize_request(body, clock);
    benchmark::DoNotOptimize(outcome);
  }
}
BENCHMARK(BM_ParseTokenizeRequest_Malformed);

// The peer: nlohmann's parse of the same valid body, without any validation.
void BM_NlohmannParseOnly(benchmark::State& state) {
  const auto bodies = valid_bodies();
  std::size_t i = 0;
  for (auto _ : state) {
    auto doc = nlohmann::json::parse(bodies[i++ % bodies.size()], nullptr, false);
    benchmark::DoNotOptimize(doc);
  }
}
BENCHMARK(BM_NlohmannParseOnly);

}  // namespace
}  // namespace tokenizer
