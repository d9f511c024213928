// Span: one timed operation of a trace (the server span of a request, a child span for a
// step such as validation, a client span per vault attempt), as a move-only handle.
//
// A default-constructed Span is a no-op (what NullTracer hands out when tracing is off):
// every call returns at once and no memory is allocated. A recording Span wraps a
// SpanBackend that a Tracer implementation provides (DatadogSpan today; dd-trace-cpp's
// span could be wrapped the same way later).
//
//   Span server = tracer.extract_or_start_span({"http.request", "POST /api/...", "web"}, headers);
//   server.set_tag("http.method", "POST");
//   Span attempt = server.create_child({"vault.request", "POST /v1/payment_methods.json", "http"});
//   attempt.inject([&](std::string_view k, std::string_view v) { request.headers.emplace_back(k, v); });
//   attempt.set_tag("http.status_code", "201");
//   attempt.finish();             // or let it go out of scope
//   log.with("dd.trace_id", server.trace_id_low()).with("dd.span_id", server.span_id());
//
// Finishing is idempotent and also happens on destruction; after finish() tags are ignored
// but the ids stay readable (for the access log written after the reply).
// Thread-safety: a Span is used by one thread at a time (it may move between threads, e.g.
// into a transport callback). Different spans of one trace may be used and finished on
// different threads. Spans must not outlive the Clock and Random their tracer was given.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "telemetry/propagation.h"

namespace tokenizer {

struct SpanOptions {
  std::string name;      // operation, e.g. "http.request"
  std::string resource;  // e.g. "POST /api/v1/payment_methods/tokenize"; empty = name
  std::string type;      // "web" (server), "http" (client), or empty
  std::string service;   // empty = the tracer's service
};

// What a Tracer implementation provides behind a Span.
class SpanBackend {
 public:
  virtual ~SpanBackend() = default;
  virtual void set_tag(std::string_view key, std::string_view value) = 0;
  virtual void set_metric(std::string_view key, double value) = 0;
  virtual void set_error(std::string_view type, std::string_view message) = 0;
  virtual void set_resource(std::string_view resource) = 0;
  virtual void finish() = 0;  // idempotent
  virtual std::uint64_t trace_id_low() const = 0;
  virtual std::string trace_id_hex() const = 0;
  virtual std::uint64_t span_id() const = 0;
  virtual void inject(const HeaderWriter& writer) = 0;
  virtual std::unique_ptr<SpanBackend> create_child(const SpanOptions& options) = 0;
};

class Span {
 public:
  Span() noexcept = default;  // no-op span
  explicit Span(std::unique_ptr<SpanBackend> backend) noexcept : backend_(std::move(backend)) {}
  Span(Span&&) noexcept = default;
  Span& operator=(Span&& other) noexcept;  // finishes the span held before
  Span(const Span&) = delete;
  Span& operator=(const Span&) = delete;
  ~Span();

  bool is_recording() const noexcept { return backend_ != nullptr; }

  // Meta tag (string value), e.g. set_tag("http.status_code", "201"). Never card data.
  void set_tag(std::string_view key, std::string_view value);
  // Numeric metric (sent as float64).
  void set_metric(std::string_view key, double value);
  // Marks the span failed: error = 1, meta error.type and error.message. Never card data.
  void set_error(std::string_view type, std::string_view message);
  void set_resource(std::string_view resource);
  void finish();

  // A span whose parent is this one, in the same trace. No-op span from a no-op span.
  Span create_child(const SpanOptions& options);
  // Writes this span's context (trace id, this span as parent, sampling priority, ...)
  // as outgoing request headers in every configured injection style.
  void inject(const HeaderWriter& writer);

  // For log correlation: `dd.trace_id` (decimal low 64 bits) and `dd.span_id`; 0 when
  // not recording. trace_id_hex() is the full 128-bit id as 32 hex digits ("" if not).
  std::uint64_t trace_id_low() const;
  std::string trace_id_hex() const;
  std::uint64_t span_id() const;

 private:
  std::unique_ptr<SpanBackend> backend_;
};

}  // namespace tokenizer
