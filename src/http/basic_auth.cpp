#include "http/basic_auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <cctype>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <utility>

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

// Strict base64 (padding required to a multiple of 4; '=' only at the end) into `out`, which
// has room for in.size() / 4 * 3 bytes. Returns the decoded length, or -1.
int b64_decode_into(std::string_view in, unsigned char* out) {
  if (in.empty() || in.size() % 4 != 0 || in.size() > 4096) return -1;
  std::size_t pad = 0;
  if (in.back() == '=') ++pad;
  if (in.size() >= 2 && in[in.size() - 2] == '=') ++pad;
  for (std::size_t i = 0; i < in.size() - pad; ++i) {
    if (!is_b64_char(in[i])) return -1;
  }
  const int n = EVP_DecodeBlock(out, reinterpret_cast<const unsigned char*>(in.data()),
                                static_cast<int>(in.size()));
  if (n < 0) return -1;
  return n - static_cast<int>(pad);
}

std::optional<std::string> b64_decode(std::string_view in) {
  if (in.empty() || in.size() % 4 != 0 || in.size() > 4096) return std::nullopt;
  std::string out(in.size() / 4 * 3, '\0');
  const int n = b64_decode_into(in, reinterpret_cast<unsigned char*>(out.data()));
  if (n < 0) return std::nullopt;
  out.resize(static_cast<std::size_t>(n));
  return out;
}

// The largest decoded credential: 4096 base64 characters.
constexpr std::size_t kMaxDecodedCredentials = 4096 / 4 * 3;

// parse_basic_authorization without allocating: `buf` (kMaxDecodedCredentials bytes) receives
// the decoded "user:password"; the views point into it. `written` is how much of `buf` holds
// decoded bytes (to be wiped), also when the header is refused.
std::optional<std::pair<std::string_view, std::string_view>> parse_basic_into(
    std::string_view v, unsigned char* buf, std::size_t& written) {
  written = 0;
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  const auto space = v.find(' ');
  if (space == std::string_view::npos || !iequals(v.substr(0, space), "basic")) return std::nullopt;
  std::string_view token = v.substr(space + 1);
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  if (!token.empty() && token.size() % 4 == 0 && token.size() <= 4096) {
    written = token.size() / 4 * 3;  // what EVP_DecodeBlock may write, even if it then fails
  }
  const int n = b64_decode_into(token, buf);
  if (n < 0) return std::nullopt;
  const std::string_view decoded(reinterpret_cast<const char*>(buf), static_cast<std::size_t>(n));
  const auto colon = decoded.find(':');
  if (colon == std::string_view::npos || colon == 0) return std::nullopt;
  for (char c : decoded) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return std::nullopt;
  }
  return std::make_pair(decoded.substr(0, colon), decoded.substr(colon + 1));
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

// SHA-256 through a digest fetched once and a context per thread: SHA256() fetches the
// algorithm from the provider on every call (~3 k instructions) and allocates a context.
Authenticator::Digest sha256(std::string_view s) {
  static const EVP_MD* const md = [] {
    const EVP_MD* fetched = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    return fetched != nullptr ? fetched : EVP_sha256();
  }();
  struct CtxDeleter {
    void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
  };
  thread_local std::unique_ptr<EVP_MD_CTX, CtxDeleter> ctx(EVP_MD_CTX_new());
  Authenticator::Digest d{};
  unsigned int len = 0;
  if (!ctx || EVP_DigestInit_ex2(ctx.get(), md, nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), s.data(), s.size()) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), d.data(), &len) != 1 || len != d.size()) {
    // Cannot happen with a working libcrypto; never let it compare equal by accident.
    throw std::runtime_error("SHA-256 failed");
  }
  return d;
}

bool digests_equal(const Authenticator::Digest& a, const Authenticator::Digest& b) {
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace

std::optional<BasicCredentials> parse_basic_authorization(std::string_view v) {
  unsigned char buf[kMaxDecodedCredentials];
  std::size_t written = 0;
  const auto parsed = parse_basic_into(v, buf, written);
  std::optional<BasicCredentials> out;
  if (parsed) out = BasicCredentials{std::string(parsed->first), std::string(parsed->second)};
  if (written > 0) OPENSSL_cleanse(buf, written);
  return out;
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

Authenticator::Authenticator(std::vector<ClientCredential> clients)
    : clients_(std::move(clients)),
      configured_digest_(clients_.size()),
      verified_digest_(clients_.size()),
      dummy_digest_(sha256("tokenizer-dummy-password")) {
  for (std::size_t i = 0; i < clients_.size(); ++i) {
    if (clients_[i].password_hash.empty()) configured_digest_[i] = sha256(clients_[i].password);
  }
}

bool Authenticator::has_plaintext_credentials() const {
  for (const auto& c : clients_) {
    if (c.password_hash.empty()) return true;
  }
  return false;
}

std::optional<std::string> Authenticator::authenticate(
    std::optional<std::string_view> authorization) const {
  if (!authorization) return std::nullopt;
  unsigned char buf[kMaxDecodedCredentials];
  struct Wipe {  // the decoded password never outlives this call
    unsigned char* p;
    std::size_t n = 0;
    ~Wipe() {
      if (n > 0) OPENSSL_cleanse(p, n);
    }
  } wipe{buf};
  const auto creds = parse_basic_into(*authorization, buf, wipe.n);
  if (!creds) return std::nullopt;
  const auto& [user, password] = *creds;
  std::size_t match = clients_.size();
  for (std::size_t i = 0; i < clients_.size(); ++i) {
    if (clients_[i].user == user) match = i;
  }
  // Exactly one SHA-256 of the offered password on every path, compared in constant time
  // with a fixed-length digest, so neither timing nor length says whether the user exists.
  const Digest digest = sha256(password);
  if (match == clients_.size()) {
    (void)digests_equal(digest, dummy_digest_);
    return std::nullopt;
  }
  const ClientCredential& client = clients_[match];
  if (client.password_hash.empty()) {
    if (!digests_equal(digest, configured_digest_[match])) return std::nullopt;
    return client.user;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    const auto& verified = verified_digest_[match];
    if (verified && digests_equal(*verified, digest)) return client.user;
  }
  if (!verify_password_hash(password, client.password_hash)) return std::nullopt;
  std::lock_guard<std::mutex> lock(mu_);
  verified_digest_[match] = digest;
  return client.user;
}

}  // namespace tokenizer
