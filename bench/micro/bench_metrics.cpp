// Micro-benchmarks of the metric updates one tokenize request makes (the in-flight gauge, the
// HTTP RED counter + histogram, the tokenization counter, one vault attempt), alone and as the
// whole per-request set, from one thread and from two sharing the same series (the service's
// case: every server thread updates the same counters), plus a /metrics scrape.
#include <benchmark/benchmark.h>

#include "telemetry/metrics.h"

namespace tokenizer {
namespace {

Metrics& shared_metrics() {
  static Metrics* metrics = [] {
    MetricsOptions options;
    options.process_metrics = false;
    return new Metrics(options);  // never destroyed: benchmark threads share it until exit
  }();
  return *metrics;
}

constexpr char kRoute[] = "/api/v1/payment_methods/tokenize";

void BM_Metrics_ObserveHttpRequest(benchmark::State& state) {
  Metrics& m = shared_metrics();
  for (auto _ : state) m.observe_http_request("POST", kRoute, 200, 0.0012);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Metrics_ObserveHttpRequest)->Threads(1)->Threads(2);

void BM_Metrics_CountTokenization(benchmark::State& state) {
  Metrics& m = shared_metrics();
  for (auto _ : state) m.count_tokenization("visa", Metrics::TokenizationResult::success);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Metrics_CountTokenization)->Threads(1)->Threads(2);

void BM_Metrics_ObserveUpstreamAttempt(benchmark::State& state) {
  Metrics& m = shared_metrics();
  for (auto _ : state) m.observe_upstream_attempt(Metrics::UpstreamOutcome::success, 0.0008);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Metrics_ObserveUpstreamAttempt)->Threads(1)->Threads(2);

void BM_Metrics_InFlightGuard(benchmark::State& state) {
  Metrics& m = shared_metrics();
  for (auto _ : state) {
    InFlightGuard guard = m.track_in_flight();
    benchmark::DoNotOptimize(guard);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Metrics_InFlightGuard)->Threads(1)->Threads(2);

// Everything a successful tokenize request records.
void BM_Metrics_PerRequestSet(benchmark::State& state) {
  Metrics& m = shared_metrics();
  for (auto _ : state) {
    InFlightGuard guard = m.track_in_flight();
    m.observe_upstream_attempt(Metrics::UpstreamOutcome::success, 0.0008);
    m.count_tokenization("visa", Metrics::TokenizationResult::success);
    m.observe_http_request("POST", kRoute, 200, 0.0012);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Metrics_PerRequestSet)->Threads(1)->Threads(2);

void BM_Metrics_Serialize(benchmark::State& state) {
  Metrics& m = shared_metrics();
  m.observe_http_request("POST", kRoute, 200, 0.0012);
  m.observe_http_request("POST", kRoute, 422, 0.0002);
  m.observe_upstream_attempt(Metrics::UpstreamOutcome::success, 0.0008);
  for (auto _ : state) {
    std::string text = m.serialize();
    benchmark::DoNotOptimize(text);
  }
}
BENCHMARK(BM_Metrics_Serialize)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace tokenizer
