// TraceSampler (dd-trace-cpp's order and hash) and SamplerLimiter (token bucket).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <limits>

#include "fake_clock.h"
#include "telemetry/sampler.h"
#include "telemetry/sampler_limiter.h"

namespace tokenizer {
namespace {

using namespace std::chrono_literals;

// Hash values computed independently (Python: (id * 1111111111111111111) % 2**64):
//   id 1   -> 1111111111111111111  (0.0602 of 2^64-1)
//   id 3   -> 3333333333333333333  (0.1807)
//   id 12345678901234567 -> 4989764995057863921 (0.2705)
//   id 10  -> 11111111111111111110 (0.6023)
//   id 100 -> 430646668853801404   (0.0233, wrapped)
TEST(SamplerHash, KnuthHashMatchesIndependentlyComputedValues) {
  EXPECT_EQ(knuth_sampling_hash(1), 1111111111111111111ULL);
  EXPECT_EQ(knuth_sampling_hash(3), 3333333333333333333ULL);
  EXPECT_EQ(knuth_sampling_hash(12345678901234567ULL), 4989764995057863921ULL);
  EXPECT_EQ(knuth_sampling_hash(10), 11111111111111111110ULL);
  EXPECT_EQ(knuth_sampling_hash(100), 430646668853801404ULL);
  EXPECT_EQ(knuth_sampling_hash(0x7fffffffffffffffULL), 8112260925743664697ULL);
}

TEST(SamplerHash, KeepDecisionAtARate) {
  EXPECT_TRUE(sampled_at_rate(3, 0.2));
  EXPECT_FALSE(sampled_at_rate(12345678901234567ULL, 0.2));
  EXPECT_TRUE(sampled_at_rate(12345678901234567ULL, 0.5));
  EXPECT_FALSE(sampled_at_rate(10, 0.5));
  EXPECT_TRUE(sampled_at_rate(10, 0.61));
  EXPECT_TRUE(sampled_at_rate(100, 0.03));
  EXPECT_FALSE(sampled_at_rate(100, 0.02));
  for (std::uint64_t id : {1ULL, 10ULL, 0x7fffffffffffffffULL, ~0ULL}) {
    EXPECT_TRUE(sampled_at_rate(id, 1.0)) << id;
    EXPECT_FALSE(sampled_at_rate(id, 0.0)) << id;
  }
  EXPECT_EQ(max_id_from_rate(1.0), std::numeric_limits<std::uint64_t>::max());
  EXPECT_EQ(max_id_from_rate(0.0), 0u);
  EXPECT_EQ(max_id_from_rate(std::numeric_limits<double>::quiet_NaN()), 0u);
}

TEST(SamplerGlob, Patterns) {
  EXPECT_TRUE(glob_match("*", ""));
  EXPECT_TRUE(glob_match("*", "anything"));
  EXPECT_TRUE(glob_match("tok*", "tokenizer"));
  EXPECT_TRUE(glob_match("t?k*r", "tokenizer"));
  EXPECT_TRUE(glob_match("POST /api/*/tokenize", "POST /api/v1/payment_methods/tokenize"));
  EXPECT_FALSE(glob_match("tok", "tokenizer"));
  EXPECT_FALSE(glob_match("?", ""));
  EXPECT_FALSE(glob_match("*x", "tokenizer"));
  EXPECT_TRUE(glob_match("a*b*c", "aXbYbZc"));
  EXPECT_FALSE(glob_match(std::string(30, '*') + "b", std::string(200, 'a')));  // no blow-up
}

SamplingSubject subject(std::uint64_t id) {
  SamplingSubject s;
  s.trace_id_low = id;
  s.service = "tokenizer";
  s.env = "prod";
  s.name = "http.request";
  s.resource = "POST /api/v1/payment_methods/tokenize";
  return s;
}

TEST(TraceSampler, WithoutRulesOrAgentRatesKeepsEverythingWithTheDefaultMechanism) {
  testing::FakeClock clock;
  TraceSampler sampler({}, 100, clock);
  const auto d = sampler.decide(subject(10));
  EXPECT_EQ(d.priority, 1);
  EXPECT_EQ(d.mechanism, SamplingMechanism::default_rate);
  EXPECT_EQ(d.configured_rate, 1.0);
  EXPECT_FALSE(d.limiter_effective_rate);
}

TEST(TraceSampler, RuleRateZeroDropsAsUserDrop) {
  testing::FakeClock clock;
  SamplingRule rule;
  rule.sample_rate = 0.0;
  TraceSampler sampler({rule}, 100, clock);
  for (std::uint64_t id : {1ULL, 3ULL, 10ULL}) {
    const auto d = sampler.decide(subject(id));
    EXPECT_EQ(d.priority, -1);
    EXPECT_EQ(d.mechanism, SamplingMechanism::rule);
    EXPECT_EQ(d.configured_rate, 0.0);
  }
}

TEST(TraceSampler, RuleRateOneKeepsAsUserKeepThroughTheLimiter) {
  testing::FakeClock clock;
  SamplingRule rule;
  rule.sample_rate = 1.0;
  TraceSampler sampler({rule}, 100, clock);
  const auto d = sampler.decide(subject(10));
  EXPECT_EQ(d.priority, 2);
  EXPECT_EQ(d.mechanism, SamplingMechanism::rule);
  EXPECT_EQ(d.configured_rate, 1.0);
  ASSERT_TRUE(d.limiter_effective_rate);
  EXPECT_DOUBLE_EQ(*d.limiter_effective_rate, 1.0);
}

TEST(TraceSampler, RuleAtHalfUsesTheHash) {
  testing::FakeClock clock;
  SamplingRule rule;
  rule.sample_rate = 0.5;
  TraceSampler sampler({rule}, 100, clock);
  EXPECT_EQ(sampler.decide(subject(12345678901234567ULL)).priority, 2);
  EXPECT_EQ(sampler.decide(subject(10)).priority, -1);
}

TEST(TraceSampler, FirstMatchingRuleWins) {
  testing::FakeClock clock;
  SamplingRule other_service{"billing", "*", "*", 0.0};
  SamplingRule health{"*", "*", "GET /healthz", 0.0};
  SamplingRule tokenize{"tok*", "http.request", "POST *", 1.0};
  SamplingRule catch_all;
  catch_all.sample_rate = 0.0;
  TraceSampler sampler({other_service, health, tokenize, catch_all}, 100, clock);
  auto d = sampler.decide(subject(10));
  EXPECT_EQ(d.priority, 2);
  EXPECT_EQ(d.configured_rate, 1.0);
  auto s = subject(10);
  s.resource = "GET /healthz";
  EXPECT_EQ(sampler.decide(s).priority, -1);
}

TEST(TraceSampler, LimiterTurnsRuleKeepsIntoUserDropsAndRefillsWithTime) {
  testing::FakeClock clock;
  SamplingRule rule;
  rule.sample_rate = 1.0;
  TraceSampler sampler({rule}, 2, clock);
  EXPECT_EQ(sampler.decide(subject(1)).priority, 2);
  EXPECT_EQ(sampler.decide(subject(1)).priority, 2);
  const auto limited = sampler.decide(subject(1));
  EXPECT_EQ(limited.priority, -1);
  EXPECT_EQ(limited.mechanism, SamplingMechanism::rule);
  ASSERT_TRUE(limited.limiter_effective_rate);
  EXPECT_LT(*limited.limiter_effective_rate, 1.0);
  clock.advance(500ms);  // one token back at 2/s
  EXPECT_EQ(sampler.decide(subject(1)).priority, 2);
  EXPECT_EQ(sampler.decide(subject(1)).priority, -1);
}

TEST(TraceSampler, AgentRateForTheServiceAndEnvThenTheDefault) {
  testing::FakeClock clock;
  TraceSampler sampler({}, 100, clock);
  sampler.update_agent_rates({{"service:tokenizer,env:prod", 0.2}, {"service:,env:", 0.5}});
  auto d = sampler.decide(subject(3));  // 0.18 <= 0.2
  EXPECT_EQ(d.priority, 1);
  EXPECT_EQ(d.mechanism, SamplingMechanism::agent_rate);
  EXPECT_EQ(d.configured_rate, 0.2);
  EXPECT_EQ(sampler.decide(subject(12345678901234567ULL)).priority, 0);  // 0.27 > 0.2

  auto other = subject(12345678901234567ULL);
  other.env = "staging";  // not in the table: the default 0.5 applies
  d = sampler.decide(other);
  EXPECT_EQ(d.priority, 1);
  EXPECT_EQ(d.configured_rate, 0.5);
  EXPECT_EQ(d.mechanism, SamplingMechanism::agent_rate);

  // A later reply without the default keeps the previous default.
  sampler.update_agent_rates({{"service:tokenizer,env:prod", 0.0}});
  EXPECT_EQ(sampler.decide(subject(3)).priority, 0);
  EXPECT_EQ(sampler.decide(other).configured_rate, 0.5);
}

TEST(TraceSampler, RulesWinOverAgentRates) {
  testing::FakeClock clock;
  SamplingRule rule;
  rule.sample_rate = 1.0;
  TraceSampler sampler({rule}, 100, clock);
  sampler.update_agent_rates({{"service:,env:", 0.0}});
  EXPECT_EQ(sampler.decide(subject(10)).priority, 2);
}

TEST(SamplerLimiter, AllowsABurstOfCeilRateThenRefillsContinuously) {
  testing::FakeClock clock;
  SamplerLimiter limiter(clock, 1.5);  // bucket of 2 tokens
  EXPECT_TRUE(limiter.allow().allowed);
  EXPECT_TRUE(limiter.allow().allowed);
  EXPECT_FALSE(limiter.allow().allowed);
  clock.advance(600ms);  // 0.9 token
  EXPECT_FALSE(limiter.allow().allowed);
  clock.advance(100ms);  // 1.05 tokens
  EXPECT_TRUE(limiter.allow().allowed);
  clock.advance(10s);  // capped at 2
  EXPECT_TRUE(limiter.allow().allowed);
  EXPECT_TRUE(limiter.allow().allowed);
  EXPECT_FALSE(limiter.allow().allowed);
}

TEST(SamplerLimiter, EffectiveRateAveragesTheLastTenSeconds) {
  testing::FakeClock clock;
  SamplerLimiter limiter(clock, 1);
  EXPECT_DOUBLE_EQ(limiter.allow().effective_rate, 1.0);
  // Second call in the same window: 1 allowed of 2 asked -> (9 * 1.0 + 0.5) / 10.
  EXPECT_DOUBLE_EQ(limiter.allow().effective_rate, 0.95);
  clock.advance(1s);
  // That window closed at 0.5; the new one allows its first: (8 + 0.5 + 1) / 10.
  EXPECT_DOUBLE_EQ(limiter.allow().effective_rate, 0.95);
  clock.advance(20s);  // every remembered window is idle again
  EXPECT_DOUBLE_EQ(limiter.allow().effective_rate, 1.0);
}

}  // namespace
}  // namespace tokenizer
