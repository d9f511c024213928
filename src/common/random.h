// Random: injected randomness for jitter and sampling, plus cryptographically secure
// identifiers drawn from OpenSSL's RNG (secrets such as reservation tokens and keys) or from
// a per-thread buffer filled by it (request ids: see unguessable_hex below).
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

// `bytes` bytes from OpenSSL's CSPRNG through a per-thread buffer, hex-encoded (2 * bytes
// characters): for identifiers that must be unique and unguessable but are not secrets
// (request ids). Why not secure_random_hex: a RAND_bytes call costs ~6.6 k instructions
// (provider dispatch, DRBG locking and reseed checks), 1.7 % of a server thread per request;
// one call now fills 1 KiB, 64 request ids. Why not a plain PRNG (xoshiro, mt19937): a few
// outputs reveal its state, so one client could predict other clients' ids. Bytes handed
// out are wiped from the buffer; after fork() (pthread_atfork) the child discards its copy
// so it never repeats the parent's ids. Throws std::runtime_error when RAND_bytes fails.
std::string unguessable_hex(std::size_t bytes);
// The raw form: fills `out` with `n` bytes from the calling thread's buffer.
void fill_unguessable(unsigned char* out, std::size_t n);

}  // namespace tokenizer
