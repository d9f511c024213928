// JSON pre-scan: a single pass over raw request bytes, before any JSON parser builds a
// document, that rejects what must never reach one: invalid UTF-8 and nesting deeper
// than a limit.
//
// Why: nlohmann_json parses a million nested `[` fine, but copying, comparing or dumping
// such a document recurses and overflows the stack (PLATFORM-NOTES.md), so depth is
// bounded before the document exists. The scan is a few hundred nanoseconds for a
// typical body and stops at the first offending byte, so 100k nested brackets cost about
// 33 bytes of work. It does not check JSON syntax (the parser does); it only tracks
// whether it is inside a string, so brackets inside strings do not count.
//
// Depth: each `{` or `[` outside a string opens one level; `{"a":{}}` has depth 2.
// UTF-8: RFC 3629 (no overlong forms, no surrogates, nothing above U+10FFFF).
// Pure function; thread-safe; no allocation.
#pragma once

#include <string_view>

namespace tokenizer {

enum class JsonPrescanResult {
  ok,
  invalid_utf8,  // some byte sequence is not well-formed UTF-8
  too_deep,      // more than max_depth levels of objects/arrays
};

JsonPrescanResult prescan_json(std::string_view body, int max_depth);

// Whether `text` is well-formed UTF-8 (RFC 3629).
bool is_valid_utf8(std::string_view text);

}  // namespace tokenizer
