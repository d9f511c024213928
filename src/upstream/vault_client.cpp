// VaultClient: request building and response mapping for the vault. See vault_client.h.
#include "upstream/vault_client.h"

#include "common/json_writer.h"
#include "tokenization/json_tree.h"

#include <curl/curl.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cstring>
#include <cctype>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <ctime>
#include <string_view>
#include <utility>

namespace tokenizer {

namespace {

constexpr std::size_t kMaxMessageChars = 200;
constexpr std::size_t kMaxIdentifierChars = 64;
constexpr std::size_t kMaxRejections = 20;
constexpr std::size_t kMaxTokenChars = 256;
constexpr std::size_t kMaxBrandChars = 32;
constexpr int kMaxJsonDepth = 32;
constexpr long long kMaxRetryAfterSeconds = 86400;
constexpr std::size_t kRedactDigitRun = 6;
constexpr const char* kRedacted = "[redacted]";

bool is_digit(char c) { return c >= '0' && c <= '9'; }

std::string lowercase(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// Whether `s` equals `lower` (lowercase ASCII) ignoring ASCII case; no allocation.
bool iequals_lower(std::string_view s, std::string_view lower) {
  if (s.size() != lower.size()) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != lower[i]) return false;
  }
  return true;
}

std::string base64(const std::string& in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(in.data()),
                                static_cast<int>(in.size()));
  out.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
  return out;
}

// --- Vault replies: read from a JsonTree (tokenization/json_tree.h), which accepts and types
// a reply exactly as the nlohmann parser it replaced did (checked by differential fuzzing).

// False when `body` is not JSON (as nlohmann decided), is not UTF-8 or nests deeper than
// kMaxJsonDepth.
bool parse_reply(JsonTree& doc, const std::string& body) {
  return doc.parse(body, kMaxJsonDepth) == JsonParseResult::ok;
}

std::string string_member(const JsonTree& doc, const JsonNode& object, const char* name) {
  const JsonNode* value = doc.member(object, name);
  return value != nullptr && value->is_string() ? std::string(value->as_string()) : std::string();
}

// An int given as a JSON number or a numeric string (the vault uses both); 0 otherwise.
int int_member(const JsonTree& doc, const JsonNode& object, const char* name) {
  const JsonNode* value = doc.member(object, name);
  if (value == nullptr) return 0;
  if (value->is_number_unsigned()) {
    return value->as_unsigned() <= 9999 ? static_cast<int>(value->as_unsigned()) : 0;
  }
  if (value->is_string()) {
    const std::string_view s = value->as_string();
    if (s.empty() || s.size() > 4 || !std::all_of(s.begin(), s.end(), is_digit)) return 0;
    int v = 0;
    std::from_chars(s.data(), s.data() + s.size(), v);
    return v;
  }
  return 0;  // negative integers (and "-0": 0 either way), floats and the rest
}

bool all_digits(const std::string& s, std::size_t length) {
  return s.size() == length && std::all_of(s.begin(), s.end(), is_digit);
}

bool has_long_digit_run(const std::string& s) {
  std::size_t run = 0;
  for (char c : s) {
    run = is_digit(c) ? run + 1 : 0;
    if (run >= kRedactDigitRun) return true;
  }
  return false;
}

// Kept only when it is a short identifier-like string with no card-like digit run.
std::string safe_identifier(const std::string& s, std::size_t max_chars) {
  if (s.size() > max_chars || has_long_digit_run(s)) return std::string();
  const bool ok = std::all_of(s.begin(), s.end(), [](unsigned char c) {
    return std::isalnum(c) != 0 || c == '_' || c == '.' || c == '-';
  });
  return ok ? s : std::string();
}

bool is_safe_token(const std::string& s) {
  if (s.empty() || s.size() > kMaxTokenChars) return false;
  return std::all_of(s.begin(), s.end(), [](unsigned char c) {
    return std::isalnum(c) != 0 || c == '_' || c == '-' || c == '.';
  });
}

// Removes every standalone run of digits equal to `digits` (e.g. the attempt's CVV).
std::string remove_exact_digit_run(const std::string& text, const std::string& digits) {
  if (digits.empty()) return text;
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    if (!is_digit(text[i])) {
      out.push_back(text[i++]);
      continue;
    }
    std::size_t j = i;
    while (j < text.size() && is_digit(text[j])) ++j;
    if (text.compare(i, j - i, digits) != 0 || j - i != digits.size()) {
      out.append(text, i, j - i);
    } else {
      out.append(kRedacted);
    }
    i = j;
  }
  return out;
}

std::vector<VaultRejection> parse_rejections(const JsonTree& doc, const JsonNode& list) {
  std::vector<VaultRejection> out;
  const auto [begin, end] = doc.elements(list);
  for (const JsonNode* entry = begin; entry != end; ++entry) {
    if (out.size() >= kMaxRejections) break;
    if (!entry->is_object()) continue;
    VaultRejection r;
    r.attribute = safe_identifier(string_member(doc, *entry, "attribute"), kMaxIdentifierChars);
    r.key = safe_identifier(string_member(doc, *entry, "key"), kMaxIdentifierChars);
    r.message = VaultClient::sanitize_message(string_member(doc, *entry, "message"));
    out.push_back(std::move(r));
  }
  return out;
}

// The create body, written directly: the bytes nlohmann::json::dump() wrote before (keys in
// its sorted order), {"payment_method":{"credit_card":{...},"email":...,"retained":true}}.
std::string create_body(const PaymentMethod& card) {
  std::string body;
  body.reserve(160 + card.first_name.size() + card.last_name.size() + card.card_number.size() +
               (card.email ? card.email->size() : 0));
  body.append(R"({"payment_method":{"credit_card":{"first_name":)");
  append_json_string(body, card.first_name);
  body.append(R"(,"last_name":)");
  append_json_string(body, card.last_name);
  body.append(R"(,"month":")");  // month and year go as strings, as the vault documents them
  append_json_int(body, card.month);
  body.append(R"(","number":)");
  append_json_string(body, card.card_number);
  body.append(R"(,"verification_value":)");
  append_json_string(body, card.cvv);
  body.append(R"(,"year":")");
  append_json_int(body, card.year);
  body.append(R"("})");
  if (card.email) {
    body.append(R"(,"email":)");
    append_json_string(body, *card.email);
  }
  body.append(R"(,"retained":true}})");
  return body;
}

VaultAttempt map_transport_error(const TransportError& error) {
  VaultAttempt a;
  a.request_sent = error.request_sent;
  a.transport_error = error.kind;
  switch (error.kind) {
    case TransportError::Kind::connect_failed:
      a.outcome = VaultOutcome::connect_error;
      a.request_sent = false;
      break;
    case TransportError::Kind::reset:
      a.outcome = VaultOutcome::reset;
      break;
    case TransportError::Kind::timeout:
      a.outcome = VaultOutcome::timeout;
      break;
    case TransportError::Kind::tls:
      a.outcome = VaultOutcome::tls_error;
      break;
    case TransportError::Kind::cancelled:
      a.outcome = error.request_sent ? VaultOutcome::reset : VaultOutcome::connect_error;
      break;
    case TransportError::Kind::other:
      a.outcome = VaultOutcome::bad_response;
      break;
  }
  a.detail = std::string("transport ") + transport_error_kind_name(error.kind) + ": " +
             error.message;
  return a;
}

void map_created(const std::string& body, VaultAttempt& a) {
  a.outcome = VaultOutcome::bad_response;
  JsonTree doc;
  if (!parse_reply(doc, body)) {
    a.detail += ": body is not JSON";
    return;
  }
  const JsonNode* succeeded = doc.path({"transaction", "succeeded"});
  if (succeeded != nullptr && succeeded->is_boolean() && !succeeded->as_bool()) {
    a.detail += ": transaction.succeeded is false";
    return;
  }
  const JsonNode* pm = doc.path({"transaction", "payment_method"});
  if (pm == nullptr || !pm->is_object()) {
    a.detail += ": no transaction.payment_method";
    return;
  }
  const std::string token = string_member(doc, *pm, "token");
  if (token.empty()) {
    a.detail += ": no transaction.payment_method.token";
    return;
  }
  if (!is_safe_token(token)) {
    a.detail += ": token has unexpected characters or length";
    return;
  }
  a.outcome = VaultOutcome::success;
  a.token = token;
  a.card.brand = lowercase(safe_identifier(string_member(doc, *pm, "card_type"), kMaxBrandChars));
  const std::string first_six = string_member(doc, *pm, "first_six_digits");
  const std::string last_four = string_member(doc, *pm, "last_four_digits");
  a.card.first_six = all_digits(first_six, 6) ? first_six : std::string();
  a.card.last_four = all_digits(last_four, 4) ? last_four : std::string();
  a.card.month = int_member(doc, *pm, "month");
  a.card.year = int_member(doc, *pm, "year");
}

void map_unprocessable(const std::string& body, VaultAttempt& a) {
  a.outcome = VaultOutcome::bad_response;
  JsonTree doc;
  if (!parse_reply(doc, body)) {
    a.detail += ": body is not JSON";
    return;
  }
  const JsonNode* list = doc.member(doc.root(), "errors");
  if (list == nullptr || !list->is_array()) {
    list = doc.path({"transaction", "payment_method", "errors"});
  }
  if (list == nullptr || !list->is_array()) {
    a.detail += ": no error list";
    return;
  }
  a.outcome = VaultOutcome::rejected;
  a.rejections = parse_rejections(doc, *list);
  a.detail += ": " + std::to_string(a.rejections.size()) + " rejection(s)";
}

}  // namespace

const char* outcome_name(VaultOutcome outcome) {
  switch (outcome) {
    case VaultOutcome::success:
      return "success";
    case VaultOutcome::rejected:
      return "rejected";
    case VaultOutcome::auth_failed:
      return "auth_failed";
    case VaultOutcome::throttled:
      return "throttled";
    case VaultOutcome::server_error:
      return "server_error";
    case VaultOutcome::bad_response:
      return "bad_response";
    case VaultOutcome::timeout:
      return "timeout";
    case VaultOutcome::connect_error:
      return "connect_error";
    case VaultOutcome::reset:
      return "reset";
    case VaultOutcome::tls_error:
      return "tls_error";
  }
  return "bad_response";
}

VaultClient::VaultClient(HttpTransport& transport, VaultConfig config, const Clock& clock)
    : transport_(transport), clock_(clock) {
  std::string base = std::move(config.base_url);
  while (!base.empty() && base.back() == '/') base.pop_back();
  endpoint_ = base + "/v1/payment_methods.json";
  authorization_ = "Basic " + base64(config.environment_key + ":" + config.access_secret);
}

Expected<Ok> VaultClient::validate(const VaultConfig& config) {
  auto has_control = [](const std::string& s) {
    return std::any_of(s.begin(), s.end(),
                       [](unsigned char c) { return c < 0x20 || c == 0x7f; });
  };
  const std::string& url = config.base_url;
  std::size_t host_start = 0;
  if (url.rfind("https://", 0) == 0) {
    host_start = 8;
  } else if (url.rfind("http://", 0) == 0) {
    host_start = 7;
  } else {
    return Error{"invalid_upstream_url", "upstream URL must start with http:// or https://"};
  }
  if (url.size() <= host_start || url[host_start] == '/' || has_control(url) ||
      url.find_first_of(" ?#@") != std::string::npos) {
    return Error{"invalid_upstream_url", "upstream URL must be scheme://host[:port][/path]"};
  }
  if (config.environment_key.empty() || has_control(config.environment_key) ||
      config.environment_key.find(':') != std::string::npos) {
    return Error{"invalid_upstream_key",
                 "upstream environment key must be non-empty, without ':' or control characters"};
  }
  if (config.access_secret.empty() || has_control(config.access_secret)) {
    return Error{"invalid_upstream_secret",
                 "upstream access secret must be non-empty, without control characters"};
  }
  return Ok{};
}

HttpRequest VaultClient::build_request(
    const PaymentMethod& card, std::vector<std::pair<std::string, std::string>> extra_headers,
    std::chrono::milliseconds timeout) const {
  HttpRequest request;
  request.method = "POST";
  request.url = endpoint_;
  request.timeout = timeout;
  request.body = create_body(card);
  request.headers.reserve(3 + extra_headers.size());
  request.headers.emplace_back("Authorization", authorization_);
  request.headers.emplace_back("Content-Type", "application/json");
  request.headers.emplace_back("Accept", "application/json");
  static constexpr std::string_view kOwned[] = {"authorization",  "content-type", "accept",
                                                "content-length", "host",         "expect",
                                                "connection",     "transfer-encoding"};
  for (auto& header : extra_headers) {
    const std::string& name = header.first;
    const bool owned = std::any_of(std::begin(kOwned), std::end(kOwned),
                                   [&](std::string_view o) { return iequals_lower(name, o); });
    const bool name_ok = !name.empty() && std::all_of(name.begin(), name.end(), [](unsigned char c) {
      return c > 0x20 && c < 0x7f && c != ':';
    });
    const std::string& value = header.second;
    const bool value_ok = std::memchr(value.data(), '\r', value.size()) == nullptr &&
                          std::memchr(value.data(), '\n', value.size()) == nullptr &&
                          std::memchr(value.data(), '\0', value.size()) == nullptr;
    if (!owned && name_ok && value_ok) request.headers.push_back(std::move(header));
  }
  return request;
}

void VaultClient::create_payment_method(const PaymentMethod& card, AttemptOptions options,
                                        Done done) const {
  HttpRequest request = build_request(card, std::move(options.extra_headers), options.timeout);
  const Clock* clock = &clock_;
  transport_.send(std::move(request),
                  [clock, cvv = card.cvv, done = std::move(done)](HttpResult result) {
                    VaultAttempt attempt = map_result(result, clock->wall());
                    // The vault may echo the CVV (3-4 digits, below the generic digit-run
                    // rule): remove this attempt's own CVV from anything it said.
                    for (auto& r : attempt.rejections) {
                      r.message = remove_exact_digit_run(r.message, cvv);
                    }
                    done(std::move(attempt));
                  });
}

VaultAttempt VaultClient::map_result(const HttpResult& result,
                                     std::chrono::system_clock::time_point now) {
  if (!result.response) {
    VaultAttempt a = map_transport_error(result.error);
    a.elapsed = result.elapsed;
    return a;
  }
  const HttpResponse& response = *result.response;
  VaultAttempt a;
  a.elapsed = result.elapsed;
  a.http_status = response.status;
  a.request_sent = true;
  a.detail = "vault " + std::to_string(response.status);
  const int s = response.status;
  const auto retry_after = [&] {
    auto it = response.headers.find("retry-after");
    if (it != response.headers.end()) a.retry_after = parse_retry_after(it->second, now);
  };

  if (s == 200 || s == 201) {
    map_created(response.body, a);
  } else if (s == 422) {
    map_unprocessable(response.body, a);
  } else if (s == 401 || s == 402 || s == 403) {
    a.outcome = VaultOutcome::auth_failed;
    a.detail += ": credentials or account refused";
  } else if (s == 408) {
    a.outcome = VaultOutcome::timeout;
    a.detail += ": the vault timed out reading the request";
  } else if (s == 429 || s == 503) {
    a.outcome = VaultOutcome::throttled;
    retry_after();
  } else if (s >= 500 && s <= 599) {
    a.outcome = VaultOutcome::server_error;
    retry_after();
  } else {
    a.outcome = VaultOutcome::bad_response;
    a.detail += ": unexpected status";
  }
  return a;
}

std::optional<std::chrono::seconds> VaultClient::parse_retry_after(
    const std::string& raw, std::chrono::system_clock::time_point now) {
  std::size_t b = 0;
  std::size_t e = raw.size();
  while (b < e && (raw[b] == ' ' || raw[b] == '\t')) ++b;
  while (e > b && (raw[e - 1] == ' ' || raw[e - 1] == '\t')) --e;
  const std::string value = raw.substr(b, e - b);
  if (value.empty()) return std::nullopt;

  if (std::all_of(value.begin(), value.end(), is_digit)) {  // delta-seconds
    if (value.size() > 9) return std::chrono::seconds(kMaxRetryAfterSeconds);
    return std::chrono::seconds(std::min(std::stoll(value), kMaxRetryAfterSeconds));
  }
  // HTTP-date (IMF-fixdate, RFC 850 or asctime): always starts with a day name.
  if (std::isalpha(static_cast<unsigned char>(value[0])) == 0) return std::nullopt;
  const time_t when = curl_getdate(value.c_str(), nullptr);
  if (when == static_cast<time_t>(-1)) return std::nullopt;
  // Compare in whole seconds: converting a far-future date to a time_point overflows the
  // clock's nanosecond representation (found by fuzz_vault_response).
  const long long now_s =
      std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  const long long when_s = static_cast<long long>(when);
  if (when_s <= now_s) return std::chrono::seconds(0);
  if (when_s - now_s >= kMaxRetryAfterSeconds) return std::chrono::seconds(kMaxRetryAfterSeconds);
  return std::chrono::seconds(when_s - now_s);
}

std::string VaultClient::sanitize_message(const std::string& text) {
  std::string printable;
  printable.reserve(std::min(text.size(), std::size_t{4096}));
  for (char c : text) {
    if (c >= 0x20 && c <= 0x7e) printable.push_back(c);
    if (printable.size() >= 4096) break;  // enough to fill kMaxMessageChars after redaction
  }

  // Runs of digits, possibly grouped by single spaces or dashes ("4111 1111-1111"),
  // with 6 or more digits in total, are redacted.
  std::string out;
  out.reserve(printable.size());
  std::size_t i = 0;
  while (i < printable.size()) {
    if (!is_digit(printable[i])) {
      out.push_back(printable[i++]);
      continue;
    }
    std::size_t j = i;
    std::size_t digits = 0;
    std::size_t end = i;  // one past the last digit of the run
    while (j < printable.size()) {
      if (is_digit(printable[j])) {
        ++digits;
        end = ++j;
      } else if ((printable[j] == ' ' || printable[j] == '-') && j + 1 < printable.size() &&
                 is_digit(printable[j + 1])) {
        ++j;
      } else {
        break;
      }
    }
    if (digits >= kRedactDigitRun) {
      out.append(kRedacted);
    } else {
      out.append(printable, i, end - i);
    }
    i = end;
  }

  // Trim, then cap.
  const auto first = out.find_first_not_of(' ');
  if (first == std::string::npos) return std::string();
  out = out.substr(first, out.find_last_not_of(' ') - first + 1);
  if (out.size() > kMaxMessageChars) out.resize(kMaxMessageChars);
  return out;
}

}  // namespace tokenizer
