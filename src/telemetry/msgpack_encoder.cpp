#include "telemetry/msgpack_encoder.h"

#include <cstring>

namespace tokenizer {
namespace {

// Big-endian `bytes` low bytes of `value` after the type byte, as one append.
void put(std::string& out, unsigned char type, std::uint64_t value, int bytes) {
  char buf[9];
  buf[0] = static_cast<char>(type);
  for (int i = 0; i < bytes; ++i) buf[1 + i] = static_cast<char>((value >> (8 * (bytes - 1 - i))) & 0xff);
  out.append(buf, static_cast<std::size_t>(1 + bytes));
}

void put_header(std::string& out, std::uint32_t size, unsigned char fix, unsigned char fix_limit,
                unsigned char x16, unsigned char x32) {
  if (size < fix_limit) {
    out.push_back(static_cast<char>(fix | size));
  } else if (size <= 0xffff) {
    put(out, x16, size, 2);
  } else {
    put(out, x32, size, 4);
  }
}

bool same(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  const std::size_t n = a.size();
  if (n >= 8 && n <= 16) {  // tag keys: two overlapping word compares instead of a memcmp call
    std::uint64_t a0, a1, b0, b1;
    std::memcpy(&a0, a.data(), 8);
    std::memcpy(&a1, a.data() + n - 8, 8);
    std::memcpy(&b0, b.data(), 8);
    std::memcpy(&b1, b.data() + n - 8, 8);
    return ((a0 ^ b0) | (a1 ^ b1)) == 0;
  }
  return std::memcmp(a.data(), b.data(), n) == 0;
}

template <typename List>
bool has_key(const List& list, std::string_view key) {
  for (const auto& entry : list) {
    if (same(entry.first, key)) return true;
  }
  return false;
}

// The span map's keys, pre-encoded as fixstr (0xa0 | length, then the bytes).
constexpr std::string_view kKeyService = "\xa7" "service";
constexpr std::string_view kKeyName = "\xa4" "name";
constexpr std::string_view kKeyResource = "\xa8" "resource";
constexpr std::string_view kKeyType = "\xa4" "type";
constexpr std::string_view kKeyTraceId = "\xa8" "trace_id";
constexpr std::string_view kKeySpanId = "\xa7" "span_id";
constexpr std::string_view kKeyParentId = "\xa9" "parent_id";
constexpr std::string_view kKeyStart = "\xa5" "start";
constexpr std::string_view kKeyDuration = "\xa8" "duration";
constexpr std::string_view kKeyError = "\xa5" "error";
constexpr std::string_view kKeyMeta = "\xa4" "meta";
constexpr std::string_view kKeyMetrics = "\xa7" "metrics";

}  // namespace

void MsgpackWriter::write_nil() { out_.push_back(static_cast<char>(0xc0)); }

void MsgpackWriter::write_bool(bool value) { out_.push_back(static_cast<char>(value ? 0xc3 : 0xc2)); }

void MsgpackWriter::write_uint64(std::uint64_t value) { put(out_, 0xcf, value, 8); }

void MsgpackWriter::write_int64(std::int64_t value) { put(out_, 0xd3, static_cast<std::uint64_t>(value), 8); }

void MsgpackWriter::write_int32(std::int32_t value) {
  put(out_, 0xd2, static_cast<std::uint32_t>(value), 4);
}

void MsgpackWriter::write_float64(double value) {
  std::uint64_t bits = 0;
  static_assert(sizeof(bits) == sizeof(value));
  std::memcpy(&bits, &value, sizeof(bits));
  put(out_, 0xcb, bits, 8);
}

void MsgpackWriter::write_string(std::string_view value) {
  const std::size_t n = value.size();
  if (n < 32) {
    out_.push_back(static_cast<char>(0xa0 | n));
  } else if (n <= 0xff) {
    put(out_, 0xd9, n, 1);
  } else if (n <= 0xffff) {
    put(out_, 0xda, n, 2);
  } else {
    put(out_, 0xdb, n, 4);
  }
  out_.append(value.data(), n);
}

void MsgpackWriter::write_array_header(std::uint32_t size) { put_header(out_, size, 0x90, 16, 0xdc, 0xdd); }

void MsgpackWriter::write_map_header(std::uint32_t size) { put_header(out_, size, 0x80, 16, 0xde, 0xdf); }

std::size_t MsgpackWriter::array_header(std::uint32_t size, char out[5]) {
  if (size < 16) {
    out[0] = static_cast<char>(0x90 | size);
    return 1;
  }
  const bool small = size <= 0xffff;
  const int bytes = small ? 2 : 4;
  out[0] = static_cast<char>(small ? 0xdc : 0xdd);
  for (int i = 0; i < bytes; ++i) out[1 + i] = static_cast<char>((size >> (8 * (bytes - 1 - i))) & 0xff);
  return static_cast<std::size_t>(1 + bytes);
}

namespace {

// Writes through a raw cursor into space reserved beforehand (encode_span sizes it from an
// upper bound): no capacity check and no call per value, which is most of the cost of
// writing a span byte string by byte string.
class Cursor {
 public:
  explicit Cursor(char* p) : p_(p) {}
  char* position() const { return p_; }

  void raw(std::string_view bytes) {
    copy(bytes.data(), bytes.size());
  }
  // Most strings here are short: copied inline with (overlapping) word moves rather than a
  // call into memcpy, which costs more than the copy itself for a dozen bytes.
  void copy(const char* s, std::size_t n) {
    if (n >= 8 && n <= 16) {
      std::uint64_t a, b;
      std::memcpy(&a, s, 8);
      std::memcpy(&b, s + n - 8, 8);
      std::memcpy(p_, &a, 8);
      std::memcpy(p_ + n - 8, &b, 8);
    } else if (n >= 4 && n < 8) {
      std::uint32_t a, b;
      std::memcpy(&a, s, 4);
      std::memcpy(&b, s + n - 4, 4);
      std::memcpy(p_, &a, 4);
      std::memcpy(p_ + n - 4, &b, 4);
    } else if (n < 4) {
      for (std::size_t i = 0; i < n; ++i) p_[i] = s[i];
    } else {
      std::memcpy(p_, s, n);
    }
    p_ += n;
  }
  void be(unsigned char type, std::uint64_t value, int bytes) {
    *p_++ = static_cast<char>(type);
    for (int i = bytes - 1; i >= 0; --i) *p_++ = static_cast<char>((value >> (8 * i)) & 0xff);
  }
  void be64(unsigned char type, std::uint64_t value) {
    *p_++ = static_cast<char>(type);
    for (int i = 0; i < 8; ++i) p_[i] = static_cast<char>((value >> (56 - 8 * i)) & 0xff);  // one bswap
    p_ += 8;
  }
  void uint64(std::uint64_t v) { be64(0xcf, v); }
  void int64(std::int64_t v) { be64(0xd3, static_cast<std::uint64_t>(v)); }
  void int32(std::int32_t v) { be(0xd2, static_cast<std::uint32_t>(v), 4); }
  void float64(double v) {
    std::uint64_t bits = 0;
    std::memcpy(&bits, &v, sizeof(bits));
    be64(0xcb, bits);
  }
  void string(std::string_view s) {
    const std::size_t n = s.size();
    if (n < 32) {
      *p_++ = static_cast<char>(0xa0 | n);
    } else if (n <= 0xff) {
      be(0xd9, n, 1);
    } else if (n <= 0xffff) {
      be(0xda, n, 2);
    } else {
      be(0xdb, n, 4);
    }
    copy(s.data(), n);
  }
  void map_header(std::size_t n) {
    if (n < 16) {
      *p_++ = static_cast<char>(0x80 | n);
    } else if (n <= 0xffff) {
      be(0xde, n, 2);
    } else {
      be(0xdf, n, 4);
    }
  }

 private:
  char* p_;
};

// Upper bounds of the encoded sizes: a string's header is at most 5 bytes, a number 9.
constexpr std::size_t kStringOverhead = 5;
constexpr std::size_t kKeyBytes = kKeyService.size() + kKeyName.size() + kKeyResource.size() + kKeyType.size() +
                                  kKeyTraceId.size() + kKeySpanId.size() + kKeyParentId.size() + kKeyStart.size() +
                                  kKeyDuration.size() + kKeyError.size() + kKeyMeta.size() + kKeyMetrics.size();
// The span map's header, the keys, four string headers, five 64-bit numbers, the int32, and
// the meta and metrics map headers.
constexpr std::size_t kFixedSpanBytes = 1 + kKeyBytes + 4 * kStringOverhead + 5 * 9 + 5 + 2 * 5;

}  // namespace

void encode_span(MsgpackWriter& w, const SpanData& span, const SpanDefaults* defaults) {
  // meta: the span's own tags (except those a fixed default replaces), the defaults it did
  // not set itself, then the fixed defaults; metrics: the span's own, then the fixed ones.
  const bool fixed_meta = defaults != nullptr && !defaults->fixed_meta.empty();
  const bool fixed_metrics = defaults != nullptr && !defaults->fixed_metrics.empty();
  std::size_t bound = kFixedSpanBytes + span.service.size() + span.name.size() + span.resource.size() +
                      span.type.size();
  std::size_t meta_count = 0;
  // Bit i: the span's own tag i is replaced by a fixed default (looked up once, here, for the
  // first 64 tags; later ones are looked up again when written).
  std::uint64_t replaced_mask = 0;
  std::size_t index = 0;
  for (const auto& [key, value] : span.meta) {
    const std::size_t i = index++;
    if (fixed_meta && has_key(defaults->fixed_meta, key)) {
      if (i < 64) replaced_mask |= std::uint64_t{1} << i;
      continue;
    }
    ++meta_count;
    bound += 2 * kStringOverhead + key.size() + value.size();
  }
  std::uint64_t unset_mask = 0;  // bit i: default meta[i] is not set by the span (i < 64)
  if (defaults != nullptr) {
    for (std::size_t i = 0; i < defaults->meta.size(); ++i) {
      const auto& [key, value] = defaults->meta[i];
      if (span.meta.count(key) != 0) continue;
      if (i < 64) unset_mask |= std::uint64_t{1} << i;
      ++meta_count;
      bound += 2 * kStringOverhead + key.size() + value.size();
    }
    for (const auto& [key, value] : defaults->fixed_meta) {
      ++meta_count;
      bound += 2 * kStringOverhead + key.size() + value.size();
    }
  }
  std::size_t metric_count = 0;
  for (const auto& [key, value] : span.metrics) {
    if (fixed_metrics && has_key(defaults->fixed_metrics, key)) continue;
    ++metric_count;
    bound += kStringOverhead + 9 + key.size();
  }
  if (fixed_metrics) {
    for (const auto& [key, value] : defaults->fixed_metrics) {
      ++metric_count;
      bound += kStringOverhead + 9 + key.size();
    }
  }

  std::string& out = w.buffer();
  const std::size_t start = out.size();
  out.resize(start + bound);
  Cursor c(out.data() + start);
  c.map_header(12);
  c.raw(kKeyService);
  c.string(span.service);
  c.raw(kKeyName);
  c.string(span.name);
  c.raw(kKeyResource);
  c.string(span.resource);
  c.raw(kKeyType);
  c.string(span.type);
  c.raw(kKeyTraceId);
  c.uint64(span.trace_id.low);
  c.raw(kKeySpanId);
  c.uint64(span.span_id);
  c.raw(kKeyParentId);
  c.uint64(span.parent_id);
  c.raw(kKeyStart);
  c.int64(span.start_ns);
  c.raw(kKeyDuration);
  c.int64(span.duration_ns);
  c.raw(kKeyError);
  c.int32(span.error ? 1 : 0);

  c.raw(kKeyMeta);
  c.map_header(meta_count);
  index = 0;
  for (const auto& [key, value] : span.meta) {
    const std::size_t i = index++;
    if (fixed_meta) {
      const bool replaced =
          i < 64 ? ((replaced_mask >> i) & 1) != 0 : has_key(defaults->fixed_meta, key);
      if (replaced) continue;
    }
    c.string(key);
    c.string(value);
  }
  if (defaults != nullptr) {
    for (std::size_t i = 0; i < defaults->meta.size(); ++i) {
      const auto& [key, value] = defaults->meta[i];
      const bool unset = i < 64 ? ((unset_mask >> i) & 1) != 0 : span.meta.count(key) == 0;
      if (!unset) continue;
      c.string(key);
      c.string(value);
    }
    for (const auto& [key, value] : defaults->fixed_meta) {
      c.string(key);
      c.string(value);
    }
  }

  c.raw(kKeyMetrics);
  c.map_header(metric_count);
  for (const auto& [key, value] : span.metrics) {
    if (fixed_metrics && has_key(defaults->fixed_metrics, key)) continue;
    c.string(key);
    c.float64(value);
  }
  if (fixed_metrics) {
    for (const auto& [key, value] : defaults->fixed_metrics) {
      c.string(key);
      c.float64(value);
    }
  }
  out.resize(static_cast<std::size_t>(c.position() - out.data()));
}

void append_trace_chunk(MsgpackWriter& w, const TraceChunk& chunk) {
  w.write_array_header(static_cast<std::uint32_t>(chunk.spans.size()));
  for (const auto& span : chunk.spans) encode_span(w, span, chunk.defaults.get());
}

std::string encode_trace_chunks(const std::vector<TraceChunk>& chunks) {
  std::string out;
  MsgpackWriter w(out);
  w.write_array_header(static_cast<std::uint32_t>(chunks.size()));
  for (const auto& chunk : chunks) append_trace_chunk(w, chunk);
  return out;
}

}  // namespace tokenizer
