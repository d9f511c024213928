// fuzz_authorization: the `Authorization: Basic` parser and the password-hash verifier
// (http/basic_auth.h), and Authenticator::authenticate over a fixed client list.
//
// Input: up to three '\n'-separated parts (seeds: corpus/authorization/):
//   1. an Authorization header value          → parse_basic_authorization, authenticate
//   2. a password-hash line (basic-auth file)  → verify_password_hash(part 3, line); lines
//      asking for more than 2000 PBKDF2 iterations are skipped to keep runs fast
//   3. the password for part 2 (the rest of the input, newlines included)
// Checks: parsed credentials have a non-empty user without ':' and no control characters,
// and re-encoding them parses back to the same pair; only the right password authenticates
// each configured client; a hash made by hash_password() verifies its own password.
#include <openssl/evp.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_support.h"
#include "http/basic_auth.h"

namespace tokenizer {
namespace {

constexpr long kMaxFuzzIterations = 2000;

std::string base64(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(in.data()),
                                static_cast<int>(in.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

// Iterations asked for by a `pbkdf2-sha256$<n>$...` line (0 when it has none).
long requested_iterations(std::string_view line) {
  constexpr std::string_view kPrefix = "pbkdf2-sha256$";
  if (line.substr(0, kPrefix.size()) != kPrefix) return 0;
  long n = 0;
  for (char c : line.substr(kPrefix.size())) {
    if (!fuzz::is_digit(c)) break;
    n = n * 10 + (c - '0');
    if (n > kMaxFuzzIterations) return n;
  }
  return n;
}

const Authenticator& authenticator() {
  static const Authenticator instance([] {
    std::vector<ClientCredential> clients;
    clients.push_back(ClientCredential{"alice", "wonderland", ""});
    clients.push_back(ClientCredential{"bob", "", hash_password("builder", 1000)});
    return clients;
  }());
  return instance;
}

void check_header(std::string_view header) {
  const std::optional<BasicCredentials> creds = parse_basic_authorization(header);
  const std::optional<std::string> client = authenticator().authenticate(header);
  if (!creds) {
    FUZZ_CHECK(!client, "an unparsable header never authenticates");
    return;
  }
  FUZZ_CHECK(!creds->user.empty(), "user is not empty");
  FUZZ_CHECK(creds->user.find(':') == std::string::npos, "user has no ':'");
  for (char c : creds->user + creds->password) {
    const auto u = static_cast<unsigned char>(c);
    FUZZ_CHECK(u >= 0x20 && u != 0x7f, "no control characters in credentials");
  }
  const std::string again = "Basic " + base64(creds->user + ":" + creds->password);
  const std::optional<BasicCredentials> reparsed = parse_basic_authorization(again);
  FUZZ_CHECK(reparsed && reparsed->user == creds->user && reparsed->password == creds->password,
             "credentials round-trip through base64");

  const bool alice = creds->user == "alice" && creds->password == "wonderland";
  const bool bob = creds->user == "bob" && creds->password == "builder";
  FUZZ_CHECK(client.has_value() == (alice || bob), "only the right password authenticates");
  if (client) FUZZ_CHECK(*client == creds->user, "the client id is the user");
}

void check_hash_line(std::string_view line, std::string_view password) {
  if (requested_iterations(line) > kMaxFuzzIterations) return;
  (void)verify_password_hash(password, line);
  if (line.empty() && password.size() <= 64) {
    // A fresh hash verifies its own password, and not a different one.
    const std::string made = hash_password(password, 1000);
    FUZZ_CHECK(verify_password_hash(password, made), "a new hash verifies its password");
    const std::string other = std::string(password) + "x";
    FUZZ_CHECK(!verify_password_hash(other, made), "a new hash rejects another password");
  }
}

}  // namespace
}  // namespace tokenizer

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t nl1 = input.find('\n');
  tokenizer::check_header(input.substr(0, nl1));
  if (nl1 == std::string_view::npos) return 0;
  const std::string_view rest = input.substr(nl1 + 1);
  const std::size_t nl2 = rest.find('\n');
  const std::string_view password =
      nl2 == std::string_view::npos ? std::string_view() : rest.substr(nl2 + 1);
  tokenizer::check_hash_line(rest.substr(0, nl2), password);
  return 0;
}
