// VaultClient: request building and response mapping for the vault. See vault_client.h.
#include "upstream/vault_client.h"

#include "common/json_writer.h"
#include "tokenization/json_prescan.h"

#include <curl/curl.h>
#include <openssl/evp.h>
// x86-64 always has SSE2: RapidJSON then scans strings and whitespace 16 bytes at a time
// with aligned loads, which may read up to 15 bytes past the text; parse_buffer() pads the
// buffer with NULs so that those reads stay inside it.
#if defined(__SSE2__) && !defined(RAPIDJSON_SSE2)
#define RAPIDJSON_SSE2
#endif
#include <rapidjson/reader.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <initializer_list>
#include <string_view>
#include <system_error>
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

// --- Vault replies: RapidJSON, read exactly as the nlohmann parser it replaced read them ---
//
// RapidJSON's SAX reader feeds JsonTree, a small read-only DOM with just what the lookups
// below need. It parses in situ (strings are decoded inside a copy of the body and point
// into it), so the reader never uses its own stack. Not rapidjson::Document: in RapidJSON
// 1.1 the first push onto an empty Document or reader stack does arithmetic on a null
// pointer, which clang's UBSan (the fuzz build) stops on.
//
// RapidJSON accepts and refuses a few documents differently from nlohmann; each difference
// is undone here, so that a reply counts as JSON exactly when it did before (checked by
// differential fuzzing against the old code):
// - nlohmann skipped one leading UTF-8 byte order mark: skipped here too;
// - a \uDC00..\uDFFF escape with no high surrogate before it: nlohmann refused it,
//   RapidJSON 1.1 decodes it to bytes that are not UTF-8; refused here (string());
// - a number that overflows a double: nlohmann refused it, RapidJSON refuses some
//   (kParseErrorNumberTooBig) but reads others as infinity; refused here (RawNumber());
// - a finite number RapidJSON calls too big ("0e400", 309 digits just under DBL_MAX):
//   nlohmann read it as a float; see without_floats().
// Numbers arrive as text (kParseNumbersAsStringsFlag): integers that fit int64 are kept,
// as nlohmann kept them; no lookup reads any other number.

// No kParseValidateEncodingFlag: parse() runs prescan_json first, which refuses any text that
// is not well-formed UTF-8 (RFC 3629), so RapidJSON's own per-character validation only
// repeated it (about half of the parse's instructions, measured with callgrind).
// NUL bytes after the text being parsed; more than a 16-byte SIMD load can overrun.
constexpr std::size_t kSimdPadding = 16;

constexpr unsigned kParseFlags = rapidjson::kParseInsituFlag |
                                 rapidjson::kParseNumbersAsStringsFlag;

// Whether the text of a JSON number (grammar already checked) that does not fit a double
// is too large for one; otherwise it is too close to 0 (nlohmann read those as 0).
bool overflows_double(std::string_view number) {
  const std::size_t e = number.find_first_of("eE");
  const std::string_view mantissa = number.substr(0, e);
  long long exponent = 0;
  if (e != std::string_view::npos) {
    std::size_t i = e + 1;
    const bool negative = number[i] == '-';
    if (number[i] == '-' || number[i] == '+') ++i;
    for (; i < number.size(); ++i) {
      exponent = std::min(exponent * 10 + (number[i] - '0'), 1'000'000'000LL);
    }
    if (negative) exponent = -exponent;
  }
  const std::size_t point = std::min(mantissa.find('.'), mantissa.size());
  const std::size_t first = mantissa.find_first_of("123456789");
  if (first == std::string_view::npos) return false;  // zero
  // The power of ten of the first significant digit.
  const long long position = first < point ? static_cast<long long>(point - first) - 1
                                           : -static_cast<long long>(first - point);
  return position + exponent > 0;
}

// Whether the text of a JSON number is finite as a double (nlohmann refused the others).
bool is_finite_number(std::string_view number) {
  double value = 0;
  const auto r = std::from_chars(number.data(), number.data() + number.size(), value);
  return r.ec != std::errc::result_out_of_range || !overflows_double(number);
}

// Whether `t` is a number by the JSON grammar: -?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?
bool is_json_number(std::string_view t) {
  std::size_t i = 0;
  const auto digits = [&] {
    const std::size_t start = i;
    while (i < t.size() && is_digit(t[i])) ++i;
    return i > start;
  };
  if (i < t.size() && t[i] == '-') ++i;
  if (i < t.size() && t[i] == '0') {
    ++i;
  } else if (i >= t.size() || t[i] < '1' || t[i] > '9' || !digits()) {
    return false;
  }
  if (i < t.size() && t[i] == '.') {
    ++i;
    if (!digits()) return false;
  }
  if (i < t.size() && (t[i] == 'e' || t[i] == 'E')) {
    ++i;
    if (i < t.size() && (t[i] == '+' || t[i] == '-')) ++i;
    if (!digits()) return false;
  }
  return i == t.size();
}

// For the rare reply RapidJSON refuses with kParseErrorNumberTooBig: a copy of `text` in
// which every finite number other than an integer of at most 19 digits (a float to
// nlohmann, or an integer no lookup accepts) is replaced by a 0 of the same length. Numbers
// that overflow a double stay, for the parser to refuse as nlohmann did.
std::string without_floats(std::string_view text) {
  std::string out(text);
  bool in_string = false;
  bool escaped = false;
  std::size_t i = 0;
  while (i < out.size()) {
    const char c = out[i];
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      ++i;
      continue;
    }
    if (c == '"') in_string = true;
    if (c != '-' && !is_digit(c)) {
      ++i;
      continue;
    }
    const std::size_t end = std::min(out.find_first_not_of("0123456789+-.eE", i), out.size());
    const std::string_view number(out.data() + i, end - i);
    const bool short_integer =
        number.find_first_of(".eE") == std::string_view::npos && number.size() <= 19;
    if (!short_integer && is_json_number(number) && is_finite_number(number)) {
      out.replace(i, end - i, end - i, ' ');
      out[i] = '0';
    }
    i = end;
  }
  return out;
}

// One value of a JsonTree.
struct JsonNode {
  enum class Type : std::uint8_t { null, boolean, integer, other_number, string, array, object };
  Type type = Type::null;
  // string: length; array: elements; object: members.
  std::uint32_t size = 0;
  union {
    std::int64_t integer;  // integer (fits int64); boolean: 0 or 1
    const char* text;      // string, inside the tree's buffer
    std::uint32_t first;   // array: first element; object: first key (keys and values
                           // alternate), both indexes into the tree's finished nodes
  };
  JsonNode() : integer(0) {}
};

// A parsed reply: a read-only DOM with the lookups map_result makes. Built from RapidJSON's
// SAX events (this class is the handler); the values of a container are contiguous.
class JsonTree {
 public:
  JsonTree() = default;
  JsonTree(const JsonTree&) = delete;
  JsonTree& operator=(const JsonTree&) = delete;

  // False when `body` is not JSON (as nlohmann decided), is not UTF-8 or nests deeper than
  // kMaxJsonDepth.
  bool parse(const std::string& body) {
    // Depth is checked before parsing: RapidJSON's parser recurses once per level.
    if (body.empty() || prescan_json(body, kMaxJsonDepth) != JsonPrescanResult::ok) {
      return false;
    }
    std::string_view text(body);
    if (text.compare(0, 3, "\xEF\xBB\xBF") == 0) text.remove_prefix(3);
    buffer_.reserve(text.size() + kSimdPadding);
    buffer_.assign(text.data(), text.size());
    rapidjson::ParseErrorCode error = parse_buffer();
    if (error == rapidjson::kParseErrorNumberTooBig) {
      buffer_ = without_floats(text);
      error = parse_buffer();
    }
    return error == rapidjson::kParseErrorNone;
  }

  // The document; only after parse() returned true.
  const JsonNode& root() const { return open_.front(); }

  // `name` in `object`, or null. With duplicate keys the last one counts, as in nlohmann's
  // DOM (a std::map assigned in document order).
  const JsonNode* member(const JsonNode& object, std::string_view name) const {
    if (object.type != JsonNode::Type::object) return nullptr;
    for (std::uint32_t i = object.size; i > 0; --i) {
      const JsonNode& key = nodes_[object.first + 2 * (i - 1)];
      if (std::string_view(key.text, key.size) == name) return &key + 1;
    }
    return nullptr;
  }

  const JsonNode* path(std::initializer_list<const char*> names) const {
    const JsonNode* node = &root();
    for (const char* name : names) {
      node = member(*node, name);
      if (node == nullptr) return nullptr;
    }
    return node;
  }

  std::string string_member(const JsonNode& object, const char* name) const {
    const JsonNode* value = member(object, name);
    return value != nullptr && value->type == JsonNode::Type::string
               ? std::string(value->text, value->size)
               : std::string();
  }

  // An int given as a JSON number or a numeric string (the vault uses both); 0 otherwise.
  int int_member(const JsonNode& object, const char* name) const {
    const JsonNode* value = member(object, name);
    if (value == nullptr) return 0;
    if (value->type == JsonNode::Type::integer) {
      return value->integer >= 0 && value->integer <= 9999 ? static_cast<int>(value->integer)
                                                             : 0;
    }
    if (value->type == JsonNode::Type::string) {
      const std::string_view s(value->text, value->size);
      if (s.empty() || s.size() > 4 || !std::all_of(s.begin(), s.end(), is_digit)) return 0;
      int v = 0;
      std::from_chars(s.data(), s.data() + s.size(), v);
      return v;
    }
    return 0;
  }

  // The elements of an array (none for anything else).
  std::pair<const JsonNode*, const JsonNode*> elements(const JsonNode& array) const {
    if (array.type != JsonNode::Type::array || array.size == 0) return {nullptr, nullptr};
    return {&nodes_[array.first], &nodes_[array.first] + array.size};
  }

  // --- RapidJSON SAX handler -------------------------------------------------------------
  using Ch = char;
  bool Null() { return push(JsonNode::Type::null); }
  bool Bool(bool b) {
    JsonNode& n = open_.emplace_back();
    n.type = JsonNode::Type::boolean;
    n.integer = b ? 1 : 0;
    return true;
  }
  // With kParseNumbersAsStringsFlag every number comes through RawNumber.
  bool Int(int) { return false; }
  bool Uint(unsigned) { return false; }
  bool Int64(std::int64_t) { return false; }
  bool Uint64(std::uint64_t) { return false; }
  bool Double(double) { return false; }
  bool RawNumber(const char* text, rapidjson::SizeType length, bool) {
    const std::string_view number(text, length);
    const auto not_integer = [](char c) { return c == '.' || c == 'e' || c == 'E'; };
    if (std::none_of(text, text + length, not_integer)) {
      std::int64_t value = 0;
      const auto r = std::from_chars(text, text + length, value);
      if (r.ec == std::errc() && r.ptr == text + length) {
        JsonNode& n = open_.emplace_back();
        n.type = JsonNode::Type::integer;
        n.integer = value;
        return true;
      }
    }
    return is_finite_number(number) && push(JsonNode::Type::other_number);
  }
  bool String(const char* s, rapidjson::SizeType length, bool) {
    if (has_lone_low_surrogate(s, length)) return false;
    JsonNode& n = open_.emplace_back();
    n.type = JsonNode::Type::string;
    n.text = s;
    n.size = length;
    return true;
  }
  bool Key(const char* s, rapidjson::SizeType length, bool copy) { return String(s, length, copy); }
  bool StartObject() { return true; }
  bool EndObject(rapidjson::SizeType members) { return close(JsonNode::Type::object, members, 2); }
  bool StartArray() { return true; }
  bool EndArray(rapidjson::SizeType elements) { return close(JsonNode::Type::array, elements, 1); }

 private:
  rapidjson::ParseErrorCode parse_buffer() {
    nodes_.clear();
    open_.clear();
    nodes_.reserve(64);  // enough for a typical reply (about 40 values)
    open_.reserve(32);
    // NULs after the text: the parse still ends at the first NUL (as before), and the SIMD
    // scans never read beyond the allocation.
    buffer_.append(kSimdPadding, '\0');
    rapidjson::InsituStringStream stream(buffer_.data());
    rapidjson::Reader reader;
    const rapidjson::ParseResult result = reader.Parse<kParseFlags>(stream, *this);
    return result.Code();
  }

  bool push(JsonNode::Type type) {
    open_.emplace_back().type = type;
    return true;
  }

  // Moves the last `count` * `per_item` open values into nodes_, as one container.
  bool close(JsonNode::Type type, std::uint32_t count, std::uint32_t per_item) {
    const std::size_t n = static_cast<std::size_t>(count) * per_item;
    JsonNode container;
    container.type = type;
    container.size = count;
    container.first = static_cast<std::uint32_t>(nodes_.size());
    nodes_.insert(nodes_.end(), open_.end() - static_cast<std::ptrdiff_t>(n), open_.end());
    open_.resize(open_.size() - n);
    open_.push_back(container);
    return true;
  }

  // ED A0..BF starts a UTF-16 surrogate. The raw text was validated, and a surrogate pair
  // is decoded to 4 bytes, so it can only come from an escaped low surrogate standing alone.
  static bool has_lone_low_surrogate(const char* s, std::size_t length) {
    const char* end = s + length;
    for (const char* p = s; (p = static_cast<const char*>(std::memchr(p, 0xED, end - p)));
         ++p) {
      if (p + 1 < end && static_cast<unsigned char>(p[1]) >= 0xA0) return true;
    }
    return false;
  }

  std::string buffer_;            // the text being parsed in situ; strings point into it
  std::vector<JsonNode> nodes_;   // values of closed containers, contiguous per container
  std::vector<JsonNode> open_;    // values whose container is still open; at the end, the root
};

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
    if (entry->type != JsonNode::Type::object) continue;
    VaultRejection r;
    r.attribute = safe_identifier(doc.string_member(*entry, "attribute"), kMaxIdentifierChars);
    r.key = safe_identifier(doc.string_member(*entry, "key"), kMaxIdentifierChars);
    r.message = VaultClient::sanitize_message(doc.string_member(*entry, "message"));
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
  if (!doc.parse(body)) {
    a.detail += ": body is not JSON";
    return;
  }
  const JsonNode* succeeded = doc.path({"transaction", "succeeded"});
  if (succeeded != nullptr && succeeded->type == JsonNode::Type::boolean &&
      succeeded->integer == 0) {
    a.detail += ": transaction.succeeded is false";
    return;
  }
  const JsonNode* pm = doc.path({"transaction", "payment_method"});
  if (pm == nullptr || pm->type != JsonNode::Type::object) {
    a.detail += ": no transaction.payment_method";
    return;
  }
  const std::string token = doc.string_member(*pm, "token");
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
  a.card.brand = lowercase(safe_identifier(doc.string_member(*pm, "card_type"), kMaxBrandChars));
  const std::string first_six = doc.string_member(*pm, "first_six_digits");
  const std::string last_four = doc.string_member(*pm, "last_four_digits");
  a.card.first_six = all_digits(first_six, 6) ? first_six : std::string();
  a.card.last_four = all_digits(last_four, 4) ? last_four : std::string();
  a.card.month = doc.int_member(*pm, "month");
  a.card.year = doc.int_member(*pm, "year");
}

void map_unprocessable(const std::string& body, VaultAttempt& a) {
  a.outcome = VaultOutcome::bad_response;
  JsonTree doc;
  if (!doc.parse(body)) {
    a.detail += ": body is not JSON";
    return;
  }
  const JsonNode* list = doc.member(doc.root(), "errors");
  if (list == nullptr || list->type != JsonNode::Type::array) {
    list = doc.path({"transaction", "payment_method", "errors"});
  }
  if (list == nullptr || list->type != JsonNode::Type::array) {
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
    const PaymentMethod& card, const std::vector<std::pair<std::string, std::string>>& extra_headers,
    std::chrono::milliseconds timeout) const {
  HttpRequest request;
  request.method = "POST";
  request.url = endpoint_;
  request.timeout = timeout;
  request.body = create_body(card);
  request.headers = {
      {"Authorization", authorization_},
      {"Content-Type", "application/json"},
      {"Accept", "application/json"},
  };
  static constexpr std::string_view kOwned[] = {"authorization",  "content-type", "accept",
                                                "content-length", "host",         "expect",
                                                "connection",     "transfer-encoding"};
  for (const auto& header : extra_headers) {
    const std::string& name = header.first;
    const bool owned = std::any_of(std::begin(kOwned), std::end(kOwned),
                                   [&](std::string_view o) { return iequals_lower(name, o); });
    const bool name_ok = !name.empty() && std::all_of(name.begin(), name.end(), [](unsigned char c) {
      return c > 0x20 && c < 0x7f && c != ':';
    });
    const bool value_ok = std::none_of(header.second.begin(), header.second.end(),
                                       [](unsigned char c) { return c == '\r' || c == '\n' || c == 0; });
    if (!owned && name_ok && value_ok) request.headers.push_back(header);
  }
  return request;
}

void VaultClient::create_payment_method(const PaymentMethod& card, const AttemptOptions& options,
                                        Done done) const {
  HttpRequest request = build_request(card, options.extra_headers, options.timeout);
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
