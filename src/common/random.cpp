#include "common/random.h"

#include <openssl/rand.h>

#include <random>
#include <stdexcept>
#include <vector>

namespace tokenizer {

std::uint64_t SystemRandom::next_u64() {
  thread_local std::mt19937_64 engine{[] {
    std::random_device rd;
    std::seed_seq seq{rd(), rd(), rd(), rd()};
    return std::mt19937_64(seq);
  }()};
  return engine();
}

SystemRandom& SystemRandom::instance() {
  static SystemRandom random;
  return random;
}

namespace {
void fill_secure(unsigned char* out, std::size_t n) {
  if (RAND_bytes(out, static_cast<int>(n)) != 1) {
    throw std::runtime_error("OpenSSL RAND_bytes failed");
  }
}
}  // namespace

std::string secure_random_hex(std::size_t bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::vector<unsigned char> buf(bytes);
  fill_secure(buf.data(), bytes);
  std::string out;
  out.reserve(bytes * 2);
  for (unsigned char b : buf) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 0x0f]);
  }
  return out;
}

std::string secure_random_uuid() {
  std::string h = secure_random_hex(16);
  h[12] = '4';                                   // version 4
  h[16] = "89ab"[std::stoi(h.substr(16, 1), nullptr, 16) & 0x3];  // RFC 4122 variant
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) +
         "-" + h.substr(20, 12);
}

}  // namespace tokenizer
