#include "idempotency/idempotency_store.h"

namespace tokenizer {

const char* begin_kind_name(BeginResult::Kind kind) {
  switch (kind) {
    case BeginResult::Kind::started:
      return "started";
    case BeginResult::Kind::in_flight:
      return "in_flight";
    case BeginResult::Kind::replay:
      return "replay";
    case BeginResult::Kind::mismatch:
      return "mismatch";
  }
  return "unknown";
}

}  // namespace tokenizer
