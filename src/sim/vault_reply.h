// VaultReply: the bodies upstream-sim answers on the vault API, in the shapes of
// VAULT-API.md: the 201 AddPaymentMethod transaction, 422 field errors
// `{"errors": [{"attribute", "key", "message"}]}`, and the one-error bodies of 400/401/402/
// 5xx `{"errors": [{"key", "message"}]}`.
//
// Tokens (payment method and transaction) are 26 random base62 characters from OpenSSL's
// CSPRNG. The card fingerprint is a SHA-256 of the number keyed with 32 random bytes drawn
// once per VaultReplyBuilder, so it is stable within a run and reveals nothing about the
// number.
// The success body carries only the masked number, first six and last four digits: never
// the PAN or the CVV. Thread-safe (const after construction).
#pragma once

#include <array>
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "sim/vault_request.h"

struct evp_md_st;

namespace tokenizer {

// 26 base62 characters from OpenSSL's RNG (about 154 bits).
std::string random_vault_token();

// "2026-11-23T10:00:00Z".
std::string iso8601_utc(std::chrono::system_clock::time_point t);

class VaultReplyBuilder {
 public:
  VaultReplyBuilder();  // throws only if OpenSSL has no SHA-256 (a broken installation)
  ~VaultReplyBuilder();
  VaultReplyBuilder(const VaultReplyBuilder&) = delete;
  VaultReplyBuilder& operator=(const VaultReplyBuilder&) = delete;

  // The 201 body for a stored card, with fresh tokens.
  std::string success(const CardSubmission& card, std::chrono::system_clock::time_point now) const;

  // A hex fingerprint of a card number (keyed SHA-256, 32 hex chars).
  std::string fingerprint(std::string_view number) const;

  static std::string field_errors(const std::vector<FieldError>& errors);
  static std::string error(std::string_view key, std::string_view message);
  // The body of an injected status: a vault-like error key for that status.
  static std::string injected_error(int status);
  // A 201 body that is not JSON (a reply cut short).
  static std::string garbage();

 private:
  std::array<unsigned char, 32> key_{};
  evp_md_st* sha256_ = nullptr;  // EVP_MD, fetched once
};

}  // namespace tokenizer
