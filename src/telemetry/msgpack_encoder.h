// MsgpackEncoder: writes the Datadog agent's v0.4 trace payload (an array of trace chunks,
// each an array of span maps) with the exact wire types the agent's decoder accepts.
//
// Every value is written with a fixed wire type, never "the smallest that fits":
//   trace_id / span_id / parent_id -> uint64 (0xcf), start / duration -> int64 (0xd3),
//   error -> int32 (0xd2), meta -> map str->str, metrics -> map str->float64 (0xcb).
// In particular a metric is never written as float32 (the agent rejects the whole payload
// then; nlohmann's to_msgpack would do it for 1.0), which is why this is hand-written.
//
// A chunk's SpanDefaults are written into every span map here (so spans need not carry
// them): `meta` holds the span's own tags, then the default tags the span did not set, then
// the fixed ones (which replace a span's own tag of the same key); `metrics` the span's own,
// then the fixed ones. Entry order within a map carries no meaning for the agent.
//
// Usage: `std::string body = encode_trace_chunks(chunks);`, or append chunk after chunk to
// a reused buffer with append_trace_chunk() and put the array header in front at the end
// (what DatadogExporter does). Stateless free functions over a caller-owned buffer:
// thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "telemetry/span_data.h"

namespace tokenizer {

// Appends MessagePack values to a caller-owned string.
class MsgpackWriter {
 public:
  explicit MsgpackWriter(std::string& out) : out_(out) {}

  void write_nil();
  void write_bool(bool value);
  void write_uint64(std::uint64_t value);  // always 0xcf + 8 bytes
  void write_int64(std::int64_t value);    // always 0xd3 + 8 bytes
  void write_int32(std::int32_t value);    // always 0xd2 + 4 bytes
  void write_float64(double value);        // always 0xcb + 8 bytes
  void write_string(std::string_view value);  // fixstr / str8 / str16 / str32
  void write_array_header(std::uint32_t size);
  void write_map_header(std::uint32_t size);
  // Bytes that are already MessagePack (e.g. a pre-encoded key).
  void write_raw(std::string_view bytes) { out_.append(bytes.data(), bytes.size()); }
  // The buffer written to (encode_span writes a whole span map into it at once).
  std::string& buffer() { return out_; }

  // The smallest array header for `size` (what write_array_header writes) into `out`;
  // returns its length (1, 3 or 5).
  static std::size_t array_header(std::uint32_t size, char out[5]);

 private:
  std::string& out_;
};

// One span as a v0.4 span map, with `defaults` (may be null) merged in.
void encode_span(MsgpackWriter& writer, const SpanData& span, const SpanDefaults* defaults = nullptr);

// One chunk: an array of its span maps.
void append_trace_chunk(MsgpackWriter& writer, const TraceChunk& chunk);

// The whole request body: an array of chunks, one chunk (array of spans) per trace.
std::string encode_trace_chunks(const std::vector<TraceChunk>& chunks);

}  // namespace tokenizer
