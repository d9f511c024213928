#include "http/request_id.h"

#include "common/random.h"

namespace tokenizer {

bool is_sane_request_id(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.' || c == ':';
    if (!ok) return false;
  }
  return true;
}

std::string choose_request_id(std::optional<std::string_view> client_id) {
  if (client_id && is_sane_request_id(*client_id)) return std::string(*client_id);
  return unguessable_hex(16);
}

}  // namespace tokenizer
