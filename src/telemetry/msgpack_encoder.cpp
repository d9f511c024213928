#include "telemetry/msgpack_encoder.h"

#include <cstring>

namespace tokenizer {

void MsgpackWriter::put_be(std::uint64_t value, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) {
    out_.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
  }
}

void MsgpackWriter::write_nil() { out_.push_back(static_cast<char>(0xc0)); }

void MsgpackWriter::write_bool(bool value) {
  out_.push_back(static_cast<char>(value ? 0xc3 : 0xc2));
}

void MsgpackWriter::write_uint64(std::uint64_t value) {
  out_.push_back(static_cast<char>(0xcf));
  put_be(value, 8);
}

void MsgpackWriter::write_int64(std::int64_t value) {
  out_.push_back(static_cast<char>(0xd3));
  put_be(static_cast<std::uint64_t>(value), 8);
}

void MsgpackWriter::write_int32(std::int32_t value) {
  out_.push_back(static_cast<char>(0xd2));
  put_be(static_cast<std::uint32_t>(value), 4);
}

void MsgpackWriter::write_float64(double value) {
  std::uint64_t bits = 0;
  static_assert(sizeof(bits) == sizeof(value));
  std::memcpy(&bits, &value, sizeof(bits));
  out_.push_back(static_cast<char>(0xcb));
  put_be(bits, 8);
}

void MsgpackWriter::write_string(std::string_view value) {
  const std::size_t n = value.size();
  if (n < 32) {
    out_.push_back(static_cast<char>(0xa0 | n));
  } else if (n <= 0xff) {
    out_.push_back(static_cast<char>(0xd9));
    put_be(n, 1);
  } else if (n <= 0xffff) {
    out_.push_back(static_cast<char>(0xda));
    put_be(n, 2);
  } else {
    out_.push_back(static_cast<char>(0xdb));
    put_be(n, 4);
  }
  out_.append(value.data(), n);
}

void MsgpackWriter::write_array_header(std::uint32_t size) {
  if (size < 16) {
    out_.push_back(static_cast<char>(0x90 | size));
  } else if (size <= 0xffff) {
    out_.push_back(static_cast<char>(0xdc));
    put_be(size, 2);
  } else {
    out_.push_back(static_cast<char>(0xdd));
    put_be(size, 4);
  }
}

void MsgpackWriter::write_map_header(std::uint32_t size) {
  if (size < 16) {
    out_.push_back(static_cast<char>(0x80 | size));
  } else if (size <= 0xffff) {
    out_.push_back(static_cast<char>(0xde));
    put_be(size, 2);
  } else {
    out_.push_back(static_cast<char>(0xdf));
    put_be(size, 4);
  }
}

void encode_span(MsgpackWriter& w, const SpanData& span) {
  w.write_map_header(12);
  w.write_string("service");
  w.write_string(span.service);
  w.write_string("name");
  w.write_string(span.name);
  w.write_string("resource");
  w.write_string(span.resource);
  w.write_string("type");
  w.write_string(span.type);
  w.write_string("trace_id");
  w.write_uint64(span.trace_id.low);
  w.write_string("span_id");
  w.write_uint64(span.span_id);
  w.write_string("parent_id");
  w.write_uint64(span.parent_id);
  w.write_string("start");
  w.write_int64(span.start_ns);
  w.write_string("duration");
  w.write_int64(span.duration_ns);
  w.write_string("error");
  w.write_int32(span.error ? 1 : 0);
  w.write_string("meta");
  w.write_map_header(static_cast<std::uint32_t>(span.meta.size()));
  for (const auto& [key, value] : span.meta) {
    w.write_string(key);
    w.write_string(value);
  }
  w.write_string("metrics");
  w.write_map_header(static_cast<std::uint32_t>(span.metrics.size()));
  for (const auto& [key, value] : span.metrics) {
    w.write_string(key);
    w.write_float64(value);
  }
}

std::string encode_trace_chunks(const std::vector<std::vector<SpanData>>& chunks) {
  std::string out;
  MsgpackWriter w(out);
  w.write_array_header(static_cast<std::uint32_t>(chunks.size()));
  for (const auto& chunk : chunks) {
    w.write_array_header(static_cast<std::uint32_t>(chunk.size()));
    for (const auto& span : chunk) encode_span(w, span);
  }
  return out;
}

}  // namespace tokenizer
