// SpanExporter: where a tracer hands each finished trace chunk (every span of one trace
// that finished in this process). The production implementation is DatadogExporter
// (buffer + background PUT /v0.4/traces); unit tests collect chunks in memory.
//
// Contract: export_chunk() is called on request threads from Span::finish(), so it must
// never block on I/O (take a short lock, append, return). Thread-safe.
#pragma once

#include <vector>

#include "telemetry/span_data.h"

namespace tokenizer {

class SpanExporter {
 public:
  virtual ~SpanExporter() = default;
  virtual void export_chunk(std::vector<SpanData> chunk) = 0;
};

}  // namespace tokenizer
