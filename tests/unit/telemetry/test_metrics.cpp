// Unit tests of Metrics (families, labels, buckets, guards, bounds), the /proc parsers of
// ProcessCollector, the METRICS.md catalogue agreement and `promtool check metrics`.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "telemetry/metrics.h"
#include "telemetry/process_metrics.h"

namespace tokenizer {
namespace {

using Labels = std::map<std::string, std::string>;

struct Sample {
  std::string name;
  Labels labels;
  double value = 0;
};

// Parses the sample lines of a Prometheus text exposition.
std::vector<Sample> parse_samples(const std::string& text) {
  std::vector<Sample> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    Sample s;
    std::size_t i = line.find_first_of("{ ");
    s.name = line.substr(0, i);
    if (line[i] == '{') {
      ++i;
      while (line[i] != '}') {
        const auto eq = line.find('=', i);
        const std::string key = line.substr(i, eq - i);
        std::size_t j = eq + 2;  // after ="
        std::string value;
        while (line[j] != '"') {
          if (line[j] == '\\') ++j;
          value.push_back(line[j++]);
        }
        s.labels[key] = value;
        i = j + 1;
        if (line[i] == ',') ++i;
      }
      ++i;
    }
    s.value = std::stod(line.substr(i + 1));
    out.push_back(std::move(s));
  }
  return out;
}

// Family name → type, from the "# TYPE" lines.
std::map<std::string, std::string> parse_types(const std::string& text) {
  std::map<std::string, std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("# TYPE ", 0) != 0) continue;
    std::istringstream fields(line.substr(7));
    std::string name, type;
    fields >> name >> type;
    out[name] = type;
  }
  return out;
}

// The value of the one sample with this name and exactly these labels; NaN when absent.
double value_of(const std::string& text, const std::string& name, const Labels& labels = {}) {
  for (const auto& s : parse_samples(text)) {
    if (s.name == name && s.labels == labels) return s.value;
  }
  return std::nan("");
}

bool has_series(const std::string& text, const std::string& name, const Labels& labels) {
  return !std::isnan(value_of(text, name, labels));
}

MetricsOptions no_process() {
  MetricsOptions o;
  o.build = BuildInfo{"1.2.3", "abcdef123456"};
  o.process_metrics = false;
  return o;
}

constexpr const char* kTokenize = "/api/v1/payment_methods/tokenize";

TEST(Metrics, HttpRequestCountedWithTemplateLabels) {
  Metrics m(no_process());
  m.observe_http_request("POST", kTokenize, 200, 0.003);
  m.observe_http_request("POST", kTokenize, 200, 0.2);
  m.observe_http_request("POST", kTokenize, 422, 0.004);
  m.observe_http_request("GET", "/healthz", 200, 0.0001);
  const auto text = m.serialize();

  EXPECT_EQ(2, value_of(text, "tokenizer_http_requests_total",
                        {{"method", "POST"}, {"route", kTokenize}, {"status", "200"}}));
  EXPECT_EQ(1, value_of(text, "tokenizer_http_requests_total",
                        {{"method", "POST"}, {"route", kTokenize}, {"status", "422"}}));
  EXPECT_EQ(1, value_of(text, "tokenizer_http_requests_total",
                        {{"method", "GET"}, {"route", "/healthz"}, {"status", "200"}}));
  const Labels post{{"method", "POST"}, {"route", kTokenize}};
  EXPECT_EQ(3, value_of(text, "tokenizer_http_request_duration_seconds_count", post));
  EXPECT_NEAR(0.207, value_of(text, "tokenizer_http_request_duration_seconds_sum", post), 1e-9);
  auto bucket = [&](const char* le) {
    Labels l = post;
    l["le"] = le;
    return value_of(text, "tokenizer_http_request_duration_seconds_bucket", l);
  };
  EXPECT_EQ(0, bucket("0.0025"));
  EXPECT_EQ(2, bucket("0.005"));
  EXPECT_EQ(2, bucket("0.1"));
  EXPECT_EQ(3, bucket("0.25"));
  EXPECT_EQ(3, bucket("+Inf"));
}

TEST(Metrics, HistogramBucketsSpanOneMillisecondToTenSeconds) {
  const auto& b = Metrics::duration_buckets();
  ASSERT_FALSE(b.empty());
  EXPECT_DOUBLE_EQ(0.001, b.front());
  EXPECT_DOUBLE_EQ(10.0, b.back());
  for (std::size_t i = 1; i < b.size(); ++i) EXPECT_LT(b[i - 1], b[i]);

  Metrics m(no_process());
  m.observe_http_request("POST", kTokenize, 201, 0.01);
  m.observe_upstream_attempt(Metrics::UpstreamOutcome::success, 0.01);
  const auto text = m.serialize();
  for (const char* family : {"tokenizer_http_request_duration_seconds_bucket",
                             "tokenizer_upstream_request_duration_seconds_bucket"}) {
    std::vector<double> les;
    for (const auto& s : parse_samples(text)) {
      if (s.name == family) les.push_back(std::stod(s.labels.at("le")));
    }
    ASSERT_EQ(b.size() + 1, les.size()) << family;
    for (std::size_t i = 0; i < b.size(); ++i) EXPECT_DOUBLE_EQ(b[i], les[i]) << family;
    EXPECT_TRUE(std::isinf(les.back())) << family;
  }
}

TEST(Metrics, LabelValuesAreBounded) {
  Metrics m(no_process());
  m.observe_http_request("BREW", "/api/v1/payment_methods/4111111111111111", 42, 0.001);
  m.observe_http_request("get", "/healthz?x=1", 700, 0.001);
  const auto text = m.serialize();
  EXPECT_EQ(2, value_of(text, "tokenizer_http_requests_total",
                        {{"method", "other"}, {"route", "unmatched"}, {"status", "other"}}));
  EXPECT_EQ(2, value_of(text, "tokenizer_http_request_duration_seconds_count",
                        {{"method", "other"}, {"route", "unmatched"}}));
  EXPECT_EQ(std::string::npos, text.find("4111111111111111"));
  EXPECT_EQ(std::string::npos, text.find("BREW"));
  EXPECT_EQ(std::string::npos, text.find("x=1"));
}

TEST(Metrics, ConfiguredRoutesAreAccepted) {
  MetricsOptions o = no_process();
  o.routes = {"/v2/things"};
  Metrics m(o);
  m.observe_http_request("PUT", "/v2/things", 204, 0.001);
  m.observe_http_request("PUT", kTokenize, 204, 0.001);
  const auto text = m.serialize();
  EXPECT_EQ(1, value_of(text, "tokenizer_http_requests_total",
                        {{"method", "PUT"}, {"route", "/v2/things"}, {"status", "204"}}));
  EXPECT_EQ(1, value_of(text, "tokenizer_http_requests_total",
                        {{"method", "PUT"}, {"route", "unmatched"}, {"status", "204"}}));
}

TEST(Metrics, InFlightGuardFollowsItsLifetime) {
  Metrics m(no_process());
  auto in_flight = [&] { return value_of(m.serialize(), "tokenizer_http_requests_in_flight"); };
  EXPECT_EQ(0, in_flight());
  {
    InFlightGuard a = m.track_in_flight();
    EXPECT_EQ(1, in_flight());
    InFlightGuard b = m.track_in_flight();
    EXPECT_EQ(2, in_flight());
    InFlightGuard moved = std::move(a);  // moving does not count twice
    EXPECT_EQ(2, in_flight());
    moved.release();
    EXPECT_EQ(1, in_flight());
    moved.release();  // idempotent
    EXPECT_EQ(1, in_flight());
    InFlightGuard c = m.track_in_flight();
    b = std::move(c);  // the assigned-over guard releases its own count
    EXPECT_EQ(1, in_flight());
  }
  EXPECT_EQ(0, in_flight());
}

TEST(Metrics, UpstreamOutcomesArePreRegisteredAndCounted) {
  Metrics m(no_process());
  m.observe_upstream_attempt(Metrics::UpstreamOutcome::timeout, 2.0);
  m.observe_upstream_attempt(Metrics::UpstreamOutcome::success, 0.05);
  m.observe_upstream_attempt(Metrics::UpstreamOutcome::success, 0.05);
  const auto text = m.serialize();
  for (const char* outcome : {"success", "rejected", "auth_failed", "throttled", "server_error",
                              "bad_response", "timeout", "connect_error", "reset", "tls_error"}) {
    EXPECT_TRUE(has_series(text, "tokenizer_upstream_requests_total", {{"outcome", outcome}}))
        << outcome;
  }
  EXPECT_EQ(2, value_of(text, "tokenizer_upstream_requests_total", {{"outcome", "success"}}));
  EXPECT_EQ(1, value_of(text, "tokenizer_upstream_requests_total", {{"outcome", "timeout"}}));
  EXPECT_EQ(0, value_of(text, "tokenizer_upstream_requests_total", {{"outcome", "reset"}}));
  EXPECT_EQ(1, value_of(text, "tokenizer_upstream_request_duration_seconds_count",
                        {{"outcome", "timeout"}}));
  EXPECT_DOUBLE_EQ(2.0, value_of(text, "tokenizer_upstream_request_duration_seconds_sum",
                                 {{"outcome", "timeout"}}));
  EXPECT_EQ(2, value_of(text, "tokenizer_upstream_request_duration_seconds_count",
                        {{"outcome", "success"}}));
}

TEST(Metrics, ResilienceCounters) {
  Metrics m(no_process());
  m.count_upstream_retry(Metrics::RetryReason::throttled);
  m.count_upstream_retry(Metrics::RetryReason::throttled);
  m.count_upstream_retry(Metrics::RetryReason::connect_failed);
  m.count_retry_budget_exhausted();
  m.count_load_shed();
  m.count_load_shed();
  m.count_load_shed();
  m.count_rate_limited(Metrics::RateLimitKind::auth_failure);
  const auto text = m.serialize();
  EXPECT_EQ(2, value_of(text, "tokenizer_upstream_retries_total", {{"reason", "throttled"}}));
  EXPECT_EQ(1, value_of(text, "tokenizer_upstream_retries_total", {{"reason", "connect_failed"}}));
  EXPECT_EQ(0, value_of(text, "tokenizer_upstream_retries_total", {{"reason", "server_error"}}));
  EXPECT_EQ(1, value_of(text, "tokenizer_retry_budget_exhausted_total"));
  EXPECT_EQ(3, value_of(text, "tokenizer_load_shed_total"));
  EXPECT_EQ(1, value_of(text, "tokenizer_rate_limited_total", {{"kind", "auth_failure"}}));
  EXPECT_EQ(0, value_of(text, "tokenizer_rate_limited_total", {{"kind", "client"}}));
}

TEST(Metrics, BreakerStateIsOneHotAndTransitionsAreCounted) {
  Metrics m(no_process());
  auto state = [&](const std::string& text, const char* s) {
    return value_of(text, "tokenizer_circuit_breaker_state", {{"state", s}});
  };
  auto text = m.serialize();
  EXPECT_EQ(1, state(text, "closed"));
  EXPECT_EQ(0, state(text, "open"));
  EXPECT_EQ(0, state(text, "half_open"));

  m.count_breaker_transition(Metrics::BreakerState::closed, Metrics::BreakerState::open);
  text = m.serialize();
  EXPECT_EQ(0, state(text, "closed"));
  EXPECT_EQ(1, state(text, "open"));
  EXPECT_EQ(1, value_of(text, "tokenizer_circuit_breaker_transitions_total",
                        {{"from", "closed"}, {"to", "open"}}));

  m.count_breaker_transition(Metrics::BreakerState::open, Metrics::BreakerState::half_open);
  m.set_breaker_state(Metrics::BreakerState::half_open);
  text = m.serialize();
  EXPECT_EQ(1, state(text, "half_open"));
  EXPECT_EQ(0, state(text, "open"));
  EXPECT_EQ(1, value_of(text, "tokenizer_circuit_breaker_transitions_total",
                        {{"from", "open"}, {"to", "half_open"}}));
  EXPECT_FALSE(has_series(text, "tokenizer_circuit_breaker_transitions_total",
                          {{"from", "half_open"}, {"to", "closed"}}));
}

TEST(Metrics, TokenizationsByBrandAndResult) {
  Metrics m(no_process());
  m.count_tokenization("visa", Metrics::TokenizationResult::success);
  m.count_tokenization("visa", Metrics::TokenizationResult::success);
  m.count_tokenization("amex", Metrics::TokenizationResult::card_rejected);
  m.count_tokenization("", Metrics::TokenizationResult::validation_failed);
  m.count_tokenization("4111111111111111", Metrics::TokenizationResult::validation_failed);
  const auto text = m.serialize();
  EXPECT_EQ(2, value_of(text, "tokenizer_tokenizations_total",
                        {{"brand", "visa"}, {"result", "success"}}));
  EXPECT_EQ(1, value_of(text, "tokenizer_tokenizations_total",
                        {{"brand", "amex"}, {"result", "card_rejected"}}));
  EXPECT_EQ(2, value_of(text, "tokenizer_tokenizations_total",
                        {{"brand", "unknown"}, {"result", "validation_failed"}}));
  EXPECT_EQ(std::string::npos, text.find("4111111111111111"));
}

TEST(Metrics, ValidationFailureLabelsAreIdentifiersOnly) {
  Metrics m(no_process());
  m.count_validation_failure("payment_method.cvv", "invalid_length");
  m.count_validation_failure("payment_method.cvv", "invalid_length");
  m.count_validation_failure("payment_method.4111111111111111", "unknown");  // digit run
  m.count_validation_failure("Payment Method", "x");                         // not an identifier
  m.count_validation_failure("payment_method.year", std::string(65, 'a'));   // too long
  const auto text = m.serialize();
  EXPECT_EQ(2, value_of(text, "tokenizer_validation_failures_total",
                        {{"field", "payment_method.cvv"}, {"code", "invalid_length"}}));
  EXPECT_EQ(3, value_of(text, "tokenizer_validation_failures_total",
                        {{"field", "other"}, {"code", "other"}}));
  EXPECT_EQ(std::string::npos, text.find("4111111111111111"));
}

TEST(Metrics, ValidationLabelPairsAreCapped) {
  Metrics m(no_process());
  const std::size_t extra = 10;
  for (std::size_t i = 0; i < Metrics::kMaxValidationLabelPairs + extra; ++i) {
    m.count_validation_failure("field_" + std::to_string(i), "code");
  }
  const auto text = m.serialize();
  std::size_t series = 0;
  for (const auto& s : parse_samples(text)) {
    if (s.name == "tokenizer_validation_failures_total") ++series;
  }
  EXPECT_EQ(Metrics::kMaxValidationLabelPairs + 1, series);  // + {other,other}
  EXPECT_EQ(static_cast<double>(extra), value_of(text, "tokenizer_validation_failures_total",
                                                 {{"field", "other"}, {"code", "other"}}));
}

TEST(Metrics, IdempotencyTraceAndBuildInfo) {
  Metrics m(no_process());
  m.count_idempotency(Metrics::IdempotencyResult::new_key);
  m.count_idempotency(Metrics::IdempotencyResult::replayed);
  m.count_idempotency(Metrics::IdempotencyResult::replayed);
  m.count_spans_dropped(5);
  m.count_spans_dropped(2);
  m.count_trace_export(Metrics::TraceExportResult::error);
  m.count_log_lines_dropped(4);
  const auto text = m.serialize();
  EXPECT_EQ(1, value_of(text, "tokenizer_idempotency_requests_total", {{"result", "new"}}));
  EXPECT_EQ(2, value_of(text, "tokenizer_idempotency_requests_total", {{"result", "replayed"}}));
  EXPECT_EQ(0, value_of(text, "tokenizer_idempotency_requests_total", {{"result", "mismatch"}}));
  EXPECT_EQ(7, value_of(text, "tokenizer_trace_spans_dropped_total"));
  EXPECT_EQ(1, value_of(text, "tokenizer_trace_exports_total", {{"result", "error"}}));
  EXPECT_EQ(0, value_of(text, "tokenizer_trace_exports_total", {{"result", "success"}}));
  EXPECT_EQ(4, value_of(text, "tokenizer_log_lines_dropped_total"));
  EXPECT_EQ(1, value_of(text, "tokenizer_build_info",
                        {{"version", "1.2.3"}, {"commit", "abcdef123456"}}));
}

TEST(Metrics, DefaultBuildInfoComesFromTheBuild) {
  const auto info = BuildInfo::current();
  EXPECT_FALSE(info.version.empty());
  EXPECT_FALSE(info.commit.empty());
  EXPECT_NE("unknown", info.version);
}

TEST(Metrics, ConcurrentUpdatesAreAllCounted) {
  Metrics m(no_process());
  constexpr int kPerThread = 20000;
  auto work = [&] {
    for (int i = 0; i < kPerThread; ++i) {
      m.observe_http_request("POST", kTokenize, 200 + (i % 3), 0.001);
      m.observe_upstream_attempt(Metrics::UpstreamOutcome::success, 0.001);
      m.count_validation_failure("payment_method.cvv", i % 2 ? "missing" : "invalid");
      auto guard = m.track_in_flight();
    }
  };
  std::thread a(work), b(work);
  a.join();
  b.join();
  const auto text = m.serialize();
  double total = 0;
  for (const auto& s : parse_samples(text)) {
    if (s.name == "tokenizer_http_requests_total") total += s.value;
  }
  EXPECT_EQ(2.0 * kPerThread, total);
  EXPECT_EQ(2.0 * kPerThread,
            value_of(text, "tokenizer_upstream_requests_total", {{"outcome", "success"}}));
  EXPECT_EQ(kPerThread, value_of(text, "tokenizer_validation_failures_total",
                                 {{"field", "payment_method.cvv"}, {"code", "missing"}}));
  EXPECT_EQ(0, value_of(text, "tokenizer_http_requests_in_flight"));
}

// ---- process metrics ----

constexpr const char* kStat =
    "12345 (tokenizer (worker) x) S 1 12345 12345 0 -1 4194560 1000 0 0 0 "
    "250 150 0 0 20 0 7 0 360000 123456789 2048 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 "
    "1 0 0 0 0 0\n";
constexpr const char* kProcStat =
    "cpu  2255 34 2290 22625563 6290 127 456 0 0 0\n"
    "intr 1462898 0 0\n"
    "ctxt 115315\n"
    "btime 1795420000\n"
    "processes 2101\n";
constexpr const char* kLimits =
    "Limit                     Soft Limit           Hard Limit           Units     \n"
    "Max cpu time              unlimited            unlimited            seconds   \n"
    "Max open files            1024                 524288               files     \n"
    "Max locked memory         8388608              8388608              bytes     \n";

TEST(ProcessMetrics, ParsesStatWithAwkwardCommandName) {
  const auto stat = parse_proc_pid_stat(kStat);
  ASSERT_TRUE(stat) << stat.error().message;
  EXPECT_EQ(250u, stat->utime_ticks);
  EXPECT_EQ(150u, stat->stime_ticks);
  EXPECT_EQ(360000u, stat->start_ticks);
  EXPECT_EQ(123456789u, stat->vsize_bytes);
  EXPECT_EQ(2048u, stat->rss_pages);
}

TEST(ProcessMetrics, RejectsMalformedStat) {
  EXPECT_FALSE(parse_proc_pid_stat(""));
  EXPECT_FALSE(parse_proc_pid_stat("12345 (x S 1 2 3"));
  EXPECT_FALSE(parse_proc_pid_stat("12345 (x) S 1 2 3 4 5"));
  EXPECT_FALSE(
      parse_proc_pid_stat("1 (x) S 1 1 1 0 -1 0 0 0 0 0 ab 150 0 0 20 0 7 0 360000 123 2048 0\n"));
}

TEST(ProcessMetrics, ParsesBootTime) {
  const auto btime = parse_proc_stat_btime(kProcStat);
  ASSERT_TRUE(btime);
  EXPECT_EQ(1795420000u, *btime);
  EXPECT_FALSE(parse_proc_stat_btime("cpu 1 2 3\nctxt 4\n"));
  EXPECT_FALSE(parse_proc_stat_btime("btime soon\n"));
}

TEST(ProcessMetrics, ParsesMaxOpenFiles) {
  const auto max = parse_max_open_files(kLimits);
  ASSERT_TRUE(max);
  ASSERT_TRUE(max->has_value());
  EXPECT_EQ(1024u, **max);
  const auto unlimited =
      parse_max_open_files("Max open files            unlimited            unlimited   files\n");
  ASSERT_TRUE(unlimited);
  EXPECT_FALSE(unlimited->has_value());
  EXPECT_FALSE(parse_max_open_files("Max cpu time  unlimited  unlimited  seconds\n"));
}

TEST(ProcessMetrics, SampleCombinesTheSources) {
  const auto stat = parse_proc_pid_stat(kStat);
  ASSERT_TRUE(stat);
  const auto s = make_process_sample(*stat, 1795420000u, 1024u, 9u, 100, 4096);
  ASSERT_TRUE(s.cpu_seconds && s.start_time_seconds && s.resident_memory_bytes &&
              s.virtual_memory_bytes && s.max_fds && s.open_fds);
  EXPECT_DOUBLE_EQ(4.0, *s.cpu_seconds);  // (250 + 150) / 100
  EXPECT_DOUBLE_EQ(1795420000.0 + 3600.0, *s.start_time_seconds);
  EXPECT_DOUBLE_EQ(2048.0 * 4096.0, *s.resident_memory_bytes);
  EXPECT_DOUBLE_EQ(123456789.0, *s.virtual_memory_bytes);
  EXPECT_DOUBLE_EQ(1024.0, *s.max_fds);
  EXPECT_DOUBLE_EQ(9.0, *s.open_fds);

  const auto partial = make_process_sample(std::nullopt, std::nullopt, std::nullopt, 3u, 100, 4096);
  EXPECT_FALSE(partial.cpu_seconds);
  EXPECT_FALSE(partial.start_time_seconds);
  EXPECT_TRUE(partial.open_fds);
  const auto families = process_metric_families(partial);
  ASSERT_EQ(1u, families.size());
  EXPECT_EQ("process_open_fds", families[0].name);
}

// A fake /proc tree in a temporary directory, removed at the end of the test.
class FakeProc {
 public:
  FakeProc() {
    char tmpl[] = "/tmp/tk-proc-XXXXXX";
    root_ = ::mkdtemp(tmpl);
    std::filesystem::create_directories(root_ / "self" / "fd");
  }
  ~FakeProc() { std::filesystem::remove_all(root_); }
  void write(const std::string& rel, const std::string& content) {
    std::ofstream(root_ / rel) << content;
  }
  std::string root() const { return root_.string(); }

 private:
  std::filesystem::path root_;
};

TEST(ProcessMetrics, CollectorReadsTheProcTree) {
  FakeProc proc;
  proc.write("self/stat", kStat);
  proc.write("stat", kProcStat);
  proc.write("self/limits", kLimits);
  for (const char* fd : {"0", "1", "2", "7"}) proc.write(std::string("self/fd/") + fd, "");

  MetricsOptions o = no_process();
  o.process_metrics = true;
  o.proc_root = proc.root();
  Metrics m(o);
  const auto text = m.serialize();
  const double tick = static_cast<double>(::sysconf(_SC_CLK_TCK));
  EXPECT_DOUBLE_EQ(400.0 / tick, value_of(text, "process_cpu_seconds_total"));
  EXPECT_EQ(4, value_of(text, "process_open_fds"));
  EXPECT_EQ(1024, value_of(text, "process_max_fds"));
  EXPECT_EQ(123456789, value_of(text, "process_virtual_memory_bytes"));
  EXPECT_EQ(2048.0 * static_cast<double>(::sysconf(_SC_PAGESIZE)),
            value_of(text, "process_resident_memory_bytes"));
  EXPECT_DOUBLE_EQ(1795420000.0 + 360000.0 / tick, value_of(text, "process_start_time_seconds"));
  EXPECT_EQ("counter", parse_types(text)["process_cpu_seconds_total"]);
}

TEST(ProcessMetrics, MissingFilesOnlyHideTheirMetrics) {
  FakeProc proc;
  proc.write("self/limits", kLimits);
  ProcessCollector collector(proc.root());
  const auto s = collector.sample();
  EXPECT_FALSE(s.cpu_seconds);
  EXPECT_FALSE(s.resident_memory_bytes);
  EXPECT_FALSE(s.start_time_seconds);
  ASSERT_TRUE(s.max_fds);
  EXPECT_EQ(1024, *s.max_fds);
  ASSERT_TRUE(s.open_fds);
  EXPECT_EQ(0, *s.open_fds);
}

TEST(ProcessMetrics, LiveSampleOfThisProcessIsSane) {
  const auto s = ProcessCollector().sample();
  ASSERT_TRUE(s.cpu_seconds && s.resident_memory_bytes && s.virtual_memory_bytes && s.open_fds &&
              s.start_time_seconds);
  EXPECT_GE(*s.cpu_seconds, 0.0);
  EXPECT_GT(*s.resident_memory_bytes, 1024.0 * 1024.0);  // a gtest binary is above 1 MiB
  EXPECT_GE(*s.virtual_memory_bytes, *s.resident_memory_bytes);
  EXPECT_GE(*s.open_fds, 3.0);  // stdin, stdout, stderr
  if (s.max_fds) {
    EXPECT_GE(*s.max_fds, *s.open_fds);
  }
  EXPECT_GT(*s.start_time_seconds, 1.0e9);  // after 2001: the boot time was added
}

// ---- the catalogue and promtool ----

// Exercises every method so that every lazily created family has a series.
std::string full_scrape(Metrics& m) {
  m.observe_http_request("POST", kTokenize, 200, 0.01);
  auto guard = m.track_in_flight();
  m.observe_upstream_attempt(Metrics::UpstreamOutcome::server_error, 0.02);
  m.count_upstream_retry(Metrics::RetryReason::server_error);
  m.count_retry_budget_exhausted();
  m.count_breaker_transition(Metrics::BreakerState::closed, Metrics::BreakerState::open);
  m.count_load_shed();
  m.count_rate_limited(Metrics::RateLimitKind::client);
  m.count_tokenization("visa", Metrics::TokenizationResult::success);
  m.count_validation_failure("payment_method.cvv", "invalid");
  m.count_idempotency(Metrics::IdempotencyResult::replayed);
  m.count_spans_dropped(1);
  m.count_trace_export(Metrics::TraceExportResult::success);
  m.count_log_lines_dropped(1);
  return m.serialize();
}

// Rows of observability/METRICS.md: "| `name` | type | ..." → name → type.
std::map<std::string, std::string> read_catalogue() {
  std::ifstream in(std::string(TOKENIZER_SOURCE_DIR) + "/observability/METRICS.md");
  std::map<std::string, std::string> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("| `", 0) != 0) continue;
    const auto end = line.find('`', 3);
    const std::string name = line.substr(3, end - 3);
    const auto type_start = line.find('|', end) + 1;
    const auto type_end = line.find('|', type_start);
    std::string type = line.substr(type_start, type_end - type_start);
    type.erase(0, type.find_first_not_of(' '));
    type.erase(type.find_last_not_of(' ') + 1);
    out[name] = type;
  }
  return out;
}

TEST(MetricsCatalogue, AgreesWithTheScrape) {
  const auto catalogue = read_catalogue();
  ASSERT_FALSE(catalogue.empty()) << "observability/METRICS.md has no metric rows";
  Metrics m(MetricsOptions{});
  const auto scraped = parse_types(full_scrape(m));
  for (const auto& [name, type] : scraped) {
    const auto it = catalogue.find(name);
    if (it == catalogue.end()) {
      ADD_FAILURE() << "scraped but not in METRICS.md: " << name;
      continue;
    }
    EXPECT_EQ(type, it->second) << name;
  }
  for (const auto& [name, type] : catalogue) {
    EXPECT_EQ(1u, scraped.count(name)) << "in METRICS.md but not scraped: " << name;
  }
}

TEST(MetricsCatalogue, PromtoolAcceptsTheScrape) {
  const char* promtool = "/usr/bin/promtool";
  if (::access(promtool, X_OK) != 0) {
    GTEST_SKIP() << "promtool not installed (Debian package `prometheus`)";
  }
  Metrics m(MetricsOptions{});
  const auto text = full_scrape(m);
  char path[] = "/tmp/tk-metrics-XXXXXX";
  const int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(static_cast<ssize_t>(text.size()), ::write(fd, text.data(), text.size()));
  ::close(fd);
  const std::string cmd = std::string(promtool) + " check metrics < " + path + " 2>&1";
  std::string output;
  FILE* p = ::popen(cmd.c_str(), "r");
  ASSERT_NE(nullptr, p);
  char buf[512];
  while (std::fgets(buf, sizeof(buf), p) != nullptr) output += buf;
  const int status = ::pclose(p);
  std::remove(path);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(0, WEXITSTATUS(status)) << output;
  EXPECT_EQ("", output);  // no lint warnings either
}

}  // namespace
}  // namespace tokenizer
