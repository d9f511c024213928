// fuzz_json_tree: JsonTree's two parse paths agree (tokenization/json_tree.h). Whenever the
// simdjson path accepts a text, the reference path (RapidJSON behind prescan_json, which
// accepts exactly what nlohmann did) must accept it too and build the same tree; and parse()
// must always give the reference path's result. Each input is tried at the service's depth
// limit (32) and at a depth taken from its length, so that depth limits are crossed too.
//
// Input: any bytes (seeds: corpus/json_tree/, request bodies and vault replies).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_support.h"
#include "json_tree_text.h"
#include "tokenization/json_tree.h"

namespace tokenizer {
namespace {

void check(std::string_view text, int max_depth) {
  JsonTree fast;
  JsonTree reference;
  const JsonParseResult expected = reference.parse_reference(text, max_depth);
  if (fast.parse_fast(text, max_depth)) {
    FUZZ_CHECK(expected == JsonParseResult::ok, "simdjson accepted a text the reference refuses");
    FUZZ_CHECK(testing::json_tree_text(fast) == testing::json_tree_text(reference),
               "the two paths built different trees");
  }
  JsonTree both;
  FUZZ_CHECK(both.parse(text, max_depth) == expected, "parse() differs from the reference");
  if (expected == JsonParseResult::ok) {
    FUZZ_CHECK(testing::json_tree_text(both) == testing::json_tree_text(reference),
               "parse() built a different tree");
  }
}

}  // namespace
}  // namespace tokenizer

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  tokenizer::check(text, 32);
  tokenizer::check(text, static_cast<int>(size % 40) + 1);
  return 0;
}
