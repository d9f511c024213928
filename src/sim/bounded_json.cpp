#include "sim/bounded_json.h"

#include "tokenization/json_prescan.h"

namespace tokenizer {

Expected<nlohmann::json> parse_bounded_json(std::string_view text, int max_depth) {
  // The shared byte pre-scan (tokenization/json_prescan.h) rejects deep documents before
  // nlohmann builds them, and invalid UTF-8 before nlohmann throws on it.
  switch (prescan_json(text, max_depth)) {
    case JsonPrescanResult::too_deep:
      return Error{"too_deep", "JSON nesting is deeper than allowed"};
    case JsonPrescanResult::invalid_utf8:
      return Error{"malformed_json", "body is not valid JSON"};
    case JsonPrescanResult::ok:
      break;
  }
  nlohmann::json doc = nlohmann::json::parse(text.begin(), text.end(), nullptr,
                                             /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    return Error{"malformed_json", "body is not valid JSON"};
  }
  return doc;
}

}  // namespace tokenizer
