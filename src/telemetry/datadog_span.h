// DatadogSpan: the SpanBackend of DatadogTracer. It owns its SpanData while open (so tag
// writes take no lock) and moves it into its DatadogTraceSegment on finish, with the
// duration measured on the Clock's steady time. Created by DatadogTracer (roots) and by
// create_child(); application code only sees the Span handle.
//
// Thread-safety: like Span, one thread at a time; the segment it reports to is shared
// and locked.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "telemetry/datadog_trace_segment.h"
#include "telemetry/span.h"
#include "telemetry/span_data.h"

namespace tokenizer {

class DatadogSpan final : public SpanBackend {
 public:
  // Starts a span of `segment` (registering it as open). `options.service` empty = the
  // tracer's service; `options.resource` empty = the name.
  DatadogSpan(std::shared_ptr<DatadogTraceSegment> segment, const SpanOptions& options,
              std::uint64_t span_id, std::uint64_t parent_id);
  ~DatadogSpan() override;

  void set_tag(std::string_view key, std::string_view value) override;
  void set_metric(std::string_view key, double value) override;
  void set_error(std::string_view type, std::string_view message) override;
  void set_resource(std::string_view resource) override;
  void finish() override;
  std::uint64_t trace_id_low() const override { return segment_->trace_id().low; }
  std::string trace_id_hex() const override { return segment_->trace_id().hex(); }
  std::uint64_t span_id() const override { return span_id_; }
  void inject(const HeaderWriter& writer) override;
  std::unique_ptr<SpanBackend> create_child(const SpanOptions& options) override;

 private:
  const std::shared_ptr<DatadogTraceSegment> segment_;
  const std::uint64_t span_id_;
  SpanData data_;
  std::chrono::steady_clock::time_point steady_start_;
  bool finished_ = false;
};

}  // namespace tokenizer
