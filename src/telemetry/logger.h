// Logger: structured log lines for the service — one JSON object per line (the default, for
// Datadog and other collectors) or `key=value` text for humans (`--log-format text`).
//
// Usage:
//   Logger log(LoggerOptions{...}, SystemClock::instance());          // writes to stdout
//   log.log_event(LogLevel::info, "circuit breaker opened", {{"from", "closed"}, {"to", "open"}});
//   log.log_access(AccessRecord{...});                                 // one per HTTP request
// A JSON line looks like
//   {"timestamp":"2026-11-23T10:00:00.123Z","level":"info","message":"request completed",
//    "dd.service":"tokenizer","dd.env":"prod","dd.version":"1.0.0","dd.trace_id":"123",
//    "dd.span_id":"456","request_id":"…","http.method":"POST",…}
// `timestamp` is RFC 3339 UTC with milliseconds from the injected Clock; `dd.trace_id` and
// `dd.span_id` (decimal, low 64 bits) appear when the caller passes a non-zero correlation;
// `dd.env` / `dd.version` when configured. Caller field keys should not reuse these names.
//
// Access lines use Datadog's standard attribute names for the HTTP facts (`http.method`,
// `http.route`, `http.status_code`): Datadog treats a top-level `status` attribute as the log
// level, so an HTTP status there would overwrite `level`.
//
// Card data: every caller-provided string (message, string fields, access-record strings) and
// every integer field of 13+ digits passes a defensive scrubber (`mask_card_numbers`) unless
// `scrub_card_numbers` is off. It looks at groups of digit segments joined by single spaces or
// dashes ("4111 1111 1111 1111", "4111-1111-…", "4111111111111111"); any run of whole
// consecutive segments holding 13–19 digits that passes the Luhn check has its digits replaced
// by '*'. A contiguous run of 20+ digits (a decimal trace id, say) is not a card number and is
// left alone. This is a safety net, not a licence to log payloads: callers must never pass card
// data. Cost: one pass over each string (about 1 ns per byte; strings without a 13-digit group
// are not copied). A random 13–19 digit number passes Luhn one time in ten and is masked too.
// Our own values (dd.* correlation fields, service/env/version) are not scrubbed.
//
// Writing: each line is formatted into a thread-local buffer without locks (~0.45 µs for a
// 430-byte access line). Asynchronous mode (the default) appends it to a bounded in-memory batch
// under a short mutex hold; a writer thread writes the batch with one fwrite + fflush about
// every 10 ms while lines keep coming (producers make no system call), and at once when idle,
// on flush() or when the batch is half full. When the batch is full (`max_pending_bytes`, 4 MiB)
// the line is dropped and counted (`dropped_lines()`, `on_dropped`), and the writer reports the
// drop in a `warn` line, so a stalled stdout can never block request threads. Synchronous mode
// writes each line under a mutex from the calling thread (FILE*: one fwrite + fflush): nothing
// is ever dropped, but a slow reader of stdout slows requests. Measurements in logger.cpp.
// `flush()` waits until every accepted line reached the sink; the destructor flushes and
// stops the writer, so main must destroy (or flush) the Logger before exiting.
//
// Thread-safety: all methods may be called concurrently. The Clock and the FILE* (or sink)
// must outlive the Logger; the Logger does not close the FILE*.
#pragma once

#include <array>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <initializer_list>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <vector>

#include "common/clock.h"
#include "common/expected.h"
#include "config/config.h"  // LogFormat { json, text } (header-only use; no link dependency)

namespace tokenizer {

enum class LogLevel { debug = 0, info = 1, warn = 2, error = 3 };

// "debug", "info", "warn", "error".
const char* log_level_name(LogLevel level);
// Accepts debug, info, warn, warning, error (case-insensitive); error code "invalid_log_level".
Expected<LogLevel> parse_log_level(std::string_view text);

// One caller-provided field. Holds views: the referenced strings must live until the logging
// call returns (they are formatted before it does).
struct LogField {
  enum class Type { string, int64, uint64, float64, boolean };

  LogField(std::string_view k, std::string_view v) : key(k), type(Type::string), str(v) {}
  LogField(std::string_view k, const char* v) : key(k), type(Type::string), str(v ? v : "") {}
  LogField(std::string_view k, const std::string& v) : key(k), type(Type::string), str(v) {}
  LogField(std::string_view k, bool v) : key(k), type(Type::boolean), b(v) {}
  LogField(std::string_view k, double v) : key(k), type(Type::float64), d(v) {}
  LogField(std::string_view k, float v) : key(k), type(Type::float64), d(v) {}
  template <
      typename Int,
      typename std::enable_if_t<
          std::is_integral_v<Int> && !std::is_same_v<Int, bool> && std::is_signed_v<Int>, int> = 0>
  LogField(std::string_view k, Int v) : key(k), type(Type::int64), i(v) {}
  template <typename Int,
            typename std::enable_if_t<std::is_integral_v<Int> && !std::is_same_v<Int, bool> &&
                                          std::is_unsigned_v<Int>,
                                      int> = 0>
  LogField(std::string_view k, Int v) : key(k), type(Type::uint64), u(v) {}

  std::string_view key;
  Type type;
  std::string_view str;
  std::int64_t i = 0;
  std::uint64_t u = 0;
  double d = 0;
  bool b = false;
};

// Trace correlation: the active span's ids (low 64 bits); 0 = none.
struct LogCorrelation {
  std::uint64_t trace_id = 0;
  std::uint64_t span_id = 0;
};

// One HTTP request, for log_access(). Views must live until the call returns.
struct AccessRecord {
  std::string_view request_id;
  std::string_view method;  // "POST"
  std::string_view route;   // route template, never the raw path
  int status = 0;
  double duration_ms = 0;
  int upstream_attempts = 0;
  std::string_view client_id;   // authenticated client; empty when none
  std::string_view error_code;  // stable API error code; empty on success
  LogCorrelation trace;
};

// Receives one or more complete lines, each ending in '\n'. Called under the Logger's lock
// (synchronous mode) or from the writer thread: it must not log through the same Logger.
using LogSink = std::function<void(std::string_view lines)>;

struct LoggerOptions {
  LogLevel min_level = LogLevel::info;
  LogFormat format = LogFormat::json;
  // Unified service tags, written as dd.service / dd.env / dd.version.
  std::string service = "tokenizer";
  std::string env;
  std::string version;
  bool scrub_card_numbers = true;
  // Asynchronous writer thread with a bounded batch (see the header comment).
  bool asynchronous = true;
  std::size_t max_pending_bytes = 4 * 1024 * 1024;
  // Called (from the writer thread) with the number of lines dropped since the last call.
  std::function<void(std::uint64_t)> on_dropped;
};

class Logger {
 public:
  // Writes to `out` (stdout by default) with one fwrite + fflush per line or batch.
  Logger(LoggerOptions options, const Clock& clock, std::FILE* out = stdout);
  // Writes to a caller-provided sink (tests, files with rotation, ...).
  Logger(LoggerOptions options, const Clock& clock, LogSink sink);
  ~Logger();
  Logger(const Logger&) = delete;
  Logger& operator=(const Logger&) = delete;

  bool enabled(LogLevel level) const { return level >= options_.min_level; }

  void log_event(LogLevel level, std::string_view message,
                 std::initializer_list<LogField> fields = {}, LogCorrelation trace = {});
  void log_event(LogLevel level, std::string_view message, const std::vector<LogField>& fields,
                 LogCorrelation trace = {});
  void debug(std::string_view message, std::initializer_list<LogField> fields = {}) {
    log_event(LogLevel::debug, message, fields);
  }
  void info(std::string_view message, std::initializer_list<LogField> fields = {}) {
    log_event(LogLevel::info, message, fields);
  }
  void warn(std::string_view message, std::initializer_list<LogField> fields = {}) {
    log_event(LogLevel::warn, message, fields);
  }
  void error(std::string_view message, std::initializer_list<LogField> fields = {}) {
    log_event(LogLevel::error, message, fields);
  }

  // The access line of one request: message "request completed", level `error` for 5xx and
  // `info` otherwise; fields request_id, http.method, http.route, http.status_code,
  // duration_ms (3 decimals), upstream_attempts, client_id and error_code (when non-empty).
  void log_access(const AccessRecord& record);

  // Blocks until every line accepted so far has been handed to the sink (and the FILE*
  // flushed). Cheap in synchronous mode.
  void flush();
  // Lines dropped by the asynchronous writer since start.
  std::uint64_t dropped_lines() const;

  const LoggerOptions& options() const { return options_; }

 private:
  void prepare_formatting();
  void write_line(LogLevel level, std::string_view message, const LogField* fields,
                  std::size_t count, LogCorrelation trace);
  void emit(std::string_view line);
  void writer_loop();

  // How long the asynchronous writer collects lines between writes while lines keep coming.
  static constexpr std::chrono::milliseconds kBatchInterval{10};

  const LoggerOptions options_;
  const Clock& clock_;
  LogSink sink_;
  std::FILE* file_ = nullptr;

  // Formatted once by the constructor (the options never change): dd.service / dd.env /
  // dd.version as every line carries them; for access lines, everything between the timestamp
  // and the trace ids (level info, level error), and each field's key as the line writes it.
  std::string constant_correlation_;
  std::array<std::string, 2> access_heads_;
  std::array<std::string, 8> access_keys_;

  // Synchronous mode: serialises sink calls.
  std::mutex sink_mutex_;

  // Asynchronous mode.
  mutable std::mutex queue_mutex_;
  std::condition_variable queue_cv_;    // writer waits for lines or stop
  std::condition_variable flushed_cv_;  // flush() waits for the writer
  std::string pending_;
  std::uint64_t accepted_seq_ = 0;  // lines accepted into pending_
  std::uint64_t written_seq_ = 0;   // lines handed to the sink
  std::uint64_t dropped_total_ = 0;
  std::uint64_t dropped_unreported_ = 0;
  bool writer_idle_ = false;  // waiting without a deadline: producers must notify
  int flush_waiters_ = 0;
  bool stop_ = false;
  std::thread writer_;
};

// The fewest digits a card number the scrubber masks has: a shorter text is never changed.
inline constexpr std::size_t kCardNumberMinDigits = 13;

// The defensive card-number scrubber (see the header comment). Returns how many candidates it
// masked; `out` receives the masked text only when the result is non-zero.
std::size_t mask_card_numbers(std::string_view text, std::string& out);
// Convenience form returning the (possibly unchanged) text.
std::string mask_card_numbers(std::string_view text);

// Appends `text` to `out` as the inside of a JSON string: quotes, backslashes and control
// characters escaped, valid UTF-8 copied, each invalid byte replaced by U+FFFD.
void append_json_escaped(std::string& out, std::string_view text);

// "2026-11-23T10:00:00.123Z".
std::string format_rfc3339_ms(std::chrono::system_clock::time_point t);

}  // namespace tokenizer
