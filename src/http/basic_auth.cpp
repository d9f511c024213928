#include "http/basic_auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <cctype>
#include <cstring>

namespace tokenizer {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

bool is_b64_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/';
}

// Strict base64 (padding required to a multiple of 4; '=' only at the end).
std::optional<std::string> b64_decode(std::string_view in) {
  if (in.empty() || in.size() % 4 != 0 || in.size() > 4096) return std::nullopt;
  std::size_t pad = 0;
  if (in.back() == '=') ++pad;
  if (in.size() >= 2 && in[in.size() - 2] == '=') ++pad;
  for (std::size_t i = 0; i < in.size() - pad; ++i) {
    if (!is_b64_char(in[i])) return std::nullopt;
  }
  std::string out(in.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(in.data()),
                                static_cast<int>(in.size()));
  if (n < 0) return std::nullopt;
  out.resize(static_cast<std::size_t>(n) - pad);
  return out;
}

std::string b64_encode(const unsigned char* data, std::size_t n) {
  std::string out(4 * ((n + 2) / 3) + 1, '\0');
  const int len = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data,
                                  static_cast<int>(n));
  out.resize(static_cast<std::size_t>(len));
  // Unpadded, so the line has no '=' to confuse shells and config files.
  while (!out.empty() && out.back() == '=') out.pop_back();
  return out;
}

std::optional<std::string> b64_decode_unpadded(std::string s) {
  while (s.size() % 4 != 0) s.push_back('=');
  return b64_decode(s);
}

std::string sha256(std::string_view s) {
  unsigned char d[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(s.data()), s.size(), d);
  return std::string(reinterpret_cast<const char*>(d), sizeof d);
}

bool equal_constant_time(std::string_view a, std::string_view b) {
  // Compare fixed-length digests so the length of a secret does not leak either.
  const std::string da = sha256(a);
  const std::string db = sha256(b);
  return CRYPTO_memcmp(da.data(), db.data(), da.size()) == 0;
}

}  // namespace

std::optional<BasicCredentials> parse_basic_authorization(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  const auto space = v.find(' ');
  if (space == std::string_view::npos || !iequals(v.substr(0, space), "basic")) return std::nullopt;
  std::string_view token = v.substr(space + 1);
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  auto decoded = b64_decode(token);
  if (!decoded) return std::nullopt;
  const auto colon = decoded->find(':');
  if (colon == std::string::npos || colon == 0) return std::nullopt;
  for (char c : *decoded) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return std::nullopt;
  }
  return BasicCredentials{decoded->substr(0, colon), decoded->substr(colon + 1)};
}

std::string hash_password(std::string_view password, int iterations) {
  unsigned char salt[16];
  RAND_bytes(salt, sizeof salt);
  unsigned char out[32];
  PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()), salt, sizeof salt,
                    iterations, EVP_sha256(), sizeof out, out);
  return "pbkdf2-sha256$" + std::to_string(iterations) + "$" + b64_encode(salt, sizeof salt) +
         "$" + b64_encode(out, sizeof out);
}

bool verify_password_hash(std::string_view password, std::string_view line) {
  constexpr std::string_view kPrefix = "pbkdf2-sha256$";
  if (line.substr(0, kPrefix.size()) != kPrefix) return false;
  line.remove_prefix(kPrefix.size());
  const auto d1 = line.find('$');
  if (d1 == std::string_view::npos) return false;
  const auto d2 = line.find('$', d1 + 1);
  if (d2 == std::string_view::npos) return false;
  const std::string iter_text(line.substr(0, d1));
  if (iter_text.empty() || iter_text.size() > 8) return false;
  for (char c : iter_text) {
    if (c < '0' || c > '9') return false;
  }
  const int iterations = std::stoi(iter_text);
  if (iterations < 1000) return false;
  auto salt = b64_decode_unpadded(std::string(line.substr(d1 + 1, d2 - d1 - 1)));
  auto want = b64_decode_unpadded(std::string(line.substr(d2 + 1)));
  if (!salt || !want || want->size() != 32) return false;
  unsigned char got[32];
  PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                    reinterpret_cast<const unsigned char*>(salt->data()),
                    static_cast<int>(salt->size()), iterations, EVP_sha256(), sizeof got, got);
  return CRYPTO_memcmp(got, want->data(), sizeof got) == 0;
}

Authenticator::Authenticator(std::vector<ClientCredential> clients) : clients_(std::move(clients)) {}

bool Authenticator::has_plaintext_credentials() const {
  for (const auto& c : clients_) {
    if (c.password_hash.empty()) return true;
  }
  return false;
}

std::optional<std::string> Authenticator::authenticate(
    std::optional<std::string_view> authorization) const {
  if (!authorization) return std::nullopt;
  auto creds = parse_basic_authorization(*authorization);
  if (!creds) return std::nullopt;
  const ClientCredential* match = nullptr;
  for (const auto& c : clients_) {
    if (c.user == creds->user) match = &c;
  }
  if (match == nullptr) {
    (void)equal_constant_time(creds->password, "tokenizer-dummy-password");
    return std::nullopt;
  }
  if (match->password_hash.empty()) {
    if (!equal_constant_time(creds->password, match->password)) return std::nullopt;
    return match->user;
  }
  const std::string digest = sha256(creds->password);
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = verified_digest_.find(match->user);
    if (it != verified_digest_.end() &&
        CRYPTO_memcmp(it->second.data(), digest.data(), digest.size()) == 0) {
      return match->user;
    }
  }
  if (!verify_password_hash(creds->password, match->password_hash)) return std::nullopt;
  std::lock_guard<std::mutex> lock(mu_);
  verified_digest_[match->user] = digest;
  return match->user;
}

}  // namespace tokenizer
