// fuzz_idempotency_key: the Idempotency-Key header parser
// (parse_idempotency_key, idempotency/idempotency_key.h) on arbitrary header values.
//
// Input: the raw header value (seeds: corpus/idempotency_key/).
// Checks the documented contract: an accepted key is 1-255 printable ASCII characters; it
// parses to itself again as an sf-string (quoted, escaped) and, when it has no surrounding
// spaces and does not start with '"', in its bare form; a rejection has the stable code
// `invalid_idempotency_key` and a message that never repeats the value.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_support.h"
#include "idempotency/idempotency_key.h"

namespace tokenizer {
namespace {

std::string quoted(const std::string& key) {
  std::string out = "\"";
  for (char c : key) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

void check(std::string_view value) {
  const Expected<std::string> key = parse_idempotency_key(value);
  if (!key) {
    FUZZ_CHECK(key.error().code == kInvalidIdempotencyKey, "stable error code");
    FUZZ_CHECK(fuzz::is_printable_ascii(key.error().message), "message is fixed ASCII text");
    if (value.size() >= 16) {
      FUZZ_CHECK(key.error().message.find(value) == std::string::npos,
                 "message never repeats the value");
    }
    return;
  }
  const std::string& k = *key;
  FUZZ_CHECK(!k.empty() && k.size() <= kMaxIdempotencyKeyLength, "1-255 characters");
  FUZZ_CHECK(fuzz::is_printable_ascii(k), "printable ASCII only");

  const Expected<std::string> from_quoted = parse_idempotency_key(quoted(k));
  FUZZ_CHECK(from_quoted && *from_quoted == k, "the sf-string form parses to the same key");
  if (k.front() != '"' && k.front() != ' ' && k.back() != ' ') {
    const Expected<std::string> from_bare = parse_idempotency_key(k);
    FUZZ_CHECK(from_bare && *from_bare == k, "the bare form parses to the same key");
  }
  const Expected<std::string> padded = parse_idempotency_key(" \t" + std::string(value) + "\t ");
  FUZZ_CHECK(padded && *padded == k, "surrounding OWS is ignored");
}

}  // namespace
}  // namespace tokenizer

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  tokenizer::check(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
