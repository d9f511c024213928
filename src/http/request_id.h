// Request ids: every response carries X-Request-Id — the client's own when it is sane
// (1–128 characters of [A-Za-z0-9._:-]), otherwise a fresh random one, so a client's id
// can be used for correlation but cannot inject text into logs or headers.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace tokenizer {

bool is_sane_request_id(std::string_view id);

// The client's id if sane, else a new random 32-hex-character id.
std::string choose_request_id(std::optional<std::string_view> client_id);

}  // namespace tokenizer
