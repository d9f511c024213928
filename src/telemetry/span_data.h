// SpanData and TraceId: the plain record of one finished span, as the Datadog agent's
// v0.4 intake sees it (see /work/shared/DATADOG-NOTES.md, "A span map").
//
// The Datadog tracer fills a SpanData while the span is open and hands a whole trace chunk
// (every span of one trace that finished in this process) to a SpanExporter. Plain data:
// no locking of its own; whoever owns it decides who may touch it.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>

namespace tokenizer {

// A 128-bit trace id. `low` is what the v0.4 intake and log correlation use; `high` travels
// in the `_dd.p.tid` trace tag (16 lower-case hex digits) and in W3C `traceparent`.
struct TraceId {
  std::uint64_t high = 0;
  std::uint64_t low = 0;

  bool is_zero() const { return high == 0 && low == 0; }
  // 32 lower-case hex digits, high then low (the W3C form).
  std::string hex() const;
  friend bool operator==(const TraceId& a, const TraceId& b) {
    return a.high == b.high && a.low == b.low;
  }
  friend bool operator!=(const TraceId& a, const TraceId& b) { return !(a == b); }
};

// `value` as exactly 16 lower-case hex digits.
std::string hex16(std::uint64_t value);

struct SpanData {
  std::string name;
  std::string service;
  std::string resource;
  std::string type;  // "web", "http", or empty
  TraceId trace_id;
  std::uint64_t span_id = 0;
  std::uint64_t parent_id = 0;  // 0 for a trace's root
  std::int64_t start_ns = 0;    // wall clock, nanoseconds since the epoch
  std::int64_t duration_ns = 0;
  bool error = false;
  std::map<std::string, std::string, std::less<>> meta;
  std::map<std::string, double, std::less<>> metrics;
};

}  // namespace tokenizer
