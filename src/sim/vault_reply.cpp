#include "sim/vault_reply.h"

#include <ctime>
#include <stdexcept>

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <nlohmann/json.hpp>

namespace tokenizer {
namespace {

using nlohmann::json;

void fill_random(unsigned char* out, std::size_t n) {
  if (RAND_bytes(out, static_cast<int>(n)) != 1) throw std::runtime_error("RAND_bytes failed");
}

// Appends `s` (valid UTF-8, as the JSON parser guarantees) as a JSON string literal.
void append_json_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (u < 0x20) {
      out += "\\u00";
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 0x0f]);
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
}

void append_nullable_json_string(std::string& out, std::string_view s) {
  if (s.empty()) {
    out += "null";
  } else {
    append_json_string(out, s);
  }
}

}  // namespace

std::string random_vault_token() {
  static constexpr char kAlphabet[] =
      "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  constexpr std::size_t kLength = 26;
  // CSPRNG output is drawn 512 bytes at a time per thread (one RAND_bytes call serves
  // about ten tokens); each byte is used once. The process never forks, so no two
  // processes can share a buffer.
  thread_local unsigned char pool[512];
  thread_local std::size_t used = sizeof pool;
  std::string out;
  out.reserve(kLength);
  while (out.size() < kLength) {
    if (used == sizeof pool) {
      fill_random(pool, sizeof pool);
      used = 0;
    }
    const unsigned char b = pool[used++];
    // Rejection sampling keeps the distribution uniform: bytes >= 248 (= 4 * 62) are skipped.
    if (b < 248) out.push_back(kAlphabet[b % 62]);
  }
  return out;
}

std::string iso8601_utc(std::chrono::system_clock::time_point t) {
  const std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm utc{};
  gmtime_r(&secs, &utc);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return buf;
}

VaultReplyBuilder::VaultReplyBuilder() : sha256_(EVP_MD_fetch(nullptr, "SHA256", nullptr)) {
  fill_random(key_.data(), key_.size());
  if (sha256_ == nullptr) throw std::runtime_error("SHA-256 is not available");
}

VaultReplyBuilder::~VaultReplyBuilder() { EVP_MD_free(sha256_); }

std::string VaultReplyBuilder::fingerprint(std::string_view number) const {
  // SHA-256 over key || number: keyed, so it says nothing about the number, and a third of
  // the cost of HMAC() (which looks the digest up on every call).
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  const bool ok = ctx != nullptr && EVP_DigestInit_ex(ctx, sha256_, nullptr) == 1 &&
                  EVP_DigestUpdate(ctx, key_.data(), key_.size()) == 1 &&
                  EVP_DigestUpdate(ctx, number.data(), number.size()) == 1 &&
                  EVP_DigestFinal_ex(ctx, mac, &mac_len) == 1;
  EVP_MD_CTX_free(ctx);
  if (!ok) return "";
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < 16 && i < mac_len; ++i) {
    out.push_back(kHex[mac[i] >> 4]);
    out.push_back(kHex[mac[i] & 0x0f]);
  }
  return out;
}

std::string VaultReplyBuilder::success(const CardSubmission& card,
                                       std::chrono::system_clock::time_point now) const {
  // Written directly rather than through a json tree: this is the hot path of every
  // benchmark (the tree and its dump cost about 5 us of the 7.6 us per reply).
  const std::string stamp = iso8601_utc(now);
  const std::string last_four =
      card.number.size() >= 4 ? card.number.substr(card.number.size() - 4) : "";
  std::string out;
  out.reserve(1024);
  out += R"({"transaction":{"token":")";
  out += random_vault_token();
  out += R"(","created_at":")" + stamp + R"(","updated_at":")" + stamp;
  out +=
      R"(","succeeded":true,"state":"succeeded","transaction_type":"AddPaymentMethod","retained":)";
  out += card.retained ? "true" : "false";
  out += R"(,"message_key":"messages.transaction_succeeded","message":"Succeeded!",)"
         R"("payment_method":{"token":")";
  out += random_vault_token();
  out += R"(","created_at":")" + stamp + R"(","updated_at":")" + stamp + R"(","email":)";
  append_nullable_json_string(out, card.email);
  out += R"(,"data":null,"storage_state":")";
  out += card.retained ? "retained" : "cached";
  out += R"(","test":true,"metadata":null,"callback_url":null,"last_four_digits":")" + last_four;
  out += R"(","first_six_digits":")" + card.number.substr(0, 6) + R"(","card_type":)";
  append_nullable_json_string(out, card.card_type);
  out += R"(,"first_name":)";
  append_json_string(out, card.first_name);
  out += R"(,"last_name":)";
  append_json_string(out, card.last_name);
  out += R"(,"month":)" + std::to_string(card.month) + R"(,"year":)" + std::to_string(card.year);
  out += R"(,"full_name":)";
  append_json_string(out, card.full_name);
  out += R"(,"number":"XXXX-XXXX-XXXX-)" + last_four + R"(","verification_value":")";
  out += card.has_verification_value ? "XXX" : "";
  out += R"(","fingerprint":")" + fingerprint(card.number);
  out += R"(","payment_method_type":"credit_card","errors":[]}}})";
  return out;
}

std::string VaultReplyBuilder::field_errors(const std::vector<FieldError>& errors) {
  json list = json::array();
  for (const auto& e : errors) {
    json item;
    if (!e.attribute.empty()) item["attribute"] = e.attribute;
    item["key"] = e.key;
    item["message"] = e.message;
    list.push_back(std::move(item));
  }
  return json{{"errors", std::move(list)}}.dump();
}

std::string VaultReplyBuilder::error(std::string_view key, std::string_view message) {
  return field_errors({FieldError{"", std::string(key), std::string(message)}});
}

std::string VaultReplyBuilder::injected_error(int status) {
  struct Known {
    int status;
    const char* key;
    const char* message;
  };
  static constexpr Known kKnown[] = {
      {400, "errors.bad_request", "Bad request"},
      {401, "errors.access_denied",
       "Unable to authenticate using the given environment_key and access_token."},
      {402, "errors.account_inactive", "Your account is not active."},
      {403, "errors.forbidden", "Forbidden"},
      {404, "errors.not_found", "Unable to find the specified resource."},
      {408, "errors.request_timeout", "Request timeout"},
      {422, "errors.processing_failed", "The card could not be processed."},
      {429, "errors.rate_limit_exceeded", "Too many requests"},
      {500, "errors.internal_server_error", "Internal server error"},
      {502, "errors.bad_gateway", "Bad gateway"},
      {503, "errors.service_unavailable", "Service temporarily unavailable"},
      {504, "errors.gateway_timeout", "Gateway timeout"},
  };
  for (const auto& known : kKnown) {
    if (known.status == status) {
      return error(known.key, std::string(known.message) + " (injected by upstream-sim)");
    }
  }
  return error("errors.status_" + std::to_string(status),
               "Injected status " + std::to_string(status) + " (upstream-sim)");
}

std::string VaultReplyBuilder::garbage() {
  return "{\"transaction\": {\"token\": \"<html><body>upstream-sim garbage</bo";
}

}  // namespace tokenizer
