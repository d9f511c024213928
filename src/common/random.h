// Random: injected randomness for jitter and sampling, plus cryptographically secure
// identifiers drawn from OpenSSL's RNG (secrets such as reservation tokens and keys) or from
// a per-thread ChaCha20 keystream seeded by it (request ids: see unguessable_hex below).
//
// Components that need randomness for decisions (back-off jitter, probabilistic fault
// injection) take a `Random&`; tests pass tests/fakes/fake_random.h with scripted values.
// SystemRandom is thread-safe (one generator per thread).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace tokenizer {

class Random {
 public:
  virtual ~Random() = default;
  // Uniformly distributed 64-bit value.
  virtual std::uint64_t next_u64() = 0;
  // Uniform in [0, 1).
  double next_unit() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }
};

class SystemRandom final : public Random {
 public:
  std::uint64_t next_u64() override;
  static SystemRandom& instance();
};

// `bytes` random bytes from OpenSSL's CSPRNG, hex-encoded (2 * bytes characters).
std::string secure_random_hex(std::size_t bytes);

// A random (version 4) UUID in its canonical textual form, from OpenSSL's CSPRNG.
std::string secure_random_uuid();

// `bytes` bytes from a per-thread ChaCha20 keystream, hex-encoded (2 * bytes characters):
// for identifiers that must be unique and unguessable but are not secrets (request ids).
//
// Why not secure_random_hex: OpenSSL's RAND_bytes costs ~6.6 k instructions a call (provider
// dispatch, DRBG locking and reseed checks), 1.7 % of a server thread per request. Why not a
// plain PRNG (xoshiro, mt19937): a few outputs reveal its state, and so every later id, which
// would let one client predict the ids of other clients' requests. ChaCha20 is a stream
// cipher: its keystream is unpredictable without the key. Each thread keys its own stream
// from RAND_bytes (256-bit key, 96-bit nonce) on first use, every 2^20 blocks (64 MiB of
// output) and after fork() in the child (pthread_atfork), so no two threads or processes share
// a stream. One 64-byte block gives four 16-byte ids (~1 k instructions); no lock, no
// allocation beyond the returned string. Throws std::runtime_error when RAND_bytes fails.
std::string unguessable_hex(std::size_t bytes);
// The raw form: fills `out` with `n` keystream bytes of the calling thread.
void fill_unguessable(unsigned char* out, std::size_t n);

namespace detail {
// The ChaCha20 block function of RFC 8439 (2.3): 64 bytes of keystream for `key`, the
// 32-bit block `counter` and the 96-bit `nonce` (words little-endian). Exposed for tests.
void chacha20_block(const std::uint32_t key[8], std::uint32_t counter,
                    const std::uint32_t nonce[3], unsigned char out[64]);
}  // namespace detail

}  // namespace tokenizer
