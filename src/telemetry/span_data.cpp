#include "telemetry/span_data.h"

namespace tokenizer {

void write_hex16(char* out, std::uint64_t value) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (int i = 15; i >= 0; --i) {
    out[i] = kHex[value & 0xf];
    value >>= 4;
  }
}

std::string hex16(std::uint64_t value) {
  std::string out(16, '0');
  write_hex16(out.data(), value);
  return out;
}

std::string TraceId::hex() const {
  std::string out(32, '0');
  write_hex16(out.data(), high);
  write_hex16(out.data() + 16, low);
  return out;
}

}  // namespace tokenizer
