// JsonTree: a small read-only JSON document that accepts, refuses and types documents
// exactly as nlohmann_json 3.11 (the parser it replaced) did. Shared by the tokenize request
// parser (request_parser.h) and the vault reply mapping (upstream/vault_client.cpp).
//
// Two engines, one result. simdjson parses first (about a third of the instructions on a
// vault reply): every document it accepts is one the reference path accepts too, with the
// same tree (checked by tests/fuzz/fuzz_json_tree.cpp against parse_reference()). Whatever it
// refuses (most of it malformed, but also nlohmann's leniencies: a byte order mark, a NUL
// ending the text, integers past 64 bits) goes to the reference path, RapidJSON's SAX reader
// behind prescan_json, which decides. Texts over 16 KiB and texts that may hold the integer
// -0 (simdjson types it as 0, nlohmann as a signed integer) go to the reference path only.
//
// Usage:
//   JsonTree doc;
//   if (doc.parse(body, /*max_depth=*/32) != JsonParseResult::ok) { /* refuse */ }
//   const JsonNode* pm = doc.member(doc.root(), "payment_method");
//   if (pm != nullptr && pm->is_object()) {
//     const JsonNode* month = doc.member(*pm, "month");
//     if (month != nullptr && month->is_number_unsigned()) use(month->as_unsigned());
//   }
//
// What counts as JSON, and as which type, is what nlohmann decided (checked by differential
// fuzzing against it and against the code that used it):
// - one leading UTF-8 byte order mark is skipped; the text ends at the first NUL byte outside
//   a string (nlohmann read NUL as the end of input);
// - the text must be well-formed UTF-8 and nest at most `max_depth` objects/arrays
//   (prescan_json, json_prescan.h, before any parsing: the reader recurses once per level);
// - strings: an escaped low surrogate (\uDC00..\uDFFF) with no high surrogate before it is
//   refused; \u0000 is kept as a NUL byte inside the string (sizes are explicit);
// - numbers, with nlohmann's three types:
//     number_unsigned  no sign, fraction or exponent, and at most UINT64_MAX ("0", "7");
//     number_integer   a minus sign, no fraction or exponent, at least INT64_MIN ("-7",
//                      and "-0", which is the integer 0);
//     number_float     everything else that is finite as a double ("7.0", "1E2", "0e400",
//                      "18446744073709551616", "1e-400" (as 0)); the value is not kept;
//   a number that overflows a double ("1e309", 309 nines) makes the document invalid;
// - objects with duplicate keys: member() finds the last one, as nlohmann's DOM did.
//
// Ownership: the tree owns its strings (decoded into its own buffer); nodes and string views
// stay valid until the next parse() or the tree's destruction.
// Not thread-safe for one tree; use one tree per parse (cheap: three allocations).
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tokenizer {

enum class JsonParseResult {
  ok,
  invalid_utf8,  // not well-formed UTF-8 (prescan_json)
  too_deep,      // more than max_depth levels of objects/arrays (prescan_json)
  not_json,      // not a JSON document, as nlohmann would have decided
};

// One value of a JsonTree. Trivially copyable, 16 bytes.
class JsonNode {
 public:
  enum class Type : std::uint8_t {
    null,
    boolean,
    number_unsigned,
    number_integer,
    number_float,
    string,
    array,
    object
  };

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::null; }
  bool is_boolean() const { return type_ == Type::boolean; }
  // As in nlohmann: is_number_integer() is true for number_unsigned too.
  bool is_number() const {
    return type_ == Type::number_unsigned || type_ == Type::number_integer ||
           type_ == Type::number_float;
  }
  bool is_number_integer() const {
    return type_ == Type::number_unsigned || type_ == Type::number_integer;
  }
  bool is_number_unsigned() const { return type_ == Type::number_unsigned; }
  bool is_number_float() const { return type_ == Type::number_float; }
  bool is_string() const { return type_ == Type::string; }
  bool is_array() const { return type_ == Type::array; }
  bool is_object() const { return type_ == Type::object; }

  // Only for the matching type.
  bool as_bool() const { return unsigned_ != 0; }                   // boolean
  std::uint64_t as_unsigned() const { return unsigned_; }           // number_unsigned
  std::int64_t as_integer() const { return integer_; }              // number_integer (< 0 or -0)
  std::string_view as_string() const { return {text_, size_}; }     // string
  // Elements of an array, members of an object, bytes of a string; 0 otherwise.
  std::uint32_t size() const { return size_; }

 private:
  friend class JsonTree;

  Type type_ = Type::null;
  std::uint32_t size_ = 0;
  union {
    std::uint64_t unsigned_ = 0;  // number_unsigned; boolean: 0 or 1
    std::int64_t integer_;        // number_integer
    const char* text_;            // string, inside the tree's buffer
    std::uint32_t first_;         // array: first element; object: first key (keys and values
                                  // alternate); indexes into the tree's finished nodes
  };
};

class JsonTree {
 public:
  JsonTree() = default;
  JsonTree(const JsonTree&) = delete;
  JsonTree& operator=(const JsonTree&) = delete;

  // Parses `text` (see the header comment for what is accepted). Replaces any earlier tree.
  JsonParseResult parse(std::string_view text, int max_depth);
  // The two paths alone, for differential tests. parse_fast(): true with the tree built when
  // simdjson applies and accepts; false decides nothing. parse_reference(): the RapidJSON
  // path, which parse() must agree with.
  bool parse_fast(std::string_view text, int max_depth);
  JsonParseResult parse_reference(std::string_view text, int max_depth);

  // The document; only after parse() returned ok.
  const JsonNode& root() const { return open_.front(); }

  // The value of `name` in `object` (the last one if repeated), or null when `object` is not
  // an object or has no such member.
  const JsonNode* member(const JsonNode& object, std::string_view name) const;

  // root()["a"]["b"]...: null as soon as a step is missing or not an object.
  const JsonNode* path(std::initializer_list<const char*> names) const;

  // The elements of an array as [begin, end) (empty for anything else).
  std::pair<const JsonNode*, const JsonNode*> elements(const JsonNode& array) const;
  // The members of an object as [begin, end), keys and values alternating in document order
  // (empty for anything else).
  std::pair<const JsonNode*, const JsonNode*> members(const JsonNode& object) const;

 private:
  class Builder;  // builds the tree from RapidJSON's SAX events or simdjson's document
  enum class ReadResult { ok, number_too_big, refused };

  ReadResult read_buffer();

  std::string buffer_;           // the strings point into it: the text parsed in situ by the
                                 // reference path (NUL-padded), or the fast path's copies
  std::vector<JsonNode> nodes_;  // values of closed containers, contiguous per container
  std::vector<JsonNode> open_;   // values whose container is still open; at the end, the root
};

}  // namespace tokenizer
