// Integration: the telemetry of the real service (issue 5): Datadog spans as the agent
// receives them (through the `fake-dd-agent` executable), context propagation from the
// client through to the vault (`upstream-sim`'s request log), sampling, a dead or hanging
// agent, JSON access logs correlated with the exported spans, and `/metrics` checked by
// promtool and against `observability/METRICS.md`.
#include <gtest/gtest.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>

#include "support/service.h"

namespace tokenizer::testing {
namespace {

using json = nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr char kTokenizeRoute[] = "/api/v1/payment_methods/tokenize";

std::string agent_binary() {
  return (std::filesystem::path(TOKENIZER_BIN).parent_path() / "fake-dd-agent").string();
}

// The source tree (from the build, so it works whatever the working directory).
std::filesystem::path source_dir() {
  return std::filesystem::path(TOKENIZER_SOURCE_DIR);
}

HttpReply get(const std::string& url) {
  HttpCall call;
  call.url = url;
  return http_request(call);
}

// The fake Datadog agent as a child process.
class FakeAgent {
 public:
  FakeAgent() : process_(agent_binary(), {"--port", "0"}) { ok_ = process_.wait_for_port(); }
  bool ok() const { return ok_; }
  std::string why_not() const {
    return "fake-dd-agent did not start (build the fake-dd-agent target; binary " + agent_binary() +
           "): " + process_.stderr_text();
  }
  std::string url() const { return process_.base_url(); }
  std::string raw_traces() { return get(url() + "/test/traces").body; }
  json traces() {
    auto j = json::parse(raw_traces(), nullptr, false);
    return j.is_array() ? j : json::array();
  }
  json requests() {
    auto j = json::parse(get(url() + "/test/requests").body, nullptr, false);
    return j.is_array() ? j : json::array();
  }
  // Polls the agent (another process: nothing to wait on) until `done(spans)` holds or the
  // deadline passes; returns the last spans seen. The tracer flushes about every 2 s.
  json wait_for(const std::function<bool(const json&)>& done, milliseconds timeout = seconds(12)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    json spans = traces();
    while (!done(spans) && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(milliseconds(100));
      spans = traces();
    }
    return spans;
  }

 private:
  ChildProcess process_;
  bool ok_ = false;
};

std::map<std::string, std::string> traced_env(const FakeAgent& agent, const std::string& rate) {
  return {{"DD_TRACE_AGENT_URL", agent.url()},
          {"DD_TRACE_SAMPLE_RATE", rate},
          {"DD_ENV", "test"},
          {"DD_VERSION", "1.2.3"}};
}

std::string meta(const json& span, const std::string& key) {
  if (!span.contains("meta") || !span["meta"].contains(key)) return "<absent>";
  return span["meta"][key].get<std::string>();
}
bool has_meta(const json& span, const std::string& key) {
  return span.contains("meta") && span["meta"].contains(key);
}
bool has_metric(const json& span, const std::string& key) {
  return span.contains("metrics") && span["metrics"].contains(key);
}
double metric(const json& span, const std::string& key) {
  return has_metric(span, key) ? span["metrics"][key].get<double>() : -1e9;
}

// The server span of the request with this X-Request-Id, or null.
json server_span(const json& spans, const std::string& request_id) {
  for (const auto& s : spans) {
    if (s.value("name", "") == "http.request" && meta(s, "request_id") == request_id) return s;
  }
  return nullptr;
}

// Spans of `root`'s trace whose parent is `root` and whose name is `name`.
std::vector<json> children(const json& spans, const json& root, const std::string& name) {
  std::vector<json> out;
  for (const auto& s : spans) {
    if (s["trace_id"] == root["trace_id"] && s["parent_id"] == root["span_id"] &&
        s.value("name", "") == name) {
      out.push_back(s);
    }
  }
  std::sort(out.begin(), out.end(), [](const json& a, const json& b) {
    return metric(a, "retry.attempt") < metric(b, "retry.attempt");
  });
  return out;
}

// Waits until the trace of `request_id` has its server span and `vault_spans` vault spans.
json wait_for_trace(FakeAgent& agent, const std::string& request_id, std::size_t vault_spans) {
  return agent.wait_for([&](const json& spans) {
    const json root = server_span(spans, request_id);
    return !root.is_null() && children(spans, root, "vault.request").size() >= vault_spans &&
           !children(spans, root, "tokenize.validate").empty();
  });
}

// The vault request the simulator logged for this X-Request-Id (headers lower-cased).
json vault_request(ServiceUnderTest& s, const std::string& request_id) {
  json found = nullptr;
  for (const auto& r : s.sim_requests()) {
    if (r["headers"].value("x-request-id", "") == request_id) found = r;
  }
  return found;
}

std::string hex16(std::uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}
std::uint64_t id_of(const json& span, const char* field) {
  return std::stoull(span[field].get<std::string>());
}

// Shape checks without <regex> (GCC 12's <regex> breaks -Werror builds under ASan).
// `pattern`: '0' a decimal digit, 'x' a lower-case hex digit, anything else itself.
bool matches(const std::string& text, const std::string& pattern) {
  if (text.size() != pattern.size()) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const bool digit = c >= '0' && c <= '9';
    if (pattern[i] == '0' ? !digit
                          : pattern[i] == 'x' ? !(digit || (c >= 'a' && c <= 'f')) : c != pattern[i]) {
      return false;
    }
  }
  return true;
}
bool is_hex(const std::string& text, std::size_t n) { return matches(text, std::string(n, 'x')); }
bool is_uuid(const std::string& text) { return matches(text, "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"); }
bool is_nonzero_decimal(const std::string& text) {
  return !text.empty() && text[0] != '0' && matches(text, std::string(text.size(), '0'));
}

// "00-<32 hex trace id>-<16 hex parent>-<2 hex flags>"
struct TraceParent {
  bool ok = false;
  std::string trace_id, parent_id, flags;
};
TraceParent parse_traceparent(const std::string& text) {
  TraceParent tp;
  if (matches(text, "00-" + std::string(32, 'x') + "-" + std::string(16, 'x') + "-xx")) {
    tp = {true, text.substr(3, 32), text.substr(36, 16), text.substr(53, 2)};
  }
  return tp;
}

std::string header(const json& request, const std::string& name) {
  if (request.is_null() || !request["headers"].contains(name)) return "<absent>";
  return request["headers"][name].get<std::string>();
}

// Value of one sample line in a Prometheus scrape (`name{labels}` exactly as printed), or -1.
double sample(const std::string& scrape, const std::string& series) {
  std::istringstream in(scrape);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return -1;
}

// Polls the tokenizer's stdout until a JSON line satisfies `match`.
json wait_for_log(ServiceUnderTest& s, const std::function<bool(const json&)>& match,
                  milliseconds timeout = seconds(5)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  do {
    for (const auto& line : s.log_lines()) {
      if (match(line)) return line;
    }
    std::this_thread::sleep_for(milliseconds(20));
  } while (std::chrono::steady_clock::now() < deadline);
  return nullptr;
}

// ---------------------------------------------------------------------------------------------
// One fake agent and one service tracing to it at DD_TRACE_SAMPLE_RATE=1.

class TracingTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    agent_ = new FakeAgent();
    if (!agent_->ok()) return;
    ServiceOptions o;
    o.tokenizer_env = traced_env(*agent_, "1");
    // Failures in this suite must not open the breaker under the other tests.
    o.tokenizer_args = {"--breaker-min-calls", "1000"};
    service_ = new ServiceUnderTest(o);
  }
  static void TearDownTestSuite() {
    delete service_;
    delete agent_;
    service_ = nullptr;
    agent_ = nullptr;
  }
  void SetUp() override {
    ASSERT_TRUE(agent_->ok()) << agent_->why_not();
    ASSERT_NE(service_, nullptr);
    ASSERT_TRUE(service_->ok()) << service_->tokenizer().stderr_text();
    service_->clear_faults();
  }
  static FakeAgent* agent_;
  static ServiceUnderTest* service_;
};
FakeAgent* TracingTest::agent_ = nullptr;
ServiceUnderTest* TracingTest::service_ = nullptr;

TEST_F(TracingTest, SpanTreeOfASuccessfulTokenization) {
  const std::string rid = "tel-tree-1";
  const auto r = service_->tokenize(card_body(), {"X-Request-Id: " + rid, "User-Agent: tint-test/1.0"});
  ASSERT_EQ(r.status, 200) << r.body;
  const json spans = wait_for_trace(*agent_, rid, 1);
  const json root = server_span(spans, rid);
  ASSERT_FALSE(root.is_null()) << "no http.request span with request_id " << rid << " in "
                               << spans.dump();

  // The server span.
  EXPECT_EQ(root["type"], "web");
  EXPECT_EQ(root["service"], "tokenizer");
  EXPECT_EQ(root["resource"], std::string("POST ") + kTokenizeRoute);
  EXPECT_EQ(root["error"], 0);
  EXPECT_EQ(root["parent_id"], "0") << "a request without context starts a new trace";
  EXPECT_NE(root["trace_id"], "0");
  EXPECT_EQ(meta(root, "span.kind"), "server");
  EXPECT_EQ(meta(root, "http.method"), "POST");
  EXPECT_EQ(meta(root, "http.route"), kTokenizeRoute);
  EXPECT_EQ(meta(root, "http.url"), service_->url(kTokenizeRoute)) << "scheme, Host and path";
  EXPECT_EQ(meta(root, "http.status_code"), "200");
  EXPECT_EQ(meta(root, "http.useragent"), "tint-test/1.0");
  EXPECT_EQ(meta(root, "request_id"), rid);
  EXPECT_EQ(meta(root, "client.id"), kClientUser);
  EXPECT_EQ(meta(root, "card.brand"), "visa");
  EXPECT_GT(metric(root, "_sampling_priority_v1"), 0);
  EXPECT_EQ(metric(root, "_sampling_priority_v1"), 2) << "DD_TRACE_SAMPLE_RATE=1 is a rule: user keep";
  EXPECT_EQ(meta(root, "_dd.p.dm"), "-3") << "decided by a sampling rule";
  EXPECT_EQ(metric(root, "_dd.rule_psr"), 1);
  EXPECT_TRUE(is_hex(meta(root, "_dd.p.tid"), 16)) << meta(root, "_dd.p.tid");
  EXPECT_GT(root["duration"].get<std::int64_t>(), 0);

  // Every span of the trace: unified service tags and the tracer's own tags.
  std::size_t in_trace = 0;
  for (const auto& s : spans) {
    if (s["trace_id"] != root["trace_id"]) continue;
    ++in_trace;
    SCOPED_TRACE(s.dump());
    EXPECT_EQ(s["service"], "tokenizer");
    EXPECT_EQ(meta(s, "env"), "test");
    EXPECT_EQ(meta(s, "version"), "1.2.3");
    EXPECT_EQ(meta(s, "language"), "cpp");
    EXPECT_TRUE(is_uuid(meta(s, "runtime-id"))) << meta(s, "runtime-id");
    EXPECT_EQ(meta(s, "runtime-id"), meta(root, "runtime-id"));
    EXPECT_EQ(metric(s, "process_id"), static_cast<double>(service_->tokenizer().pid()));
    EXPECT_EQ(s["wire_types"]["metrics.process_id"], "float64");
    EXPECT_GE(s["start"].get<std::int64_t>(), root["start"].get<std::int64_t>());
    EXPECT_LE(s["start"].get<std::int64_t>() + s["duration"].get<std::int64_t>(),
              root["start"].get<std::int64_t>() + root["duration"].get<std::int64_t>())
        << "a child ends inside its parent";
  }
  EXPECT_EQ(in_trace, 3u) << "http.request, tokenize.validate, vault.request";

  // The validation child.
  const auto validate = children(spans, root, "tokenize.validate");
  ASSERT_EQ(validate.size(), 1u);
  EXPECT_EQ(validate[0]["resource"], "validate");
  EXPECT_EQ(validate[0]["error"], 0);
  EXPECT_EQ(meta(validate[0], "card.brand"), "visa");

  // No Idempotency-Key: no lookup span.
  EXPECT_TRUE(children(spans, root, "idempotency.lookup").empty());

  // The client span of the one vault attempt.
  const auto vault = children(spans, root, "vault.request");
  ASSERT_EQ(vault.size(), 1u);
  const json& c = vault[0];
  EXPECT_EQ(c["type"], "http");
  EXPECT_EQ(c["resource"], "POST /v1/payment_methods.json");
  EXPECT_EQ(c["error"], 0);
  EXPECT_EQ(meta(c, "span.kind"), "client");
  EXPECT_EQ(meta(c, "peer.service"), "vault");
  EXPECT_EQ(meta(c, "out.host"), "127.0.0.1");
  EXPECT_EQ(meta(c, "out.port"), std::to_string(service_->sim().port()));
  EXPECT_EQ(meta(c, "http.method"), "POST");
  EXPECT_EQ(meta(c, "http.status_code"), "201");
  EXPECT_EQ(meta(c, "vault.outcome"), "success");
  EXPECT_EQ(meta(c, "circuit_breaker.state"), "closed");
  EXPECT_FALSE(has_meta(c, "retry.reason")) << "the first attempt is not a retry";
  EXPECT_EQ(metric(c, "retry.attempt"), 1);
  EXPECT_EQ(c["wire_types"]["metrics.retry.attempt"], "float64");
  EXPECT_FALSE(has_metric(c, "_sampling_priority_v1")) << "only the local root carries it";

  // The vault received the client span's context in both styles.
  const json vr = vault_request(*service_, rid);
  ASSERT_FALSE(vr.is_null()) << service_->sim_requests().dump();
  EXPECT_EQ(header(vr, "x-datadog-trace-id"), root["trace_id"].get<std::string>());
  EXPECT_EQ(header(vr, "x-datadog-parent-id"), c["span_id"].get<std::string>());
  EXPECT_EQ(header(vr, "x-datadog-sampling-priority"), "2");
  const auto tp = parse_traceparent(header(vr, "traceparent"));
  ASSERT_TRUE(tp.ok) << header(vr, "traceparent");
  EXPECT_EQ(tp.trace_id, meta(root, "_dd.p.tid") + hex16(id_of(root, "trace_id")));
  EXPECT_EQ(tp.parent_id, hex16(id_of(c, "span_id")));
  EXPECT_EQ(tp.flags, "01");
  EXPECT_EQ(header(vr, "tracestate").rfind("dd=", 0), 0u) << header(vr, "tracestate");
}

TEST_F(TracingTest, HttpUrlCarriesNoQueryString) {
  const std::string rid = "tel-query-1";
  HttpCall call = tokenize_call(service_->url(std::string(kTokenizeRoute) + "?session=q-secret-77"),
                                card_body(), {"X-Request-Id: " + rid});
  ASSERT_EQ(http_request(call).status, 200);
  const json spans = wait_for_trace(*agent_, rid, 1);
  const json root = server_span(spans, rid);
  ASSERT_FALSE(root.is_null()) << spans.dump();
  EXPECT_EQ(meta(root, "http.url"), service_->url(kTokenizeRoute));
  EXPECT_EQ(spans.dump().find("q-secret-77"), std::string::npos);
}


TEST_F(TracingTest, HttpUrlAndUserAgentAreTheHeadersAsSent) {
  // A Host without a port names the scheme's default: it must not come back as ":80"
  // (behind a TLS load balancer that would point at the wrong port).
  const std::string rid = "tel-host-1";
  const auto r = service_->tokenize(card_body(), {"X-Request-Id: " + rid, "Host: tokenizer.example",
                                                  "User-Agent: Probe/2.0 (sre; +runbook)",
                                                  "Content-Type: Application/JSON;charset=UTF-8"});
  ASSERT_EQ(r.status, 200) << r.body;
  const json spans = wait_for_trace(*agent_, rid, 1);
  const json root = server_span(spans, rid);
  ASSERT_FALSE(root.is_null()) << spans.dump();
  EXPECT_EQ(meta(root, "http.url"), std::string("http://tokenizer.example") + kTokenizeRoute);
  EXPECT_EQ(meta(root, "http.useragent"), "Probe/2.0 (sre; +runbook)");
}
TEST_F(TracingTest, EveryAgentPayloadFollowsTheIntakeRules) {
  const std::string rid = "tel-intake-1";
  ASSERT_EQ(service_->tokenize(card_body(), {"X-Request-Id: " + rid}).status, 200);
  wait_for_trace(*agent_, rid, 1);
  const json requests = agent_->requests();
  ASSERT_FALSE(requests.empty());
  for (const auto& r : requests) {
    SCOPED_TRACE(r.dump());
    EXPECT_TRUE(r["accepted"].get<bool>()) << r["reason"];
    EXPECT_EQ(r["path"], "/v0.4/traces");
    const auto& h = r["headers"];
    EXPECT_EQ(h.value("content-type", ""), "application/msgpack");
    EXPECT_EQ(h.value("datadog-meta-lang", ""), "cpp");
    EXPECT_FALSE(h.value("datadog-meta-lang-version", "").empty());
    EXPECT_FALSE(h.value("datadog-meta-tracer-version", "").empty());
    EXPECT_EQ(h.value("x-datadog-trace-count", ""), std::to_string(r["traces"].get<int>()));
  }
}

TEST_F(TracingTest, VaultFailureIsAnErrorSpan) {
  const std::string rid = "tel-error-1";
  const std::string pan = "4000000000000119";  // upstream-sim: vault 500
  const auto r = service_->tokenize(card_body(pan, "919"), {"X-Request-Id: " + rid});
  ASSERT_EQ(r.status, 502) << r.body;
  const json spans = wait_for_trace(*agent_, rid, 1);
  const json root = server_span(spans, rid);
  ASSERT_FALSE(root.is_null()) << spans.dump();
  EXPECT_EQ(root["error"], 1);
  EXPECT_EQ(meta(root, "http.status_code"), "502");
  EXPECT_EQ(meta(root, "error.type"), "upstream_error");
  EXPECT_EQ(meta(root, "error.code"), "upstream_error");
  EXPECT_FALSE(meta(root, "error.message").empty());
  EXPECT_NE(meta(root, "error.message"), "<absent>");
  const auto vault = children(spans, root, "vault.request");
  ASSERT_FALSE(vault.empty());
  for (const auto& c : vault) {
    EXPECT_EQ(c["error"], 1) << c.dump();
    EXPECT_EQ(meta(c, "error.type"), "server_error");
    EXPECT_EQ(meta(c, "http.status_code"), "500");
    EXPECT_EQ(meta(c, "vault.outcome"), "server_error");
    EXPECT_NE(meta(c, "error.message"), "<absent>");
  }
  // No card data in any span of this trace.
  for (const auto& s : spans) {
    if (s["trace_id"] != root["trace_id"]) continue;
    const std::string text = s.dump();
    EXPECT_EQ(text.find(pan), std::string::npos) << text;
    EXPECT_EQ(text.find("\"919\""), std::string::npos) << text;
  }
}

TEST_F(TracingTest, EachRetryIsAClientSpan) {
  // 503 is retried by default: three attempts, each its own span.
  service_->set_faults({{"status", 503}});
  const std::string rid = "tel-retry-1";
  const auto r = service_->tokenize(card_body(), {"X-Request-Id: " + rid});
  service_->clear_faults();
  ASSERT_GE(r.status, 500) << r.body;
  const json spans = wait_for_trace(*agent_, rid, 3);
  const json root = server_span(spans, rid);
  ASSERT_FALSE(root.is_null()) << spans.dump();
  const auto vault = children(spans, root, "vault.request");
  ASSERT_EQ(vault.size(), 3u) << spans.dump();
  const std::set<std::string> reasons = {"connect_failed", "throttled", "server_error", "timeout", "reset"};
  for (std::size_t i = 0; i < vault.size(); ++i) {
    SCOPED_TRACE(vault[i].dump());
    EXPECT_EQ(metric(vault[i], "retry.attempt"), static_cast<double>(i + 1));
    EXPECT_EQ(meta(vault[i], "http.status_code"), "503");
    EXPECT_EQ(vault[i]["error"], 1);
    if (i == 0) {
      EXPECT_FALSE(has_meta(vault[i], "retry.reason"));
    } else {
      EXPECT_EQ(reasons.count(meta(vault[i], "retry.reason")), 1u) << meta(vault[i], "retry.reason");
    }
    EXPECT_NE(vault[i]["span_id"], root["span_id"]);
  }
  EXPECT_EQ(root["error"], 1);
  EXPECT_EQ(meta(root, "upstream.outcome"), "attempts_exhausted");
}

TEST_F(TracingTest, IdempotencyLookupIsAChildSpan) {
  const std::string rid = "tel-idem-1";
  const auto r = service_->tokenize(card_body(), {"X-Request-Id: " + rid, "Idempotency-Key: tint-key-0001"});
  ASSERT_EQ(r.status, 200) << r.body;
  const json spans = agent_->wait_for([&](const json& s) {
    const json root = server_span(s, rid);
    return !root.is_null() && !children(s, root, "idempotency.lookup").empty();
  });
  const json root = server_span(spans, rid);
  ASSERT_FALSE(root.is_null());
  const auto lookup = children(spans, root, "idempotency.lookup");
  ASSERT_EQ(lookup.size(), 1u);
  EXPECT_EQ(meta(lookup[0], "idempotency.result"), "started");
}

TEST_F(TracingTest, IncomingDatadogContextContinuesToTheVault) {
  const std::string rid = "tel-ddctx-1";
  const auto r = service_->tokenize(
      card_body(), {"X-Request-Id: " + rid, "x-datadog-trace-id: 123456789",
                    "x-datadog-parent-id: 987654321", "x-datadog-sampling-priority: 2",
                    "x-datadog-origin: synthetics", "x-datadog-tags: _dd.p.dm=-4"});
  ASSERT_EQ(r.status, 200) << r.body;
  const json spans = wait_for_trace(*agent_, rid, 1);
  const json root = server_span(spans, rid);
  ASSERT_FALSE(root.is_null()) << spans.dump();
  EXPECT_EQ(root["trace_id"], "123456789");
  EXPECT_EQ(root["parent_id"], "987654321");
  EXPECT_EQ(metric(root, "_sampling_priority_v1"), 2) << "the caller's priority is honoured";
  EXPECT_EQ(meta(root, "_dd.p.dm"), "-4") << "the caller's decision maker is kept";
  for (const auto& s : spans) {
    if (s["trace_id"] != root["trace_id"]) continue;
    EXPECT_EQ(meta(s, "_dd.origin"), "synthetics") << s.dump();
  }
  const auto vault = children(spans, root, "vault.request");
  ASSERT_EQ(vault.size(), 1u);

  const json vr = vault_request(*service_, rid);
  ASSERT_FALSE(vr.is_null());
  EXPECT_EQ(header(vr, "x-datadog-trace-id"), "123456789");
  EXPECT_EQ(header(vr, "x-datadog-parent-id"), vault[0]["span_id"].get<std::string>());
  EXPECT_EQ(header(vr, "x-datadog-sampling-priority"), "2");
  EXPECT_EQ(header(vr, "x-datadog-origin"), "synthetics");
  EXPECT_NE(header(vr, "x-datadog-tags").find("_dd.p.dm=-4"), std::string::npos) << header(vr, "x-datadog-tags");
  const auto tp = parse_traceparent(header(vr, "traceparent"));
  ASSERT_TRUE(tp.ok) << header(vr, "traceparent");
  EXPECT_EQ(tp.trace_id.substr(16), hex16(123456789)) << "075bcd15 is 123456789";
  EXPECT_EQ(tp.parent_id, hex16(id_of(vault[0], "span_id")));
  EXPECT_EQ(tp.flags, "01");

  // The access log line joins the same trace.
  const json line = wait_for_log(*service_, [&](const json& l) {
    return l.value("request_id", "") == rid && l.contains("duration_ms");
  });
  ASSERT_FALSE(line.is_null());
  EXPECT_EQ(line.value("dd.trace_id", ""), "123456789");
  EXPECT_EQ(line.value("dd.span_id", ""), root["span_id"].get<std::string>());
}

TEST_F(TracingTest, IncomingW3cContextContinuesToTheVault) {
  const std::string rid = "tel-w3c-1";
  const std::string trace_hex = "4bf92f3577b34da6a3ce929d0e0e4736";
  const std::uint64_t low = std::stoull(trace_hex.substr(16), nullptr, 16);
  const std::uint64_t parent = std::stoull("00f067aa0ba902b7", nullptr, 16);
  const auto r = service_->tokenize(
      card_body(), {"X-Request-Id: " + rid, "traceparent: 00-" + trace_hex + "-00f067aa0ba902b7-01",
                    "tracestate: dd=s:2;o:rum,congo=t61rcWkgMzE"});
  ASSERT_EQ(r.status, 200) << r.body;
  const json spans = wait_for_trace(*agent_, rid, 1);
  const json root = server_span(spans, rid);
  ASSERT_FALSE(root.is_null()) << spans.dump();
  EXPECT_EQ(root["trace_id"], std::to_string(low));
  EXPECT_EQ(root["parent_id"], std::to_string(parent));
  EXPECT_EQ(meta(root, "_dd.p.tid"), trace_hex.substr(0, 16)) << "the high 64 bits are kept";
  EXPECT_EQ(metric(root, "_sampling_priority_v1"), 2) << "tracestate dd=s:2 is honoured";
  EXPECT_EQ(meta(root, "_dd.origin"), "rum");
  const auto vault = children(spans, root, "vault.request");
  ASSERT_EQ(vault.size(), 1u);

  const json vr = vault_request(*service_, rid);
  ASSERT_FALSE(vr.is_null());
  const auto tp = parse_traceparent(header(vr, "traceparent"));
  ASSERT_TRUE(tp.ok) << header(vr, "traceparent");
  EXPECT_EQ(tp.trace_id, trace_hex) << "the same 128-bit trace id reaches the vault";
  EXPECT_EQ(tp.parent_id, hex16(id_of(vault[0], "span_id")));
  EXPECT_EQ(tp.flags, "01");
  const std::string ts = header(vr, "tracestate");
  EXPECT_EQ(ts.rfind("dd=", 0), 0u) << ts;
  EXPECT_NE(ts.find("s:2"), std::string::npos) << ts;
  EXPECT_NE(ts.find("o:rum"), std::string::npos) << ts;
  EXPECT_NE(ts.find("congo=t61rcWkgMzE"), std::string::npos) << "other vendors are passed on: " << ts;
  EXPECT_EQ(header(vr, "x-datadog-trace-id"), std::to_string(low));
  EXPECT_EQ(header(vr, "x-datadog-sampling-priority"), "2");
  EXPECT_NE(header(vr, "x-datadog-tags").find("_dd.p.tid=" + trace_hex.substr(0, 16)), std::string::npos)
      << header(vr, "x-datadog-tags");
}

TEST_F(TracingTest, AccessLogLinesAreJsonAndJoinTheirTrace) {
  const std::string ok_id = "tel-log-ok";
  const std::string bad_id = "tel-log-invalid";
  ASSERT_EQ(service_->tokenize(card_body(), {"X-Request-Id: " + ok_id}).status, 200);
  ASSERT_EQ(service_->tokenize(card_body("4111111111111112"), {"X-Request-Id: " + bad_id}).status, 422);
  const json spans = agent_->wait_for([&](const json& s) {
    return !server_span(s, ok_id).is_null() && !server_span(s, bad_id).is_null();
  });
  auto is_access = [](const json& l) { return l.contains("duration_ms") && l.contains("http.route"); };
  for (const auto& id : {ok_id, bad_id}) {
    ASSERT_FALSE(wait_for_log(*service_, [&](const json& l) {
                   return is_access(l) && l.value("request_id", "") == id;
                 }).is_null())
        << "no access line for " << id;
  }

  // Every stdout line is one JSON object.
  const auto lines = service_->tokenizer().stdout_lines();
  ASSERT_FALSE(lines.empty());
  for (const auto& text : lines) {
    const json l = json::parse(text, nullptr, false);
    ASSERT_TRUE(l.is_object()) << "not a JSON object: " << text;
    EXPECT_TRUE(matches(l.value("timestamp", ""), "0000-00-00T00:00:00.000Z")) << text;
    EXPECT_EQ(std::set<std::string>({"debug", "info", "warn", "error"}).count(l.value("level", "")), 1u) << text;
    EXPECT_FALSE(l.value("message", "").empty()) << text;
    EXPECT_EQ(l.value("dd.service", ""), "tokenizer") << text;
    EXPECT_EQ(l.value("dd.env", ""), "test") << text;
    EXPECT_EQ(l.value("dd.version", ""), "1.2.3") << text;
  }

  std::size_t access_lines = 0;
  for (const auto& l : service_->log_lines()) {
    if (!is_access(l)) continue;
    ++access_lines;
    SCOPED_TRACE(l.dump());
    EXPECT_FALSE(l.value("request_id", "").empty());
    EXPECT_EQ(l.value("http.method", ""), "POST");
    EXPECT_EQ(l.value("http.route", ""), kTokenizeRoute);
    ASSERT_TRUE(l["http.status_code"].is_number_integer());
    ASSERT_TRUE(l["duration_ms"].is_number());
    EXPECT_GE(l["duration_ms"].get<double>(), 0.0);
    ASSERT_TRUE(l.contains("upstream_attempts") && l["upstream_attempts"].is_number_integer());
    EXPECT_EQ(l.value("client_id", ""), kClientUser);
    EXPECT_TRUE(is_nonzero_decimal(l.value("dd.trace_id", "")));
    EXPECT_TRUE(is_nonzero_decimal(l.value("dd.span_id", "")));
    // The access line's ids are those of the exported server span.
    const json root = server_span(spans, l.value("request_id", ""));
    if (!root.is_null()) {
      EXPECT_EQ(l.value("dd.trace_id", ""), root["trace_id"].get<std::string>());
      EXPECT_EQ(l.value("dd.span_id", ""), root["span_id"].get<std::string>());
      EXPECT_EQ(l["http.status_code"].get<int>(), std::stoi(meta(root, "http.status_code")));
    }
    const std::string id = l.value("request_id", "");
    if (id == ok_id) {
      EXPECT_EQ(l["http.status_code"], 200);
      EXPECT_EQ(l["upstream_attempts"], 1);
      EXPECT_EQ(l.value("level", ""), "info");
      EXPECT_FALSE(l.contains("error_code"));
    } else if (id == bad_id) {
      EXPECT_EQ(l["http.status_code"], 422);
      EXPECT_EQ(l["upstream_attempts"], 0);
      EXPECT_EQ(l.value("error_code", ""), "validation_failed");
    }
  }
  EXPECT_GE(access_lines, 2u);
}

// ---------------------------------------------------------------------------------------------
// Sampling at rate 0: spans are still sent (the agent's stats stay complete), marked dropped.

TEST(TracingSampling, RateZeroStillSendsSpansMarkedDropped) {
  FakeAgent agent;
  ASSERT_TRUE(agent.ok()) << agent.why_not();
  ServiceOptions o;
  o.tokenizer_env = traced_env(agent, "0");
  ServiceUnderTest s(o);
  ASSERT_TRUE(s.ok()) << s.tokenizer().stderr_text();
  const std::string rid = "tel-rate0-1";
  ASSERT_EQ(s.tokenize(card_body(), {"X-Request-Id: " + rid}).status, 200);
  const json spans = wait_for_trace(agent, rid, 1);
  const json root = server_span(spans, rid);
  ASSERT_FALSE(root.is_null()) << "rate 0 must still send the spans: " << spans.dump();
  ASSERT_TRUE(has_metric(root, "_sampling_priority_v1")) << root.dump();
  EXPECT_LE(metric(root, "_sampling_priority_v1"), 0);
  EXPECT_EQ(metric(root, "_dd.rule_psr"), 0);
  EXPECT_FALSE(has_meta(root, "_dd.p.dm")) << "the decision maker is only set on kept traces";
  const json vr = vault_request(s, rid);
  ASSERT_FALSE(vr.is_null());
  EXPECT_LE(std::stoi(header(vr, "x-datadog-sampling-priority")), 0);
  const auto tp = parse_traceparent(header(vr, "traceparent"));
  ASSERT_TRUE(tp.ok) << header(vr, "traceparent");
  EXPECT_EQ(tp.flags, "00") << "not sampled";
}

// ---------------------------------------------------------------------------------------------
// An agent that is not there, or that never answers, changes nothing for clients.

void expect_fifty_fast_successes(ServiceUnderTest& s) {
  CurlSession session;
  double slowest = 0;
  for (int i = 0; i < 50; ++i) {
    const auto r = s.tokenize(session, card_body());
    ASSERT_EQ(r.status, 200) << "request " << i << ": " << r.body << r.error;
    slowest = std::max(slowest, r.seconds);
  }
  // The vault answers in about a millisecond; an export on the request path would take
  // the exporter's 1–2 s timeouts.
  EXPECT_LT(slowest, 0.5);
}

TEST(TracingDeadAgent, RequestsSucceedAndExportErrorsAreCounted) {
  ServiceUnderTest s;  // DD_TRACE_AGENT_URL=http://127.0.0.1:9: nothing listens there
  ASSERT_TRUE(s.ok()) << s.tokenizer().stderr_text();
  expect_fifty_fast_successes(s);
  const auto deadline = std::chrono::steady_clock::now() + seconds(10);
  std::string scrape;
  while (std::chrono::steady_clock::now() < deadline) {
    scrape = get(s.url("/metrics")).body;
    if (sample(scrape, "tokenizer_trace_exports_total{result=\"error\"}") >= 1) break;
    std::this_thread::sleep_for(milliseconds(100));
  }
  EXPECT_GE(sample(scrape, "tokenizer_trace_exports_total{result=\"error\"}"), 1) << scrape;
  EXPECT_EQ(sample(scrape, "tokenizer_trace_exports_total{result=\"success\"}"), 0);
  EXPECT_EQ(sample(scrape, "tokenizer_http_requests_total{method=\"POST\",route=\"/api/v1/payment_methods/tokenize\",status=\"200\"}"), 50);
}

// A port that accepts connections (the kernel completes them) and never answers.
class SilentListener {
 public:
  SilentListener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) == 0 && ::listen(fd_, 64) == 0 &&
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
      port_ = ntohs(addr.sin_port);
    }
  }
  ~SilentListener() { ::close(fd_); }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

TEST(TracingDeadAgent, HangingAgentNeitherSlowsRequestsNorShutdown) {
  SilentListener agent;
  ASSERT_GT(agent.port(), 0);
  ServiceOptions o;
  o.tokenizer_env = {{"DD_TRACE_AGENT_URL", "http://127.0.0.1:" + std::to_string(agent.port())}};
  ServiceUnderTest s(o);
  ASSERT_TRUE(s.ok()) << s.tokenizer().stderr_text();
  expect_fifty_fast_successes(s);
  // Let a flush start and hang on the agent, then keep serving through it.
  const auto until = std::chrono::steady_clock::now() + milliseconds(2500);
  CurlSession session;
  while (std::chrono::steady_clock::now() < until) {
    const auto r = s.tokenize(session, card_body());
    ASSERT_EQ(r.status, 200);
    EXPECT_LT(r.seconds, 0.5);
  }
  const auto started = std::chrono::steady_clock::now();
  s.tokenizer().signal(SIGTERM);
  const auto status = s.tokenizer().wait_exit(seconds(10));
  ASSERT_TRUE(status.has_value()) << "shutdown hangs on an agent that never answers";
  EXPECT_EQ(*status, 0);
  EXPECT_LT(std::chrono::steady_clock::now() - started, seconds(6));
}

// ---------------------------------------------------------------------------------------------
// /metrics: valid exposition format, and the catalogue matches a live scrape.

struct CommandResult {
  int status = -1;
  std::string output;
};

// Runs `promtool check metrics` over `scrape` (through a file: popen is one-way).
CommandResult promtool_check(const std::string& scrape) {
  const std::string dir = make_temp_dir("tk-promtool");
  const std::string file = dir + "/scrape.txt";
  {
    std::ofstream out(file);
    out << scrape;
  }
  CommandResult result;
  const std::string command = "/usr/bin/promtool check metrics < " + file + " 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return result;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) result.output.append(buf, n);
  const int raw = ::pclose(pipe);
  result.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  std::filesystem::remove_all(dir);
  return result;
}

// `# TYPE name type` lines of a scrape.
std::map<std::string, std::string> scrape_types(const std::string& scrape) {
  std::map<std::string, std::string> types;
  std::istringstream in(scrape);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string hash, keyword, name, type;
    if (words >> hash >> keyword >> name >> type && hash == "#" && keyword == "TYPE") types[name] = type;
  }
  return types;
}

// Rows "| `name` | type | ..." of observability/METRICS.md.
std::map<std::string, std::string> catalogue_types() {
  std::map<std::string, std::string> types;
  std::ifstream in(source_dir() / "observability" / "METRICS.md");
  auto trim = [](std::string t) {
    t.erase(0, t.find_first_not_of(' '));
    t.erase(t.find_last_not_of(' ') + 1);
    return t;
  };
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("| `", 0) != 0) continue;
    const auto end = line.find('`', 3);
    const auto cell = line.find('|', end);
    const auto cell_end = line.find('|', cell + 1);
    if (end == std::string::npos || cell == std::string::npos || cell_end == std::string::npos) continue;
    types[line.substr(3, end - 3)] = trim(line.substr(cell + 1, cell_end - cell - 1));
  }
  return types;
}

// Traffic that makes every metric family appear: successes, validation failures, bad
// credentials, an unknown path, idempotency keys, vault failures that trip the breaker
// (2 calls at 50 %), its recovery, and a span export.
void varied_traffic(ServiceUnderTest& s) {
  ASSERT_EQ(s.tokenize(card_body()).status, 200);
  ASSERT_EQ(s.tokenize(card_body("378282246310005", "1234")).status, 200);
  ASSERT_EQ(s.tokenize(card_body("4111111111111112", "12")).status, 422);
  ASSERT_EQ(s.tokenize("{not json").status, 400);
  ASSERT_EQ(s.tokenize(card_body("4000000000000002")).status, 422);  // vault rejects
  ASSERT_EQ(s.tokenize(card_body(), {"Idempotency-Key: tint-metrics-1"}).status, 200);
  ASSERT_EQ(s.tokenize(card_body(), {"Idempotency-Key: tint-metrics-1"}).status, 200);
  HttpCall wrong = tokenize_call(s.url(kTokenizeRoute), card_body(), {});
  wrong.basic_password = "wrong";
  ASSERT_EQ(http_request(wrong).status, 401);
  ASSERT_EQ(get(s.url("/api/v1/nothing")).status, 404);
  s.set_faults({{"status", 500}});
  for (int i = 0; i < 4; ++i) ASSERT_GE(s.tokenize(card_body()).status, 500);
  s.clear_faults();
  HttpCall ready;
  ready.url = s.url("/readyz");
  const auto r = http_request(ready);
  EXPECT_NE(r.body.find("open"), std::string::npos) << "the breaker should be open: " << r.body;
  // After --breaker-open-ms the probes close it again.
  const auto deadline = std::chrono::steady_clock::now() + seconds(5);
  long status = 0;
  while (status != 200 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(100));
    status = s.tokenize(card_body()).status;
  }
  ASSERT_EQ(status, 200);
}

class MetricsScrapeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    agent_ = new FakeAgent();
    if (!agent_->ok()) return;
    ServiceOptions o;
    o.tokenizer_env = traced_env(*agent_, "1");
    o.tokenizer_args = {"--breaker-min-calls", "2", "--breaker-failure-rate", "50",
                        "--breaker-open-ms", "300", "--breaker-half-open-probes", "1"};
    service_ = new ServiceUnderTest(o);
    if (!service_->ok()) return;
    varied_traffic(*service_);
    if (::testing::Test::HasFatalFailure()) return;  // leaves scrape_ null: every test fails
    // One export reaches the agent before the scrape.
    const auto deadline = std::chrono::steady_clock::now() + seconds(10);
    while (sample(get(service_->url("/metrics")).body,
                  "tokenizer_trace_exports_total{result=\"success\"}") < 1 &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(milliseconds(100));
    }
    scrape_ = new std::string(get(service_->url("/metrics")).body);
  }
  static void TearDownTestSuite() {
    delete scrape_;
    delete service_;
    delete agent_;
    scrape_ = nullptr;
    service_ = nullptr;
    agent_ = nullptr;
  }
  void SetUp() override {
    ASSERT_TRUE(agent_->ok()) << agent_->why_not();
    ASSERT_NE(service_, nullptr);
    ASSERT_TRUE(service_->ok()) << service_->tokenizer().stderr_text();
    ASSERT_NE(scrape_, nullptr) << "the traffic before the scrape failed";
  }
  static FakeAgent* agent_;
  static ServiceUnderTest* service_;
  static std::string* scrape_;
};
FakeAgent* MetricsScrapeTest::agent_ = nullptr;
ServiceUnderTest* MetricsScrapeTest::service_ = nullptr;
std::string* MetricsScrapeTest::scrape_ = nullptr;

TEST_F(MetricsScrapeTest, PromtoolAcceptsTheLiveScrape) {
  ASSERT_TRUE(std::filesystem::exists("/usr/bin/promtool")) << "install Debian's prometheus package";
  const auto result = promtool_check(*scrape_);
  EXPECT_EQ(result.status, 0) << result.output << "\n--- scrape ---\n" << *scrape_;
  // upstream-sim's own /metrics too.
  const auto sim = promtool_check(get(service_->sim_url("/metrics")).body);
  EXPECT_EQ(sim.status, 0) << sim.output;
}

TEST_F(MetricsScrapeTest, CatalogueAndLiveScrapeAgree) {
  const auto catalogue = catalogue_types();
  ASSERT_GE(catalogue.size(), 20u) << "could not read " << (source_dir() / "observability/METRICS.md");
  const auto live = scrape_types(*scrape_);
  for (const auto& [name, type] : catalogue) {
    const auto it = live.find(name);
    if (it == live.end()) {
      ADD_FAILURE() << "catalogued metric missing from the live scrape: " << name;
      continue;
    }
    EXPECT_EQ(it->second, type) << name;
  }
  for (const auto& [name, type] : live) {
    EXPECT_EQ(catalogue.count(name), 1u) << "metric not in METRICS.md: " << name << " (" << type << ")";
  }
}

TEST_F(MetricsScrapeTest, TrafficIsCountedWithBoundedLabels) {
  const std::string& m = *scrape_;
  EXPECT_GE(sample(m, "tokenizer_http_requests_total{method=\"POST\",route=\"/api/v1/payment_methods/tokenize\",status=\"200\"}"), 5);
  EXPECT_GE(sample(m, "tokenizer_http_requests_total{method=\"POST\",route=\"/api/v1/payment_methods/tokenize\",status=\"401\"}"), 1);
  EXPECT_GE(sample(m, "tokenizer_http_requests_total{method=\"GET\",route=\"unmatched\",status=\"404\"}"), 1);
  EXPECT_GE(sample(m, "tokenizer_circuit_breaker_transitions_total{from=\"closed\",to=\"open\"}"), 1) << m;
  EXPECT_EQ(sample(m, "tokenizer_circuit_breaker_state{state=\"closed\"}"), 1);
  EXPECT_GE(sample(m, "tokenizer_idempotency_requests_total{result=\"replayed\"}"), 1);
  EXPECT_GE(sample(m, "tokenizer_tokenizations_total{brand=\"amex\",result=\"success\"}"), 1);
  EXPECT_GE(sample(m, "tokenizer_trace_exports_total{result=\"success\"}"), 1);
  const auto build_info = m.find("\ntokenizer_build_info{");
  ASSERT_NE(build_info, std::string::npos) << m;
  const auto line_end = m.find('\n', build_info + 1);
  EXPECT_EQ(m.substr(line_end - 3, 3), "} 1") << m.substr(build_info, line_end - build_info);
  // No raw paths, request ids or card digits in any label.
  EXPECT_EQ(m.find("/api/v1/nothing"), std::string::npos);
  EXPECT_EQ(m.find("4111111111111112"), std::string::npos);
  EXPECT_EQ(m.find("route=\"/readyz\""), std::string::npos) << "probes are not API traffic";
  EXPECT_EQ(m.find("route=\"/metrics\""), std::string::npos) << "scrapes are not API traffic";
}

}  // namespace
}  // namespace tokenizer::testing
