#include "telemetry/datadog_span.h"

#include "telemetry/logger.h"

#include <algorithm>
#include <utility>

namespace tokenizer {

DatadogSpan::DatadogSpan(std::shared_ptr<DatadogTraceSegment> segment, const SpanOptions& options,
                         std::uint64_t span_id, std::uint64_t parent_id)
    : segment_(std::move(segment)), span_id_(span_id) {
  const auto& ctx = segment_->context();
  data_.name = options.name;
  data_.service = options.service.empty() ? ctx.service : options.service;
  data_.resource = options.resource.empty() ? options.name : options.resource;
  data_.type = options.type;
  data_.trace_id = segment_->trace_id();
  data_.span_id = span_id;
  data_.parent_id = parent_id;
  data_.start_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(ctx.clock.wall().time_since_epoch()).count();
  steady_start_ = ctx.clock.steady();
  // `env`, `version` and DD_TAGS come from the tracer's SpanDefaults at encoding. Room for
  // what the tokenize handler sets (a server span: ~12 tags, ~400 bytes; a client span: ~9).
  if (span_id == segment_->root_span_id()) {
    data_.meta.reserve(16, 512);
    data_.metrics.reserve(4, 64);  // sampling priority and rates
  } else {
    data_.meta.reserve(12, 256);
  }
  segment_->span_started();
}

DatadogSpan::~DatadogSpan() { finish(); }

void DatadogSpan::set_tag(std::string_view key, std::string_view value) {
  if (finished_) return;
  // Tags can carry client-controlled text (User-Agent, request ids): the same defensive
  // card-number scrubber as the logs runs on every value (a few ns when nothing matches).
  // Values shorter than a card number (most of them) skip the call.
  if (value.size() >= kCardNumberMinDigits) {
    std::string masked;
    if (mask_card_numbers(value, masked) > 0) {
      data_.meta.set(key, masked);
      return;
    }
  }
  data_.meta.set(key, value);
}

void DatadogSpan::set_metric(std::string_view key, double value) {
  if (finished_) return;
  data_.metrics.set(key, value);
}

void DatadogSpan::set_error(std::string_view type, std::string_view message) {
  if (finished_) return;
  data_.error = true;
  set_tag("error.type", type);
  set_tag("error.message", message);
}

void DatadogSpan::set_resource(std::string_view resource) {
  if (finished_) return;
  data_.resource.assign(resource.data(), resource.size());
}

void DatadogSpan::finish() {
  if (finished_) return;
  finished_ = true;
  const auto elapsed = segment_->context().clock.steady() - steady_start_;
  data_.duration_ns = std::max<std::int64_t>(
      0, std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed).count());
  segment_->span_finished(std::move(data_));
}

void DatadogSpan::inject(const HeaderWriter& writer) { segment_->inject(span_id_, writer); }

std::unique_ptr<SpanBackend> DatadogSpan::create_child(const SpanOptions& options) {
  return std::make_unique<DatadogSpan>(segment_, options, segment_->context().new_id(), span_id_);
}

}  // namespace tokenizer
