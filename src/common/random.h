// Random: injected randomness for jitter and sampling, plus cryptographically secure
// identifiers (request ids, tokens) drawn from OpenSSL's RNG.
//
// Components that need randomness for decisions (back-off jitter, probabilistic fault
// injection) take a `Random&`; tests pass tests/fakes/fake_random.h with scripted values.
// SystemRandom is thread-safe (one generator per thread).
#pragma once

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

}  // namespace tokenizer
