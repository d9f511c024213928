// MsgpackReader: a strict MessagePack decoder that records the wire type of every value.
//
// Used where a payload must be checked, not merely read: the fake Datadog agent applies
// the agent's rules with it (a float32 metric is a rejection, so the wire type matters),
// and unit tests check what MsgpackWriter produced. Hostile input is expected (it is
// fuzzed): it never throws, never reads out of bounds, refuses nesting deeper than
// `max_depth` or with more than `max_values` values, refuses lengths larger than the bytes left (so no huge allocation), and
// refuses trailing bytes after the single top-level value.
//
// Usage: `auto v = decode_msgpack(bytes); if (!v) ...v.error().message...`.
// Free functions over caller-owned data: thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/expected.h"

namespace tokenizer {

enum class MsgpackType {
  nil,
  boolean,
  positive_fixint,
  negative_fixint,
  uint8,
  uint16,
  uint32,
  uint64,
  int8,
  int16,
  int32,
  int64,
  float32,
  float64,
  str,  // fixstr, str8, str16, str32
  bin,
  array,
  map,
  ext,
};

const char* msgpack_type_name(MsgpackType type);

struct MsgpackValue {
  MsgpackType type = MsgpackType::nil;
  bool boolean = false;
  std::uint64_t uint_value = 0;  // for unsigned integer types (and positive fixint)
  std::int64_t int_value = 0;    // for every integer type, when it fits
  double float_value = 0;        // float32 / float64
  std::string bytes;             // str / bin / ext payload
  std::vector<MsgpackValue> items;                              // array
  std::vector<std::pair<MsgpackValue, MsgpackValue>> entries;  // map, in wire order

  bool is_integer() const;
  bool is_unsigned() const;  // positive_fixint or uintN
  bool is_float() const { return type == MsgpackType::float32 || type == MsgpackType::float64; }
  bool is_string() const { return type == MsgpackType::str; }
  // Map lookup by string key (first match), or nullptr.
  const MsgpackValue* find(std::string_view key) const;
};

struct MsgpackLimits {
  int max_depth = 32;
  // Total values (scalars and containers) in one document: bounds memory, since a
  // decoded value is far larger than its one-byte encoding.
  std::size_t max_values = 1u << 20;
};

Expected<MsgpackValue> decode_msgpack(std::string_view bytes, const MsgpackLimits& limits = {});

}  // namespace tokenizer
