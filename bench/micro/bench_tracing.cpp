// Micro-benchmarks of tracing: the v0.4 msgpack encoding of one request's trace (the spans
// the tokenize handler makes, with their tags) and of a 1,000-trace flush; the full span
// lifecycle of one request through a DatadogTracer (start, the handler's tags, children,
// inject into the vault request, finish), into an exporter that discards and into the real
// DatadogExporter (which encodes each chunk as it arrives); and the propagation codecs.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <benchmark/benchmark.h>

#include "common/clock.h"
#include "common/random.h"
#include "telemetry/datadog_exporter.h"
#include "telemetry/datadog_tracer.h"
#include "telemetry/msgpack_encoder.h"
#include "telemetry/propagation.h"
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
  return s;
}

void set_all(SpanMeta& meta, std::initializer_list<std::pair<const char*, const char*>> tags) {
  for (const auto& [k, v] : tags) meta.set(k, v);
}

// What the tracer hands over for one successful tokenize request: the spans with the tags
// the handler and the tracer set, and the tracer's defaults (env, version, language,
// runtime-id, process_id), which the encoder writes into every span.
TraceChunk tokenize_trace() {
  static const auto defaults = [] {
    auto d = std::make_shared<SpanDefaults>();
    d->meta = {{"env", "bench"}, {"version", "1.0.0"}};
    d->fixed_meta = {{"language", "cpp"}, {"runtime-id", "3f6b2b0e-8a0c-4b59-9b2e-5d1c7f1e2a90"}};
    d->fixed_metrics = {{"process_id", 4242}};
    return std::shared_ptr<const SpanDefaults>(d);
  }();
  std::vector<SpanData> spans;
  SpanData root = make_span("http.request", "POST /api/v1/payment_methods/tokenize", "web", 11, 0);
  set_all(root.meta, {{"span.kind", "server"}, {"component", "pistache"}, {"http.method", "POST"},
                      {"http.route", "/api/v1/payment_methods/tokenize"},
                      {"http.url", "http://127.0.0.1:3000/api/v1/payment_methods/tokenize"},
                      {"request_id", "0b5f1c0e-6a53-4f7e-9f55-2c3a5d1e8e21"},
                      {"http.useragent", "wrk"}, {"card.brand", "visa"}, {"http.status_code", "200"},
                      {"client.id", "demo"}, {"upstream.outcome", "completed"},
                      {"_dd.p.dm", "-3"}, {"_dd.p.tid", "6560a1b200000000"}});
  for (const auto& [k, v] : {std::pair<const char*, double>{"_sampling_priority_v1", 1}, {"_dd.rule_psr", 1},
                             {"_dd.limit_psr", 1}}) {
    root.metrics.set(k, v);
  }
  spans.push_back(std::move(root));
  SpanData validate = make_span("tokenize.validate", "validate", "", 12, 11);
  validate.meta.set("card.brand", "visa");
  spans.push_back(std::move(validate));
  SpanData vault = make_span("vault.request", "POST /v1/payment_methods.json", "http", 13, 11);
  set_all(vault.meta, {{"span.kind", "client"}, {"component", "libcurl"}, {"peer.service", "vault"},
                       {"out.host", "127.0.0.1"}, {"out.port", "8081"}, {"http.method", "POST"},
                       {"circuit_breaker.state", "closed"}, {"http.status_code", "201"},
                       {"vault.outcome", "success"}});
  vault.metrics.set("retry.attempt", 1);
  spans.push_back(std::move(vault));
  return TraceChunk(std::move(spans), defaults);
}

void BM_SpanEncoding_OneRequestTrace(benchmark::State& state) {
  const std::vector<TraceChunk> chunks = {tokenize_trace()};
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
  const std::vector<TraceChunk> chunks(1000, tokenize_trace());
  for (auto _ : state) {
    std::string body = encode_trace_chunks(chunks);
    benchmark::DoNotOptimize(body);
  }
  state.SetItemsProcessed(state.iterations() * 1000 * 3);  // spans
}
BENCHMARK(BM_SpanEncoding_Batch1000Traces)->Unit(benchmark::kMicrosecond);

class DiscardingExporter final : public SpanExporter {
 public:
  void export_chunk(TraceChunk chunk) override { benchmark::DoNotOptimize(chunk); }
};

std::optional<FinalizedTracerConfig> bench_config() {
  TracerOptions options;
  options.sample_rate = 1.0;
  options.env = "bench";
  options.version = "1.0.0";
  const EnvLookup no_environment = [](std::string_view) { return std::optional<std::string>(); };
  auto config = finalize_tracer_config(options, no_environment);
  if (!config) return std::nullopt;
  return std::move(config.value());
}

// One tracer shared by every benchmark thread (as in the service), built on first use, with
// `exporter`. Never destroyed: benchmark threads may still hold spans at exit.
DatadogTracer* make_bench_tracer(std::shared_ptr<SpanExporter> exporter) {
  const auto config = bench_config();
  if (!config) return nullptr;
  const Clock& clock = SystemClock::instance();
  auto sampler = std::make_shared<TraceSampler>(config->sampling_rules, 1e9, clock);
  return new DatadogTracer(*config, clock, SystemRandom::instance(), std::move(exporter), sampler);
}

DatadogTracer* discarding_tracer() {
  static DatadogTracer* tracer = make_bench_tracer(std::make_shared<DiscardingExporter>());
  return tracer;
}

// The real exporter, never flushed by a thread of its own: the benchmark empties its buffer
// now and then (a send to a closed port: refused at once).
DatadogExporter* bench_exporter() {
  static DatadogExporter* exporter = [] {
    DatadogExporterOptions o;
    o.agent.traces_url = "http://127.0.0.1:1/v0.4/traces";
    o.background_flush = false;
    o.shutdown_timeout = std::chrono::milliseconds(0);
    o.max_buffered_spans = 1u << 20;
    return new DatadogExporter(o, ExporterCallbacks{});
  }();
  return exporter;
}

DatadogTracer* exporting_tracer() {
  static DatadogTracer* tracer = make_bench_tracer(
      std::shared_ptr<SpanExporter>(std::shared_ptr<SpanExporter>{}, bench_exporter()));  // not owned
  return tracer;
}

// The tracer calls of one tokenize request, as src/http/tokenize_handler.cpp makes them.
void one_request(DatadogTracer& tracer, const HeaderReader& incoming,
                 std::vector<std::pair<std::string, std::string>>& outgoing) {
  Span span = tracer.extract_or_start_span(
      SpanOptions{"http.request", std::string("POST ") + "/api/v1/payment_methods/tokenize", "web", ""}, incoming);
  span.set_tag("span.kind", "server");
  span.set_tag("component", "pistache");
  span.set_tag("http.method", "POST");
  span.set_tag("http.route", "/api/v1/payment_methods/tokenize");
  span.set_tag("http.url", std::string("http") + "://" + "127.0.0.1:3000" + "/api/v1/payment_methods/tokenize");
  span.set_tag("request_id", "0b5f1c0e-6a53-4f7e-9f55-2c3a5d1e8e21");
  span.set_tag("http.useragent", "wrk");
  {
    Span validate = span.create_child(SpanOptions{"tokenize.validate", "validate", "", ""});
    validate.set_tag("card.brand", "visa");
  }
  span.set_tag("card.brand", "visa");
  {
    auto vault = std::make_shared<Span>(
        span.create_child(SpanOptions{"vault.request", "POST /v1/payment_methods.json", "http", ""}));
    vault->set_tag("span.kind", "client");
    vault->set_tag("component", "libcurl");
    vault->set_tag("peer.service", "vault");
    vault->set_tag("out.host", "127.0.0.1");
    vault->set_tag("out.port", std::to_string(8081));
    vault->set_tag("http.method", "POST");
    vault->set_metric("retry.attempt", 1);
    vault->set_tag("circuit_breaker.state", "closed");
    outgoing.clear();
    outgoing.emplace_back("X-Request-Id", "0b5f1c0e-6a53-4f7e-9f55-2c3a5d1e8e21");
    vault->inject([&outgoing](std::string_view k, std::string_view v) {
      outgoing.emplace_back(std::string(k), std::string(v));
    });
    vault->set_tag("http.status_code", std::to_string(201));
    vault->set_tag("vault.outcome", "success");
    vault->finish();
  }
  span.set_tag("upstream.outcome", "completed");
  span.set_tag("http.status_code", std::to_string(200));
  span.set_tag("client.id", "demo");
  span.finish();
}

const HeaderReader kNoHeaders = [](std::string_view) { return std::optional<std::string_view>(); };

// Start, tag, child spans, inject into outgoing headers and finish: the tracer's own cost per
// request, without the exporter's encoding, buffering or I/O.
void BM_Tracer_RequestSpanLifecycle(benchmark::State& state) {
  DatadogTracer* tracer = discarding_tracer();
  if (tracer == nullptr) {
    state.SkipWithError("tracer config rejected");
    return;
  }
  std::vector<std::pair<std::string, std::string>> outgoing;
  for (auto _ : state) one_request(*tracer, kNoHeaders, outgoing);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Tracer_RequestSpanLifecycle)->Threads(1)->Threads(2);

// The same, continuing a caller's trace (Datadog and W3C headers to extract).
void BM_Tracer_RequestSpanLifecycle_Continued(benchmark::State& state) {
  DatadogTracer* tracer = discarding_tracer();
  if (tracer == nullptr) {
    state.SkipWithError("tracer config rejected");
    return;
  }
  const HeaderReader incoming = [](std::string_view name) -> std::optional<std::string_view> {
    if (name == "x-datadog-trace-id") return std::string_view("1234567890123456789");
    if (name == "x-datadog-parent-id") return std::string_view("987654321");
    if (name == "x-datadog-sampling-priority") return std::string_view("1");
    if (name == "x-datadog-tags") return std::string_view("_dd.p.dm=-1,_dd.p.tid=66a1b2c300000000");
    if (name == "traceparent") return std::string_view("00-66a1b2c300000000112210f47de98115-000000003ade68b1-01");
    if (name == "tracestate") return std::string_view("dd=s:1;p:000000003ade68b1;t.dm:-1,rojo=00f067aa0ba902b7");
    return std::nullopt;
  };
  std::vector<std::pair<std::string, std::string>> outgoing;
  for (auto _ : state) one_request(*tracer, incoming, outgoing);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Tracer_RequestSpanLifecycle_Continued);

// What a request costs the service with tracing on, short of the network: the lifecycle
// plus the real DatadogExporter buffering and encoding the chunk (which it does in
// export_chunk; dd-trace-cpp-style exporters do it at flush time), and freeing the spans.
// Every 1,024 requests the buffer is flushed to a closed port (refused at once, ~0.05 µs
// per request), so the encoding is counted wherever the exporter does it.
void BM_Tracer_RequestThroughExporter(benchmark::State& state) {
  DatadogTracer* tracer = exporting_tracer();
  if (tracer == nullptr) {
    state.SkipWithError("tracer config rejected");
    return;
  }
  std::vector<std::pair<std::string, std::string>> outgoing;
  std::size_t n = 0;
  for (auto _ : state) {
    one_request(*tracer, kNoHeaders, outgoing);
    if (++n % 1024 == 0) bench_exporter()->flush_now();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Tracer_RequestThroughExporter);

// Propagation alone: inject a trace context (both styles) into a vault request's headers,
// with the buffers reused from call to call as the tracer does (encode_injection +
// write_injection; inject_context() alone starts from empty buffers each time).
void BM_Propagation_InjectBothStyles(benchmark::State& state) {
  const TagList trace_tags = {{"_dd.p.tid", "6560a1b200000000"}, {"_dd.p.dm", "-3"}};
  InjectionContext ctx;
  ctx.trace_id = TraceId{0x6560a1b200000000ULL, 0x1234567890abcdefULL};
  ctx.span_id = 0x0123456789abcdefULL;
  ctx.sampling_priority = 2;
  ctx.trace_tags = &trace_tags;
  const std::vector<PropagationStyle> styles = {PropagationStyle::datadog, PropagationStyle::tracecontext};
  std::size_t bytes = 0;
  const HeaderWriter writer = [&bytes](std::string_view k, std::string_view v) { bytes += k.size() + v.size(); };
  EncodedInjection encoded;
  for (auto _ : state) {
    encode_injection(ctx, styles, kDefaultTagsHeaderMaxSize, encoded);
    write_injection(encoded, writer);
  }
  benchmark::DoNotOptimize(bytes);
}
BENCHMARK(BM_Propagation_InjectBothStyles);

}  // namespace
}  // namespace tokenizer
