// BoundedJson: parses the small JSON documents upstream-sim receives (vault create bodies,
// fault sets) while refusing nesting deeper than a limit *before* a deep document exists,
// because nlohmann's dump(), copies and destructor recurse and can exhaust a thread's stack
// (see PLATFORM-NOTES.md). Pure function, thread-safe, no I/O.
//
// Usage: `auto doc = parse_bounded_json(body);` then test `doc.has_value()`; the error code is
// `malformed_json` (not JSON, trailing bytes, invalid UTF-8) or `too_deep`. Error messages
// never echo the input.
#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

#include "common/expected.h"

namespace tokenizer {

inline constexpr int kMaxJsonDepth = 32;

Expected<nlohmann::json> parse_bounded_json(std::string_view text, int max_depth = kMaxJsonDepth);

}  // namespace tokenizer
