#include "telemetry/datadog_tracer.h"

#include <unistd.h>

#include <utility>

#include "telemetry/datadog_span.h"

namespace tokenizer {

std::shared_ptr<const SpanDefaults> make_span_defaults(const FinalizedTracerConfig& config,
                                                       const std::string& runtime_id, double process_id) {
  auto d = std::make_shared<SpanDefaults>();
  d->fixed_meta = {{"language", "cpp"}, {"runtime-id", runtime_id}};
  d->fixed_metrics = {{"process_id", process_id}};
  auto set = [&](const std::string& key, const std::string& value) {
    for (const auto& [k, v] : d->fixed_meta) {
      if (k == key) return;  // the fixed value wins anyway
    }
    for (auto& [k, v] : d->meta) {
      if (k == key) {
        v = value;
        return;
      }
    }
    d->meta.emplace_back(key, value);
  };
  for (const auto& [k, v] : config.tags) set(k, v);  // DD_TAGS, then env and version over them
  if (!config.env.empty()) set("env", config.env);
  if (!config.version.empty()) set("version", config.version);
  return d;
}

DatadogTracer::DatadogTracer(const FinalizedTracerConfig& config, const Clock& clock, Random& random,
                             std::shared_ptr<SpanExporter> exporter, std::shared_ptr<TraceSampler> sampler,
                             std::function<void()> on_shutdown, std::string runtime_id)
    : extraction_styles_(config.extraction_styles), on_shutdown_(std::move(on_shutdown)) {
  auto ctx = std::make_shared<DatadogTracerContext>(clock, random);
  ctx->service = config.service;
  ctx->env = config.env;
  ctx->version = config.version;
  ctx->runtime_id = runtime_id.empty() ? secure_random_uuid() : std::move(runtime_id);
  ctx->span_defaults = make_span_defaults(config, ctx->runtime_id, static_cast<double>(::getpid()));
  ctx->injection_styles = config.injection_styles;
  ctx->tags_header_max_size = config.tags_header_max_size;
  ctx->trace_id_128_bit = config.trace_id_128_bit;
  ctx->sampler = std::move(sampler);
  ctx->exporter = std::move(exporter);
  context_ = std::move(ctx);
}

DatadogTracer::~DatadogTracer() { shutdown(); }

void DatadogTracer::shutdown() {
  if (on_shutdown_) on_shutdown_();
}

Span DatadogTracer::start_root(const SpanOptions& options, TraceSegmentInit init, std::uint64_t parent_id) {
  init.root_span_id = context_->new_id();
  init.root_service = options.service.empty() ? context_->service : options.service;
  init.root_name = options.name;
  init.root_resource = options.resource.empty() ? options.name : options.resource;
  const auto span_id = init.root_span_id;
  auto segment = std::make_shared<DatadogTraceSegment>(context_, std::move(init));
  return Span(std::make_unique<DatadogSpan>(std::move(segment), options, span_id, parent_id));
}

Span DatadogTracer::start_span(const SpanOptions& options) {
  TraceSegmentInit init;
  init.trace_id = context_->new_trace_id();
  return start_root(options, std::move(init), 0);
}

Span DatadogTracer::extract_or_start_span(const SpanOptions& options, const HeaderReader& headers) {
  ExtractionResult extracted;
  if (!extraction_styles_.empty() && headers) {
    extracted = extract_context(headers, extraction_styles_, context_->tags_header_max_size);
  }
  TraceSegmentInit init;
  init.root_tags = std::move(extracted.span_tags);
  if (!extracted.context) {
    init.trace_id = context_->new_trace_id();
    return start_root(options, std::move(init), 0);
  }
  auto& ctx = *extracted.context;
  init.trace_id = ctx.trace_id;
  init.extracted_priority = ctx.sampling_priority;
  init.origin = std::move(ctx.origin);
  init.trace_tags = std::move(ctx.trace_tags);
  init.additional_datadog_tracestate = std::move(ctx.additional_datadog_tracestate);
  init.additional_w3c_tracestate = std::move(ctx.additional_w3c_tracestate);
  if (ctx.datadog_w3c_parent_id && *ctx.datadog_w3c_parent_id != "0000000000000000") {
    init.root_tags.emplace_back("_dd.parent_id", *ctx.datadog_w3c_parent_id);
  }
  return start_root(options, std::move(init), ctx.parent_id);
}

std::unique_ptr<Tracer> make_tracer(const FinalizedTracerConfig& config, const Clock& clock, Random& random,
                                    TracerHooks hooks) {
  if (!config.enabled) return std::make_unique<NullTracer>(config.service, config.env, config.version);
  auto sampler = std::make_shared<TraceSampler>(config.sampling_rules, config.rate_limit, clock);
  ExporterCallbacks callbacks;
  callbacks.on_spans_dropped = std::move(hooks.on_spans_dropped);
  callbacks.on_export = std::move(hooks.on_export);
  // The sampler outlives the exporter's thread: the exporter holds it through this lambda.
  callbacks.on_agent_rates = [sampler](AgentRates rates) { sampler->update_agent_rates(std::move(rates)); };
  auto exporter = std::make_shared<DatadogExporter>(DatadogExporterOptions::from_config(config), std::move(callbacks));
  std::weak_ptr<DatadogExporter> weak = exporter;
  return std::make_unique<DatadogTracer>(config, clock, random, exporter, sampler, [weak] {
    if (auto e = weak.lock()) e->shutdown();
  });
}

}  // namespace tokenizer
