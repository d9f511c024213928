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
    : context_(std::move(context)),
      trace_id_(init.trace_id),
      root_span_id_(init.root_span_id),
      init_(std::move(init)) {
  if (init_.extracted_priority) {
    SamplingDecision d;
    d.priority = *init_.extracted_priority;
    decision_ = d;
  }
  init_.trace_tags.reserve(init_.trace_tags.size() + 2);  // `_dd.p.tid`, `_dd.p.dm`
  if (trace_id_.high != 0) set_tag(init_.trace_tags, "_dd.p.tid", hex16(trace_id_.high));
  // Server span, validation, vault attempt: no regrowth in the common case, and small enough
  // (3 x ~300 bytes) for the allocator's per-thread cache.
  finished_.reserve(3);
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
  // Encoded under the lock (it reads the trace tags and origin), written after it, in a
  // per-thread buffer that keeps its capacity. A writer that injects again on the same
  // thread (it never should) gets a buffer of its own instead of clobbering this one.
  thread_local EncodedInjection per_thread;
  thread_local bool busy = false;
  const bool nested_call = busy;
  EncodedInjection own;
  EncodedInjection& encoded = nested_call ? own : per_thread;
  busy = true;
  struct Release {
    bool restore;
    ~Release() {
      if (restore) busy = false;
    }
  } release{!nested_call};
  {
    std::lock_guard<std::mutex> lock(mutex_);
    decide_locked();
    InjectionContext ctx;
    ctx.trace_id = trace_id_;
    ctx.span_id = span_id;
    ctx.sampling_priority = decision_->priority;
    if (init_.origin) ctx.origin = *init_.origin;
    ctx.trace_tags = &init_.trace_tags;
    ctx.additional_datadog_tracestate = init_.additional_datadog_tracestate;
    ctx.additional_w3c_tracestate = init_.additional_w3c_tracestate;
    encode_injection(ctx, context_->injection_styles, context_->tags_header_max_size, encoded);
  }
  write_injection(encoded, writer);
  if (!encoded.datadog_tags_fit) {
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
                                   [&](const SpanData& s) { return s.span_id == root_span_id_; });
    if (root != chunk.end()) {
      for (const auto& [k, v] : init_.trace_tags) root->meta.set(k, v);
      for (const auto& [k, v] : init_.root_tags) root->meta.set(k, v);
      root->metrics.set("_sampling_priority_v1", decision_->priority);
      if (decided_locally_ && decision_->configured_rate) {
        if (decision_->mechanism == SamplingMechanism::rule) {
          root->metrics.set("_dd.rule_psr", *decision_->configured_rate);
          if (decision_->limiter_effective_rate) {
            root->metrics.set("_dd.limit_psr", *decision_->limiter_effective_rate);
          }
        } else if (decision_->mechanism == SamplingMechanism::agent_rate ||
                   decision_->mechanism == SamplingMechanism::default_rate) {
          root->metrics.set("_dd.agent_psr", *decision_->configured_rate);
        }
      }
    }
  }
  if (init_.origin) {
    for (auto& s : chunk) s.meta.set("_dd.origin", *init_.origin);
  }
  context_->exporter->export_chunk(TraceChunk(std::move(chunk), context_->span_defaults));
}

}  // namespace tokenizer
