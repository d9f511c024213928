// SpanExporter: where a tracer hands each finished trace chunk (every span of one trace
// that finished in this process, plus the tracer's SpanDefaults). The production
// implementation is DatadogExporter (encodes the chunk, buffers the bytes, background
// PUT /v0.4/traces); unit tests collect chunks in memory.
//
// Contract: export_chunk() is called on request threads from Span::finish(), so it must
// never block on I/O (CPU work such as encoding, a short lock, an append: then return).
// Thread-safe.
#pragma once

#include "telemetry/span_data.h"

namespace tokenizer {

class SpanExporter {
 public:
  virtual ~SpanExporter() = default;
  virtual void export_chunk(TraceChunk chunk) = 0;
};

}  // namespace tokenizer
