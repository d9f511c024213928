// DatadogTracer: our Tracer implementation, following dd-trace-cpp's behaviour (see
// /work/shared/DATADOG-NOTES.md and observability/SPANS.md).
//
// Wiring (main):
//   auto config = finalize_tracer_config(options, process_environment());   // once
//   TracerHooks hooks;
//   hooks.on_spans_dropped = [&](std::size_t n) { spans_dropped_total.Increment(n); };
//   hooks.on_export = [&](const ExportReport& r) { exports_total(export_result_name(r.result)).Increment(); };
//   std::unique_ptr<Tracer> tracer = make_tracer(*config, SystemClock::instance(),
//                                                SystemRandom::instance(), hooks);
//   ... serve ...
//   tracer->shutdown();   // after the server stopped: drains buffered spans (<= 2 s)
// make_tracer() returns a NullTracer when DD_TRACE_ENABLED is false.
//
// Every span: `service`, `env` and `version` (meta), DD_TAGS, `language: cpp`, `runtime-id`
// (one UUID per tracer), `process_id` (metric): kept once in the tracer's SpanDefaults, which
// travel with each chunk and are written into every span map by the encoder; on the local
// root: `_sampling_priority_v1`, `_dd.p.dm` (kept traces), `_dd.agent_psr` or
// `_dd.rule_psr`/`_dd.limit_psr`, `_dd.p.tid` (128-bit ids), propagation diagnostics.
//
// Thread-safe. Clock and Random must outlive the tracer and every span it made.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "common/clock.h"
#include "common/random.h"
#include "telemetry/datadog_exporter.h"
#include "telemetry/datadog_trace_segment.h"
#include "telemetry/sampler.h"
#include "telemetry/span_exporter.h"
#include "telemetry/tracer.h"
#include "telemetry/tracer_config.h"

namespace tokenizer {

// Telemetry callbacks (metrics): called on the finishing thread (drops) and the exporter's
// thread (exports). Keep them cheap and non-blocking.
struct TracerHooks {
  std::function<void(std::size_t spans)> on_spans_dropped;
  std::function<void(const ExportReport&)> on_export;
};

class DatadogTracer final : public Tracer {
 public:
  // `exporter` receives finished chunks; `sampler` decides (and is what the exporter's agent
  // rates feed). `runtime_id` empty = a fresh UUID. `shutdown` is forwarded to `on_shutdown`.
  DatadogTracer(const FinalizedTracerConfig& config, const Clock& clock, Random& random,
                std::shared_ptr<SpanExporter> exporter, std::shared_ptr<TraceSampler> sampler,
                std::function<void()> on_shutdown = {}, std::string runtime_id = "");
  ~DatadogTracer() override;

  Span extract_or_start_span(const SpanOptions& options, const HeaderReader& headers) override;
  Span start_span(const SpanOptions& options) override;
  const std::string& service() const override { return context_->service; }
  const std::string& env() const override { return context_->env; }
  const std::string& version() const override { return context_->version; }
  void shutdown() override;

  const std::string& runtime_id() const { return context_->runtime_id; }

 private:
  Span start_root(const SpanOptions& options, TraceSegmentInit init, std::uint64_t parent_id);

  std::shared_ptr<const DatadogTracerContext> context_;
  std::vector<PropagationStyle> extraction_styles_;
  std::function<void()> on_shutdown_;
};

// The tags every span of a tracer with `config` carries: DD_TAGS, `env`, `version` (a span's
// own tag wins), `language: cpp`, `runtime-id` and the `process_id` metric (always these).
std::shared_ptr<const SpanDefaults> make_span_defaults(const FinalizedTracerConfig& config,
                                                       const std::string& runtime_id, double process_id);

// Production wiring: NullTracer when disabled; else a DatadogTracer whose DatadogExporter
// (background thread started here) feeds agent rates back into its TraceSampler.
std::unique_ptr<Tracer> make_tracer(const FinalizedTracerConfig& config, const Clock& clock, Random& random,
                                    TracerHooks hooks = {});

}  // namespace tokenizer
