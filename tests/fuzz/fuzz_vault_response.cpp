// fuzz_vault_response: mapping of a vault reply (VaultClient::map_result and
// parse_retry_after, upstream/vault_client.h) for any status, headers and body.
//
// Input: a readable HTTP-reply-like text (seeds: corpus/vault_response/):
//   line 1        the status code (decimal, may be negative or out of range), or
//                 "transport <kind 0-5> <sent 0|1> <message>" for a transport error
//   next lines    "name: value" headers (names lowercased, as the transport delivers them)
//                 up to the first empty line
//   the rest      the body
// It checks the documented contract: rejection messages are printable ASCII of at most 200
// characters with no run of 6+ digits (single spaces or dashes between digits counted),
// attributes and keys are short safe identifiers, a token only on success, Retry-After
// within 0..86400 s, and `detail` never carries the body.
#include <cctype>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_support.h"
#include "upstream/vault_client.h"

namespace tokenizer {
namespace {

using fuzz::is_digit;

// 2026-11-23T10:00:00Z, the fake clock's start.
const std::chrono::system_clock::time_point kNow =
    std::chrono::system_clock::time_point(std::chrono::seconds(1795428000LL));

bool is_identifier(const std::string& s, std::size_t max_chars) {
  if (s.size() > max_chars || fuzz::longest_digit_run(s) >= 6) return false;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) ||
                    c == '_' || c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

void check_sanitized(const std::string& message) {
  FUZZ_CHECK(message.size() <= 200, "message capped at 200 characters");
  FUZZ_CHECK(fuzz::is_printable_ascii(message), "message is printable ASCII");
  FUZZ_CHECK(fuzz::longest_grouped_digit_run(message) < 6, "no 6+ digit run in a message");
}

void check_retry_after(const std::optional<std::chrono::seconds>& value) {
  if (value) FUZZ_CHECK(value->count() >= 0 && value->count() <= 86400, "Retry-After clamped");
}

int parse_status(std::string_view line) {
  bool negative = false;
  if (!line.empty() && line.front() == '-') {
    negative = true;
    line.remove_prefix(1);
  }
  long long v = 0;
  for (char c : line.substr(0, 10)) {
    if (!is_digit(c)) break;
    v = v * 10 + (c - '0');
  }
  if (v > 2147483647LL) v = 2147483647LL;
  return static_cast<int>(negative ? -v : v);
}

HttpResult build_result(std::string_view input) {
  HttpResult result;
  result.elapsed = std::chrono::milliseconds(12);
  const std::size_t first_nl = input.find('\n');
  const std::string_view first = input.substr(0, first_nl);
  const std::string_view rest =
      first_nl == std::string_view::npos ? std::string_view() : input.substr(first_nl + 1);
  constexpr std::string_view kTransport = "transport ";
  if (first.substr(0, kTransport.size()) == kTransport) {
    const std::string_view args = first.substr(kTransport.size());
    const int kind = args.empty() ? 0 : (static_cast<unsigned char>(args[0]) % 6);
    result.error.kind = static_cast<TransportError::Kind>(kind);
    result.error.request_sent = args.size() > 2 && args[2] == '1';
    result.error.message = std::string(args.size() > 4 ? args.substr(4) : std::string_view());
    return result;
  }
  HttpResponse response;
  response.status = parse_status(first);
  std::string_view cursor = rest;
  while (!cursor.empty()) {
    const std::size_t nl = cursor.find('\n');
    const std::string_view line = cursor.substr(0, nl);
    cursor = nl == std::string_view::npos ? std::string_view() : cursor.substr(nl + 1);
    if (line.empty()) break;  // end of headers
    const std::size_t colon = line.find(':');
    std::string name(line.substr(0, colon));
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string_view value =
        colon == std::string_view::npos ? std::string_view() : line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    response.headers[name] = std::string(value);
  }
  response.body = std::string(cursor);
  result.response = std::move(response);
  return result;
}

void check_attempt(const HttpResult& result, const VaultAttempt& a) {
  FUZZ_CHECK(outcome_name(a.outcome) != nullptr, "outcome has a name");
  FUZZ_CHECK(a.elapsed == result.elapsed, "elapsed copied");
  if (!result.response) {
    FUZZ_CHECK(a.http_status == 0 && a.transport_error == result.error.kind,
               "transport errors keep their kind");
    FUZZ_CHECK(a.outcome != VaultOutcome::success && a.rejections.empty() && a.token.empty(),
               "a transport error is never a success");
    return;
  }
  const HttpResponse& r = *result.response;
  FUZZ_CHECK(a.http_status == r.status && a.request_sent, "a reply means the request was sent");
  FUZZ_CHECK(!a.transport_error, "no transport error with a reply");
  // (Only for bodies that cannot be a piece of the fixed detail text, e.g. "unexpected".)
  if (r.body.size() >= 8 && r.body.find_first_of("{}[]\"<>") != std::string::npos) {
    FUZZ_CHECK(a.detail.find(r.body) == std::string::npos, "detail never carries the body");
  }
  FUZZ_CHECK(fuzz::longest_grouped_digit_run(a.detail) < 6 ||
                 fuzz::longest_grouped_digit_run(std::to_string(r.status)) >= 6,
             "detail carries no digits beyond the status");

  if (a.outcome == VaultOutcome::success) {
    FUZZ_CHECK(r.status == 200 || r.status == 201, "success only on 200/201");
    FUZZ_CHECK(!a.token.empty() && a.token.size() <= 256, "token present and bounded");
    for (char c : a.token) {
      FUZZ_CHECK((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '_' ||
                     c == '-' || c == '.',
                 "token characters are safe");
    }
    FUZZ_CHECK(a.card.first_six.empty() ||
                   (a.card.first_six.size() == 6 && fuzz::longest_digit_run(a.card.first_six) == 6),
               "first_six is 6 digits or empty");
    FUZZ_CHECK(a.card.last_four.empty() ||
                   (a.card.last_four.size() == 4 && fuzz::longest_digit_run(a.card.last_four) == 4),
               "last_four is 4 digits or empty");
    FUZZ_CHECK(is_identifier(a.card.brand, 32), "brand is a short identifier");
    FUZZ_CHECK(a.card.month >= 0 && a.card.month <= 9999 && a.card.year >= 0 &&
                   a.card.year <= 9999,
               "month/year bounded");
  } else {
    FUZZ_CHECK(a.token.empty(), "a token only on success");
  }
  if (a.outcome == VaultOutcome::rejected) {
    FUZZ_CHECK(r.status == 422, "rejections only on 422");
    FUZZ_CHECK(a.rejections.size() <= 20, "at most 20 rejections");
  } else {
    FUZZ_CHECK(a.rejections.empty(), "rejections only when rejected");
  }
  for (const VaultRejection& rej : a.rejections) {
    check_sanitized(rej.message);
    FUZZ_CHECK(is_identifier(rej.attribute, 64), "attribute is a safe identifier");
    FUZZ_CHECK(is_identifier(rej.key, 64), "key is a safe identifier");
  }
  if (a.retry_after) {
    FUZZ_CHECK(a.outcome == VaultOutcome::throttled || a.outcome == VaultOutcome::server_error,
               "Retry-After only when throttled or failing");
  }
  check_retry_after(a.retry_after);
  const bool expected_auth = r.status == 401 || r.status == 402 || r.status == 403;
  FUZZ_CHECK((a.outcome == VaultOutcome::auth_failed) == expected_auth, "401/402/403 = auth");
}

}  // namespace
}  // namespace tokenizer

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using tokenizer::VaultClient;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const tokenizer::HttpResult result = tokenizer::build_result(input);
  const tokenizer::VaultAttempt attempt = VaultClient::map_result(result, tokenizer::kNow);
  tokenizer::check_attempt(result, attempt);

  if (result.response) {
    // Every header value and the body as a Retry-After value, and the body as vault text.
    for (const auto& [name, value] : result.response->headers) {
      tokenizer::check_retry_after(VaultClient::parse_retry_after(value, tokenizer::kNow));
    }
    const std::string& body = result.response->body;
    tokenizer::check_retry_after(VaultClient::parse_retry_after(body, tokenizer::kNow));
    tokenizer::check_sanitized(VaultClient::sanitize_message(body));
  }
  return 0;
}
