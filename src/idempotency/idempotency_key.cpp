#include "idempotency/idempotency_key.h"

namespace tokenizer {
namespace {

bool is_printable(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u >= 0x20 && u <= 0x7E;
}

Error invalid(const char* why) {
  return Error{kInvalidIdempotencyKey,
               std::string("Idempotency-Key must be 1-255 printable ASCII characters: ") + why};
}

std::string_view trim_ows(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  return v;
}

// RFC 8941 section 4.2.5 (Parsing a String), with the whole input required to be consumed.
Expected<std::string> parse_sf_string(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  std::size_t i = 1;  // v[0] == '"'
  bool closed = false;
  while (i < v.size()) {
    const char c = v[i];
    if (c == '\\') {
      if (i + 1 >= v.size()) return invalid("dangling escape in quoted key");
      const char next = v[i + 1];
      if (next != '"' && next != '\\') return invalid("invalid escape in quoted key");
      out.push_back(next);
      i += 2;
      continue;
    }
    if (c == '"') {
      closed = true;
      ++i;
      break;
    }
    if (!is_printable(c)) return invalid("non-printable character");
    out.push_back(c);
    ++i;
  }
  if (!closed) return invalid("unterminated quoted key");
  if (i != v.size()) return invalid("unexpected characters after the quoted key");
  return out;
}

}  // namespace

Expected<std::string> parse_idempotency_key(std::string_view header_value) {
  const std::string_view v = trim_ows(header_value);
  if (v.empty()) return invalid("empty");
  std::string key;
  if (v.front() == '"') {
    auto parsed = parse_sf_string(v);
    if (!parsed) return parsed.error();
    key = std::move(parsed).value();
  } else {
    for (const char c : v) {
      if (!is_printable(c)) return invalid("non-printable character");
    }
    key.assign(v);
  }
  if (key.empty()) return invalid("empty");
  if (key.size() > kMaxIdempotencyKeyLength) return invalid("longer than 255 characters");
  return key;
}

}  // namespace tokenizer
