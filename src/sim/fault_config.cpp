#include "sim/fault_config.h"

#include <cmath>

#include "sim/bounded_json.h"

namespace tokenizer {
namespace {

Error invalid(const std::string& message) { return Error{"invalid_faults", message}; }

// An integral JSON number (5 or 5.0) within [lo, hi], or an error naming `key`.
Expected<long long> integer_in(const nlohmann::json& value, const char* key, long long lo,
                               long long hi) {
  long long n = 0;
  if (value.is_number_integer()) {
    n = value.get<long long>();
  } else if (value.is_number_float()) {
    const double d = value.get<double>();
    if (!std::isfinite(d) || std::floor(d) != d || d < -1e15 || d > 1e15) {
      return invalid(std::string(key) + " must be an integer");
    }
    n = static_cast<long long>(d);
  } else {
    return invalid(std::string(key) + " must be an integer");
  }
  if (n < lo || n > hi) {
    return invalid(std::string(key) + " must be between " + std::to_string(lo) + " and " +
                   std::to_string(hi));
  }
  return n;
}

}  // namespace

std::string_view fault_mode_name(FaultMode mode) {
  switch (mode) {
    case FaultMode::kReset:
      return "reset";
    case FaultMode::kGarbage:
      return "garbage";
    case FaultMode::kHang:
      return "hang";
    case FaultMode::kNone:
      break;
  }
  return "none";
}

Expected<FaultConfig> fault_config_from_json(const nlohmann::json& doc) {
  if (!doc.is_object()) {
    return invalid("the fault set must be a JSON object");
  }
  FaultConfig config;
  for (const auto& [key, value] : doc.items()) {
    if (value.is_null()) {
      continue;  // null means "absent"
    }
    if (key == "latency_ms") {
      auto n = integer_in(value, "latency_ms", 0, kMaxFaultLatency.count());
      if (!n) return n.error();
      config.latency = std::chrono::milliseconds(*n);
    } else if (key == "status") {
      auto n = integer_in(value, "status", 200, 599);
      if (!n) return n.error();
      config.status = static_cast<int>(*n);
    } else if (key == "error_rate") {
      if (!value.is_number()) return invalid("error_rate must be a number between 0 and 1");
      const double rate = value.get<double>();
      if (!(rate >= 0.0 && rate <= 1.0)) {
        return invalid("error_rate must be a number between 0 and 1");
      }
      config.error_rate = rate;
    } else if (key == "retry_after") {
      auto n = integer_in(value, "retry_after", 0, kMaxRetryAfterSeconds);
      if (!n) return n.error();
      config.retry_after_seconds = static_cast<int>(*n);
    } else if (key == "mode") {
      if (!value.is_string()) return invalid("mode must be one of none, reset, garbage, hang");
      const auto& name = value.get_ref<const std::string&>();
      if (name == "none") {
        config.mode = FaultMode::kNone;
      } else if (name == "reset") {
        config.mode = FaultMode::kReset;
      } else if (name == "garbage") {
        config.mode = FaultMode::kGarbage;
      } else if (name == "hang") {
        config.mode = FaultMode::kHang;
      } else {
        return invalid("mode must be one of none, reset, garbage, hang");
      }
    } else {
      return invalid("unknown key \"" + key.substr(0, 64) +
                     "\" (allowed: latency_ms, status, error_rate, retry_after, mode)");
    }
  }
  if (config.status && config.mode != FaultMode::kNone) {
    return invalid("status and mode are mutually exclusive");
  }
  if (config.retry_after_seconds && !config.status) {
    return invalid("retry_after needs status");
  }
  return config;
}

Expected<FaultConfig> parse_fault_config(std::string_view json_text) {
  auto doc = parse_bounded_json(json_text);
  if (!doc) {
    return invalid("the fault set is not valid JSON");
  }
  return fault_config_from_json(*doc);
}

nlohmann::json fault_config_to_json(const FaultConfig& config) {
  nlohmann::json out;
  out["latency_ms"] = config.latency.count();
  out["status"] = config.status ? nlohmann::json(*config.status) : nlohmann::json(nullptr);
  out["error_rate"] = config.error_rate;
  out["retry_after"] = config.retry_after_seconds ? nlohmann::json(*config.retry_after_seconds)
                                                  : nlohmann::json(nullptr);
  out["mode"] = std::string(fault_mode_name(config.mode));
  return out;
}

}  // namespace tokenizer
