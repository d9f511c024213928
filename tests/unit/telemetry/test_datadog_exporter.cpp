// DatadogExporter against the in-process FakeDatadogAgent: intake headers and body, agent
// rates feeding the sampler, full-buffer drops, a dead or hanging agent, shutdown drain;
// plus the fake agent's own rules (integration tests rely on them).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <curl/curl.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "fake_clock.h"
#include "fake_datadog_agent.h"
#include "fake_random.h"
#include "telemetry/datadog_exporter.h"
#include "telemetry/datadog_tracer.h"
#include "telemetry/msgpack_encoder.h"

namespace tokenizer {
namespace {

using namespace std::chrono_literals;
using testing::FakeDatadogAgent;

constexpr auto kDeadline = 10s;  // generous: only reached when something is broken

SpanData span(std::uint64_t trace, std::uint64_t id, std::uint64_t parent = 0) {
  SpanData s;
  s.name = "http.request";
  s.service = "tokenizer";
  s.resource = "POST /api/v1/payment_methods/tokenize";
  s.type = "web";
  s.trace_id = {0, trace};
  s.span_id = id;
  s.parent_id = parent;
  s.start_ns = 1795428000000000000LL;
  s.duration_ns = 1000;
  s.meta.set("env", "test");
  s.metrics.set("_sampling_priority_v1", 1);
  return s;
}

TraceChunk chunk(std::vector<SpanData> spans) { return TraceChunk(std::move(spans)); }

struct Recorder {
  std::mutex mutex;
  std::vector<ExportReport> exports;
  std::atomic<std::size_t> dropped{0};
  std::vector<AgentRates> rates;

  ExporterCallbacks callbacks() {
    ExporterCallbacks c;
    c.on_spans_dropped = [this](std::size_t n) { dropped += n; };
    c.on_export = [this](const ExportReport& r) {
      std::lock_guard<std::mutex> lock(mutex);
      exports.push_back(r);
    };
    c.on_agent_rates = [this](AgentRates r) {
      std::lock_guard<std::mutex> lock(mutex);
      rates.push_back(std::move(r));
    };
    return c;
  }
};

DatadogExporterOptions options_for(const std::string& agent_url, bool background = false) {
  DatadogExporterOptions o;
  o.agent.traces_url = agent_url + "/v0.4/traces";
  o.background_flush = background;
  o.flush_interval = 1h;  // tests flush explicitly unless they shorten it
  o.tracer_version = "9.9.9";
  return o;
}

TEST(DatadogExporter, SendsOneIntakeRequestWithTheAgentsHeaders) {
  FakeDatadogAgent agent;
  Recorder rec;
  DatadogExporter exporter(options_for(agent.url()), rec.callbacks());
  exporter.export_chunk(chunk({span(1, 10), span(1, 11, 10)}));
  exporter.export_chunk(chunk({span(2, 20)}));
  EXPECT_EQ(exporter.buffered_spans(), 3u);

  const auto report = exporter.flush_now();
  ASSERT_TRUE(report);
  EXPECT_EQ(report->result, ExportResult::success) << report->error;
  EXPECT_EQ(report->http_status, 200);
  EXPECT_EQ(report->traces, 2u);
  EXPECT_EQ(report->spans, 3u);
  EXPECT_EQ(exporter.buffered_spans(), 0u);

  const auto requests = agent.requests();
  ASSERT_EQ(requests.size(), 1u);
  const auto& r = requests[0];
  EXPECT_TRUE(r.accepted) << r.reason;
  EXPECT_EQ(r.method, "PUT");
  EXPECT_EQ(r.path, "/v0.4/traces");
  EXPECT_EQ(r.headers.at("content-type"), "application/msgpack");
  EXPECT_EQ(r.headers.at("datadog-meta-lang"), "cpp");
  EXPECT_EQ(r.headers.at("datadog-meta-lang-version"), "201703");
  EXPECT_EQ(r.headers.at("datadog-meta-tracer-version"), "9.9.9");
  EXPECT_EQ(r.headers.at("x-datadog-trace-count"), "2");
  EXPECT_EQ(r.headers.at("content-length"), std::to_string(r.body_size));
  EXPECT_EQ(r.headers.count("datadog-client-computed-stats"), 0u);
  EXPECT_EQ(r.headers.count("transfer-encoding"), 0u);
  EXPECT_EQ(r.headers.count("expect"), 0u);

  const auto spans = agent.spans();
  ASSERT_EQ(spans.size(), 3u);
  for (const auto& s : spans) {
    EXPECT_EQ(s.wire_types.at("trace_id"), "uint64");
    EXPECT_EQ(s.wire_types.at("span_id"), "uint64");
    EXPECT_EQ(s.wire_types.at("parent_id"), "uint64");
    EXPECT_EQ(s.wire_types.at("start"), "int64");
    EXPECT_EQ(s.wire_types.at("duration"), "int64");
    EXPECT_EQ(s.wire_types.at("metrics._sampling_priority_v1"), "float64");
    EXPECT_EQ(s.meta.at("env"), "test");
  }
  EXPECT_EQ(spans[1].parent_id, 10u);
  EXPECT_EQ(spans[2].trace_id, 2u);
  EXPECT_EQ(spans[2].chunk_index, 1u);
  EXPECT_EQ(agent.payloads().at(0), encode_trace_chunks({chunk({span(1, 10), span(1, 11, 10)}), chunk({span(2, 20)})}));

  std::lock_guard<std::mutex> lock(rec.mutex);
  ASSERT_EQ(rec.exports.size(), 1u);
  EXPECT_EQ(rec.exports[0].result, ExportResult::success);
  EXPECT_STREQ(export_result_name(rec.exports[0].result), "success");
}

TEST(DatadogExporter, NothingBufferedSendsNothing) {
  FakeDatadogAgent agent;
  Recorder rec;
  DatadogExporter exporter(options_for(agent.url()), rec.callbacks());
  EXPECT_FALSE(exporter.flush_now());
  exporter.export_chunk(TraceChunk());
  EXPECT_FALSE(exporter.flush_now());
  EXPECT_TRUE(agent.requests().empty());
  EXPECT_TRUE(rec.exports.empty());
}

TEST(DatadogExporter, RateByServiceFeedsTheSampler) {
  FakeDatadogAgent::Options agent_options;
  agent_options.rate_by_service = R"({"service:tokenizer,env:test":0.5,"service:,env:":0.25,"bad":7,"x":"y"})";
  FakeDatadogAgent agent(agent_options);
  testing::FakeClock clock;
  auto sampler = std::make_shared<TraceSampler>(std::vector<SamplingRule>{}, 100, clock);
  Recorder rec;
  auto callbacks = rec.callbacks();
  callbacks.on_agent_rates = [&](AgentRates rates) {
    {
      std::lock_guard<std::mutex> lock(rec.mutex);
      rec.rates.push_back(rates);
    }
    sampler->update_agent_rates(std::move(rates));
  };
  DatadogExporter exporter(options_for(agent.url()), callbacks);

  SamplingSubject subject;
  subject.trace_id_low = 10;  // hash 0.60
  subject.service = "tokenizer";
  subject.env = "test";
  EXPECT_EQ(sampler->decide(subject).priority, 1);  // default 1.0 before any reply

  exporter.export_chunk(chunk({span(1, 1)}));
  ASSERT_TRUE(exporter.flush_now());
  {
    std::lock_guard<std::mutex> lock(rec.mutex);
    ASSERT_EQ(rec.rates.size(), 1u);
    EXPECT_EQ(rec.rates[0], (AgentRates{{"service:tokenizer,env:test", 0.5}, {"service:,env:", 0.25}}));
  }
  const auto d = sampler->decide(subject);
  EXPECT_EQ(d.priority, 0);
  EXPECT_EQ(d.mechanism, SamplingMechanism::agent_rate);
  EXPECT_EQ(d.configured_rate, 0.5);
}

TEST(DatadogExporter, FullBufferDropsAndCountsSpans) {
  FakeDatadogAgent agent;
  Recorder rec;
  auto o = options_for(agent.url());
  o.max_buffered_spans = 3;
  DatadogExporter exporter(o, rec.callbacks());
  exporter.export_chunk(chunk({span(1, 1), span(1, 2)}));
  exporter.export_chunk(chunk({span(2, 3), span(2, 4)}));  // would make 4: dropped whole
  exporter.export_chunk(chunk({span(3, 5)}));
  EXPECT_EQ(rec.dropped.load(), 2u);
  EXPECT_EQ(exporter.buffered_spans(), 3u);
  ASSERT_TRUE(exporter.flush_now());
  EXPECT_EQ(agent.spans().size(), 3u);
  exporter.export_chunk(chunk({span(2, 3), span(2, 4)}));  // room again
  EXPECT_EQ(rec.dropped.load(), 2u);
}

TEST(DatadogExporter, UnreachableAgentIsAnErrorResult) {
  std::string dead_url;
  {
    FakeDatadogAgent agent;
    dead_url = agent.url();
  }  // stopped: connections to its port are refused
  Recorder rec;
  DatadogExporter exporter(options_for(dead_url), rec.callbacks());
  exporter.export_chunk(chunk({span(1, 1)}));
  const auto report = exporter.flush_now();
  ASSERT_TRUE(report);
  EXPECT_EQ(report->result, ExportResult::error);
  EXPECT_EQ(report->http_status, 0);
  EXPECT_FALSE(report->error.empty());
  EXPECT_EQ(exporter.buffered_spans(), 0u);  // no retry: the chunk is gone
  std::lock_guard<std::mutex> lock(rec.mutex);
  ASSERT_EQ(rec.exports.size(), 1u);
  EXPECT_STREQ(export_result_name(rec.exports[0].result), "error");
  EXPECT_TRUE(rec.rates.empty());
}

TEST(DatadogExporter, AgentErrorStatusIsAnErrorResult) {
  FakeDatadogAgent agent;
  agent.set_forced_status(503);
  Recorder rec;
  DatadogExporter exporter(options_for(agent.url()), rec.callbacks());
  exporter.export_chunk(chunk({span(1, 1)}));
  const auto report = exporter.flush_now();
  ASSERT_TRUE(report);
  EXPECT_EQ(report->result, ExportResult::error);
  EXPECT_EQ(report->http_status, 503);
}

TEST(DatadogExporter, AHangingAgentNeverBlocksFinishingSpans) {
  FakeDatadogAgent agent;
  agent.hold_intake(true);
  Recorder rec;
  auto exporter = std::make_shared<DatadogExporter>(options_for(agent.url()), rec.callbacks());
  exporter->export_chunk(chunk({span(1, 1)}));
  auto flushing = std::async(std::launch::async, [&] { return exporter->flush_now(); });
  ASSERT_TRUE(agent.wait_for_intake(1, kDeadline));  // the send is now stuck in the agent

  auto config = finalize_tracer_config({}, [](std::string_view) { return std::nullopt; });
  ASSERT_TRUE(config);
  testing::FakeClock clock;
  testing::FakeRandom random(std::vector<std::uint64_t>{5, 6, 7, 8});
  auto sampler = std::make_shared<TraceSampler>(std::vector<SamplingRule>{}, 100, clock);
  DatadogTracer tracer(*config, clock, random, exporter, sampler);
  auto finishing = std::async(std::launch::async, [&] {
    for (int i = 0; i < 100; ++i) {
      Span root = tracer.start_span({"http.request", "", "web", ""});
      Span child = root.create_child({"vault.request", "", "http", ""});
    }
  });
  ASSERT_EQ(finishing.wait_for(kDeadline), std::future_status::ready) << "Span::finish waited for the agent";
  EXPECT_EQ(exporter->buffered_spans(), 200u);

  agent.hold_intake(false);
  ASSERT_EQ(flushing.wait_for(kDeadline), std::future_status::ready);
  EXPECT_EQ(flushing.get()->result, ExportResult::success);
}

TEST(DatadogExporter, ShutdownDrainsTheBufferThenDropsLateChunks) {
  FakeDatadogAgent agent;
  Recorder rec;
  DatadogExporter exporter(options_for(agent.url(), /*background=*/true), rec.callbacks());
  exporter.export_chunk(chunk({span(1, 1), span(1, 2)}));
  exporter.shutdown();  // returns without waiting for the 1 h interval
  EXPECT_EQ(agent.spans().size(), 2u);
  exporter.export_chunk(chunk({span(2, 3)}));
  EXPECT_EQ(rec.dropped.load(), 1u);
  exporter.shutdown();  // idempotent
  EXPECT_EQ(agent.requests().size(), 1u);
}

TEST(DatadogExporter, BackgroundThreadFlushesOnItsInterval) {
  FakeDatadogAgent agent;
  Recorder rec;
  auto o = options_for(agent.url(), /*background=*/true);
  o.flush_interval = 20ms;
  DatadogExporter exporter(o, rec.callbacks());
  exporter.export_chunk(chunk({span(1, 1)}));
  ASSERT_TRUE(agent.wait_for_requests(1, kDeadline));
  EXPECT_EQ(agent.spans().size(), 1u);
}

TEST(DatadogExporter, HalfFullBufferFlushesEarly) {
  FakeDatadogAgent agent;
  Recorder rec;
  auto o = options_for(agent.url(), /*background=*/true);
  o.max_buffered_spans = 4;
  DatadogExporter exporter(o, rec.callbacks());
  exporter.export_chunk(chunk({span(1, 1), span(1, 2)}));
  ASSERT_TRUE(agent.wait_for_requests(1, kDeadline));  // long before the 1 h interval
}

TEST(DatadogExporter, EveryHalfFullBufferWakesTheSenderAgain) {
  FakeDatadogAgent agent;
  Recorder rec;
  auto o = options_for(agent.url(), /*background=*/true);
  o.max_buffered_spans = 10;
  DatadogExporter exporter(o, rec.callbacks());
  std::uint64_t id = 1;
  for (std::size_t round = 1; round <= 3; ++round) {
    for (int i = 0; i < 5; ++i, ++id) exporter.export_chunk(chunk({span(id, id)}));
    ASSERT_TRUE(agent.wait_for_requests(round, kDeadline)) << "round " << round;  // the interval is 1 h
  }
  EXPECT_EQ(rec.dropped.load(), 0u);
  EXPECT_EQ(agent.spans().size(), 15u);
}

TEST(DatadogExporter, ConsecutiveFlushesReuseOneConnection) {
  FakeDatadogAgent agent;
  Recorder rec;
  DatadogExporter exporter(options_for(agent.url()), rec.callbacks());
  for (std::uint64_t i = 1; i <= 3; ++i) {
    exporter.export_chunk(chunk({span(i, i)}));
    const auto report = exporter.flush_now();
    ASSERT_TRUE(report);
    EXPECT_EQ(report->result, ExportResult::success) << report->error;
  }
  EXPECT_EQ(agent.requests().size(), 3u);
  EXPECT_EQ(agent.connections_accepted(), 1u);
}

TEST(DatadogExporter, LargePayloadArrivesWhole) {
  FakeDatadogAgent agent;
  Recorder rec;
  auto o = options_for(agent.url());
  o.max_buffered_spans = 100000;
  DatadogExporter exporter(o, rec.callbacks());
  std::vector<TraceChunk> sent;
  for (std::uint64_t t = 1; t <= 3000; ++t) {  // array16 header, ~400 KB
    sent.push_back(chunk({span(t, 2 * t), span(t, 2 * t + 1, 2 * t)}));
    exporter.export_chunk(chunk({span(t, 2 * t), span(t, 2 * t + 1, 2 * t)}));
  }
  const auto report = exporter.flush_now();
  ASSERT_TRUE(report);
  EXPECT_EQ(report->result, ExportResult::success) << report->error;
  EXPECT_EQ(report->traces, 3000u);
  EXPECT_EQ(report->spans, 6000u);
  EXPECT_EQ(agent.spans().size(), 6000u);
  EXPECT_EQ(agent.payloads().at(0), encode_trace_chunks(sent));
}

// A GET on the fake agent (what a benchmark script does with curl).
std::string http_get(const std::string& url) {
  std::string body;
  CURL* h = curl_easy_init();
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_PROXY, "");
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, +[](char* d, std::size_t s, std::size_t n, void* u) {
    static_cast<std::string*>(u)->append(d, s * n);
    return s * n;
  });
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
  const CURLcode rc = curl_easy_perform(h);
  curl_easy_cleanup(h);
  return rc == CURLE_OK ? body : "curl error";
}

TEST(FakeAgentSink, AnswersLikeTheAgentAndOnlyCounts) {
  FakeDatadogAgent::Options agent_options;
  agent_options.sink = true;
  agent_options.rate_by_service = R"({"service:,env:":0.25})";
  FakeDatadogAgent agent(agent_options);
  Recorder rec;
  auto o = options_for(agent.url());
  o.max_buffered_spans = 100000;
  DatadogExporter exporter(o, rec.callbacks());
  std::size_t bytes = 0;
  std::vector<TraceChunk> small = {chunk({span(1, 1), span(1, 2, 1)}), chunk({span(2, 3)})};
  for (const auto& c : small) exporter.export_chunk(TraceChunk(c.spans));
  bytes += encode_trace_chunks(small).size();
  ASSERT_EQ(exporter.flush_now()->result, ExportResult::success);
  std::vector<TraceChunk> large;  // several reads of the socket, array16 header
  for (std::uint64_t t = 1; t <= 2000; ++t) large.push_back(chunk({span(t, t)}));
  for (const auto& c : large) exporter.export_chunk(TraceChunk(c.spans));
  bytes += encode_trace_chunks(large).size();
  const auto report = exporter.flush_now();
  ASSERT_TRUE(report);
  EXPECT_EQ(report->result, ExportResult::success) << report->error;
  EXPECT_EQ(report->http_status, 200);

  const auto stats = agent.sink_stats();
  EXPECT_EQ(stats.payloads, 2u);
  EXPECT_EQ(stats.traces, 2002u);
  EXPECT_EQ(stats.bytes, bytes);
  EXPECT_EQ(agent.connections_accepted(), 1u);
  EXPECT_TRUE(agent.spans().empty());
  EXPECT_TRUE(agent.payloads().empty());
  EXPECT_TRUE(agent.requests().empty());
  {
    std::lock_guard<std::mutex> lock(rec.mutex);
    ASSERT_EQ(rec.rates.size(), 2u);
    EXPECT_EQ(rec.rates[1], (AgentRates{{"service:,env:", 0.25}}));
  }
  const auto json = nlohmann::json::parse(http_get(agent.url() + "/test/stats"), nullptr, false);
  ASSERT_TRUE(json.is_object());
  EXPECT_EQ(json["payloads"], 2);
  EXPECT_EQ(json["traces"], 2002);
  EXPECT_EQ(json["bytes"], bytes);

  agent.set_forced_status(503);  // the knobs still apply; a refused payload is not counted
  exporter.export_chunk(chunk({span(9, 9)}));
  EXPECT_EQ(exporter.flush_now()->http_status, 503);
  EXPECT_EQ(agent.sink_stats().payloads, 2u);
}

TEST(FakeAgentSink, TraceCountComesFromTheArrayHeader) {
  using testing::fake_agent_array_size;
  EXPECT_EQ(fake_agent_array_size(std::string("\x90", 1)), 0u);
  EXPECT_EQ(fake_agent_array_size("\x9f"), 15u);
  EXPECT_EQ(fake_agent_array_size(std::string("\xdc\x01\x00", 3)), 256u);
  EXPECT_EQ(fake_agent_array_size(std::string("\xdd\x00\x01\x00\x00", 5)), 65536u);
  EXPECT_FALSE(fake_agent_array_size(""));
  EXPECT_FALSE(fake_agent_array_size("\xdc\x01"));  // truncated
  EXPECT_FALSE(fake_agent_array_size("\x81"));       // a map
}

TEST(DatadogTracerEndToEnd, MakeTracerExportsToTheAgentAtShutdown) {
  FakeDatadogAgent agent;
  const std::string url = agent.url();
  auto config = finalize_tracer_config({}, [&](std::string_view n) -> std::optional<std::string> {
    if (n == "DD_TRACE_AGENT_URL") return url;
    if (n == "DD_ENV") return "test";
    return std::nullopt;
  });
  ASSERT_TRUE(config) << config.error().message;
  testing::FakeClock clock;
  testing::FakeRandom random(std::vector<std::uint64_t>{101, 102, 103});
  std::vector<ExportResult> results;
  TracerHooks hooks;
  hooks.on_export = [&](const ExportReport& r) { results.push_back(r.result); };
  auto tracer = make_tracer(*config, clock, random, hooks);
  {
    Span root = tracer->start_span({"http.request", "POST /api/v1/payment_methods/tokenize", "web", ""});
    Span attempt = root.create_child({"vault.request", "POST /v1/payment_methods.json", "http", ""});
    attempt.set_error("server_error", "vault answered 503");
  }
  tracer->shutdown();
  EXPECT_EQ(results, std::vector<ExportResult>{ExportResult::success});
  const auto spans = agent.spans();
  ASSERT_EQ(spans.size(), 2u);
  const auto json = nlohmann::json::parse(agent.traces_json());
  ASSERT_EQ(json.size(), 2u);
  // The tracer's defaults reach the agent on every span, though no span carries them.
  const std::string runtime_id = json[0]["meta"].value("runtime-id", "");
  EXPECT_EQ(runtime_id.size(), 36u) << runtime_id;
  for (const auto& s : json) {
    EXPECT_EQ(s["trace_id"], "101");
    EXPECT_EQ(s["meta"]["env"], "test");
    EXPECT_EQ(s["meta"]["language"], "cpp");
    EXPECT_EQ(s["meta"]["runtime-id"], runtime_id);
    EXPECT_EQ(s["metrics"]["process_id"], static_cast<double>(::getpid()));
    EXPECT_EQ(s["wire_types"]["metrics.process_id"], "float64");
  }
  EXPECT_EQ(json[0]["error"], 1);
  EXPECT_EQ(json[0]["parent_id"], "102");
  EXPECT_EQ(json[1]["metrics"]["_sampling_priority_v1"], 1.0);
}

// ---- the fake agent's rules ----

std::map<std::string, std::string> intake_headers(std::size_t count) {
  return {{"content-type", "application/msgpack"}, {"x-datadog-trace-count", std::to_string(count)}};
}

TEST(FakeAgentRules, AcceptsWhatTheExporterSends) {
  const auto body = encode_trace_chunks({chunk({span(1, 1), span(1, 2, 1)})});
  auto r = testing::validate_trace_intake(intake_headers(1), body);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->at(0).size(), 2u);
}

TEST(FakeAgentRules, RejectsWhatTheAgentRejects) {
  auto reason = [](const std::map<std::string, std::string>& h, const std::string& body) {
    auto r = testing::validate_trace_intake(h, body);
    return r ? std::string("accepted") : r.error().message;
  };
  const auto good = encode_trace_chunks({chunk({span(1, 1)})});
  EXPECT_NE(reason({{"x-datadog-trace-count", "1"}}, good).find("Content-Type"), std::string::npos);
  EXPECT_NE(reason({{"content-type", "application/json"}, {"x-datadog-trace-count", "1"}}, good).find("Content-Type"),
            std::string::npos);
  EXPECT_NE(reason({{"content-type", "application/msgpack"}}, good).find("Trace-Count"), std::string::npos);
  EXPECT_NE(reason(intake_headers(2), good).find("Trace-Count"), std::string::npos);
  EXPECT_NE(reason(intake_headers(1), "\xc1").find("undecodable"), std::string::npos);
  EXPECT_NE(reason(intake_headers(1), encode_trace_chunks({chunk({span(0, 1)})})).find("trace_id 0"), std::string::npos);
  EXPECT_NE(reason(intake_headers(1), encode_trace_chunks({chunk({span(1, 0)})})).find("span_id 0"), std::string::npos);
  EXPECT_NE(reason(intake_headers(1), encode_trace_chunks({chunk({span(1, 1), span(2, 2)})})).find("mixes"), std::string::npos);
  EXPECT_NE(reason(intake_headers(1), encode_trace_chunks({TraceChunk()})).find("empty"), std::string::npos);

  // nlohmann's to_msgpack writes 1.0 as float32: the agent rejects such a payload.
  nlohmann::json j = nlohmann::json::array({nlohmann::json::array(
      {{{"trace_id", 1}, {"span_id", 1}, {"name", "x"}, {"metrics", {{"_sampling_priority_v1", 1.0}}}}})});
  const auto bytes = nlohmann::json::to_msgpack(j);
  const std::string body(bytes.begin(), bytes.end());
  EXPECT_NE(reason(intake_headers(1), body).find("float32"), std::string::npos) << reason(intake_headers(1), body);

  // Integer metrics, and ids in small integer encodings, are fine for the agent.
  nlohmann::json ints = nlohmann::json::array({nlohmann::json::array(
      {{{"trace_id", 1}, {"span_id", 1}, {"metrics", {{"process_id", 42}}}}})});
  const auto ib = nlohmann::json::to_msgpack(ints);
  EXPECT_EQ(reason(intake_headers(1), std::string(ib.begin(), ib.end())), "accepted");

  // A string where an id belongs is a type error.
  nlohmann::json str_id = nlohmann::json::array({nlohmann::json::array({{{"trace_id", "1"}, {"span_id", 1}}})});
  const auto sb = nlohmann::json::to_msgpack(str_id);
  EXPECT_NE(reason(intake_headers(1), std::string(sb.begin(), sb.end())).find("trace_id"), std::string::npos);
}

}  // namespace
}  // namespace tokenizer
