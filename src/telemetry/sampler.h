// TraceSampler: decides whether a trace is kept, in dd-trace-cpp's order.
//
//   1. The first matching sampling rule (`DD_TRACE_SAMPLING_RULES`, then `DD_TRACE_SAMPLE_RATE`
//      as a catch-all rule): kept by the trace-id hash at the rule's rate, then through the
//      limiter (`DD_TRACE_RATE_LIMIT`): priority 2 (user keep) or -1 (user drop); mechanism 3.
//   2. Otherwise the agent's rate for "service:<svc>,env:<env>", else its default
//      "service:,env:" (mechanism 1), else 1.0 (mechanism 0): priority 1 or 0.
// The hash makes every tracer agree on the same trace: keep when
//   trace_id_low * 1111111111111111111 (mod 2^64) <= rate * (2^64 - 1).
// An extracted priority never reaches the sampler: the tracer honours it as is.
//
// Thread-safe: decide() may run on any request thread while the exporter's thread feeds
// update_agent_rates(). The Clock must outlive it.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "telemetry/sampler_limiter.h"

namespace tokenizer {

enum class SamplingMechanism : int {
  default_rate = 0,  // no agent rate received yet
  agent_rate = 1,
  rule = 3,
  manual = 4,
};

struct SamplingDecision {
  int priority = 1;  // 2 user keep, 1 auto keep, 0 auto drop, -1 user drop
  SamplingMechanism mechanism = SamplingMechanism::default_rate;
  std::optional<double> configured_rate;         // `_dd.agent_psr` or `_dd.rule_psr`
  std::optional<double> limiter_effective_rate;  // `_dd.limit_psr`
};

// A rule matches when every glob matches (`*` any run, `?` one character; "*" = anything).
struct SamplingRule {
  std::string service = "*";
  std::string name = "*";
  std::string resource = "*";
  double sample_rate = 1.0;
};

// Agent rates by key "service:<svc>,env:<env>".
using AgentRates = std::map<std::string, double, std::less<>>;

// The hash threshold for `rate` in [0, 1].
std::uint64_t max_id_from_rate(double rate);
// trace_id_low * 1111111111111111111 mod 2^64.
std::uint64_t knuth_sampling_hash(std::uint64_t trace_id_low);
bool sampled_at_rate(std::uint64_t trace_id_low, double rate);
bool glob_match(std::string_view pattern, std::string_view subject);

struct SamplingSubject {
  std::uint64_t trace_id_low = 0;
  std::string_view service;
  std::string_view env;
  std::string_view name;
  std::string_view resource;
};

class TraceSampler {
 public:
  TraceSampler(std::vector<SamplingRule> rules, double max_per_second, const Clock& clock);

  SamplingDecision decide(const SamplingSubject& subject);

  // Replaces the agent's rates (from the latest intake reply).
  void update_agent_rates(AgentRates rates);

 private:
  const std::vector<SamplingRule> rules_;
  SamplerLimiter limiter_;
  std::mutex mutex_;  // guards the agent rates
  AgentRates agent_rates_;
  std::optional<double> agent_default_rate_;
};

}  // namespace tokenizer
