#include "telemetry/msgpack_reader.h"

#include <cstring>

namespace tokenizer {

const char* msgpack_type_name(MsgpackType type) {
  switch (type) {
    case MsgpackType::nil: return "nil";
    case MsgpackType::boolean: return "bool";
    case MsgpackType::positive_fixint: return "positive_fixint";
    case MsgpackType::negative_fixint: return "negative_fixint";
    case MsgpackType::uint8: return "uint8";
    case MsgpackType::uint16: return "uint16";
    case MsgpackType::uint32: return "uint32";
    case MsgpackType::uint64: return "uint64";
    case MsgpackType::int8: return "int8";
    case MsgpackType::int16: return "int16";
    case MsgpackType::int32: return "int32";
    case MsgpackType::int64: return "int64";
    case MsgpackType::float32: return "float32";
    case MsgpackType::float64: return "float64";
    case MsgpackType::str: return "str";
    case MsgpackType::bin: return "bin";
    case MsgpackType::array: return "array";
    case MsgpackType::map: return "map";
    case MsgpackType::ext: return "ext";
  }
  return "unknown";
}

bool MsgpackValue::is_unsigned() const {
  switch (type) {
    case MsgpackType::positive_fixint:
    case MsgpackType::uint8:
    case MsgpackType::uint16:
    case MsgpackType::uint32:
    case MsgpackType::uint64:
      return true;
    default:
      return false;
  }
}

bool MsgpackValue::is_integer() const {
  switch (type) {
    case MsgpackType::negative_fixint:
    case MsgpackType::int8:
    case MsgpackType::int16:
    case MsgpackType::int32:
    case MsgpackType::int64:
      return true;
    default:
      return is_unsigned();
  }
}

const MsgpackValue* MsgpackValue::find(std::string_view key) const {
  for (const auto& [k, v] : entries) {
    if (k.type == MsgpackType::str && k.bytes == key) return &v;
  }
  return nullptr;
}

namespace {

class Decoder {
 public:
  Decoder(std::string_view in, const MsgpackLimits& limits) : in_(in), limits_(limits) {}

  bool decode(MsgpackValue& out, int depth) {
    if (depth > limits_.max_depth) return fail("nesting deeper than the limit");
    if (++values_ > limits_.max_values) return fail("more values than the limit");
    std::uint64_t tag = 0;
    if (!take(1, tag)) return false;
    const auto b = static_cast<unsigned>(tag);
    if (b <= 0x7f) {
      out.type = MsgpackType::positive_fixint;
      out.uint_value = b;
      out.int_value = static_cast<std::int64_t>(b);
      return true;
    }
    if (b >= 0xe0) {
      out.type = MsgpackType::negative_fixint;
      out.int_value = static_cast<std::int64_t>(static_cast<std::int8_t>(b));
      return true;
    }
    if ((b & 0xf0) == 0x80) return decode_map(out, b & 0x0f, depth);
    if ((b & 0xf0) == 0x90) return decode_array(out, b & 0x0f, depth);
    if ((b & 0xe0) == 0xa0) return decode_bytes(out, MsgpackType::str, b & 0x1f);
    std::uint64_t n = 0;
    switch (b) {
      case 0xc0: out.type = MsgpackType::nil; return true;
      case 0xc2: out.type = MsgpackType::boolean; out.boolean = false; return true;
      case 0xc3: out.type = MsgpackType::boolean; out.boolean = true; return true;
      case 0xc4: return take(1, n) && decode_bytes(out, MsgpackType::bin, n);
      case 0xc5: return take(2, n) && decode_bytes(out, MsgpackType::bin, n);
      case 0xc6: return take(4, n) && decode_bytes(out, MsgpackType::bin, n);
      case 0xc7: return take(1, n) && decode_ext(out, n);
      case 0xc8: return take(2, n) && decode_ext(out, n);
      case 0xc9: return take(4, n) && decode_ext(out, n);
      case 0xca: {
        if (!take(4, n)) return false;
        const auto bits = static_cast<std::uint32_t>(n);
        float f = 0;
        std::memcpy(&f, &bits, sizeof(f));
        out.type = MsgpackType::float32;
        out.float_value = f;
        return true;
      }
      case 0xcb: {
        if (!take(8, n)) return false;
        double d = 0;
        std::memcpy(&d, &n, sizeof(d));
        out.type = MsgpackType::float64;
        out.float_value = d;
        return true;
      }
      case 0xcc: return unsigned_int(out, MsgpackType::uint8, 1);
      case 0xcd: return unsigned_int(out, MsgpackType::uint16, 2);
      case 0xce: return unsigned_int(out, MsgpackType::uint32, 4);
      case 0xcf: return unsigned_int(out, MsgpackType::uint64, 8);
      case 0xd0: return signed_int(out, MsgpackType::int8, 1);
      case 0xd1: return signed_int(out, MsgpackType::int16, 2);
      case 0xd2: return signed_int(out, MsgpackType::int32, 4);
      case 0xd3: return signed_int(out, MsgpackType::int64, 8);
      case 0xd4: return decode_ext(out, 1);
      case 0xd5: return decode_ext(out, 2);
      case 0xd6: return decode_ext(out, 4);
      case 0xd7: return decode_ext(out, 8);
      case 0xd8: return decode_ext(out, 16);
      case 0xd9: return take(1, n) && decode_bytes(out, MsgpackType::str, n);
      case 0xda: return take(2, n) && decode_bytes(out, MsgpackType::str, n);
      case 0xdb: return take(4, n) && decode_bytes(out, MsgpackType::str, n);
      case 0xdc: return take(2, n) && decode_array(out, n, depth);
      case 0xdd: return take(4, n) && decode_array(out, n, depth);
      case 0xde: return take(2, n) && decode_map(out, n, depth);
      case 0xdf: return take(4, n) && decode_map(out, n, depth);
      default: return fail("reserved type byte 0xc1");
    }
  }

  bool at_end() const { return pos_ == in_.size(); }
  std::size_t position() const { return pos_; }
  const std::string& error() const { return error_; }

 private:
  bool fail(const char* what) {
    if (error_.empty()) error_ = std::string(what) + " at byte " + std::to_string(pos_);
    return false;
  }
  std::size_t remaining() const { return in_.size() - pos_; }

  // Reads `bytes` (1..8) big-endian bytes.
  bool take(int bytes, std::uint64_t& out) {
    if (remaining() < static_cast<std::size_t>(bytes)) return fail("truncated input");
    out = 0;
    for (int i = 0; i < bytes; ++i) {
      out = (out << 8) | static_cast<unsigned char>(in_[pos_++]);
    }
    return true;
  }

  bool unsigned_int(MsgpackValue& out, MsgpackType type, int bytes) {
    std::uint64_t n = 0;
    if (!take(bytes, n)) return false;
    out.type = type;
    out.uint_value = n;
    out.int_value = static_cast<std::int64_t>(n);  // wraps for n > INT64_MAX: use uint_value
    return true;
  }

  bool signed_int(MsgpackValue& out, MsgpackType type, int bytes) {
    std::uint64_t n = 0;
    if (!take(bytes, n)) return false;
    out.type = type;
    const int shift = 64 - 8 * bytes;
    // Sign-extend through an arithmetic shift of the top-aligned value.
    out.int_value = static_cast<std::int64_t>(n << shift) >> shift;
    return true;
  }

  bool decode_bytes(MsgpackValue& out, MsgpackType type, std::uint64_t n) {
    if (n > remaining()) return fail("length beyond the end of input");
    out.type = type;
    out.bytes.assign(in_.data() + pos_, static_cast<std::size_t>(n));
    pos_ += static_cast<std::size_t>(n);
    return true;
  }

  bool decode_ext(MsgpackValue& out, std::uint64_t n) {
    std::uint64_t ext_type = 0;
    if (!take(1, ext_type)) return false;
    if (!decode_bytes(out, MsgpackType::ext, n)) return false;
    out.int_value = static_cast<std::int8_t>(ext_type);
    return true;
  }

  bool decode_array(MsgpackValue& out, std::uint64_t n, int depth) {
    // Every element takes at least one byte: a count beyond what is left is a lie.
    if (n > remaining()) return fail("array length beyond the end of input");
    if (n > limits_.max_values - values_) return fail("more values than the limit");
    out.type = MsgpackType::array;
    out.items.resize(static_cast<std::size_t>(n));
    for (auto& item : out.items) {
      if (!decode(item, depth + 1)) return false;
    }
    return true;
  }

  bool decode_map(MsgpackValue& out, std::uint64_t n, int depth) {
    if (n > remaining() / 2) return fail("map length beyond the end of input");
    if (n > (limits_.max_values - values_) / 2) return fail("more values than the limit");
    out.type = MsgpackType::map;
    out.entries.resize(static_cast<std::size_t>(n));
    for (auto& [key, value] : out.entries) {
      if (!decode(key, depth + 1) || !decode(value, depth + 1)) return false;
    }
    return true;
  }

  std::string_view in_;
  const MsgpackLimits& limits_;
  std::size_t pos_ = 0;
  std::size_t values_ = 0;
  std::string error_;
};

}  // namespace

Expected<MsgpackValue> decode_msgpack(std::string_view bytes, const MsgpackLimits& limits) {
  Decoder decoder(bytes, limits);
  MsgpackValue value;
  if (!decoder.decode(value, 0)) {
    return Error{"msgpack_invalid", decoder.error()};
  }
  if (!decoder.at_end()) {
    return Error{"msgpack_trailing_bytes",
                 "trailing bytes after the value at byte " + std::to_string(decoder.position())};
  }
  return value;
}

}  // namespace tokenizer
