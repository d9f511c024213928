#include "telemetry/datadog_trace_segment.h"

#include <algorithm>
#include <chrono>
#include <utility>

namespace tokenizer {
namespace {

constexpr std::uint64_t k63Bits = 0x7fffffffffffffffULL;
constexpr const char* kDecisionMaker = "_dd.p.dm";

void set_tag(TagList& tags, std::string_view key, std::string value) {
  for (auto& [k, v] : tags) {
    if (k == key) {
      v = std::move(value);
      return;
    }
  }
  tags.emplace_back(std::string(key), std::move(value));
}

}  // namespace

std::uint64_t DatadogTracerContext::new_id() const {
  for (int attempt = 0; attempt < 4; ++attempt) {
    if (const auto id = random.next_u64() & k63Bits; id != 0) return id;
  }
  return 1;  // a Random that keeps returning zero (only a broken fake) still gets a valid id
}

TraceId DatadogTracerContext::new_trace_id() const {
  TraceId id;
  id.low = new_id();
  if (trace_id_128_bit) {
    const auto seconds =
        std::chrono::duration_cast<std::chrono::seconds>(clock.wall().time_since_epoch()).count();
    id.high = (static_cast<std::uint64_t>(seconds) & 0xffffffffULL) << 32;
  }
  return id;
}

DatadogTraceSegment::DatadogTraceSegment(std::shared_ptr<const DatadogTracerContext> context,
                                         TraceSegmentInit init)
    : context_(std::move(context)), trace_id_(init.trace_id), init_(std::move(init)) {
  if (init_.extracted_priority) {
    SamplingDecision d;
    d.priority = *init_.extracted_priority;
    decision_ = d;
  }
  if (trace_id_.high != 0) set_tag(init_.trace_tags, "_dd.p.tid", hex16(trace_id_.high));
}

void DatadogTraceSegment::span_started() {
  std::lock_guard<std::mutex> lock(mutex_);
  ++open_spans_;
}

void DatadogTraceSegment::decide_locked() {
  if (decision_) return;
  SamplingSubject subject;
  subject.trace_id_low = trace_id_.low;
  subject.service = init_.root_service;
  subject.env = context_->env;
  subject.name = init_.root_name;
  subject.resource = init_.root_resource;
  decision_ = context_->sampler->decide(subject);
  decided_locally_ = true;
  // The decision maker travels with kept traces only.
  auto& tags = init_.trace_tags;
  tags.erase(std::remove_if(tags.begin(), tags.end(), [](const auto& kv) { return kv.first == kDecisionMaker; }),
             tags.end());
  if (decision_->priority > 0) {
    tags.emplace_back(kDecisionMaker, "-" + std::to_string(static_cast<int>(decision_->mechanism)));
  }
}

void DatadogTraceSegment::inject(std::uint64_t span_id, const HeaderWriter& writer) {
  InjectionContext ctx;
  TagList trace_tags;
  std::string origin, extra_dd, extra_w3c;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    decide_locked();
    ctx.sampling_priority = decision_->priority;
    trace_tags = init_.trace_tags;
    origin = init_.origin.value_or("");
    extra_dd = init_.additional_datadog_tracestate;
    extra_w3c = init_.additional_w3c_tracestate;
  }
  ctx.trace_id = trace_id_;
  ctx.span_id = span_id;
  ctx.origin = origin;
  ctx.trace_tags = &trace_tags;
  ctx.additional_datadog_tracestate = extra_dd;
  ctx.additional_w3c_tracestate = extra_w3c;
  if (!inject_context(ctx, context_->injection_styles, context_->tags_header_max_size, writer)) {
    std::lock_guard<std::mutex> lock(mutex_);
    set_tag(init_.root_tags, "_dd.propagation_error", "inject_max_size");
  }
}

void DatadogTraceSegment::span_finished(SpanData span) {
  std::vector<SpanData> chunk;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    finished_.push_back(std::move(span));
    if (open_spans_ > 0) --open_spans_;
    if (open_spans_ > 0) return;
    decide_locked();
    chunk.swap(finished_);

    const auto root = std::find_if(chunk.begin(), chunk.end(),
                                   [&](const SpanData& s) { return s.span_id == init_.root_span_id; });
    if (root != chunk.end()) {
      for (const auto& [k, v] : init_.trace_tags) root->meta[k] = v;
      for (const auto& [k, v] : init_.root_tags) root->meta[k] = v;
      root->metrics["_sampling_priority_v1"] = decision_->priority;
      if (decided_locally_ && decision_->configured_rate) {
        if (decision_->mechanism == SamplingMechanism::rule) {
          root->metrics["_dd.rule_psr"] = *decision_->configured_rate;
          if (decision_->limiter_effective_rate) {
            root->metrics["_dd.limit_psr"] = *decision_->limiter_effective_rate;
          }
        } else if (decision_->mechanism == SamplingMechanism::agent_rate ||
                   decision_->mechanism == SamplingMechanism::default_rate) {
          root->metrics["_dd.agent_psr"] = *decision_->configured_rate;
        }
      }
    }
  }
  for (auto& s : chunk) {
    if (init_.origin) s.meta["_dd.origin"] = *init_.origin;
    s.meta["language"] = "cpp";
    s.meta["runtime-id"] = context_->runtime_id;
    s.metrics["process_id"] = context_->process_id;
  }
  context_->exporter->export_chunk(std::move(chunk));
}

}  // namespace tokenizer
