// FaultConfig: the fault set upstream-sim applies to its vault API route, and the parser
// for the JSON that `POST /__sim/faults` (and `--faults`) carries.
//
//   {"latency_ms": 50, "status": 503, "error_rate": 0.5, "retry_after": 2,
//    "mode": "reset" | "garbage" | "hang" | "none"}
//
// Every key is optional; a document replaces the whole set (absent keys take their
// defaults, so `{}` means "no faults"). Semantics:
//   latency_ms   0..60000, delays every vault API reply (and a `reset`), injected or not.
//   status       200..599, answer that status with a vault-like error body instead of
//                processing the request.
//   error_rate   0..1 (default 1): the fraction of vault requests that get `status`/`mode`.
//   retry_after  0..86400 seconds, adds `Retry-After` to injected status replies (needs status).
//   mode         reset: close the connection without a reply (TCP RST); garbage: 201 with a
//                body that is not JSON; hang: never answer (held until the client leaves or
//                the hang cap); none (default).
// `status` and a `mode` other than none are mutually exclusive. Unknown keys, wrong types
// and out-of-range values are rejected with code `invalid_faults` and a message naming the
// key. Value type, no shared state; thread-safe to copy.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/expected.h"

namespace tokenizer {

enum class FaultMode { kNone, kReset, kGarbage, kHang };

// "none", "reset", "garbage", "hang".
std::string_view fault_mode_name(FaultMode mode);

inline constexpr std::chrono::milliseconds kMaxFaultLatency{60000};
inline constexpr int kMaxRetryAfterSeconds = 86400;

struct FaultConfig {
  std::chrono::milliseconds latency{0};
  std::optional<int> status;
  double error_rate = 1.0;
  std::optional<int> retry_after_seconds;
  FaultMode mode = FaultMode::kNone;

  // True when some requests get an injected status or mode (latency alone is not an error).
  bool injects_errors() const {
    return (status.has_value() || mode != FaultMode::kNone) && error_rate > 0.0;
  }
};

// Parses and validates a fault document (see above).
Expected<FaultConfig> parse_fault_config(std::string_view json_text);
Expected<FaultConfig> fault_config_from_json(const nlohmann::json& doc);

// The canonical JSON form (every key present; absent optionals are null).
nlohmann::json fault_config_to_json(const FaultConfig& config);

}  // namespace tokenizer
