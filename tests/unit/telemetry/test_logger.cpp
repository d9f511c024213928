// Unit tests of Logger: JSON validity and escaping, levels, correlation fields, access lines,
// text format, the card-number scrubber, the FILE* sink and the asynchronous writer.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <future>
#include <limits>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "fake_clock.h"
#include "telemetry/logger.h"

namespace tokenizer {
namespace {

using nlohmann::json;

// Collects the lines a Logger writes.
class CaptureSink {
 public:
  LogSink sink() {
    return [this](std::string_view chunk) {
      std::lock_guard<std::mutex> lock(mutex_);
      ++calls_;
      std::size_t start = 0;
      while (start < chunk.size()) {
        const auto nl = chunk.find('\n', start);
        EXPECT_NE(std::string_view::npos, nl) << "chunk does not end in a newline";
        if (nl == std::string_view::npos) break;
        lines_.emplace_back(chunk.substr(start, nl - start));
        start = nl + 1;
      }
    };
  }
  std::vector<std::string> lines() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return lines_;
  }
  std::vector<json> objects() const {
    std::vector<json> out;
    for (const auto& l : lines()) out.push_back(json::parse(l));
    return out;
  }
  json only_object() const {
    const auto objs = objects();
    EXPECT_EQ(1u, objs.size());
    return objs.empty() ? json() : objs.front();
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> lines_;
  int calls_ = 0;
};

// Synchronous, so that lines are in the sink when the logging call returns.
LoggerOptions json_options() {
  LoggerOptions o;
  o.asynchronous = false;
  o.service = "tokenizer";
  o.env = "test";
  o.version = "1.2.3";
  return o;
}

TEST(Logger, EventLineIsOneJsonObjectWithTimestampLevelMessage) {
  testing::FakeClock clock;
  clock.advance(std::chrono::milliseconds(1234));
  CaptureSink cap;
  Logger log(json_options(), clock, cap.sink());
  log.log_event(LogLevel::info, "service started",
                {{"listen", "0.0.0.0:3000"},
                 {"threads", 2},
                 {"ratio", 0.25},
                 {"tls", false},
                 {"big", std::numeric_limits<std::uint64_t>::max()},
                 {"neg", -7}});
  const auto lines = cap.lines();
  ASSERT_EQ(1u, lines.size());
  EXPECT_EQ('{', lines[0].front());
  const json j = json::parse(lines[0]);
  EXPECT_EQ("2026-11-23T10:00:01.234Z", j["timestamp"]);
  EXPECT_EQ("info", j["level"]);
  EXPECT_EQ("service started", j["message"]);
  EXPECT_EQ("0.0.0.0:3000", j["listen"]);
  EXPECT_EQ(2, j["threads"]);
  EXPECT_DOUBLE_EQ(0.25, j["ratio"].get<double>());
  EXPECT_EQ(false, j["tls"]);
  EXPECT_EQ(std::numeric_limits<std::uint64_t>::max(), j["big"].get<std::uint64_t>());
  EXPECT_EQ(-7, j["neg"]);
  EXPECT_EQ("tokenizer", j["dd.service"]);
  EXPECT_EQ("test", j["dd.env"]);
  EXPECT_EQ("1.2.3", j["dd.version"]);
  EXPECT_FALSE(j.contains("dd.trace_id"));
  EXPECT_FALSE(j.contains("dd.span_id"));
}

TEST(Logger, NonFiniteDoublesBecomeNull) {
  testing::FakeClock clock;
  CaptureSink cap;
  Logger log(json_options(), clock, cap.sink());
  log.info("x", {{"nan", std::numeric_limits<double>::quiet_NaN()},
                 {"inf", std::numeric_limits<double>::infinity()}});
  const json j = cap.only_object();
  EXPECT_TRUE(j["nan"].is_null());
  EXPECT_TRUE(j["inf"].is_null());
}

TEST(Logger, EscapesQuotesControlCharactersAndInvalidUtf8) {
  testing::FakeClock clock;
  CaptureSink cap;
  Logger log(json_options(), clock, cap.sink());
  const std::string nasty = std::string("say \"hi\" \\ back\nslash\ttab\r\x01\x1f\x7f end", 31);
  const std::string utf8 =
      "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x99\x82";  // café 日本 🙂
  const std::string invalid =
      "a\xff"
      "b\xc3("
      "c\xed\xa0\x80"
      "d\xc0\xaf"
      "e\xe2\x82";
  log.info(nasty, {{"utf8", utf8}, {"invalid", invalid}, {"key \"quoted\"", "v"}});
  const auto lines = cap.lines();
  ASSERT_EQ(1u, lines.size());
  for (const char c : lines[0]) {
    EXPECT_GE(static_cast<unsigned char>(c), 0x20) << "raw control character in the line";
  }
  const json j = json::parse(lines[0]);
  EXPECT_EQ(nasty, j["message"]);
  EXPECT_EQ(utf8, j["utf8"]);
  const std::string fffd = "\xef\xbf\xbd";
  EXPECT_EQ(
      "a" + fffd + "b" + fffd + "(c" + fffd + fffd + fffd + "d" + fffd + fffd + "e" + fffd + fffd,
      j["invalid"]);
  EXPECT_EQ("v", j["key \"quoted\""]);
}

TEST(Logger, JsonEscapeMatchesNlohmannOnEveryByte) {
  // Every single byte, and every two-byte prefix pair: our output must parse, and for valid
  // UTF-8 input reproduce it exactly.
  for (int a = 0; a < 256; ++a) {
    std::string in(1, static_cast<char>(a));
    std::string out = "\"";
    append_json_escaped(out, in);
    out += "\"";
    const json j = json::parse(out);
    if (a < 0x80) {
      EXPECT_EQ(in, j.get<std::string>()) << a;
    } else {
      EXPECT_EQ("\xef\xbf\xbd", j.get<std::string>()) << a;  // a lone byte >= 0x80 is invalid
    }
  }
}

TEST(Logger, LevelFiltering) {
  testing::FakeClock clock;
  CaptureSink cap;
  LoggerOptions o = json_options();
  o.min_level = LogLevel::warn;
  Logger log(o, clock, cap.sink());
  EXPECT_FALSE(log.enabled(LogLevel::debug));
  EXPECT_FALSE(log.enabled(LogLevel::info));
  EXPECT_TRUE(log.enabled(LogLevel::warn));
  EXPECT_TRUE(log.enabled(LogLevel::error));
  log.debug("d");
  log.info("i");
  log.warn("w");
  log.error("e");
  log.log_access(AccessRecord{"r1", "POST", "/x", 200, 1.0, 1, "", "", {}});  // info: filtered
  log.log_access(AccessRecord{"r2", "POST", "/x", 502, 1.0, 3, "", "upstream_error", {}});
  const auto objs = cap.objects();
  ASSERT_EQ(3u, objs.size());
  EXPECT_EQ("warn", objs[0]["level"]);
  EXPECT_EQ("w", objs[0]["message"]);
  EXPECT_EQ("error", objs[1]["level"]);
  EXPECT_EQ("error", objs[2]["level"]);
  EXPECT_EQ("r2", objs[2]["request_id"]);
}

TEST(Logger, ParseLogLevel) {
  EXPECT_EQ(LogLevel::debug, *parse_log_level("debug"));
  EXPECT_EQ(LogLevel::info, *parse_log_level("INFO"));
  EXPECT_EQ(LogLevel::warn, *parse_log_level("warning"));
  EXPECT_EQ(LogLevel::error, *parse_log_level("Error"));
  const auto bad = parse_log_level("verbose");
  ASSERT_FALSE(bad);
  EXPECT_EQ("invalid_log_level", bad.error().code);
  EXPECT_STREQ("warn", log_level_name(LogLevel::warn));
}

TEST(Logger, CorrelationFieldsAreDecimalStrings) {
  testing::FakeClock clock;
  CaptureSink cap;
  Logger log(json_options(), clock, cap.sink());
  const LogCorrelation trace{18446744073709551615ull, 1234567890123ull};
  log.log_event(LogLevel::warn, "breaker opened", {{"from", "closed"}}, trace);
  const json j = cap.only_object();
  EXPECT_EQ("18446744073709551615", j["dd.trace_id"]);
  EXPECT_EQ("1234567890123", j["dd.span_id"]);
  EXPECT_EQ("tokenizer", j["dd.service"]);
  EXPECT_EQ("test", j["dd.env"]);
  EXPECT_EQ("1.2.3", j["dd.version"]);
}

TEST(Logger, UnsetEnvAndVersionAreOmitted) {
  testing::FakeClock clock;
  CaptureSink cap;
  LoggerOptions o;
  o.asynchronous = false;
  Logger log(o, clock, cap.sink());
  log.info("x");
  const json j = cap.only_object();
  EXPECT_EQ("tokenizer", j["dd.service"]);
  EXPECT_FALSE(j.contains("dd.env"));
  EXPECT_FALSE(j.contains("dd.version"));
}

TEST(Logger, AccessLineCarriesTheRequestFacts) {
  testing::FakeClock clock;
  CaptureSink cap;
  Logger log(json_options(), clock, cap.sink());
  AccessRecord r;
  r.request_id = "req-123";
  r.method = "POST";
  r.route = "/api/v1/payment_methods/tokenize";
  r.status = 201;
  r.duration_ms = 12.34567;
  r.upstream_attempts = 2;
  r.client_id = "shop-1";
  r.trace = LogCorrelation{42, 43};
  log.log_access(r);
  r.status = 503;
  r.client_id = "";
  r.error_code = "overloaded";
  r.upstream_attempts = 0;
  r.trace = {};
  log.log_access(r);
  const auto objs = cap.objects();
  ASSERT_EQ(2u, objs.size());
  const json& a = objs[0];
  EXPECT_EQ("info", a["level"]);
  EXPECT_EQ("request completed", a["message"]);
  EXPECT_EQ("req-123", a["request_id"]);
  EXPECT_EQ("POST", a["http.method"]);
  EXPECT_EQ("/api/v1/payment_methods/tokenize", a["http.route"]);
  EXPECT_EQ(201, a["http.status_code"]);
  EXPECT_DOUBLE_EQ(12.346, a["duration_ms"].get<double>());
  EXPECT_EQ(2, a["upstream_attempts"]);
  EXPECT_EQ("shop-1", a["client_id"]);
  EXPECT_FALSE(a.contains("error_code"));
  EXPECT_FALSE(a.contains("status"));  // Datadog would read it as the log level
  EXPECT_EQ("42", a["dd.trace_id"]);
  EXPECT_EQ("43", a["dd.span_id"]);
  const json& b = objs[1];
  EXPECT_EQ("error", b["level"]);
  EXPECT_EQ(503, b["http.status_code"]);
  EXPECT_EQ("overloaded", b["error_code"]);
  EXPECT_EQ(0, b["upstream_attempts"]);
  EXPECT_FALSE(b.contains("client_id"));
  EXPECT_FALSE(b.contains("dd.trace_id"));
}

TEST(Logger, TextFormatForHumans) {
  testing::FakeClock clock;
  CaptureSink cap;
  LoggerOptions o = json_options();
  o.format = LogFormat::text;
  Logger log(o, clock, cap.sink());
  log.log_event(LogLevel::warn, "breaker opened",
                {{"from", "closed"},
                 {"reason", "failure rate 60%"},
                 {"calls", 20},
                 {"empty", ""},
                 {"q", "a\"b=c"}},
                LogCorrelation{7, 8});
  log.log_access(
      AccessRecord{"r1", "POST", "/api/v1/payment_methods/tokenize", 200, 3.5, 1, "shop", "", {}});
  const auto lines = cap.lines();
  ASSERT_EQ(2u, lines.size());
  EXPECT_EQ(
      "2026-11-23T10:00:00.000Z WARN  breaker opened dd.service=tokenizer dd.env=test "
      "dd.version=1.2.3 dd.trace_id=7 dd.span_id=8 from=closed reason=\"failure rate 60%\" "
      "calls=20 empty=\"\" q=\"a\\\"b=c\"",
      lines[0]);
  EXPECT_EQ(
      "2026-11-23T10:00:00.000Z INFO  request completed dd.service=tokenizer dd.env=test "
      "dd.version=1.2.3 request_id=r1 http.method=POST "
      "http.route=/api/v1/payment_methods/tokenize http.status_code=200 duration_ms=3.500 "
      "upstream_attempts=1 client_id=shop",
      lines[1]);
}

TEST(Logger, TimestampFormatting) {
  using namespace std::chrono;
  EXPECT_EQ("1970-01-01T00:00:00.000Z", format_rfc3339_ms(system_clock::time_point{}));
  EXPECT_EQ("2026-11-23T10:00:00.007Z",
            format_rfc3339_ms(system_clock::time_point(seconds(1795428000) + milliseconds(7))));
  EXPECT_EQ("2000-02-29T23:59:59.999Z",
            format_rfc3339_ms(system_clock::time_point(milliseconds(951868799999LL))));
}

TEST(Logger, FileSinkWritesAndFlushes) {
  testing::FakeClock clock;
  std::FILE* f = std::tmpfile();
  ASSERT_NE(nullptr, f);
  {
    Logger log(json_options(), clock, f);
    log.info("one");
    log.info("two", {{"n", 2}});
    log.flush();
  }
  std::rewind(f);
  char buf[512];
  std::vector<json> objs;
  while (std::fgets(buf, sizeof(buf), f) != nullptr) objs.push_back(json::parse(buf));
  std::fclose(f);
  ASSERT_EQ(2u, objs.size());
  EXPECT_EQ("one", objs[0]["message"]);
  EXPECT_EQ(2, objs[1]["n"]);
}

TEST(Logger, ConcurrentWritersNeverInterleave) {
  testing::FakeClock clock;
  CaptureSink cap;
  Logger log(json_options(), clock, cap.sink());
  constexpr int kThreads = 4;
  constexpr int kLines = 500;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&log, t] {
      for (int i = 0; i < kLines; ++i) {
        log.info("concurrent line with some padding to make interleaving visible",
                 {{"thread", t}, {"i", i}});
      }
    });
  }
  for (auto& th : threads) th.join();
  const auto objs = cap.objects();  // throws on any interleaved line
  ASSERT_EQ(static_cast<std::size_t>(kThreads * kLines), objs.size());
  std::vector<int> next(kThreads, 0);
  for (const auto& j : objs) {
    const int t = j["thread"];
    EXPECT_EQ(next[t]++, j["i"].get<int>());  // per-thread order preserved
  }
}

// ---- the card-number scrubber ----


TEST(CardScrubber, MasksLuhnValidRunsOnly) {
  EXPECT_EQ("card **************** end", mask_card_numbers("card 4111111111111111 end"));
  EXPECT_EQ("**** **** **** ****", mask_card_numbers("4111 1111 1111 1111"));
  EXPECT_EQ("x=****-****-****-****;", mask_card_numbers("x=4111-1111-1111-1111;"));
  EXPECT_EQ("amex *************** ok", mask_card_numbers("amex 378282246310005 ok"));
  // 19 digits (a valid Luhn number), the upper bound.
  EXPECT_EQ("*******************", mask_card_numbers("4111111111111111110"));
  // Not Luhn-valid, too short, or broken by other separators: unchanged.
  EXPECT_EQ("4111111111111112", mask_card_numbers("4111111111111112"));
  EXPECT_EQ("411111111111", mask_card_numbers("411111111111"));
  EXPECT_EQ("4111.1111.1111.1111", mask_card_numbers("4111.1111.1111.1111"));
  EXPECT_EQ("4111  1111 1111 1111", mask_card_numbers("4111  1111 1111 1111"));
  EXPECT_EQ("", mask_card_numbers(""));
  // A PAN next to another number is still found; a 20+ digit contiguous run is not a PAN.
  EXPECT_EQ("attempt 2 **** **** **** **** x",
            mask_card_numbers("attempt 2 4111 1111 1111 1111 x"));
  EXPECT_EQ("2-****************-7", mask_card_numbers("2-4111111111111111-7"));
  EXPECT_EQ("18446744073709551615", mask_card_numbers("18446744073709551615"));
  std::string out;
  EXPECT_EQ(0u, mask_card_numbers("request 123 took 45 ms", out));
  EXPECT_EQ(2u, mask_card_numbers("4111111111111111 and 5555555555554444", out));
  EXPECT_EQ("**************** and ****************", out);
}

// The digit-count pre-check (eight bytes at a time) must never let a number through: every
// alignment of the digits, separators and neighbouring bytes (including non-ASCII ones).
TEST(CardScrubber, PreCheckNeverMissesANumberAtAnyAlignment) {
  const std::vector<std::string> cards = {"4111111111111111", "4111 1111 1111 1111", "4111-1111-1111-1111",
                                          "378282246310005", "6011000990139424"};
  const std::vector<std::string> fillers = {"x", "9", "\xc3\xa9", ":", "0 "};
  for (const auto& card : cards) {
    for (const auto& filler : fillers) {
      for (std::size_t before = 0; before < 17; ++before) {
        std::string prefix;
        while (prefix.size() < before) prefix += filler;
        prefix.resize(before);
        const std::string text = prefix + "|" + card + "|" + filler;
        const std::string masked = mask_card_numbers(text);
        EXPECT_EQ(masked.find(card), std::string::npos) << text;
        EXPECT_EQ(masked.size(), text.size());
      }
    }
  }
  // Twelve digits (one short of a card) anywhere: untouched, whatever the alignment.
  for (std::size_t before = 0; before < 9; ++before) {
    const std::string text = std::string(before, 'a') + "4111 1111 1111";
    EXPECT_EQ(mask_card_numbers(text), text);
  }
}

TEST(CardScrubber, LogLinesNeverCarryACardNumber) {
  testing::FakeClock clock;
  CaptureSink cap;
  Logger log(json_options(), clock, cap.sink());
  log.info("vault said 4111111111111111 is bad",
           {{"echo", "number 5555 5555 5555 4444"},
            {"as_int", static_cast<std::int64_t>(4111111111111111LL)},
            {"as_uint", static_cast<std::uint64_t>(5555555555554444ULL)},
            {"harmless", 1234567890123LL}});  // 13 digits, not Luhn-valid: kept as a number
  log.log_access(AccessRecord{"4111111111111111", "POST", "/x", 200, 1, 1, "", "", {}});
  const auto lines = cap.lines();
  ASSERT_EQ(2u, lines.size());
  for (const auto& l : lines) {
    EXPECT_EQ(std::string::npos, l.find("4111111111111111")) << l;
    EXPECT_EQ(std::string::npos, l.find("5555555555554444")) << l;
    EXPECT_EQ(std::string::npos, l.find("5555 5555 5555 4444")) << l;
  }
  const json j = json::parse(lines[0]);
  EXPECT_EQ("vault said **************** is bad", j["message"]);
  EXPECT_EQ("****************", j["as_int"]);
  EXPECT_EQ("****************", j["as_uint"]);
  EXPECT_EQ(1234567890123LL, j["harmless"]);
}

TEST(CardScrubber, CanBeTurnedOffAndNeverTouchesTraceIds) {
  testing::FakeClock clock;
  CaptureSink cap;
  LoggerOptions o = json_options();
  o.scrub_card_numbers = false;
  Logger log(o, clock, cap.sink());
  log.info("4111111111111111");
  // 4111111111111111 as a trace id is our own value, written as is even with scrubbing on.
  CaptureSink cap2;
  Logger scrubbing(json_options(), clock, cap2.sink());
  scrubbing.log_event(LogLevel::info, "x", {}, LogCorrelation{4111111111111111ULL, 1});
  EXPECT_EQ("4111111111111111", cap.only_object()["message"]);
  EXPECT_EQ("4111111111111111", cap2.only_object()["dd.trace_id"]);
}

// ---- asynchronous writer ----

TEST(AsyncLogger, IsTheDefaultAndWritesToTheFile) {
  EXPECT_TRUE(LoggerOptions{}.asynchronous);
  testing::FakeClock clock;
  std::FILE* f = std::tmpfile();
  ASSERT_NE(nullptr, f);
  {
    Logger log(LoggerOptions{}, clock, f);
    log.info("queued", {{"n", 1}});
    log.flush();
  }
  std::rewind(f);
  char buf[512];
  ASSERT_NE(nullptr, std::fgets(buf, sizeof(buf), f));
  EXPECT_EQ("queued", json::parse(buf)["message"]);
  std::fclose(f);
}

TEST(AsyncLogger, DeliversEveryLineByFlush) {
  testing::FakeClock clock;
  CaptureSink cap;
  LoggerOptions o = json_options();
  o.asynchronous = true;
  Logger log(o, clock, cap.sink());
  std::thread a([&] {
    for (int i = 0; i < 1000; ++i) log.info("a", {{"i", i}});
  });
  std::thread b([&] {
    for (int i = 0; i < 1000; ++i) log.info("b", {{"i", i}});
  });
  a.join();
  b.join();
  log.flush();
  EXPECT_EQ(2000u, cap.objects().size());
  EXPECT_EQ(0u, log.dropped_lines());
}

TEST(AsyncLogger, DestructorDrainsPendingLines) {
  testing::FakeClock clock;
  CaptureSink cap;
  {
    LoggerOptions o = json_options();
    o.asynchronous = true;
    Logger log(o, clock, cap.sink());
    for (int i = 0; i < 100; ++i) log.info("bye", {{"i", i}});
  }
  EXPECT_EQ(100u, cap.objects().size());
}

TEST(AsyncLogger, DropsAndReportsWhenTheSinkStalls) {
  testing::FakeClock clock;
  std::promise<void> entered;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<bool> first{true};
  CaptureSink cap;
  auto inner = cap.sink();
  LogSink stalling = [&](std::string_view chunk) {
    if (first.exchange(false)) {
      entered.set_value();
      released.wait();  // the writer is stuck in write(2) on a full pipe
    }
    inner(chunk);
  };
  std::atomic<std::uint64_t> reported{0};

  // Measure one line to size the batch bound to exactly three lines.
  CaptureSink probe;
  {
    Logger p(json_options(), clock, probe.sink());
    p.info("line", {{"i", 10}});
  }
  const std::size_t line_bytes = probe.lines().at(0).size() + 1;

  LoggerOptions o = json_options();
  o.asynchronous = true;
  o.max_pending_bytes = 3 * line_bytes;
  o.on_dropped = [&](std::uint64_t n) { reported += n; };
  {
    Logger log(o, clock, stalling);
    log.info("line", {{"i", 10}});
    ASSERT_EQ(std::future_status::ready, entered.get_future().wait_for(std::chrono::seconds(30)));
    for (int i = 11; i < 60; ++i) log.info("line", {{"i", i}});  // 49 lines, 3 fit
    EXPECT_EQ(46u, log.dropped_lines());
    release.set_value();
    log.flush();
    EXPECT_EQ(46u, reported.load());
  }
  const auto objs = cap.objects();
  ASSERT_EQ(5u, objs.size());  // first line, the drop notice, three accepted lines
  EXPECT_EQ(10, objs[0]["i"]);
  EXPECT_EQ("warn", objs[1]["level"]);
  EXPECT_EQ(46, objs[1]["dropped_lines"]);
  EXPECT_EQ(11, objs[2]["i"]);
  EXPECT_EQ(13, objs[4]["i"]);
}

}  // namespace
}  // namespace tokenizer
