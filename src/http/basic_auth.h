// Client authentication with HTTP Basic credentials.
//
// - `parse_basic_authorization()` parses an `Authorization` header value defensively
//   (hostile input; fuzzed): scheme "Basic" (any case), strict base64, "user:password".
// - Password hashes are PBKDF2-HMAC-SHA256 lines `pbkdf2-sha256$<iterations>$<salt>$<hash>`
//   (salt and hash base64), made by `hash_password()` (the `tokenizer-passwd` command).
// - `Authenticator` checks a header against the configured clients in constant time and
//   returns the client id. A PBKDF2 check costs milliseconds by design, so after a
//   successful check the authenticator remembers a SHA-256 of that user's password and
//   later requests compare against it (constant time) instead of re-deriving. Every
//   request hashes the offered password once (SHA-256, a digest fetched once and a context
//   per thread) and compares fixed-length digests with CRYPTO_memcmp: against the remembered
//   digest, the digest of a plain-text password (computed at construction), or, for unknown
//   users, a dummy, so timing reveals neither which users exist nor a password's length.
//   The decoded credentials live in a stack buffer that is wiped before returning.
// Thread-safe.
#pragma once

#include <array>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"

namespace tokenizer {

struct BasicCredentials {
  std::string user;
  std::string password;
};

std::optional<BasicCredentials> parse_basic_authorization(std::string_view header_value);

// A new hash line for `password` with a random salt.
std::string hash_password(std::string_view password, int iterations = 210000);
// True when `password` matches `hash_line`; false for a malformed line.
bool verify_password_hash(std::string_view password, std::string_view hash_line);

class Authenticator {
 public:
  using Digest = std::array<unsigned char, 32>;  // SHA-256

  explicit Authenticator(std::vector<ClientCredential> clients);

  // The authenticated client id, or nullopt (missing, malformed or wrong credentials).
  std::optional<std::string> authenticate(std::optional<std::string_view> authorization) const;

  bool has_plaintext_credentials() const;
  bool enabled() const { return !clients_.empty(); }

 private:
  std::vector<ClientCredential> clients_;
  std::vector<Digest> configured_digest_;  // per client: sha256(plain-text password), if any
  mutable std::mutex mu_;
  // Per client (hashed passwords): sha256 of the password that last passed PBKDF2.
  mutable std::vector<std::optional<Digest>> verified_digest_;
  Digest dummy_digest_;
};

}  // namespace tokenizer
