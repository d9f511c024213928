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

namespace {

// Bumped in the child after fork(): every thread's buffer is discarded before its next use.
std::atomic<std::uint64_t> g_fork_generation{0};

void register_fork_handler() {
  static std::once_flag once;
  std::call_once(once, [] {
    pthread_atfork(nullptr, nullptr,
                   [] { g_fork_generation.fetch_add(1, std::memory_order_relaxed); });
  });
}

class RandomBuffer {
 public:
  ~RandomBuffer() { OPENSSL_cleanse(buffer_, sizeof buffer_); }

  void fill(unsigned char* out, std::size_t n) {
    // After a fork, the child's copy of the buffer must not repeat what the parent hands out.
    const std::uint64_t generation = g_fork_generation.load(std::memory_order_relaxed);
    if (generation != generation_) {
      used_ = sizeof buffer_;
      generation_ = generation;
    }
    while (n > 0) {
      if (used_ == sizeof buffer_) refill();
      const std::size_t take = std::min(n, sizeof buffer_ - used_);
      std::memcpy(out, buffer_ + used_, take);
      OPENSSL_cleanse(buffer_ + used_, take);  // handed-out bytes do not stay behind
      used_ += take;
      out += take;
      n -= take;
    }
  }

 private:
  void refill() {
    register_fork_handler();
    if (RAND_bytes(buffer_, static_cast<int>(sizeof buffer_)) != 1) {
      throw std::runtime_error("OpenSSL RAND_bytes failed");
    }
    used_ = 0;
  }

  unsigned char buffer_[1024] = {};
  std::size_t used_ = sizeof buffer_;
  std::uint64_t generation_ = 0;
};

}  // namespace

void fill_unguessable(unsigned char* out, std::size_t n) {
  thread_local RandomBuffer buffer;
  buffer.fill(out, n);
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
