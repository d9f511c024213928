// DatadogTracer + Span: the span tree of a request, tags on every span and on the local root,
// sampling tags, extraction and injection through spans, and the NullTracer.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "fake_clock.h"
#include "fake_random.h"
#include "fake_datadog_agent.h"
#include "telemetry/datadog_tracer.h"
#include "telemetry/msgpack_encoder.h"
#include "telemetry/tracer.h"

namespace tokenizer {
namespace {

using namespace std::chrono_literals;
using Headers = std::map<std::string, std::string>;
using Env = std::map<std::string, std::string>;

// Keeps each chunk as the tracer handed it over, and as the agent receives it: encoded as
// the exporter does (the tracer's SpanDefaults included) and decoded by the fake agent's
// strict rules. Tag checks look at the latter.
class CollectingExporter final : public SpanExporter {
 public:
  void export_chunk(TraceChunk chunk) override {
    std::string body;
    MsgpackWriter writer(body);
    writer.write_array_header(1);
    append_trace_chunk(writer, chunk);
    auto decoded = testing::validate_trace_intake(
        {{"content-type", "application/msgpack"}, {"x-datadog-trace-count", "1"}}, body);
    EXPECT_TRUE(decoded) << decoded.error().message;
    std::lock_guard<std::mutex> lock(mutex_);
    agent.push_back(decoded ? std::move(decoded->at(0)) : std::vector<testing::FakeAgentSpan>{});
    chunks.push_back(std::move(chunk));
  }
  std::vector<TraceChunk> chunks;                          // as handed over
  std::vector<std::vector<testing::FakeAgentSpan>> agent;  // as the agent receives them

 private:
  std::mutex mutex_;
};

using AgentSpan = testing::FakeAgentSpan;

const AgentSpan* find(const std::vector<testing::FakeAgentSpan>& chunk, std::uint64_t span_id) {
  for (const auto& s : chunk) {
    if (s.span_id == span_id) return &s;
  }
  return nullptr;
}

HeaderReader reader(const Headers& h) {
  return [&h](std::string_view name) -> std::optional<std::string_view> {
    const auto it = h.find(std::string(name));
    if (it == h.end()) return std::nullopt;
    return std::string_view(it->second);
  };
}

struct Fixture {
  explicit Fixture(Env env = {{"DD_ENV", "test"}, {"DD_VERSION", "1.2.3"},
                                                              {"DD_TAGS", "team:payments"}},
                   std::vector<std::uint64_t> ids = {0x1111, 0x2222, 0x3333, 0x4444, 0x5555})
      : random(std::move(ids)) {
    auto c = finalize_tracer_config({}, [env](std::string_view n) -> std::optional<std::string> {
      const auto it = env.find(std::string(n));
      if (it == env.end()) return std::nullopt;
      return it->second;
    });
    EXPECT_TRUE(c) << c.error().message;
    config.emplace(std::move(*c));
    sampler = std::make_shared<TraceSampler>(config->sampling_rules, config->rate_limit, clock);
    tracer = std::make_unique<DatadogTracer>(*config, clock, random, exporter, sampler, nullptr, "runtime-uuid");
  }

  testing::FakeClock clock;
  testing::FakeRandom random;
  std::optional<FinalizedTracerConfig> config;
  std::shared_ptr<CollectingExporter> exporter = std::make_shared<CollectingExporter>();
  std::shared_ptr<TraceSampler> sampler;
  std::unique_ptr<DatadogTracer> tracer;
};

const SpanOptions kServer{"http.request", "POST /api/v1/payment_methods/tokenize", "web", ""};

TEST(SpanTree, ServerSpanWithChildAndClientSpans) {
  Fixture f;
  const Headers none;
  const std::int64_t t0 = std::chrono::duration_cast<std::chrono::nanoseconds>(f.clock.wall().time_since_epoch()).count();
  Span server = f.tracer->extract_or_start_span(kServer, reader(none));
  ASSERT_TRUE(server.is_recording());
  server.set_tag("span.kind", "server");
  server.set_tag("http.method", "POST");
  server.set_tag("http.route", "/api/v1/payment_methods/tokenize");
  f.clock.advance(1ms);
  {
    Span validation = server.create_child({"tokenize.validate", "", "", ""});
    f.clock.advance(2ms);
  }  // finished by destruction
  Span attempt = server.create_child({"vault.request", "POST /v1/payment_methods.json", "http", "vault"});
  attempt.set_tag("span.kind", "client");
  attempt.set_tag("http.status_code", "201");
  attempt.set_metric("vault.attempt", 1);
  f.clock.advance(5ms);
  attempt.finish();
  EXPECT_TRUE(f.exporter->agent.empty()) << "exported before the server span finished";
  server.set_tag("http.status_code", "201");
  server.finish();

  ASSERT_EQ(f.exporter->agent.size(), 1u);
  const auto& chunk = f.exporter->agent[0];
  ASSERT_EQ(chunk.size(), 3u);
  const AgentSpan* root = find(chunk, 0x2222);
  const AgentSpan* validation = find(chunk, 0x3333);
  const AgentSpan* client = find(chunk, 0x4444);
  ASSERT_TRUE(root && validation && client);

  EXPECT_EQ(server.trace_id_low(), 0x1111u);
  EXPECT_EQ(server.span_id(), 0x2222u);
  for (const AgentSpan* s : {root, validation, client}) {
    EXPECT_EQ(s->trace_id, 0x1111u);
    EXPECT_EQ(s->meta.at("env"), "test");
    EXPECT_EQ(s->meta.at("version"), "1.2.3");
    EXPECT_EQ(s->meta.at("team"), "payments");
    EXPECT_EQ(s->meta.at("language"), "cpp");
    EXPECT_EQ(s->meta.at("runtime-id"), "runtime-uuid");
    EXPECT_GT(s->metrics.at("process_id"), 0);
    EXPECT_EQ(s->wire_types.at("metrics.process_id"), "float64");
    EXPECT_FALSE(s->error);
  }
  // ... though the spans do not carry them: they travel once per chunk.
  ASSERT_NE(f.exporter->chunks[0].defaults, nullptr);
  for (const SpanData& s : f.exporter->chunks[0].spans) {
    EXPECT_EQ(s.meta.count("env") + s.meta.count("language") + s.meta.count("runtime-id"), 0u) << s.name;
    EXPECT_EQ(s.metrics.count("process_id"), 0u) << s.name;
  }
  EXPECT_EQ(root->parent_id, 0u);
  EXPECT_EQ(validation->parent_id, 0x2222u);
  EXPECT_EQ(client->parent_id, 0x2222u);

  EXPECT_EQ(root->name, "http.request");
  EXPECT_EQ(root->resource, "POST /api/v1/payment_methods/tokenize");
  EXPECT_EQ(root->type, "web");
  EXPECT_EQ(root->service, "tokenizer");
  EXPECT_EQ(root->meta.at("http.status_code"), "201");
  EXPECT_EQ(root->meta.at("span.kind"), "server");
  EXPECT_EQ(validation->resource, "tokenize.validate");  // defaults to the name
  EXPECT_EQ(client->service, "vault");
  EXPECT_EQ(client->type, "http");
  EXPECT_EQ(client->metrics.at("vault.attempt"), 1.0);

  // Timing: wall start, steady duration.
  EXPECT_EQ(root->start, t0);
  EXPECT_EQ(root->duration, 8'000'000);
  EXPECT_EQ(validation->start, t0 + 1'000'000);
  EXPECT_EQ(validation->duration, 2'000'000);
  EXPECT_EQ(client->duration, 5'000'000);

  // Local root only: sampling and trace tags.
  EXPECT_EQ(root->metrics.at("_sampling_priority_v1"), 1.0);
  EXPECT_EQ(root->meta.at("_dd.p.dm"), "-0");
  EXPECT_EQ(root->metrics.at("_dd.agent_psr"), 1.0);
  // 128-bit id: high = epoch seconds of the start << 32 (FakeClock: 1795428000 = 0x6b040ea0).
  EXPECT_EQ(f.exporter->chunks[0].spans.at(0).trace_id.high, 1795428000ULL << 32);
  EXPECT_EQ(root->meta.at("_dd.p.tid"), "6b040ea000000000");
  EXPECT_EQ(server.trace_id_hex(), "6b040ea0000000000000000000001111");
  for (const AgentSpan* s : {validation, client}) {
    EXPECT_EQ(s->metrics.count("_sampling_priority_v1"), 0u);
    EXPECT_EQ(s->meta.count("_dd.p.dm"), 0u);
    EXPECT_EQ(s->meta.count("_dd.p.tid"), 0u);
  }
}

TEST(SpanTree, ErrorTags) {
  Fixture f;
  Span root = f.tracer->start_span(kServer);
  Span attempt = root.create_child({"vault.request", "", "http", ""});
  attempt.set_error("timeout", "vault did not answer within 2000 ms");
  attempt.finish();
  root.finish();
  ASSERT_EQ(f.exporter->agent.size(), 1u);
  const AgentSpan* client = find(f.exporter->agent[0], 0x3333);
  const AgentSpan* server = find(f.exporter->agent[0], 0x2222);
  ASSERT_TRUE(client && server);
  EXPECT_TRUE(client->error);
  EXPECT_EQ(client->meta.at("error.type"), "timeout");
  EXPECT_EQ(client->meta.at("error.message"), "vault did not answer within 2000 ms");
  EXPECT_FALSE(server->error);
  EXPECT_EQ(server->meta.count("error.type"), 0u);
}

// Values shorter than 13 bytes skip the scrubber; at 13 bytes it must still run.
TEST(SpanTree, TagScrubbingAtTheShortestCardLength) {
  Fixture f;
  Span root = f.tracer->start_span(kServer);
  root.set_tag("thirteen", "4222222222222");   // 13 digits, Luhn-valid
  root.set_tag("twelve", "422222222222");      // 12: cannot be a card
  root.set_tag("replaced", "x");
  root.set_tag("replaced", "5555555555554444");  // a longer value replacing a shorter one
  root.set_tag("shrunk", "a fairly long value");
  root.set_tag("shrunk", "short");
  root.finish();
  ASSERT_EQ(f.exporter->agent.size(), 1u);
  const AgentSpan* server = find(f.exporter->agent[0], 0x2222);
  ASSERT_TRUE(server);
  EXPECT_EQ(server->meta.at("thirteen"), "*************");
  EXPECT_EQ(server->meta.at("twelve"), "422222222222");
  EXPECT_EQ(server->meta.at("replaced"), "****************");
  EXPECT_EQ(server->meta.at("shrunk"), "short");
}

// SpanData copies (exporters may keep them) own their tag bytes.
TEST(SpanTree, CopiedSpanDataOwnsItsTags) {
  SpanData a;
  for (int i = 0; i < 40; ++i) a.meta.set("k" + std::to_string(i), std::string(static_cast<std::size_t>(i), 'v'));
  a.metrics.set("m", 1.5);
  SpanData b = a;
  a.meta.set("k3", "changed");
  a.meta.set("new", "tag");
  SpanData c;
  c = b;
  SpanData d = std::move(c);
  EXPECT_EQ(b.meta.size(), 40u);
  EXPECT_EQ(b.meta.at("k3"), "vvv");
  EXPECT_EQ(d.meta.at("k39"), std::string(39, 'v'));
  EXPECT_EQ(d.metrics.at("m"), 1.5);
  EXPECT_EQ(a.meta.at("k3"), "changed");
  EXPECT_FALSE(b.meta.get("new"));
  b.meta.set("", "");
  EXPECT_EQ(b.meta.at(""), "");
}

TEST(SpanTree, CardNumbersInTagValuesAreMasked) {
  Fixture f;
  Span root = f.tracer->start_span(kServer);
  root.set_tag("http.useragent", "curl/8 4111 1111 1111 1111");
  root.set_tag("request_id", "4242424242424242");
  root.set_tag("card.last_four", "1111");
  root.finish();
  ASSERT_EQ(f.exporter->agent.size(), 1u);
  const AgentSpan* server = find(f.exporter->agent[0], 0x2222);
  ASSERT_TRUE(server);
  EXPECT_EQ(server->meta.at("http.useragent").find("4111 1111"), std::string::npos)
      << server->meta.at("http.useragent");
  EXPECT_EQ(server->meta.at("request_id").find("4242"), std::string::npos);
  EXPECT_EQ(server->meta.at("card.last_four"), "1111");
}

TEST(SpanTree, ChunkWaitsForChildrenThatOutliveTheRoot) {
  Fixture f;
  Span root = f.tracer->start_span(kServer);
  Span late = root.create_child({"vault.request", "", "http", ""});
  root.finish();
  EXPECT_TRUE(f.exporter->agent.empty());
  late.finish();
  ASSERT_EQ(f.exporter->agent.size(), 1u);
  EXPECT_EQ(f.exporter->agent[0].size(), 2u);
}

TEST(SpanTree, FinishIsIdempotentAndLaterTagsAreIgnoredButIdsStayReadable) {
  Fixture f;
  Span root = f.tracer->start_span(kServer);
  root.finish();
  root.set_tag("late", "x");
  root.set_error("late", "x");
  root.finish();
  ASSERT_EQ(f.exporter->agent.size(), 1u);
  EXPECT_EQ(f.exporter->agent[0][0].meta.count("late"), 0u);
  EXPECT_FALSE(f.exporter->agent[0][0].error);
  EXPECT_EQ(root.span_id(), 0x2222u);
  EXPECT_EQ(root.trace_id_low(), 0x1111u);
}

TEST(SpanTree, MoveAssignmentFinishesTheSpanItReplaces) {
  Fixture f;
  Span a = f.tracer->start_span(kServer);
  a = f.tracer->start_span(kServer);
  EXPECT_EQ(f.exporter->agent.size(), 1u);
  Span b = std::move(a);
  EXPECT_FALSE(a.is_recording());  // NOLINT: checking the moved-from state on purpose
  b.finish();
  EXPECT_EQ(f.exporter->agent.size(), 2u);
}

TEST(SpanTree, SetResourceReplacesTheResource) {
  Fixture f;
  Span root = f.tracer->start_span({"http.request", "", "web", ""});
  root.set_resource("GET /unknown");
  root.finish();
  EXPECT_EQ(f.exporter->agent.at(0).at(0).resource, "GET /unknown");
}

TEST(SpanTree, SixtyFourBitTraceIdsHaveNoTidTag) {
  Fixture f(Env{{"DD_TRACE_128_BIT_TRACEID_GENERATION_ENABLED", "false"}});
  Span root = f.tracer->start_span(kServer);
  root.finish();
  const auto& s = f.exporter->agent.at(0).at(0);
  EXPECT_EQ(f.exporter->chunks.at(0).spans.at(0).trace_id.high, 0u);
  EXPECT_EQ(s.meta.count("_dd.p.tid"), 0u);
  EXPECT_EQ(s.meta.count("env"), 0u);  // no DD_ENV: no env tag
}

TEST(SpanTree, IdsAreNonZeroSixtyThreeBit) {
  Fixture f(Env{}, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0xffffffffffffffffULL});
  Span root = f.tracer->start_span(kServer);
  EXPECT_EQ(root.trace_id_low(), 1u);  // a Random stuck at zero still yields valid ids
  EXPECT_EQ(root.span_id(), 1u);
  Fixture g(Env{}, {0xffffffffffffffffULL});
  Span r2 = g.tracer->start_span(kServer);
  EXPECT_EQ(r2.span_id(), 0x7fffffffffffffffULL);
}

// ---- sampling tags ----

TEST(SpanSampling, RuleRateZeroDropsButStillExports) {
  Fixture f(Env{{"DD_TRACE_SAMPLE_RATE", "0"}});
  Span root = f.tracer->start_span(kServer);
  root.finish();
  ASSERT_EQ(f.exporter->agent.size(), 1u);
  const auto& s = f.exporter->agent[0][0];
  EXPECT_EQ(s.metrics.at("_sampling_priority_v1"), -1.0);
  EXPECT_EQ(s.metrics.at("_dd.rule_psr"), 0.0);
  EXPECT_EQ(s.meta.count("_dd.p.dm"), 0u);  // removed when dropped
  EXPECT_EQ(s.metrics.count("_dd.agent_psr"), 0u);
}

TEST(SpanSampling, RuleRateOneKeepsWithUserKeep) {
  Fixture f(Env{{"DD_TRACE_SAMPLE_RATE", "1"}});
  Span root = f.tracer->start_span(kServer);
  root.finish();
  const auto& s = f.exporter->agent.at(0).at(0);
  EXPECT_EQ(s.metrics.at("_sampling_priority_v1"), 2.0);
  EXPECT_EQ(s.meta.at("_dd.p.dm"), "-3");
  EXPECT_EQ(s.metrics.at("_dd.rule_psr"), 1.0);
  EXPECT_EQ(s.metrics.at("_dd.limit_psr"), 1.0);
}

TEST(SpanSampling, AgentRatesDecide) {
  Fixture f(Env{{"DD_ENV", "test"}}, {10, 0x2222, 3, 0x4444});
  f.sampler->update_agent_rates({{"service:tokenizer,env:test", 0.5}});
  Span dropped = f.tracer->start_span(kServer);  // trace id 10: hash 0.60 > 0.5
  dropped.finish();
  Span kept = f.tracer->start_span(kServer);  // trace id 3: hash 0.18 <= 0.5
  kept.finish();
  ASSERT_EQ(f.exporter->agent.size(), 2u);
  const auto& d = f.exporter->agent[0][0];
  EXPECT_EQ(d.metrics.at("_sampling_priority_v1"), 0.0);
  EXPECT_EQ(d.metrics.at("_dd.agent_psr"), 0.5);
  EXPECT_EQ(d.meta.count("_dd.p.dm"), 0u);
  const auto& k = f.exporter->agent[1][0];
  EXPECT_EQ(k.metrics.at("_sampling_priority_v1"), 1.0);
  EXPECT_EQ(k.meta.at("_dd.p.dm"), "-1");
}

// ---- extraction and injection ----

TEST(SpanPropagation, ContinuesAnExtractedDatadogContextAndHonoursItsPriority) {
  Fixture f(Env{{"DD_TRACE_SAMPLE_RATE", "0"}});  // would drop a local decision
  const Headers in{{"x-datadog-trace-id", "777"},
                   {"x-datadog-parent-id", "888"},
                   {"x-datadog-sampling-priority", "2"},
                   {"x-datadog-origin", "synthetics"},
                   {"x-datadog-tags", "_dd.p.dm=-4"}};
  Span root = f.tracer->extract_or_start_span(kServer, reader(in));
  Span child = root.create_child({"tokenize.validate", "", "", ""});
  child.finish();
  root.finish();
  ASSERT_EQ(f.exporter->agent.size(), 1u);
  const AgentSpan* r = find(f.exporter->agent[0], root.span_id());
  const AgentSpan* c = find(f.exporter->agent[0], child.span_id());
  ASSERT_TRUE(r && c);
  EXPECT_EQ(r->trace_id, 777u);
  EXPECT_EQ(f.exporter->chunks[0].spans.at(0).trace_id.high, 0u);
  EXPECT_EQ(r->parent_id, 888u);
  EXPECT_EQ(c->parent_id, r->span_id);
  EXPECT_EQ(r->metrics.at("_sampling_priority_v1"), 2.0);
  EXPECT_EQ(r->meta.at("_dd.p.dm"), "-4");  // the upstream decision maker is kept
  EXPECT_EQ(r->metrics.count("_dd.rule_psr"), 0u);
  EXPECT_EQ(r->meta.at("_dd.origin"), "synthetics");
  EXPECT_EQ(c->meta.at("_dd.origin"), "synthetics");
}

TEST(SpanPropagation, ContinuesAW3cContext) {
  Fixture f;
  const Headers in{{"traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"},
                   {"tracestate", "dd=p:00000000000000aa,rojo=1"}};
  Span root = f.tracer->extract_or_start_span(kServer, reader(in));
  EXPECT_EQ(root.trace_id_hex(), "4bf92f3577b34da6a3ce929d0e0e4736");
  Headers out;
  Span attempt = root.create_child({"vault.request", "", "http", ""});
  attempt.inject([&](std::string_view k, std::string_view v) { out[std::string(k)] = std::string(v); });
  EXPECT_EQ(out["traceparent"], "00-4bf92f3577b34da6a3ce929d0e0e4736-" + hex16(attempt.span_id()) + "-00");
  EXPECT_EQ(out["tracestate"], "dd=s:0;p:" + hex16(attempt.span_id()) + ",rojo=1");
  attempt.finish();
  root.finish();
  const AgentSpan* r = find(f.exporter->agent.at(0), root.span_id());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->parent_id, 0x00f067aa0ba902b7u);
  EXPECT_EQ(r->metrics.at("_sampling_priority_v1"), 0.0);
  EXPECT_EQ(r->meta.at("_dd.p.tid"), "4bf92f3577b34da6");
  EXPECT_EQ(r->meta.at("_dd.parent_id"), "00000000000000aa");
}

TEST(SpanPropagation, ClientSpanInjectsItselfAsTheParentAndFixesTheDecision) {
  Fixture f;
  Span root = f.tracer->start_span(kServer);
  Span attempt = root.create_child({"vault.request", "", "http", ""});
  Headers out;
  attempt.inject([&](std::string_view k, std::string_view v) { out[std::string(k)] = std::string(v); });
  EXPECT_EQ(out["x-datadog-trace-id"], std::to_string(0x1111));
  EXPECT_EQ(out["x-datadog-parent-id"], std::to_string(attempt.span_id()));
  EXPECT_EQ(out["x-datadog-sampling-priority"], "1");
  EXPECT_EQ(out["x-datadog-tags"], "_dd.p.tid=6b040ea000000000,_dd.p.dm=-0");
  EXPECT_EQ(out["traceparent"], "00-6b040ea0000000000000000000001111-" + hex16(attempt.span_id()) + "-01");
  EXPECT_EQ(out["tracestate"], "dd=s:1;p:" + hex16(attempt.span_id()) + ";t.dm:-0");
  // Agent rates arriving after the injection do not change the decision the vault saw.
  f.sampler->update_agent_rates({{"service:,env:", 0.0}});
  attempt.finish();
  root.finish();
  EXPECT_EQ(f.exporter->agent.at(0).size(), 2u);
  const AgentSpan* r = find(f.exporter->agent[0], root.span_id());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->metrics.at("_sampling_priority_v1"), 1.0);
}

TEST(SpanPropagation, ExtractionDiagnosticsLandOnTheLocalRoot) {
  Fixture f;
  const Headers in{{"x-datadog-trace-id", "5"}, {"x-datadog-parent-id", "6"}, {"x-datadog-tags", std::string(600, 'x')}};
  Span root = f.tracer->extract_or_start_span(kServer, reader(in));
  root.finish();
  EXPECT_EQ(f.exporter->agent.at(0).at(0).meta.at("_dd.propagation_error"), "extract_max_size");
  EXPECT_EQ(f.exporter->agent.at(0).at(0).trace_id, 5u);
}

TEST(SpanPropagation, InvalidIncomingContextStartsANewTrace) {
  Fixture f;
  const Headers in{{"traceparent", "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}};
  Span root = f.tracer->extract_or_start_span(kServer, reader(in));
  root.finish();
  const auto& s = f.exporter->agent.at(0).at(0);
  EXPECT_EQ(s.trace_id, 0x1111u);
  EXPECT_EQ(s.parent_id, 0u);
  EXPECT_EQ(s.meta.at("_dd.w3c_extraction_error"), "invalid_version");
}

TEST(SpanPropagation, ExtractionDisabledIgnoresIncomingHeaders) {
  Fixture f(Env{{"DD_TRACE_PROPAGATION_STYLE_EXTRACT", "none"}});
  const Headers in{{"x-datadog-trace-id", "5"}, {"x-datadog-parent-id", "6"}};
  Span root = f.tracer->extract_or_start_span(kServer, reader(in));
  EXPECT_EQ(root.trace_id_low(), 0x1111u);
}

// ---- NullTracer and make_tracer ----

TEST(NullTracer, SpansAreInertAndFree) {
  NullTracer tracer("tokenizer", "prod", "1.0");
  const Headers in{{"x-datadog-trace-id", "5"}, {"x-datadog-parent-id", "6"}};
  Span root = tracer.extract_or_start_span(kServer, reader(in));
  EXPECT_FALSE(root.is_recording());
  root.set_tag("a", "b");
  root.set_error("x", "y");
  Span child = root.create_child({"x", "", "", ""});
  EXPECT_FALSE(child.is_recording());
  Headers out;
  child.inject([&](std::string_view k, std::string_view v) { out[std::string(k)] = std::string(v); });
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(root.trace_id_low(), 0u);
  EXPECT_EQ(root.span_id(), 0u);
  EXPECT_EQ(root.trace_id_hex(), "");
  EXPECT_EQ(tracer.service(), "tokenizer");
  EXPECT_EQ(tracer.env(), "prod");
  EXPECT_EQ(tracer.version(), "1.0");
}

TEST(MakeTracer, DisabledGivesANullTracer) {
  auto c = finalize_tracer_config({}, [](std::string_view n) -> std::optional<std::string> {
    if (n == "DD_TRACE_ENABLED") return "false";
    if (n == "DD_ENV") return "prod";
    return std::nullopt;
  });
  ASSERT_TRUE(c);
  testing::FakeClock clock;
  testing::FakeRandom random(7);
  auto tracer = make_tracer(*c, clock, random);
  EXPECT_NE(dynamic_cast<NullTracer*>(tracer.get()), nullptr);
  EXPECT_EQ(tracer->env(), "prod");
  EXPECT_FALSE(tracer->start_span(kServer).is_recording());
  EXPECT_EQ(random.draws, 0);
}

}  // namespace
}  // namespace tokenizer
