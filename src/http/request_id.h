// Request ids: every response carries X-Request-Id — the client's own when it is sane
// (1–128 characters of [A-Za-z0-9._:-]), otherwise a fresh random one, so a client's id
// can be used for correlation but cannot inject text into logs or headers. Fresh ids are
// 32 lower-case hex characters from OpenSSL's CSPRNG through a per-thread buffer
// (common/random.h unguessable_hex): unique and unpredictable to other clients, without a
// RAND_bytes call per request.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace tokenizer {

bool is_sane_request_id(std::string_view id);

// The client's id if sane, else a new random 32-hex-character id.
std::string choose_request_id(std::optional<std::string_view> client_id);

}  // namespace tokenizer
