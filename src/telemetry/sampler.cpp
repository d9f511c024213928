#include "telemetry/sampler.h"

#include <cstring>
#include <limits>
#include <utility>

namespace tokenizer {

std::uint64_t max_id_from_rate(double rate) {
  constexpr auto kMax = std::numeric_limits<std::uint64_t>::max();
  if (!(rate > 0.0)) return 0;  // also NaN
  if (rate >= 1.0) return kMax;
  // rate * 2^64 < 2^64 for rate < 1, so the conversion is defined.
  return static_cast<std::uint64_t>(rate * static_cast<double>(kMax));
}

std::uint64_t knuth_sampling_hash(std::uint64_t trace_id_low) {
  return trace_id_low * 1111111111111111111ULL;  // unsigned arithmetic wraps mod 2^64
}

bool sampled_at_rate(std::uint64_t trace_id_low, double rate) {
  return knuth_sampling_hash(trace_id_low) <= max_id_from_rate(rate);
}

bool glob_match(std::string_view pattern, std::string_view subject) {
  // Iterative matcher with single-star backtracking: linear in practice, never recursive.
  std::size_t p = 0, s = 0;
  std::size_t star = std::string_view::npos, star_s = 0;
  while (s < subject.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == subject[s])) {
      ++p;
      ++s;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      star_s = s;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      s = ++star_s;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

TraceSampler::TraceSampler(std::vector<SamplingRule> rules, double max_per_second, const Clock& clock)
    : rules_(std::move(rules)), limiter_(clock, max_per_second) {}

void TraceSampler::update_agent_rates(AgentRates rates) {
  std::optional<double> default_rate;
  if (const auto it = rates.find("service:,env:"); it != rates.end()) default_rate = it->second;
  std::lock_guard<std::mutex> lock(mutex_);
  agent_rates_ = std::move(rates);
  // As dd-trace-cpp: a reply without the default keeps the previous default.
  if (default_rate) agent_default_rate_ = default_rate;
}

SamplingDecision TraceSampler::decide(const SamplingSubject& subject) {
  SamplingDecision decision;
  for (const auto& rule : rules_) {
    if (!glob_match(rule.service, subject.service) || !glob_match(rule.name, subject.name) ||
        !glob_match(rule.resource, subject.resource)) {
      continue;
    }
    decision.mechanism = SamplingMechanism::rule;
    decision.configured_rate = rule.sample_rate;
    if (sampled_at_rate(subject.trace_id_low, rule.sample_rate)) {
      const auto limited = limiter_.allow();
      decision.priority = limited.allowed ? 2 : -1;
      decision.limiter_effective_rate = limited.effective_rate;
    } else {
      decision.priority = -1;
    }
    return decision;
  }

  // "service:<svc>,env:<env>", built on the stack when it fits (it always does in practice).
  constexpr std::string_view kService = "service:", kEnv = ",env:";
  char buf[256];
  std::string heap;
  std::string_view key;
  const std::size_t size = kService.size() + subject.service.size() + kEnv.size() + subject.env.size();
  if (size <= sizeof(buf)) {
    char* p = buf;
    for (const std::string_view part : {kService, subject.service, kEnv, subject.env}) {
      if (!part.empty()) std::memcpy(p, part.data(), part.size());
      p += part.size();
    }
    key = std::string_view(buf, size);
  } else {
    heap.reserve(size);
    for (const std::string_view part : {kService, subject.service, kEnv, subject.env}) heap += part;
    key = heap;
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (const auto it = agent_rates_.find(key); it != agent_rates_.end()) {
      decision.mechanism = SamplingMechanism::agent_rate;
      decision.configured_rate = it->second;
    } else if (agent_default_rate_) {
      decision.mechanism = SamplingMechanism::agent_rate;
      decision.configured_rate = *agent_default_rate_;
    } else {
      decision.mechanism = SamplingMechanism::default_rate;
      decision.configured_rate = 1.0;
    }
  }
  decision.priority = sampled_at_rate(subject.trace_id_low, *decision.configured_rate) ? 1 : 0;
  return decision;
}

}  // namespace tokenizer
