#include "telemetry/span_data.h"

namespace tokenizer {

std::string hex16(std::uint64_t value) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i) {
    out[static_cast<std::size_t>(i)] = kHex[value & 0xf];
    value >>= 4;
  }
  return out;
}

std::string TraceId::hex() const { return hex16(high) + hex16(low); }

}  // namespace tokenizer
