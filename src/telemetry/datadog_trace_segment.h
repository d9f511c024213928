// DatadogTraceSegment: the part of one trace that lives in this process (dd-trace-cpp's
// "trace segment"), plus the tracer-wide context its spans share.
//
// Every DatadogSpan of a trace holds a shared_ptr to its segment. The segment counts open
// spans, keeps the sampling decision and the propagated trace tags (`_dd.p.*`), and when the
// last open span finishes it completes the chunk: sampling decision if none was made yet,
// `_sampling_priority_v1`, `_dd.p.dm`, the applied rate (`_dd.agent_psr` or `_dd.rule_psr` and
// `_dd.limit_psr`) and the trace tags on the local root; `_dd.origin` on every span. Then it
// hands the chunk to the exporter with the tracer's SpanDefaults (`env`, `version`, DD_TAGS,
// `language`, `runtime-id`, `process_id`), which the encoder writes into every span map.
// The decision is made at the first injection (so the vault sees it) or at the end.
//
// Thread-safe (one mutex per segment); the exporter is called outside it.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/random.h"
#include "telemetry/propagation.h"
#include "telemetry/sampler.h"
#include "telemetry/span_data.h"
#include "telemetry/span_exporter.h"

namespace tokenizer {

// Settings and collaborators every span of every trace uses; immutable after construction.
struct DatadogTracerContext {
  DatadogTracerContext(const Clock& c, Random& r) : clock(c), random(r) {}

  std::string service;
  std::string env;
  std::string version;
  std::string runtime_id;
  // Tags of every span (env, version, DD_TAGS, language, runtime-id, process_id), handed to
  // the exporter with each chunk instead of being copied into each span.
  std::shared_ptr<const SpanDefaults> span_defaults;
  std::vector<PropagationStyle> injection_styles;
  std::size_t tags_header_max_size = kDefaultTagsHeaderMaxSize;
  bool trace_id_128_bit = true;
  const Clock& clock;
  Random& random;
  std::shared_ptr<TraceSampler> sampler;
  std::shared_ptr<SpanExporter> exporter;

  // A random non-zero 63-bit id.
  std::uint64_t new_id() const;
  // A new trace id: random low 63 bits; with 128-bit ids, high = epoch seconds << 32.
  TraceId new_trace_id() const;
};

struct TraceSegmentInit {
  TraceId trace_id;
  std::optional<int> extracted_priority;  // honoured as is
  std::optional<std::string> origin;
  TagList trace_tags;  // `_dd.p.*`
  TagList root_tags;   // extra meta for the local root (propagation diagnostics, `_dd.parent_id`)
  std::string additional_datadog_tracestate;
  std::string additional_w3c_tracestate;
  // The local root, as the sampling rules see it.
  std::uint64_t root_span_id = 0;
  std::string root_service;
  std::string root_name;
  std::string root_resource;
};

class DatadogTraceSegment {
 public:
  DatadogTraceSegment(std::shared_ptr<const DatadogTracerContext> context, TraceSegmentInit init);

  const DatadogTracerContext& context() const { return *context_; }
  const TraceId& trace_id() const { return trace_id_; }
  std::uint64_t root_span_id() const { return root_span_id_; }

  void span_started();
  // Takes a finished span; the last one completes and exports the chunk.
  void span_finished(SpanData span);
  // Writes the context of span `span_id` as outgoing headers (makes the sampling decision).
  void inject(std::uint64_t span_id, const HeaderWriter& writer);

 private:
  void decide_locked();

  const std::shared_ptr<const DatadogTracerContext> context_;
  const TraceId trace_id_;
  const std::uint64_t root_span_id_;
  std::mutex mutex_;
  TraceSegmentInit init_;  // trace tags and root tags change under mutex_
  std::optional<SamplingDecision> decision_;
  bool decided_locally_ = false;
  std::size_t open_spans_ = 0;
  std::vector<SpanData> finished_;
};

}  // namespace tokenizer
