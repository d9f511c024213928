// Unit tests of Logger: JSON validity and escaping, levels, correlation fields, access lines,
// text format, the card-number scrubber, the FILE* sink and the asynchronous writer.
#include <gtest/gtest.h>

#include <atomic>
#include <charconv>
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

// ---- fast paths: byte-identical to the straightforward implementations ----

// The byte-at-a-time escaper the word-at-a-time one replaced (kept here as the oracle).
void reference_json_escaped(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  std::size_t i = 0;
  while (i < n) {
    const unsigned char c = p[i];
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      out.push_back(static_cast<char>(c));
      ++i;
      continue;
    }
    if (c < 0x80) {
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        default: out += std::string("\\u00") + kHex[c >> 4] + kHex[c & 0xf];
      }
      ++i;
      continue;
    }
    std::size_t len = 0;
    std::uint32_t cp = 0, min = 0;
    if (c >= 0xc2 && c <= 0xdf) {
      len = 2, cp = c & 0x1f, min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
      len = 3, cp = c & 0x0f, min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
      len = 4, cp = c & 0x07, min = 0x10000;
    }
    bool valid = len != 0 && i + len <= n;
    for (std::size_t k = 1; valid && k < len; ++k) {
      if ((p[i + k] & 0xc0) != 0x80) valid = false;
      else cp = (cp << 6) | (p[i + k] & 0x3f);
    }
    if (valid && (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))) valid = false;
    if (valid) {
      out.append(text.data() + i, len);
      i += len;
    } else {
      out += "\\ufffd";
      ++i;
    }
  }
}

// The scrubber as first written (every group scanned segment by segment), the oracle.
std::size_t reference_mask(std::string_view text, std::string& out) {
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  struct Seg {
    std::size_t start, len;
  };
  std::size_t found = 0;
  bool copied = false;
  std::size_t i = 0;
  while (i < text.size()) {
    if (!digit(text[i])) {
      ++i;
      continue;
    }
    std::vector<Seg> segs;
    std::size_t total = 0, j = i;
    for (;;) {
      const std::size_t start = j;
      while (j < text.size() && digit(text[j])) ++j;
      segs.push_back({start, j - start});
      total += j - start;
      if (j + 1 < text.size() && (text[j] == ' ' || text[j] == '-') && digit(text[j + 1])) {
        ++j;
        continue;
      }
      break;
    }
    if (total >= 13) {
      std::vector<bool> mask(segs.size(), false);
      for (std::size_t first = 0; first < segs.size(); ++first) {
        std::size_t digits = 0;
        for (std::size_t last = first; last < segs.size(); ++last) {
          digits += segs[last].len;
          if (digits > 19) break;
          if (digits < 13) continue;
          int sum = 0;
          bool twice = false;
          for (std::size_t k = last + 1; k-- > first;) {
            for (std::size_t c = segs[k].len; c-- > 0;) {
              int d = text[segs[k].start + c] - '0';
              if (twice && (d *= 2) > 9) d -= 9;
              sum += d;
              twice = !twice;
            }
          }
          if (sum % 10 == 0) {
            for (std::size_t k = first; k <= last; ++k) mask[k] = true;
            ++found;
          }
        }
      }
      for (std::size_t k = 0; k < segs.size(); ++k) {
        if (!mask[k]) continue;
        if (!copied) out.assign(text.data(), text.size()), copied = true;
        for (std::size_t c = 0; c < segs[k].len; ++c) out[segs[k].start + c] = '*';
      }
    }
    i = j;
  }
  return found;
}

// A deterministic byte soup weighted towards what the fast paths must not get wrong.
std::string random_text(std::uint64_t& state, std::size_t len, const std::string& alphabet) {
  std::string s;
  for (std::size_t k = 0; k < len; ++k) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    s.push_back(alphabet[(state >> 33) % alphabet.size()]);
  }
  return s;
}

TEST(FastPaths, JsonEscapeMatchesTheByteAtATimeReference) {
  std::string alphabet = "abcXYZ09 -_/.:\"\\\n\t\x01\x1f\x7f\xc3\xa9\xe6\x97\xa5\xf0\x9f\x99\x82\xff\x80\xed\xa0";
  alphabet.push_back('\0');
  std::uint64_t state = 1;
  for (int round = 0; round < 20000; ++round) {
    const std::size_t len = static_cast<std::size_t>(round % 70);
    // Mostly clean text with a few special bytes, at every offset.
    std::string text = random_text(state, len, round % 3 == 0 ? alphabet : "abcdefghij0123456789-/.");
    if (round % 3 == 1 && len > 0) text[(state >> 20) % len] = alphabet[(state >> 40) % alphabet.size()];
    std::string expected = "prefix";
    reference_json_escaped(expected, text);
    std::string actual = "prefix";
    append_json_escaped(actual, text);
    ASSERT_EQ(expected, actual) << json(text).dump();
  }
}

TEST(FastPaths, ScrubberMatchesTheSegmentBySegmentReference) {
  const std::vector<std::string> alphabets = {"0123456789", "0123456789 -", "0123456789 -a.", "0123456789abcdef-",
                                              "4111 -"};
  const std::vector<std::string> cards = {"4111111111111111", "4111 1111 1111 1111", "5555-5555-5555-4444",
                                          "378282246310005", "4111111111111111110"};
  std::uint64_t state = 7;
  for (int round = 0; round < 30000; ++round) {
    std::string text = random_text(state, static_cast<std::size_t>(round % 60), alphabets[round % alphabets.size()]);
    if (round % 4 == 0) text.insert((state >> 24) % (text.size() + 1), cards[(state >> 44) % cards.size()]);
    std::string expected, actual;
    const std::size_t want = reference_mask(text, expected);
    const std::size_t got = mask_card_numbers(text, actual);
    ASSERT_EQ(want, got) << text;
    if (want > 0) {
      ASSERT_EQ(expected, actual) << text;
    }
    ASSERT_EQ(want > 0 ? expected : text, mask_card_numbers(text)) << text;
  }
}

// Every special byte at every offset of clean text (the word scan must stop at each one).
TEST(FastPaths, JsonEscapeStopsAtEverySpecialByteAtEveryOffset) {
  const std::string specials = std::string("\"\\\n\x01\x1f\x7f\x80\xc3\xff", 9) + std::string(1, '\0');
  for (std::size_t len = 1; len <= 40; ++len) {
    for (std::size_t at = 0; at < len; ++at) {
      for (const char c : specials) {
        std::string text(len, 'a');
        text[at] = c;
        std::string expected, actual;
        reference_json_escaped(expected, text);
        append_json_escaped(actual, text);
        ASSERT_EQ(expected, actual) << len << " " << at << " " << static_cast<int>(c);
      }
    }
  }
}

// Hex ids have many digits but no group: settled by the run check. A card number inside one,
// between separators, is still masked, at any offset.
TEST(FastPaths, ScrubberRunCheckKeepsCardsInsideIds) {
  std::string out;
  EXPECT_EQ(0u, mask_card_numbers("0123456789abcdef0123456789abcdef", out));
  EXPECT_EQ(0u, mask_card_numbers("1234567890a12345678901b2345678901", out));
  for (std::size_t before = 0; before < 12; ++before) {
    const std::string prefix = std::string("9a8b7c6d5e4f3a2b1c").substr(0, before);
    const std::string text = prefix + "-4111111111111111-0f9e";
    std::string expected;
    ASSERT_EQ(reference_mask(text, expected), mask_card_numbers(text, out)) << text;
    EXPECT_EQ(expected, out);
    EXPECT_EQ(std::string::npos, out.find("4111111111111111")) << out;
  }
}

// duration_ms: exactly what std::to_chars(fixed, 3) writes, ties (k/16, k/2000) included.
TEST(FastPaths, DurationMatchesToCharsFixed3) {
  std::vector<double> values = {0.0, -0.0, 0.0005, 0.0015, 0.0625, 0.1875, 1.0005, 2.5, 12.34567, 999.9995,
                                999999.9995, 1e6, 1e6 + 0.0625, 3e9, -1.0, -0.0004, 1e-300, 4.9e-324};
  for (int k = 0; k < 4000; ++k) {
    values.push_back(k / 16.0);
    values.push_back(k / 2000.0);
    values.push_back(k * 0.001);
    values.push_back(k * 1.37e-3 + k * k * 0.1);
  }
  std::uint64_t state = 3;
  for (int k = 0; k < 4000; ++k) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    values.push_back(static_cast<double>(state >> 11) / static_cast<double>(1ULL << 53) * 2e6);
  }
  testing::FakeClock clock;
  CaptureSink cap;
  Logger log(json_options(), clock, cap.sink());
  for (const double v : values) log.log_access(AccessRecord{"r", "GET", "/", 200, v, 1, "", "", {}});
  const auto lines = cap.lines();
  ASSERT_EQ(values.size(), lines.size());
  for (std::size_t k = 0; k < values.size(); ++k) {
    char buf[64];
    const auto r = std::to_chars(buf, buf + sizeof(buf), values[k], std::chars_format::fixed, 3);
    const std::string want = "\"duration_ms\":" + std::string(buf, r.ptr) + ",";
    ASSERT_NE(std::string::npos, lines[k].find(want)) << values[k] << " " << lines[k];
  }
}

// Access lines, byte for byte, across formats and options (captured from the formatter before
// it got its precomputed prefixes): what a log pipeline parses must not move.
TEST(FastPaths, AccessLinesAreByteIdentical) {
  struct Case {
    LogFormat format;
    bool scrub;
    std::string env;
    std::string service;
  };
  const std::vector<Case> cases = {{LogFormat::json, true, "test", "tokenizer"},
                                   {LogFormat::json, false, "", "tok\"en"},
                                   {LogFormat::text, true, "test", "tokenizer"},
                                   {LogFormat::text, true, "", "tok en"}};
  std::vector<std::string> lines;
  for (const auto& c : cases) {
    testing::FakeClock clock;
    CaptureSink cap;
    LoggerOptions o = json_options();
    o.format = c.format;
    o.scrub_card_numbers = c.scrub;
    o.env = c.env;
    o.service = c.service;
    Logger log(o, clock, cap.sink());
    log.log_access(AccessRecord{"0123456789abcdef0123456789abcdef", "POST", "/api/v1/payment_methods/tokenize", 201,
                                12.34567, 1, "shop-1", "", LogCorrelation{4111111111111111ULL, 43}});
    clock.advance(std::chrono::milliseconds(1234));
    log.log_access(AccessRecord{"id 4111 1111 1111 1111", "GE\"T", "/a\\b\nc=d", 503, 0.0005, 0, "", "overloaded",
                                {}});
    log.log_access(AccessRecord{"", "", "", 0, -1.0, -3, "caf\xc3\xa9\xff", "e", LogCorrelation{0, 9}});
    log.info("after", {{"k", "v"}});
    for (const auto& l : cap.lines()) lines.push_back(l);
  }
  const std::vector<std::string> expected = {
      "{\"timestamp\":\"2026-11-23T10:00:00.000Z\",\"level\":\"info\",\"message\":\"request completed\",\"dd.service\":\"tokenizer\",\"dd.env\":\"test\",\"dd.version\":\"1.2.3\",\"dd.trace_id\":\"4111111111111111\",\"dd.span_id\":\"43\",\"request_id\":\"0123456789abcdef0123456789abcdef\",\"http.method\":\"POST\",\"http.route\":\"/api/v1/payment_methods/tokenize\",\"http.status_code\":201,\"duration_ms\":12.346,\"upstream_attempts\":1,\"client_id\":\"shop-1\"}",
      "{\"timestamp\":\"2026-11-23T10:00:01.234Z\",\"level\":\"error\",\"message\":\"request completed\",\"dd.service\":\"tokenizer\",\"dd.env\":\"test\",\"dd.version\":\"1.2.3\",\"request_id\":\"id **** **** **** ****\",\"http.method\":\"GE\\\"T\",\"http.route\":\"/a\\\\b\\nc=d\",\"http.status_code\":503,\"duration_ms\":0.001,\"upstream_attempts\":0,\"error_code\":\"overloaded\"}",
      "{\"timestamp\":\"2026-11-23T10:00:01.234Z\",\"level\":\"info\",\"message\":\"request completed\",\"dd.service\":\"tokenizer\",\"dd.env\":\"test\",\"dd.version\":\"1.2.3\",\"dd.span_id\":\"9\",\"request_id\":\"\",\"http.method\":\"\",\"http.route\":\"\",\"http.status_code\":0,\"duration_ms\":-1.000,\"upstream_attempts\":-3,\"client_id\":\"caf\xc3""\xa9""\\ufffd\",\"error_code\":\"e\"}",
      "{\"timestamp\":\"2026-11-23T10:00:01.234Z\",\"level\":\"info\",\"message\":\"after\",\"dd.service\":\"tokenizer\",\"dd.env\":\"test\",\"dd.version\":\"1.2.3\",\"k\":\"v\"}",
      "{\"timestamp\":\"2026-11-23T10:00:00.000Z\",\"level\":\"info\",\"message\":\"request completed\",\"dd.service\":\"tok\\\"en\",\"dd.version\":\"1.2.3\",\"dd.trace_id\":\"4111111111111111\",\"dd.span_id\":\"43\",\"request_id\":\"0123456789abcdef0123456789abcdef\",\"http.method\":\"POST\",\"http.route\":\"/api/v1/payment_methods/tokenize\",\"http.status_code\":201,\"duration_ms\":12.346,\"upstream_attempts\":1,\"client_id\":\"shop-1\"}",
      "{\"timestamp\":\"2026-11-23T10:00:01.234Z\",\"level\":\"error\",\"message\":\"request completed\",\"dd.service\":\"tok\\\"en\",\"dd.version\":\"1.2.3\",\"request_id\":\"id 4111 1111 1111 1111\",\"http.method\":\"GE\\\"T\",\"http.route\":\"/a\\\\b\\nc=d\",\"http.status_code\":503,\"duration_ms\":0.001,\"upstream_attempts\":0,\"error_code\":\"overloaded\"}",
      "{\"timestamp\":\"2026-11-23T10:00:01.234Z\",\"level\":\"info\",\"message\":\"request completed\",\"dd.service\":\"tok\\\"en\",\"dd.version\":\"1.2.3\",\"dd.span_id\":\"9\",\"request_id\":\"\",\"http.method\":\"\",\"http.route\":\"\",\"http.status_code\":0,\"duration_ms\":-1.000,\"upstream_attempts\":-3,\"client_id\":\"caf\xc3""\xa9""\\ufffd\",\"error_code\":\"e\"}",
      "{\"timestamp\":\"2026-11-23T10:00:01.234Z\",\"level\":\"info\",\"message\":\"after\",\"dd.service\":\"tok\\\"en\",\"dd.version\":\"1.2.3\",\"k\":\"v\"}",
      "2026-11-23T10:00:00.000Z INFO  request completed dd.service=tokenizer dd.env=test dd.version=1.2.3 dd.trace_id=4111111111111111 dd.span_id=43 request_id=0123456789abcdef0123456789abcdef http.method=POST http.route=/api/v1/payment_methods/tokenize http.status_code=201 duration_ms=12.346 upstream_attempts=1 client_id=shop-1",
      "2026-11-23T10:00:01.234Z ERROR request completed dd.service=tokenizer dd.env=test dd.version=1.2.3 request_id=\"id **** **** **** ****\" http.method=\"GE\\\"T\" http.route=\"/a\\\\b\\nc=d\" http.status_code=503 duration_ms=0.001 upstream_attempts=0 error_code=overloaded",
      "2026-11-23T10:00:01.234Z INFO  request completed dd.service=tokenizer dd.env=test dd.version=1.2.3 dd.span_id=9 request_id=\"\" http.method=\"\" http.route=\"\" http.status_code=0 duration_ms=-1.000 upstream_attempts=-3 client_id=caf\xc3""\xa9""\\ufffd error_code=e",
      "2026-11-23T10:00:01.234Z INFO  after dd.service=tokenizer dd.env=test dd.version=1.2.3 k=v",
      "2026-11-23T10:00:00.000Z INFO  request completed dd.service=\"tok en\" dd.version=1.2.3 dd.trace_id=4111111111111111 dd.span_id=43 request_id=0123456789abcdef0123456789abcdef http.method=POST http.route=/api/v1/payment_methods/tokenize http.status_code=201 duration_ms=12.346 upstream_attempts=1 client_id=shop-1",
      "2026-11-23T10:00:01.234Z ERROR request completed dd.service=\"tok en\" dd.version=1.2.3 request_id=\"id **** **** **** ****\" http.method=\"GE\\\"T\" http.route=\"/a\\\\b\\nc=d\" http.status_code=503 duration_ms=0.001 upstream_attempts=0 error_code=overloaded",
      "2026-11-23T10:00:01.234Z INFO  request completed dd.service=\"tok en\" dd.version=1.2.3 dd.span_id=9 request_id=\"\" http.method=\"\" http.route=\"\" http.status_code=0 duration_ms=-1.000 upstream_attempts=-3 client_id=caf\xc3""\xa9""\\ufffd error_code=e",
      "2026-11-23T10:00:01.234Z INFO  after dd.service=\"tok en\" dd.version=1.2.3 k=v",
  };
  ASSERT_EQ(expected.size(), lines.size());
  for (std::size_t k = 0; k < lines.size(); ++k) EXPECT_EQ(expected[k], lines[k]) << k;
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
