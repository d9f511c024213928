#include "tokenization/request_json.h"

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <locale.h>
#include <openssl/crypto.h>

namespace tokenizer {
namespace {

using Kind = RequestJsonValue::Kind;

bool is_digit(char c) { return c >= '0' && c <= '9'; }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// strtod in the "C" locale whatever the process's locale is (nlohmann adapts the decimal
// point to the locale, which amounts to the same).
double strtod_c(const std::string& token) {
  static const locale_t c_locale = newlocale(LC_ALL_MASK, "C", static_cast<locale_t>(nullptr));
  return strtod_l(token.c_str(), nullptr, c_locale);
}

class Reader {
 public:
  Reader(std::string_view body, int max_depth, RequestJson& out)
      : p_(body.data()), end_(body.data() + body.size()), max_depth_(max_depth), out_(out) {}

  RequestJsonStatus run() {
    // nlohmann skips a UTF-8 byte order mark at the very start (and only there).
    if (end_ - p_ >= 3 && static_cast<unsigned char>(p_[0]) == 0xEF &&
        static_cast<unsigned char>(p_[1]) == 0xBB && static_cast<unsigned char>(p_[2]) == 0xBF) {
      p_ += 3;
    }
    RequestJsonValue top;
    if (!value(0, Role::top, &top, nullptr)) return RequestJsonStatus::not_json;
    skip_whitespace();
    // nlohmann's lexer reads a NUL byte as the end of the input.
    if (p_ != end_ && *p_ != '\0') return RequestJsonStatus::not_json;
    return top.kind == Kind::object ? RequestJsonStatus::ok : RequestJsonStatus::not_an_object;
  }

 private:
  // What an object's members mean: the top level's, payment_method's, or nothing we read.
  enum class Role { plain, top, payment_method };

  char peek() const { return p_ != end_ ? *p_ : '\0'; }

  void skip_whitespace() {
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r')) ++p_;
  }

  // One value at p_ (after whitespace). `slot` (nullable) receives its kind and value;
  // strings with escapes are decoded into `storage` (nullable).
  bool value(int depth, Role role, RequestJsonValue* slot, std::string* storage) {
    skip_whitespace();
    switch (peek()) {
      case '{':
        if (slot != nullptr) slot->kind = Kind::object;
        return object(depth + 1, role);
      case '[':
        if (slot != nullptr) slot->kind = Kind::array;
        return array(depth + 1);
      case '"': {
        std::string_view text;  // wanted for the fields (which have storage), not otherwise
        if (!string(storage != nullptr ? &text : nullptr, storage)) return false;
        if (slot != nullptr) {
          slot->kind = Kind::string;
          slot->text = text;
        }
        return true;
      }
      case 't':
        return literal("true", Kind::boolean, slot);
      case 'f':
        return literal("false", Kind::boolean, slot);
      case 'n':
        return literal("null", Kind::null, slot);
      case '-':
      case '0':
      case '1':
      case '2':
      case '3':
      case '4':
      case '5':
      case '6':
      case '7':
      case '8':
      case '9':
        return number(slot);
      default:  // the end of the input included
        return false;
    }
  }

  bool literal(std::string_view word, Kind kind, RequestJsonValue* slot) {
    if (static_cast<std::size_t>(end_ - p_) < word.size() ||
        std::string_view(p_, word.size()) != word) {
      return false;
    }
    p_ += word.size();
    if (slot != nullptr) slot->kind = kind;
    return true;
  }

  bool object(int depth, Role role) {
    if (depth > max_depth_) return false;  // prescan_json guarantees it never is
    ++p_;                                  // '{'
    skip_whitespace();
    if (peek() == '}') {
      ++p_;
      return true;
    }
    while (true) {
      skip_whitespace();
      if (peek() != '"') return false;
      std::string_view key;
      const bool want_key = role != Role::plain;
      if (!string(want_key ? &key : nullptr, want_key ? &key_buffer_ : nullptr)) return false;
      skip_whitespace();
      if (peek() != ':') return false;
      ++p_;
      RequestJsonValue* slot = nullptr;
      std::string* storage = nullptr;
      Role child = Role::plain;
      if (role == Role::top && key == "payment_method") {
        // A later payment_method replaces an earlier one entirely.
        RequestJsonValue* fields[] = {&out_.card_number, &out_.cvv,       &out_.month,
                                      &out_.year,        &out_.first_name, &out_.last_name,
                                      &out_.email};
        for (RequestJsonValue* f : fields) *f = RequestJsonValue{};
        out_.payment_method = RequestJsonValue{};
        slot = &out_.payment_method;
        child = Role::payment_method;
      } else if (role == Role::payment_method) {
        slot = field(key, storage);
      }
      if (!value(depth, child, slot, storage)) return false;
      skip_whitespace();
      if (p_ == end_) return false;
      const char c = *p_++;
      if (c == '}') return true;
      if (c != ',') return false;
    }
  }

  RequestJsonValue* field(std::string_view key, std::string*& storage) {
    struct Entry {
      std::string_view name;
      RequestJsonValue RequestJson::*member;
    };
    static constexpr Entry kFields[] = {
        {"card_number", &RequestJson::card_number}, {"cvv", &RequestJson::cvv},
        {"month", &RequestJson::month},             {"year", &RequestJson::year},
        {"first_name", &RequestJson::first_name},   {"last_name", &RequestJson::last_name},
        {"email", &RequestJson::email}};
    for (std::size_t i = 0; i < sizeof kFields / sizeof kFields[0]; ++i) {
      if (key == kFields[i].name) {
        storage = &out_.storage[i];
        return &(out_.*kFields[i].member);
      }
    }
    return nullptr;
  }

  bool array(int depth) {
    if (depth > max_depth_) return false;
    ++p_;  // '['
    skip_whitespace();
    if (peek() == ']') {
      ++p_;
      return true;
    }
    while (true) {
      if (!value(depth, Role::plain, nullptr, nullptr)) return false;
      skip_whitespace();
      if (p_ == end_) return false;
      const char c = *p_++;
      if (c == ']') return true;
      if (c != ',') return false;
    }
  }

  // A string at p_ ('"'). With `text`, its decoded value: a view into the body when it has no
  // escapes, else decoded into `decoded`.
  bool string(std::string_view* text, std::string* decoded) {
    ++p_;  // '"'
    const char* start = p_;
    while (p_ != end_ && *p_ != '"' && *p_ != '\\' && static_cast<unsigned char>(*p_) >= 0x20) ++p_;
    if (p_ == end_ || static_cast<unsigned char>(*p_) < 0x20) return false;
    if (*p_ == '"') {
      if (text != nullptr) *text = std::string_view(start, static_cast<std::size_t>(p_ - start));
      ++p_;
      return true;
    }
    // Escapes: decode (or only check) the rest.
    std::string* out = text != nullptr ? decoded : nullptr;
    if (out != nullptr) out->assign(start, static_cast<std::size_t>(p_ - start));
    while (true) {
      if (p_ == end_) return false;
      const char c = *p_++;
      if (c == '"') break;
      if (static_cast<unsigned char>(c) < 0x20) return false;
      if (c != '\\') {
        if (out != nullptr) out->push_back(c);
        continue;
      }
      if (p_ == end_) return false;
      const char e = *p_++;
      char plain = 0;
      switch (e) {
        case '"': plain = '"'; break;
        case '\\': plain = '\\'; break;
        case '/': plain = '/'; break;
        case 'b': plain = '\b'; break;
        case 'f': plain = '\f'; break;
        case 'n': plain = '\n'; break;
        case 'r': plain = '\r'; break;
        case 't': plain = '\t'; break;
        case 'u': {
          int cp = hex4();
          if (cp < 0) return false;
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            // A high surrogate must be followed by an escaped low one.
            if (end_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u') return false;
            p_ += 2;
            const int low = hex4();
            if (low < 0xDC00 || low > 0xDFFF) return false;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            return false;  // a low surrogate alone
          }
          if (out != nullptr) append_utf8(*out, static_cast<char32_t>(cp));
          continue;
        }
        default:
          return false;
      }
      if (out != nullptr) out->push_back(plain);
    }
    if (text != nullptr) *text = *out;
    return true;
  }

  // Four hex digits at p_ (advanced past them), or -1.
  int hex4() {
    if (end_ - p_ < 4) return -1;
    int v = 0;
    for (int i = 0; i < 4; ++i) {
      const int h = hex_value(p_[i]);
      if (h < 0) return -1;
      v = v * 16 + h;
    }
    p_ += 4;
    return v;
  }

  // A number at p_ ('-' or a digit), classified as nlohmann does: an integer literal that fits
  // 64 bits (unsigned when non-negative, signed when negative), else a double, which must be
  // finite.
  bool number(RequestJsonValue* slot) {
    const char* start = p_;
    const bool negative = *p_ == '-';
    if (negative) ++p_;
    if (p_ == end_) return false;
    std::uint64_t magnitude = 0;
    bool overflow = false;
    if (*p_ == '0') {
      ++p_;
    } else if (*p_ >= '1' && *p_ <= '9') {
      while (p_ != end_ && is_digit(*p_)) {
        const auto d = static_cast<std::uint64_t>(*p_ - '0');
        if (magnitude > (UINT64_MAX - d) / 10) overflow = true;
        magnitude = magnitude * 10 + d;
        ++p_;
      }
    } else {
      return false;
    }
    bool integer = true;
    if (p_ != end_ && *p_ == '.') {
      ++p_;
      if (p_ == end_ || !is_digit(*p_)) return false;
      while (p_ != end_ && is_digit(*p_)) ++p_;
      integer = false;
    }
    if (p_ != end_ && (*p_ == 'e' || *p_ == 'E')) {
      ++p_;
      if (p_ != end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      if (p_ == end_ || !is_digit(*p_)) return false;
      while (p_ != end_ && is_digit(*p_)) ++p_;
      integer = false;
    }
    if (integer && !overflow) {
      if (!negative) {
        if (slot != nullptr) {
          slot->kind = Kind::unsigned_integer;
          slot->unsigned_value = magnitude;
        }
        return true;
      }
      constexpr std::uint64_t kMinMagnitude = std::uint64_t{1} << 63;  // -INT64_MIN
      if (magnitude <= kMinMagnitude) {
        if (slot != nullptr) {
          slot->kind = Kind::signed_integer;
          slot->signed_value = magnitude == kMinMagnitude
                                   ? INT64_MIN
                                   : -static_cast<std::int64_t>(magnitude);
        }
        return true;
      }
    }
    // A float, or an integer beyond 64 bits: nlohmann parses it with strtod and refuses
    // what overflows to infinity.
    if (!std::isfinite(strtod_c(std::string(start, static_cast<std::size_t>(p_ - start))))) {
      return false;
    }
    if (slot != nullptr) slot->kind = Kind::floating;
    return true;
  }

  const char* p_;
  const char* end_;
  int max_depth_;
  RequestJson& out_;
  std::string key_buffer_;  // keys with escapes, decoded (used before the member's value)
};

}  // namespace

RequestJson::~RequestJson() {
  for (std::string& s : storage) {
    if (!s.empty()) OPENSSL_cleanse(s.data(), s.size());
  }
}

RequestJsonStatus read_request_json(std::string_view body, int max_depth, RequestJson& out) {
  return Reader(body, max_depth, out).run();
}

}  // namespace tokenizer
