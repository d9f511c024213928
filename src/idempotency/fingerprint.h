// Request fingerprint: what an idempotency record remembers about the request that created it,
// so a repeat with the same Idempotency-Key but a different payload is told apart (422
// `idempotency_key_reused`) from a genuine retry (replay).
//
// `request_fingerprint(pm, key)` is HMAC-SHA256 (OpenSSL EVP_MAC), as 64 lowercase hex digits,
// over a canonical form of the *validated* PaymentMethod: a version tag, then every field in a
// fixed order, each length-prefixed (so "ab"+"c" and "a"+"bc" differ), with values already
// normalised by validation (card number digits only, month/year as integers, names and email
// exactly as validated; absent email differs from an empty one). The brand is not hashed: it is
// derived from the card number. Because it works on the parsed value, JSON key order and
// whitespace in the client's body cannot change the fingerprint.
//
// Why a keyed HMAC and not a bare SHA-256: the fingerprint covers the PAN and CVV. Only the
// digest is stored (in memory or Redis), never the card, but a bare SHA-256 of a 16-digit PAN
// with a known BIN and Luhn digit has ~10^9 candidates and is brute-forced in seconds, so a
// leaked Redis would leak card numbers. With a secret key the digest reveals nothing without
// the key. With the in-memory store a random per-process key is enough (records die with the
// process); with a shared (Redis) store every instance must use the same configured secret
// (`--idempotency-secret`), or instances would see each other's retries as mismatches.
// `make_fingerprint_key` encodes that rule.
//
// The canonical form, which contains the PAN, is never materialised in one buffer: the pieces
// are fed to the MAC directly. FingerprintKey is immutable and thread-safe to share; it never
// prints its bytes. request_fingerprint is thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "common/expected.h"
#include "tokenization/payment_method.h"

namespace tokenizer {

inline constexpr std::size_t kMinFingerprintSecretLength = 16;

class FingerprintKey {
 public:
  // A configured secret (at least 16 bytes; use e.g. `openssl rand -hex 32`).
  // Error code `invalid_idempotency_secret` when it is too short.
  static Expected<FingerprintKey> from_secret(std::string_view secret);
  // 256 random bits from OpenSSL's CSPRNG: for a store that is not shared between processes.
  static FingerprintKey generate();

 private:
  explicit FingerprintKey(std::string bytes) : bytes_(std::move(bytes)) {}
  std::string bytes_;
  friend std::string request_fingerprint(const PaymentMethod& pm, const FingerprintKey& key);
};

// The key for the configured store: the secret when one is set; otherwise a random key, unless
// the store is shared between instances (Redis), where a missing secret is an error
// (`invalid_idempotency_secret`, message naming --idempotency-secret).
Expected<FingerprintKey> make_fingerprint_key(std::string_view configured_secret,
                                              bool store_is_shared);

// HMAC-SHA256(key, canonical(pm)) as 64 lowercase hex digits.
std::string request_fingerprint(const PaymentMethod& pm, const FingerprintKey& key);

}  // namespace tokenizer
