// finalize_tracer_config: defaults, the DD_* environment (injected), and errors that name
// the setting.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "telemetry/tracer_config.h"

namespace tokenizer {
namespace {

using Env = std::map<std::string, std::string>;

EnvLookup env_of(const Env& env) {
  return [env](std::string_view name) -> std::optional<std::string> {
    const auto it = env.find(std::string(name));
    if (it == env.end()) return std::nullopt;
    return it->second;
  };
}

Expected<FinalizedTracerConfig> finalize(const Env& env, const TracerOptions& options = {}) {
  return finalize_tracer_config(options, env_of(env));
}

TEST(TracerConfig, Defaults) {
  auto c = finalize({});
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_TRUE(c->enabled);
  EXPECT_EQ(c->service, "tokenizer");
  EXPECT_EQ(c->env, "");
  EXPECT_EQ(c->agent.traces_url, "http://localhost:8126/v0.4/traces");
  EXPECT_TRUE(c->agent.unix_socket.empty());
  EXPECT_TRUE(c->sampling_rules.empty());
  EXPECT_EQ(c->rate_limit, 100.0);
  const std::vector<PropagationStyle> both{PropagationStyle::datadog, PropagationStyle::tracecontext};
  EXPECT_EQ(c->extraction_styles, both);
  EXPECT_EQ(c->injection_styles, both);
  EXPECT_TRUE(c->trace_id_128_bit);
  EXPECT_EQ(c->tags_header_max_size, 512u);
  EXPECT_EQ(c->flush_interval, std::chrono::milliseconds(2000));
  EXPECT_EQ(c->max_buffered_spans, 10000u);
}

TEST(TracerConfig, EnvironmentWinsOverOptions) {
  TracerOptions o;
  o.service = "from-options";
  o.env = "options-env";
  o.version = "0.1";
  auto c = finalize({{"DD_SERVICE", "tok"}, {"DD_ENV", "prod"}, {"DD_VERSION", "1.2.3"}}, o);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->service, "tok");
  EXPECT_EQ(c->env, "prod");
  EXPECT_EQ(c->version, "1.2.3");
  c = finalize({}, o);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->service, "from-options");
  EXPECT_EQ(c->version, "0.1");
}

TEST(TracerConfig, AgentHostPortAndUrl) {
  auto c = finalize({{"DD_AGENT_HOST", "dd-agent"}, {"DD_TRACE_AGENT_PORT", "9126"}});
  ASSERT_TRUE(c);
  EXPECT_EQ(c->agent.traces_url, "http://dd-agent:9126/v0.4/traces");
  c = finalize({{"DD_AGENT_HOST", "::1"}});
  ASSERT_TRUE(c);
  EXPECT_EQ(c->agent.traces_url, "http://[::1]:8126/v0.4/traces");
  // The URL wins over host and port.
  c = finalize({{"DD_AGENT_HOST", "ignored"}, {"DD_TRACE_AGENT_URL", "http://127.0.0.1:1234/"}});
  ASSERT_TRUE(c);
  EXPECT_EQ(c->agent.traces_url, "http://127.0.0.1:1234/v0.4/traces");
  c = finalize({{"DD_TRACE_AGENT_URL", "unix:///var/run/datadog/apm.socket"}});
  ASSERT_TRUE(c);
  EXPECT_EQ(c->agent.unix_socket, "/var/run/datadog/apm.socket");
  EXPECT_EQ(c->agent.traces_url, "http://localhost/v0.4/traces");
}

TEST(TracerConfig, InvalidAgentSettingsNameTheSetting) {
  for (const auto& env : std::vector<Env>{{{"DD_TRACE_AGENT_PORT", "0"}},
                                          {{"DD_TRACE_AGENT_PORT", "70000"}},
                                          {{"DD_TRACE_AGENT_PORT", "http"}},
                                          {{"DD_AGENT_HOST", "a/b"}},
                                          {{"DD_TRACE_AGENT_URL", "localhost:8126"}},
                                          {{"DD_TRACE_AGENT_URL", "ftp://x"}},
                                          {{"DD_TRACE_AGENT_URL", "http://x:99999"}},
                                          {{"DD_TRACE_AGENT_URL", "http://x/v0.4/traces"}},
                                          {{"DD_TRACE_AGENT_URL", "http://:80"}},
                                          {{"DD_TRACE_AGENT_URL", "unix://relative"}}}) {
    auto c = finalize(env);
    ASSERT_FALSE(c) << env.begin()->second;
    EXPECT_EQ(c.error().code, "invalid_tracer_config");
    EXPECT_NE(c.error().message.find(env.begin()->first), std::string::npos) << c.error().message;
  }
}

TEST(TracerConfig, EnabledFlag) {
  EXPECT_FALSE(finalize({{"DD_TRACE_ENABLED", "false"}})->enabled);
  EXPECT_FALSE(finalize({{"DD_TRACE_ENABLED", "0"}})->enabled);
  EXPECT_TRUE(finalize({{"DD_TRACE_ENABLED", "TRUE"}})->enabled);
  EXPECT_FALSE(finalize({{"DD_TRACE_ENABLED", "maybe"}}));
}

TEST(TracerConfig, TagsAndUnifiedServiceTagFallbacks) {
  auto c = finalize({{"DD_TAGS", "team:payments, region:eu-west-1,env:from-tags"}});
  ASSERT_TRUE(c);
  EXPECT_EQ(c->tags, (std::map<std::string, std::string>{{"team", "payments"}, {"region", "eu-west-1"}}));
  EXPECT_EQ(c->env, "from-tags");
  c = finalize({{"DD_TAGS", "team:payments region:eu"}, {"DD_ENV", "prod"}});
  ASSERT_TRUE(c);
  EXPECT_EQ(c->tags.size(), 2u);
  EXPECT_EQ(c->env, "prod");
  EXPECT_FALSE(finalize({{"DD_TAGS", ":nokey"}}));
}

TEST(TracerConfig, SampleRateBecomesTheLastCatchAllRule) {
  auto c = finalize({{"DD_TRACE_SAMPLE_RATE", "0.25"},
                     {"DD_TRACE_SAMPLING_RULES", R"([{"service":"tok*","resource":"GET /x","sample_rate":1}])"}});
  ASSERT_TRUE(c) << c.error().message;
  ASSERT_EQ(c->sampling_rules.size(), 2u);
  EXPECT_EQ(c->sampling_rules[0].service, "tok*");
  EXPECT_EQ(c->sampling_rules[0].resource, "GET /x");
  EXPECT_EQ(c->sampling_rules[0].name, "*");
  EXPECT_EQ(c->sampling_rules[1].service, "*");
  EXPECT_EQ(c->sampling_rules[1].sample_rate, 0.25);
}

TEST(TracerConfig, InvalidSamplingSettings) {
  for (const auto& env : std::vector<Env>{{{"DD_TRACE_SAMPLE_RATE", "1.5"}},
                                          {{"DD_TRACE_SAMPLE_RATE", "half"}},
                                          {{"DD_TRACE_SAMPLE_RATE", "nan"}},
                                          {{"DD_TRACE_RATE_LIMIT", "0"}},
                                          {{"DD_TRACE_RATE_LIMIT", "-3"}},
                                          {{"DD_TRACE_SAMPLING_RULES", "{"}},
                                          {{"DD_TRACE_SAMPLING_RULES", R"([{"service":"x"}])"}},
                                          {{"DD_TRACE_SAMPLING_RULES", R"([{"sample_rate":2}])"}},
                                          {{"DD_TRACE_SAMPLING_RULES", R"([{"sample_rate":1,"tags":{}}])"}}}) {
    auto c = finalize(env);
    ASSERT_FALSE(c) << env.begin()->second;
    EXPECT_NE(c.error().message.find(env.begin()->first), std::string::npos) << c.error().message;
  }
  auto c = finalize({{"DD_TRACE_RATE_LIMIT", "5"}});
  ASSERT_TRUE(c);
  EXPECT_EQ(c->rate_limit, 5.0);
}

TEST(TracerConfig, PropagationStyles) {
  auto c = finalize({{"DD_TRACE_PROPAGATION_STYLE", "tracecontext"}});
  ASSERT_TRUE(c);
  EXPECT_EQ(c->extraction_styles, std::vector<PropagationStyle>{PropagationStyle::tracecontext});
  EXPECT_EQ(c->injection_styles, std::vector<PropagationStyle>{PropagationStyle::tracecontext});
  c = finalize({{"DD_TRACE_PROPAGATION_STYLE", "tracecontext"}, {"DD_TRACE_PROPAGATION_STYLE_INJECT", "datadog"}});
  ASSERT_TRUE(c);
  EXPECT_EQ(c->extraction_styles, std::vector<PropagationStyle>{PropagationStyle::tracecontext});
  EXPECT_EQ(c->injection_styles, std::vector<PropagationStyle>{PropagationStyle::datadog});
  c = finalize({{"DD_TRACE_PROPAGATION_STYLE_EXTRACT", "none"}});
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->extraction_styles.empty());
  EXPECT_EQ(c->injection_styles.size(), 2u);
  c = finalize({{"DD_TRACE_PROPAGATION_STYLE_EXTRACT", "b3"}});
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message.find("DD_TRACE_PROPAGATION_STYLE_EXTRACT"), std::string::npos);
}

TEST(TracerConfig, DescribeRedactsUserInformation) {
  auto c = finalize({{"DD_TRACE_AGENT_URL", "http://user:secret@agent:8126"}});
  ASSERT_TRUE(c) << c.error().message;
  bool found = false;
  for (const auto& [k, v] : c->describe()) {
    EXPECT_EQ(v.find("secret"), std::string::npos) << k;
    if (k == "agent") {
      found = true;
      EXPECT_EQ(v, "http://REDACTED@agent:8126/v0.4/traces");
    }
  }
  EXPECT_TRUE(found);
}

}  // namespace
}  // namespace tokenizer
