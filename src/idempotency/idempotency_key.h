// Idempotency-Key header parsing (draft-ietf-httpapi-idempotency-key-header, Stripe-style).
//
// The draft defines the field as a Structured Field Item whose value is an sf-string
// (RFC 8941: `"` ... `"`, printable ASCII 0x20-0x7E, with `\"` and `\\` escapes). Clients in
// the wild (Stripe's SDKs, curl scripts) send the bare value instead (`Idempotency-Key: 8e03...`),
// so both forms are accepted and normalised to the same key:
//   - quoted form: an sf-string, escapes decoded; nothing may follow the closing quote
//     (sf parameters are not defined by the draft, so they are rejected rather than ignored);
//   - raw form: anything not starting with `"`, taken literally.
// Leading and trailing spaces/tabs (HTTP OWS) are trimmed. The decoded key must be 1-255
// characters, each printable ASCII 0x20-0x7E (a space is allowed inside the key; tabs and
// control or non-ASCII bytes are not). Anything else is the error `invalid_idempotency_key`
// (HTTP 400); its message never repeats the header value.
//
// Pure function, thread-safe. Whether the header is present at all is the caller's concern
// (an absent header means "no idempotency"; a present but empty one is invalid).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/expected.h"

namespace tokenizer {

inline constexpr std::size_t kMaxIdempotencyKeyLength = 255;
inline constexpr const char* kInvalidIdempotencyKey = "invalid_idempotency_key";

// The normalised key (quotes and escapes removed), or Error{"invalid_idempotency_key", ...}.
Expected<std::string> parse_idempotency_key(std::string_view header_value);

}  // namespace tokenizer
