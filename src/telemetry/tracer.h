// Tracer: the service's tracing entry point, an interface so the official dd-trace-cpp can
// replace our DatadogTracer later without touching the HTTP layer or the vault client.
//
// Per request the HTTP layer calls extract_or_start_span() once (continuing the caller's
// trace when its headers carry a context) and keeps the returned Span until the reply is
// sent. NullTracer is what runs when tracing is disabled (DD_TRACE_ENABLED=false): its
// spans are empty handles, so the cost is a few predictable branches per call.
//
// Thread-safety: every method may be called from any thread. shutdown() is idempotent;
// after it, new spans are still handed out but their data is dropped.
#pragma once

#include <string>
#include <utility>

#include "telemetry/propagation.h"
#include "telemetry/span.h"

namespace tokenizer {

class Tracer {
 public:
  virtual ~Tracer() = default;

  // The server span of a request: a child of the caller's span when `headers` carry a
  // trace context (in a configured extraction style), else the root of a new trace.
  virtual Span extract_or_start_span(const SpanOptions& options, const HeaderReader& headers) = 0;
  // The root span of a new trace (work not caused by a request).
  virtual Span start_span(const SpanOptions& options) = 0;

  // Unified service tags, for log correlation (`dd.service`, `dd.env`, `dd.version`).
  virtual const std::string& service() const = 0;
  virtual const std::string& env() const = 0;
  virtual const std::string& version() const = 0;

  // Sends what is buffered (bounded by the drain timeout) and stops background work.
  virtual void shutdown() = 0;
};

class NullTracer final : public Tracer {
 public:
  NullTracer(std::string service = "tokenizer", std::string env = "", std::string version = "")
      : service_(std::move(service)), env_(std::move(env)), version_(std::move(version)) {}

  Span extract_or_start_span(const SpanOptions&, const HeaderReader&) override { return Span(); }
  Span start_span(const SpanOptions&) override { return Span(); }
  const std::string& service() const override { return service_; }
  const std::string& env() const override { return env_; }
  const std::string& version() const override { return version_; }
  void shutdown() override {}

 private:
  const std::string service_;
  const std::string env_;
  const std::string version_;
};

}  // namespace tokenizer
