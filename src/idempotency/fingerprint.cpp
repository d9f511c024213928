#include "idempotency/fingerprint.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <cstdlib>
#include <memory>

#include "common/random.h"

namespace tokenizer {
namespace {

constexpr const char* kInvalidSecret = "invalid_idempotency_secret";
constexpr std::string_view kCanonicalVersion = "tokenizer.payment_method.v1\n";

EVP_MAC* hmac_algorithm() {
  // Fetched once; EVP_MAC objects are thread-safe to share.
  static EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  return mac;
}

struct MacCtxDeleter {
  void operator()(EVP_MAC_CTX* ctx) const { EVP_MAC_CTX_free(ctx); }
};

class Mac {
 public:
  explicit Mac(const std::string& key) : ctx_(EVP_MAC_CTX_new(hmac_algorithm())) {
    char digest[] = "SHA256";
    const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                                 OSSL_PARAM_construct_end()};
    if (!ctx_ || EVP_MAC_init(ctx_.get(), reinterpret_cast<const unsigned char*>(key.data()),
                              key.size(), params) != 1) {
      // Only possible if OpenSSL itself is broken (no default provider): a start-up fault.
      std::abort();
    }
  }
  void update(std::string_view data) {
    EVP_MAC_update(ctx_.get(), reinterpret_cast<const unsigned char*>(data.data()), data.size());
  }
  // "<name>:<length>:<value>\n"
  void field(std::string_view name, std::string_view value) {
    update(name);
    update(":" + std::to_string(value.size()) + ":");
    update(value);
    update("\n");
  }
  std::string final_hex() {
    unsigned char out[EVP_MAX_MD_SIZE];
    std::size_t len = 0;
    EVP_MAC_final(ctx_.get(), out, &len, sizeof out);
    static const char* kHex = "0123456789abcdef";
    std::string hex(len * 2, '0');
    for (std::size_t i = 0; i < len; ++i) {
      hex[2 * i] = kHex[out[i] >> 4];
      hex[2 * i + 1] = kHex[out[i] & 0x0F];
    }
    return hex;
  }

 private:
  std::unique_ptr<EVP_MAC_CTX, MacCtxDeleter> ctx_;
};

}  // namespace

Expected<FingerprintKey> FingerprintKey::from_secret(std::string_view secret) {
  if (secret.size() < kMinFingerprintSecretLength) {
    return Error{kInvalidSecret, "--idempotency-secret must be at least 16 bytes"};
  }
  return FingerprintKey(std::string(secret));
}

FingerprintKey FingerprintKey::generate() { return FingerprintKey(secure_random_hex(32)); }

Expected<FingerprintKey> make_fingerprint_key(std::string_view configured_secret,
                                              bool store_is_shared) {
  if (!configured_secret.empty()) return FingerprintKey::from_secret(configured_secret);
  if (store_is_shared) {
    return Error{kInvalidSecret,
                 "--idempotency-secret is required with a shared (redis) idempotency store, "
                 "and must be the same on every instance"};
  }
  return FingerprintKey::generate();
}

std::string request_fingerprint(const PaymentMethod& pm, const FingerprintKey& key) {
  Mac mac(key.bytes_);
  mac.update(kCanonicalVersion);
  mac.field("card_number", pm.card_number);
  mac.field("cvv", pm.cvv);
  mac.field("month", std::to_string(pm.month));
  mac.field("year", std::to_string(pm.year));
  mac.field("first_name", pm.first_name);
  mac.field("last_name", pm.last_name);
  if (pm.email) {
    mac.field("email", *pm.email);
  } else {
    mac.update("email:absent\n");
  }
  return mac.final_hex();
}

}  // namespace tokenizer
