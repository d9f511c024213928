#include "common/random.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <mutex>
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

namespace detail {

namespace {
constexpr std::uint32_t rotl(std::uint32_t v, int n) { return (v << n) | (v >> (32 - n)); }

inline void quarter_round(std::uint32_t& a, std::uint32_t& b, std::uint32_t& c, std::uint32_t& d) {
  a += b;
  d = rotl(d ^ a, 16);
  c += d;
  b = rotl(b ^ c, 12);
  a += b;
  d = rotl(d ^ a, 8);
  c += d;
  b = rotl(b ^ c, 7);
}
}  // namespace

void chacha20_block(const std::uint32_t key[8], std::uint32_t counter, const std::uint32_t nonce[3],
                    unsigned char out[64]) {
  const std::uint32_t input[16] = {0x61707865, 0x3320646e, 0x79622d32, 0x6b206574,  // "expand 32-byte k"
                                   key[0],     key[1],     key[2],     key[3],
                                   key[4],     key[5],     key[6],     key[7],
                                   counter,    nonce[0],   nonce[1],   nonce[2]};
  std::uint32_t x[16];
  std::memcpy(x, input, sizeof x);
  for (int i = 0; i < 10; ++i) {  // 20 rounds: a column round and a diagonal round each
    quarter_round(x[0], x[4], x[8], x[12]);
    quarter_round(x[1], x[5], x[9], x[13]);
    quarter_round(x[2], x[6], x[10], x[14]);
    quarter_round(x[3], x[7], x[11], x[15]);
    quarter_round(x[0], x[5], x[10], x[15]);
    quarter_round(x[1], x[6], x[11], x[12]);
    quarter_round(x[2], x[7], x[8], x[13]);
    quarter_round(x[3], x[4], x[9], x[14]);
  }
  for (int i = 0; i < 16; ++i) {
    const std::uint32_t v = x[i] + input[i];
    out[4 * i] = static_cast<unsigned char>(v);
    out[4 * i + 1] = static_cast<unsigned char>(v >> 8);
    out[4 * i + 2] = static_cast<unsigned char>(v >> 16);
    out[4 * i + 3] = static_cast<unsigned char>(v >> 24);
  }
}

}  // namespace detail

namespace {

// Bumped in the child after fork(): every thread's stream is re-keyed before its next use.
std::atomic<std::uint64_t> g_fork_generation{0};

void register_fork_handler() {
  static std::once_flag once;
  std::call_once(once, [] {
    pthread_atfork(nullptr, nullptr,
                   [] { g_fork_generation.fetch_add(1, std::memory_order_relaxed); });
  });
}

class KeystreamGenerator {
 public:
  ~KeystreamGenerator() {
    OPENSSL_cleanse(key_, sizeof key_);
    OPENSSL_cleanse(block_, sizeof block_);
  }

  void fill(unsigned char* out, std::size_t n) {
    // After a fork, the child's copy of this block must not repeat what the parent hands out.
    if (g_fork_generation.load(std::memory_order_relaxed) != generation_) used_ = sizeof block_;
    while (n > 0) {
      if (used_ == sizeof block_) refill();
      const std::size_t take = std::min(n, sizeof block_ - used_);
      std::memcpy(out, block_ + used_, take);
      used_ += take;
      out += take;
      n -= take;
    }
  }

 private:
  static constexpr std::uint32_t kBlocksPerKey = 1u << 20;

  void refill() {
    const std::uint64_t generation = g_fork_generation.load(std::memory_order_relaxed);
    if (!seeded_ || counter_ >= kBlocksPerKey || generation != generation_) {
      register_fork_handler();
      unsigned char seed[sizeof key_ + sizeof nonce_];
      fill_secure_seed(seed, sizeof seed);
      std::memcpy(key_, seed, sizeof key_);
      std::memcpy(nonce_, seed + sizeof key_, sizeof nonce_);
      OPENSSL_cleanse(seed, sizeof seed);
      counter_ = 0;
      generation_ = generation;
      seeded_ = true;
    }
    detail::chacha20_block(key_, counter_++, nonce_, block_);
    used_ = 0;
  }

  static void fill_secure_seed(unsigned char* out, std::size_t n) {
    if (RAND_bytes(out, static_cast<int>(n)) != 1) {
      throw std::runtime_error("OpenSSL RAND_bytes failed");
    }
  }

  std::uint32_t key_[8] = {};
  std::uint32_t nonce_[3] = {};
  std::uint32_t counter_ = 0;
  std::uint64_t generation_ = 0;
  bool seeded_ = false;
  unsigned char block_[64] = {};
  std::size_t used_ = sizeof block_;
};

}  // namespace

void fill_unguessable(unsigned char* out, std::size_t n) {
  thread_local KeystreamGenerator generator;
  generator.fill(out, n);
}

std::string unguessable_hex(std::size_t bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(bytes * 2, '\0');
  std::size_t pos = 0;
  unsigned char buf[32];
  while (bytes > 0) {
    const std::size_t n = std::min(bytes, sizeof buf);
    fill_unguessable(buf, n);
    for (std::size_t i = 0; i < n; ++i) {
      out[pos++] = kHex[buf[i] >> 4];
      out[pos++] = kHex[buf[i] & 0x0f];
    }
    bytes -= n;
  }
  return out;
}

}  // namespace tokenizer
