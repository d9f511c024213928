// Micro-benchmarks of tracing: the v0.4 msgpack encoding of one request's trace (the four spans
// the tokenize handler makes, with their tags), and the full span lifecycle through a
// DatadogTracer (start, tags, children, inject, finish) into an exporter that discards.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "common/clock.h"
#include "common/random.h"
#include "telemetry/datadog_tracer.h"
#include "telemetry/msgpack_encoder.h"
#include "telemetry/span_data.h"
#include "telemetry/span_exporter.h"
#include "telemetry/tracer_config.h"

namespace tokenizer {
namespace {

SpanData make_span(std::string name, std::string resource, std::string type, std::uint64_t id,
                   std::uint64_t parent) {
  SpanData s;
  s.name = std::move(name);
  s.service = "tokenizer";
  s.resource = std::move(resource);
  s.type = std::move(type);
  s.trace_id = TraceId{0x6560a1b200000000ULL, 0x1234567890abcdefULL};
  s.span_id = id;
  s.parent_id = parent;
  s.start_ns = 1795428000000000000LL;
  s.duration_ns = 1250000;
  s.meta = {{"env", "bench"}, {"version", "1.0.0"}, {"language", "cpp"},
            {"runtime-id", "3f6b2b0e-8a0c-4b59-9b2e-5d1c7f1e2a90"}};
  s.metrics = {{"process_id", 4242}};
  return s;
}

// The trace of one successful tokenize request, as the handler tags it.
std::vector<SpanData> tokenize_trace() {
  std::vector<SpanData> chunk;
  SpanData root = make_span("http.request", "POST /api/v1/payment_methods/tokenize", "web", 11, 0);
  root.meta.insert({{"span.kind", "server"}, {"component", "pistache"}, {"http.method", "POST"},
                    {"http.route", "/api/v1/payment_methods/tokenize"},
                    {"http.url", "http://127.0.0.1:3000/api/v1/payment_methods/tokenize"},
                    {"request_id", "0b5f1c0e-6a53-4f7e-9f55-2c3a5d1e8e21"},
                    {"http.useragent", "wrk"}, {"card.brand", "visa"}, {"http.status_code", "200"},
                    {"client.id", "demo"}, {"upstream.outcome", "completed"},
                    {"_dd.p.dm", "-3"}, {"_dd.p.tid", "6560a1b200000000"}});
  root.metrics.insert({{"_sampling_priority_v1", 1}, {"_dd.rule_psr", 1}, {"_dd.limit_psr", 1},
                       {"_dd.top_level", 1}});
  chunk.push_back(std::move(root));
  SpanData validate = make_span("tokenize.validate", "validate", "", 12, 11);
  validate.meta.insert({{"card.brand", "visa"}});
  chunk.push_back(std::move(validate));
  SpanData vault = make_span("vault.request", "POST /v1/payment_methods.json", "http", 13, 11);
  vault.meta.insert({{"span.kind", "client"}, {"component", "libcurl"}, {"peer.service", "vault"},
                     {"out.host", "127.0.0.1"}, {"out.port", "8081"}, {"http.method", "POST"},
                     {"circuit_breaker.state", "closed"}, {"http.status_code", "201"},
                     {"vault.outcome", "success"}});
  vault.metrics.insert({{"retry.attempt", 1}});
  chunk.push_back(std::move(vault));
  return chunk;
}

void BM_SpanEncoding_OneRequestTrace(benchmark::State& state) {
  const std::vector<std::vector<SpanData>> chunks = {tokenize_trace()};
  std::size_t bytes = 0;
  for (auto _ : state) {
    std::string body = encode_trace_chunks(chunks);
    bytes = body.size();
    benchmark::DoNotOptimize(body);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
  state.SetLabel(std::to_string(bytes) + " bytes");
}
BENCHMARK(BM_SpanEncoding_OneRequestTrace);

// The exporter's flush: 1,000 buffered request traces in one payload (per span cost).
void BM_SpanEncoding_Batch1000Traces(benchmark::State& state) {
  const std::vector<std::vector<SpanData>> chunks(1000, tokenize_trace());
  for (auto _ : state) {
    std::string body = encode_trace_chunks(chunks);
    benchmark::DoNotOptimize(body);
  }
  state.SetItemsProcessed(state.iterations() * 1000 * 3);  // spans
}
BENCHMARK(BM_SpanEncoding_Batch1000Traces)->Unit(benchmark::kMicrosecond);

class DiscardingExporter final : public SpanExporter {
 public:
  void export_chunk(std::vector<SpanData> chunk) override { benchmark::DoNotOptimize(chunk); }
};

// One tracer shared by every benchmark thread (as in the service), built on first use.
DatadogTracer* shared_tracer() {
  static DatadogTracer* tracer = [] () -> DatadogTracer* {
    TracerOptions options;
    options.sample_rate = 1.0;
    options.env = "bench";
    const EnvLookup no_environment = [](std::string_view) { return std::optional<std::string>(); };
    auto config = finalize_tracer_config(options, no_environment);
    if (!config) return nullptr;
    const Clock& clock = SystemClock::instance();
    auto sampler = std::make_shared<TraceSampler>(config.value().sampling_rules, 1e9, clock);
    // Never destroyed: benchmark threads may still hold spans at exit.
    return new DatadogTracer(config.value(), clock, SystemRandom::instance(),
                             std::make_shared<DiscardingExporter>(), sampler);
  }();
  return tracer;
}

// Start, tag, child spans, inject into outgoing headers and finish: the tracer's own cost per
// request, without the exporter's buffering or I/O.
void BM_Tracer_RequestSpanLifecycle(benchmark::State& state) {
  DatadogTracer* tracer = shared_tracer();
  if (tracer == nullptr) {
    state.SkipWithError("tracer config rejected");
    return;
  }
  const HeaderReader no_headers = [](std::string_view) { return std::optional<std::string_view>(); };
  std::vector<std::pair<std::string, std::string>> outgoing;
  const HeaderWriter writer = [&outgoing](std::string_view k, std::string_view v) {
    outgoing.emplace_back(std::string(k), std::string(v));
  };
  for (auto _ : state) {
    Span span = tracer->extract_or_start_span(
        SpanOptions{"http.request", "POST /api/v1/payment_methods/tokenize", "web", ""},
        no_headers);
    span.set_tag("span.kind", "server");
    span.set_tag("http.method", "POST");
    span.set_tag("http.route", "/api/v1/payment_methods/tokenize");
    span.set_tag("request_id", "0b5f1c0e-6a53-4f7e-9f55-2c3a5d1e8e21");
    {
      Span validate = span.create_child(SpanOptions{"tokenize.validate", "validate", "", ""});
      validate.set_tag("card.brand", "visa");
    }
    {
      Span vault = span.create_child(
          SpanOptions{"vault.request", "POST /v1/payment_methods.json", "http", ""});
      vault.set_tag("span.kind", "client");
      vault.set_tag("peer.service", "vault");
      vault.set_metric("retry.attempt", 1);
      outgoing.clear();
      vault.inject(writer);
      vault.set_tag("http.status_code", "201");
    }
    span.set_tag("http.status_code", "200");
    span.finish();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Tracer_RequestSpanLifecycle)->Threads(1)->Threads(2);

}  // namespace
}  // namespace tokenizer
