// TracerConfig: the Datadog tracer's settings, read from options and the environment and
// validated once (after dd-trace-cpp's `finalize_config`).
//
// Usage:
//   TracerOptions options;                    // programmatic defaults (e.g. from flags)
//   options.version = "1.2.3";
//   auto config = finalize_tracer_config(options, process_environment());
//   if (!config) { /* config.error().message names the bad setting; refuse to start */ }
//
// The environment wins over `options`, as in dd-trace-cpp:
//   DD_TRACE_ENABLED, DD_SERVICE (default "tokenizer"), DD_ENV, DD_VERSION, DD_TAGS,
//   DD_AGENT_HOST (localhost), DD_TRACE_AGENT_PORT (8126), DD_TRACE_AGENT_URL (wins over host
//   and port; http://, https:// or unix://), DD_TRACE_SAMPLE_RATE, DD_TRACE_SAMPLING_RULES
//   (JSON array of {service,name,resource,sample_rate}), DD_TRACE_RATE_LIMIT (100/s),
//   DD_TRACE_PROPAGATION_STYLE, DD_TRACE_PROPAGATION_STYLE_EXTRACT / _INJECT (default
//   "datadog,tracecontext"), DD_TRACE_128_BIT_TRACEID_GENERATION_ENABLED (true),
//   DD_TRACE_X_DATADOG_TAGS_MAX_LENGTH (512).
// A FinalizedTracerConfig can only come out of finalize_tracer_config(), so one that exists
// is valid. Immutable once built: share it freely between threads.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/expected.h"
#include "telemetry/propagation.h"
#include "telemetry/sampler.h"

namespace tokenizer {

// Looks up an environment variable; tests pass a map-backed function.
using EnvLookup = std::function<std::optional<std::string>(std::string_view name)>;

// The real process environment (getenv).
EnvLookup process_environment();

struct TracerOptions {
  std::optional<bool> enabled;
  std::optional<std::string> service;  // default "tokenizer"
  std::optional<std::string> env;
  std::optional<std::string> version;
  std::map<std::string, std::string> tags;  // added to every span
  std::optional<std::string> agent_url;
  std::optional<std::string> agent_host;
  std::optional<int> agent_port;
  std::optional<double> sample_rate;
  std::vector<SamplingRule> sampling_rules;
  std::optional<double> rate_limit;
  std::optional<std::vector<PropagationStyle>> extraction_styles;
  std::optional<std::vector<PropagationStyle>> injection_styles;
  std::optional<bool> trace_id_128_bit;
  std::optional<std::size_t> tags_header_max_size;

  // Export (not in dd-trace-cpp's environment; defaults follow its behaviour).
  std::chrono::milliseconds flush_interval{2000};
  std::chrono::milliseconds connect_timeout{1000};
  std::chrono::milliseconds request_timeout{2000};
  std::chrono::milliseconds shutdown_timeout{2000};
  std::size_t max_buffered_spans = 10000;
  std::string tracer_version = "1.0.0";
};

// Where the intake requests go.
struct AgentEndpoint {
  std::string traces_url;   // e.g. http://localhost:8126/v0.4/traces
  std::string unix_socket;  // non-empty for unix:// URLs (then traces_url's host is ignored)
};

class FinalizedTracerConfig {
 public:
  bool enabled = true;
  std::string service;
  std::string env;
  std::string version;
  std::map<std::string, std::string> tags;
  AgentEndpoint agent;
  std::vector<SamplingRule> sampling_rules;  // DD_TRACE_SAMPLE_RATE is the last, catch-all rule
  double rate_limit = 100.0;
  std::vector<PropagationStyle> extraction_styles;
  std::vector<PropagationStyle> injection_styles;
  bool trace_id_128_bit = true;
  std::size_t tags_header_max_size = kDefaultTagsHeaderMaxSize;
  std::chrono::milliseconds flush_interval{2000};
  std::chrono::milliseconds connect_timeout{1000};
  std::chrono::milliseconds request_timeout{2000};
  std::chrono::milliseconds shutdown_timeout{2000};
  std::size_t max_buffered_spans = 10000;
  std::string tracer_version;

  // The settings as key/value text for the startup log line (nothing secret: user
  // information in an agent URL is redacted).
  std::vector<std::pair<std::string, std::string>> describe() const;

 private:
  FinalizedTracerConfig() = default;
  friend Expected<FinalizedTracerConfig> finalize_tracer_config(const TracerOptions&, const EnvLookup&);
};

Expected<FinalizedTracerConfig> finalize_tracer_config(const TracerOptions& options, const EnvLookup& env);

// Parsers shared with tests.
Expected<std::map<std::string, std::string>> parse_dd_tags(std::string_view text);
Expected<AgentEndpoint> parse_agent_url(std::string_view url);
Expected<std::vector<SamplingRule>> parse_sampling_rules(std::string_view json);

}  // namespace tokenizer
