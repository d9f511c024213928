// JsonTree: simdjson's document, or else RapidJSON's SAX reader, feeding a small read-only
// DOM. See json_tree.h. The notes below are about the reference path (RapidJSON); the fast
// path (parse_fast) replays simdjson's document through the same Builder.
//
// The reader parses in situ (strings are decoded inside the tree's copy of the text and
// point into it), so it never uses its own stack. Not rapidjson::Document: in RapidJSON 1.1
// the first push onto an empty Document or reader stack does arithmetic on a null pointer,
// which clang's UBSan (the fuzz build) stops on.
//
// RapidJSON accepts, refuses and types a few documents differently from nlohmann; each
// difference is undone here:
// - nlohmann skipped one leading UTF-8 byte order mark: skipped here too;
// - a \uDC00..\uDFFF escape with no high surrogate before it: nlohmann refused it,
//   RapidJSON 1.1 decodes it to bytes that are not UTF-8; refused here (String());
// - a number that overflows a double: nlohmann refused it, RapidJSON refuses some
//   (kParseErrorNumberTooBig) but reads others as infinity; refused here (RawNumber());
// - a finite number RapidJSON calls too big ("0e400", 309 digits just under DBL_MAX):
//   nlohmann read it as a float; see without_floats();
// - number types: numbers arrive as text (kParseNumbersAsStringsFlag) and are typed by
//   nlohmann's rules (classify_number()), not RapidJSON's;
// - raw bytes 0x1A..0x1F inside a string: refused by nlohmann, but RapidJSON 1.1's SSE2 scan
//   lets them through; see has_control_missed_by_sse2().
#include "tokenization/json_tree.h"

#include "tokenization/json_prescan.h"

// x86-64 always has SSE2: RapidJSON then scans strings and whitespace 16 bytes at a time
// with aligned loads, which may read up to 15 bytes past the text; parse() pads the
// buffer with NULs so that those reads stay inside it.
#if defined(__SSE2__) && !defined(RAPIDJSON_SSE2)
#define RAPIDJSON_SSE2
#endif
#include <rapidjson/reader.h>
#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <system_error>

namespace tokenizer {

namespace {

// No kParseValidateEncodingFlag: parse() runs prescan_json first, which refuses any text that
// is not well-formed UTF-8 (RFC 3629), so RapidJSON's own per-character validation only
// repeated it (about half of the parse's instructions, measured with callgrind).
constexpr unsigned kParseFlags = rapidjson::kParseInsituFlag |
                                 rapidjson::kParseNumbersAsStringsFlag;

// NUL bytes after the text being parsed; more than a 16-byte SIMD load can overrun.
constexpr std::size_t kSimdPadding = 16;

bool is_digit(char c) { return c >= '0' && c <= '9'; }

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

// nlohmann's reading of a JSON number (grammar already checked): its lexer tries strtoull
// (no minus sign) or strtoll (minus sign) when there is no fraction or exponent, and falls
// back to strtod when that overflows; the parser then refuses a non-finite double.
struct NumberKind {
  JsonNode::Type type = JsonNode::Type::number_float;
  bool finite = true;  // number_float only
  std::uint64_t unsigned_value = 0;
  std::int64_t integer_value = 0;
};

NumberKind classify_number(std::string_view t) {
  NumberKind kind;
  const char* begin = t.data();
  const char* end = t.data() + t.size();
  if (std::none_of(begin, end, [](char c) { return c == '.' || c == 'e' || c == 'E'; })) {
    if (t.front() == '-') {
      const auto r = std::from_chars(begin, end, kind.integer_value);
      if (r.ec == std::errc() && r.ptr == end) {
        kind.type = JsonNode::Type::number_integer;
        return kind;
      }
    } else {
      const auto r = std::from_chars(begin, end, kind.unsigned_value);
      if (r.ec == std::errc() && r.ptr == end) {
        kind.type = JsonNode::Type::number_unsigned;
        return kind;
      }
    }
  }
  kind.finite = is_finite_number(t);
  return kind;
}

// For the rare text RapidJSON refuses with kParseErrorNumberTooBig: a copy of `text` in which
// every finite number that nlohmann read as a float is replaced by "0.0" and spaces (the same
// length; every float has at least 3 characters), so that RapidJSON accepts it and it is
// still typed number_float. Integers stay as they are (RapidJSON never calls one that fits
// 64 bits too big); numbers that overflow a double stay, for the parser to refuse as nlohmann
// did.
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
    if (is_json_number(number)) {
      const NumberKind kind = classify_number(number);
      if (kind.type == JsonNode::Type::number_float && kind.finite) {
        out.replace(i, end - i, end - i, ' ');
        out.replace(i, 3, "0.0");
      }
    }
    i = end;
  }
  return out;
}

// Whether a raw byte 0x1A..0x1F comes before the first NUL (where the text ends).
// RapidJSON 1.1's SSE2 string scan (ScanCopyUnescapedString) tests "byte <= 0x19" where it
// means "byte < 0x20", so inside a string, past its first 16-byte boundary, those six control
// bytes are copied as if they were text. nlohmann refused them in strings, and anywhere else
// in the text they are not JSON for either parser: a text with one is refused before parsing.
// Eight bytes at a time: a word with no byte below 0x20 (the usual case) costs a few
// instructions; others (JSON whitespace \t \n \r included) are checked byte by byte.
bool has_control_missed_by_sse2(std::string_view text) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  const auto check = [](unsigned char c, bool& found) {
    if (c == 0) return true;  // the end of the text
    if (c >= 0x1A && c <= 0x1F) {
      found = true;
      return true;
    }
    return false;
  };
  bool found = false;
  std::size_t i = 0;
  constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
  constexpr std::uint64_t kHigh = 0x8080808080808080ULL;
  for (; i + 8 <= n; i += 8) {
    std::uint64_t w;
    std::memcpy(&w, p + i, sizeof w);
    // High bit set in every byte below 0x20 (and possibly in bytes after one: no matter).
    if (((w - kOnes * 0x20) & ~w & kHigh) == 0) continue;
    for (std::size_t k = i; k < i + 8; ++k) {
      if (check(p[k], found)) return found;
    }
  }
  for (; i < n; ++i) {
    if (check(p[i], found)) return found;
  }
  return false;
}

// ED A0..BF starts a UTF-16 surrogate. The raw text was validated, and a surrogate pair
// is decoded to 4 bytes, so it can only come from an escaped low surrogate standing alone.
bool has_lone_low_surrogate(const char* s, std::size_t length) {
  const char* end = s + length;
  for (const char* p = s; (p = static_cast<const char*>(std::memchr(p, 0xED, end - p))); ++p) {
    if (p + 1 < end && static_cast<unsigned char>(p[1]) >= 0xA0) return true;
  }
  return false;
}

// The fast path takes texts up to this size: its per-thread parser keeps buffers sized for
// the largest text it has parsed (about 14 bytes per byte of text, 224 KiB at the limit), so
// larger texts, which neither a tokenize request nor a vault reply should be, take the
// reference path.
constexpr std::size_t kFastPathMaxBytes = 16 * 1024;

// Whether the text may hold the JSON integer -0: a '-' where a value can start (at the
// beginning, or after '[', ',', ':' or whitespace), then '0', then anything but a digit, a
// '.' or an exponent (or the end). simdjson reads that integer as 0, nlohmann as a signed
// integer. Inside a string the same bytes merely send the text to the reference path; a
// '-' after a letter or digit, as in dates and UUIDs, never matches.
bool may_hold_negative_zero(std::string_view text) {
  const char* const begin = text.data();
  const char* const end = begin + text.size();
  for (const char* p = begin; (p = static_cast<const char*>(std::memchr(p, '-', end - p))); ++p) {
    if (p != begin) {
      const char before = p[-1];
      if (before != '[' && before != ',' && before != ':' && before != ' ' && before != '\t' &&
          before != '\n' && before != '\r') {
        continue;
      }
    }
    if (p + 1 == end || p[1] != '0') continue;
    if (p + 2 == end) return true;
    const char next = p[2];
    if (!is_digit(next) && next != '.' && next != 'e' && next != 'E') return true;
  }
  return false;
}

// One simdjson parser per thread (a parser is expensive to create and not thread-safe), with
// a reused input buffer carrying the padding simdjson reads past the text.
struct FastParser {
  simdjson::dom::parser parser{kFastPathMaxBytes};
  std::string input;
  int max_depth = 0;
};

FastParser& fast_parser() {
  thread_local FastParser p;
  return p;
}

}  // namespace

// The RapidJSON SAX handler: values go to open_ until their container closes, then move
// (contiguously) to nodes_; the container takes their place in open_.
class JsonTree::Builder {
 public:
  // `escapes`: whether the text has a backslash (without one, no string can hold a decoded
  // escape, so none can hold a lone low surrogate).
  Builder(JsonTree& tree, bool escapes) : tree_(tree), escapes_(escapes) {}

  using Ch = char;
  bool Null() {
    tree_.open_.emplace_back();
    return true;
  }
  bool Bool(bool b) {
    JsonNode& n = tree_.open_.emplace_back();
    n.type_ = JsonNode::Type::boolean;
    n.unsigned_ = b ? 1 : 0;
    return true;
  }
  // With kParseNumbersAsStringsFlag every number comes through RawNumber.
  bool Int(int) { return false; }
  bool Uint(unsigned) { return false; }
  bool Int64(std::int64_t) { return false; }
  bool Uint64(std::uint64_t) { return false; }
  bool Double(double) { return false; }
  bool RawNumber(const char* text, rapidjson::SizeType length, bool) {
    const NumberKind kind = classify_number(std::string_view(text, length));
    if (!kind.finite) return false;
    JsonNode& n = tree_.open_.emplace_back();
    n.type_ = kind.type;
    if (kind.type == JsonNode::Type::number_unsigned) {
      n.unsigned_ = kind.unsigned_value;
    } else if (kind.type == JsonNode::Type::number_integer) {
      n.integer_ = kind.integer_value;
    }
    return true;
  }
  bool String(const char* s, rapidjson::SizeType length, bool) {
    if (escapes_ && has_lone_low_surrogate(s, length)) return false;
    JsonNode& n = tree_.open_.emplace_back();
    n.type_ = JsonNode::Type::string;
    n.text_ = s;
    n.size_ = length;
    return true;
  }
  bool Key(const char* s, rapidjson::SizeType length, bool copy) { return String(s, length, copy); }

  // The fast path: the events of a document simdjson parsed, strings copied into the tree's
  // buffer (sized to the whole text beforehand: decoding never lengthens a string, so the
  // copies never move it). False, to fall back, if the buffer would have to grow.
  bool replay(const simdjson::dom::element& value) {
    switch (value.type()) {
      case simdjson::dom::element_type::ARRAY: {
        simdjson::dom::array array;
        if (value.get_array().get(array) != simdjson::SUCCESS) return false;
        std::uint32_t count = 0;
        for (const simdjson::dom::element child : array) {
          if (!replay(child)) return false;
          ++count;
        }
        return EndArray(count);
      }
      case simdjson::dom::element_type::OBJECT: {
        simdjson::dom::object object;
        if (value.get_object().get(object) != simdjson::SUCCESS) return false;
        std::uint32_t count = 0;
        for (const simdjson::dom::key_value_pair member : object) {
          if (!copy_string(member.key) || !replay(member.value)) return false;
          ++count;
        }
        return EndObject(count);
      }
      case simdjson::dom::element_type::INT64: {
        // Never -0 here (may_hold_negative_zero): negative means a minus sign.
        std::int64_t v = 0;
        if (value.get_int64().get(v) != simdjson::SUCCESS) return false;
        JsonNode& n = tree_.open_.emplace_back();
        if (v < 0) {
          n.type_ = JsonNode::Type::number_integer;
          n.integer_ = v;
        } else {
          n.type_ = JsonNode::Type::number_unsigned;
          n.unsigned_ = static_cast<std::uint64_t>(v);
        }
        return true;
      }
      case simdjson::dom::element_type::UINT64: {
        std::uint64_t v = 0;
        if (value.get_uint64().get(v) != simdjson::SUCCESS) return false;
        JsonNode& n = tree_.open_.emplace_back();
        n.type_ = JsonNode::Type::number_unsigned;
        n.unsigned_ = v;
        return true;
      }
      case simdjson::dom::element_type::DOUBLE:
        tree_.open_.emplace_back().type_ = JsonNode::Type::number_float;
        return true;
      case simdjson::dom::element_type::STRING: {
        std::string_view text;
        return value.get_string().get(text) == simdjson::SUCCESS && copy_string(text);
      }
      case simdjson::dom::element_type::BOOL: {
        bool b = false;
        return value.get_bool().get(b) == simdjson::SUCCESS && Bool(b);
      }
      case simdjson::dom::element_type::NULL_VALUE:
        return Null();
    }
    return false;
  }
  bool StartObject() { return true; }
  bool EndObject(rapidjson::SizeType members) { return close(JsonNode::Type::object, members, 2); }
  bool StartArray() { return true; }
  bool EndArray(rapidjson::SizeType elements) { return close(JsonNode::Type::array, elements, 1); }

 private:
  // Moves the last `count` * `per_item` open values into nodes_, as one container.
  bool close(JsonNode::Type type, std::uint32_t count, std::uint32_t per_item) {
    std::vector<JsonNode>& open = tree_.open_;
    std::vector<JsonNode>& nodes = tree_.nodes_;
    const std::size_t n = static_cast<std::size_t>(count) * per_item;
    JsonNode container;
    container.type_ = type;
    container.size_ = count;
    container.first_ = static_cast<std::uint32_t>(nodes.size());
    nodes.insert(nodes.end(), open.end() - static_cast<std::ptrdiff_t>(n), open.end());
    open.resize(open.size() - n);
    open.push_back(container);
    return true;
  }

  // Into the tree's buffer, sized to the text beforehand (decoding never lengthens a string).
  bool copy_string(std::string_view s) {
    std::string& buffer = tree_.buffer_;
    if (s.size() > buffer.size() - used_) return false;
    char* text = buffer.data() + used_;
    if (!s.empty()) std::memcpy(text, s.data(), s.size());
    used_ += s.size();
    return String(text, static_cast<rapidjson::SizeType>(s.size()), false);
  }
  std::size_t used_ = 0;  // bytes of buffer_ holding strings (fast path)

  JsonTree& tree_;
  const bool escapes_;
};

JsonParseResult JsonTree::parse(std::string_view text, int max_depth) {
  if (parse_fast(text, max_depth)) return JsonParseResult::ok;
  return parse_reference(text, max_depth);
}

bool JsonTree::parse_fast(std::string_view text, int max_depth) {
  if (text.size() > kFastPathMaxBytes || max_depth < 1 || may_hold_negative_zero(text)) {
    return false;
  }
  FastParser& fast = fast_parser();
  if (fast.max_depth != max_depth) {
    // Sized for this text; simdjson grows it for longer ones (up to kFastPathMaxBytes).
    if (fast.parser.allocate(std::max<std::size_t>(text.size(), 1024),
                             static_cast<std::size_t>(max_depth)) != simdjson::SUCCESS) {
      fast.max_depth = 0;
      return false;
    }
    fast.max_depth = max_depth;
  }
  // simdjson may read up to SIMDJSON_PADDING bytes past the text: spaces, never used.
  fast.input.assign(text.data(), text.size());
  fast.input.append(simdjson::SIMDJSON_PADDING, ' ');
  simdjson::dom::element root;
  if (fast.parser.parse(fast.input.data(), text.size(), false).get(root) != simdjson::SUCCESS) {
    return false;
  }
  nodes_.clear();
  open_.clear();
  nodes_.reserve(64);
  open_.reserve(32);
  buffer_.resize(text.size());
  Builder builder(*this, false);  // simdjson refuses lone surrogates itself
  return builder.replay(root);
}

JsonParseResult JsonTree::parse_reference(std::string_view text, int max_depth) {
  nodes_.clear();
  open_.clear();
  // Depth is checked before parsing: RapidJSON's reader recurses once per level.
  switch (prescan_json(text, max_depth)) {
    case JsonPrescanResult::ok: break;
    case JsonPrescanResult::invalid_utf8: return JsonParseResult::invalid_utf8;
    case JsonPrescanResult::too_deep: return JsonParseResult::too_deep;
  }
  if (text.compare(0, 3, "\xEF\xBB\xBF") == 0) text.remove_prefix(3);
  if (has_control_missed_by_sse2(text)) return JsonParseResult::not_json;
  buffer_.reserve(text.size() + kSimdPadding);
  buffer_.assign(text.data(), text.size());
  ReadResult result = read_buffer();
  if (result == ReadResult::number_too_big) {
    buffer_ = without_floats(text);
    result = read_buffer();
  }
  return result == ReadResult::ok ? JsonParseResult::ok : JsonParseResult::not_json;
}

JsonTree::ReadResult JsonTree::read_buffer() {
  nodes_.clear();
  open_.clear();
  nodes_.reserve(64);  // enough for a typical vault reply (about 40 values)
  open_.reserve(32);
  const bool escapes = std::memchr(buffer_.data(), '\\', buffer_.size()) != nullptr;
  // NULs after the text: the parse still ends at the first NUL (as nlohmann's did), and the
  // SIMD scans never read beyond the allocation.
  buffer_.append(kSimdPadding, '\0');
  rapidjson::InsituStringStream stream(buffer_.data());
  rapidjson::Reader reader;
  Builder builder(*this, escapes);
  const rapidjson::ParseResult result = reader.Parse<kParseFlags>(stream, builder);
  if (result.Code() == rapidjson::kParseErrorNone) return ReadResult::ok;
  return result.Code() == rapidjson::kParseErrorNumberTooBig ? ReadResult::number_too_big
                                                             : ReadResult::refused;
}

const JsonNode* JsonTree::member(const JsonNode& object, std::string_view name) const {
  if (object.type_ != JsonNode::Type::object) return nullptr;
  for (std::uint32_t i = object.size_; i > 0; --i) {
    const JsonNode& key = nodes_[object.first_ + 2 * (i - 1)];
    if (std::string_view(key.text_, key.size_) == name) return &key + 1;
  }
  return nullptr;
}

const JsonNode* JsonTree::path(std::initializer_list<const char*> names) const {
  const JsonNode* node = &root();
  for (const char* name : names) {
    node = member(*node, name);
    if (node == nullptr) return nullptr;
  }
  return node;
}

std::pair<const JsonNode*, const JsonNode*> JsonTree::elements(const JsonNode& array) const {
  if (array.type_ != JsonNode::Type::array || array.size_ == 0) return {nullptr, nullptr};
  return {&nodes_[array.first_], &nodes_[array.first_] + array.size_};
}

std::pair<const JsonNode*, const JsonNode*> JsonTree::members(const JsonNode& object) const {
  if (object.type_ != JsonNode::Type::object || object.size_ == 0) return {nullptr, nullptr};
  return {&nodes_[object.first_], &nodes_[object.first_] + 2 * std::size_t{object.size_}};
}

}  // namespace tokenizer
