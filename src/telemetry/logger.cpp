#include "telemetry/logger.h"

#include "tokenization/card_brand.h"

#include <time.h>

#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <utility>

// Measured on the shared 2-core Debian 12 machine (-O2, one 432-byte access line with trace
// ids, CPU time of the calling thread, load average ~9 from parallel builds):
//   formatting only, scrubber on / off                       0.44 / 0.40 µs per line
//   synchronous, FILE* on /dev/null (fwrite + fflush)        0.73 µs
//   synchronous, FILE* on a pipe read by `cat`               1.4–1.7 µs (one write(2) per line,
//                                                            plus waiting whenever the pipe is
//                                                            full)
//   asynchronous, pipe or /dev/null                          0.47–0.49 µs (the writer's batched
//                                                            writes run on its own thread)
// The first asynchronous version woke the writer on every empty→non-empty transition and cost
// 0.77 µs on the caller (a futex wake per line at low batch sizes); the 10 ms batch cadence
// removed that. Hence asynchronous is the default: it costs the request path about the
// formatting alone and cannot block on stdout; the price is that lines can be dropped (and are
// counted and reported) when stdout stalls for longer than 4 MiB of logs.

namespace tokenizer {
namespace {

constexpr std::size_t kScrubMinDigits = kCardNumberMinDigits;
constexpr std::size_t kScrubMaxDigits = 19;

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// At least the number of ASCII digits in `text` (never fewer), eight bytes at a time: a byte
// is flagged when (byte ^ '0') < 10, with the borrow trick that may also flag a byte right
// after a flagged one (an overcount, harmless for a pre-check) but never misses one.
std::size_t count_digits_at_least(std::string_view text) {
  constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
  std::size_t count = 0;
  std::size_t i = 0;
  for (; i + 8 <= text.size(); i += 8) {
    std::uint64_t w;
    std::memcpy(&w, text.data() + i, 8);
    const std::uint64_t x = w ^ (kOnes * '0');  // digits become 0..9
    const std::uint64_t flags = (x - kOnes * 10) & ~x & (kOnes * 0x80);
    count += static_cast<std::size_t>(((flags >> 7) * kOnes) >> 56);  // flags per byte, summed
  }
  for (; i < text.size(); ++i) count += is_digit(text[i]) ? 1 : 0;
  return count;
}

// Whether `text` has kScrubMinDigits consecutive bytes that could all belong to one group
// (digits, ' ', '-'): a group of 13+ digits spans at least that many such bytes.
bool has_group_run(std::string_view text) {
  std::size_t run = 0;
  for (const char c : text) {
    if (is_digit(c) || c == ' ' || c == '-') {
      if (++run >= kScrubMinDigits) return true;
    } else {
      run = 0;
    }
  }
  return false;
}

struct Segment {
  std::size_t start;  // offset in the text
  std::size_t len;    // digits
};

// Luhn over the digits of segments [first, last].
bool luhn_segments(std::string_view text, const Segment* segs, std::size_t first,
                   std::size_t last) {
  int sum = 0;
  bool twice = false;
  for (std::size_t k = last + 1; k-- > first;) {
    for (std::size_t c = segs[k].len; c-- > 0;) {
      int d = text[segs[k].start + c] - '0';
      if (twice) {
        d *= 2;
        if (d > 9) d -= 9;
      }
      sum += d;
      twice = !twice;
    }
  }
  return sum % 10 == 0;
}

// The thread-local formatting buffers (reused: no allocation once warm).
struct Scratch {
  std::string line;
  std::string masked;
  std::vector<Segment> segments;
  std::vector<bool> mask;
};
Scratch& scratch() {
  thread_local Scratch s;
  return s;
}

void append_timestamp(std::string& out, std::chrono::system_clock::time_point t) {
  // Cache the formatted second per thread: gmtime_r once per second per thread.
  thread_local long long cached_second = -1;
  thread_local char cached[24];
  const auto ms_total =
      std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  long long seconds = ms_total / 1000;
  long long ms = ms_total % 1000;
  if (ms < 0) {
    ms += 1000;
    seconds -= 1;
  }
  if (seconds != cached_second) {
    const time_t tt = static_cast<time_t>(seconds);
    struct tm tm {};
    gmtime_r(&tt, &tm);
    // YYYY-MM-DDTHH:MM:SS (years outside 0..9999 are clamped: RFC 3339 has four digits).
    const int year =
        tm.tm_year + 1900 < 0 ? 0 : (tm.tm_year + 1900 > 9999 ? 9999 : tm.tm_year + 1900);
    const int parts[] = {tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec};
    const char seps[] = {'-', 'T', ':', ':', '\0'};
    char* p = cached;
    *p++ = static_cast<char>('0' + year / 1000);
    *p++ = static_cast<char>('0' + (year / 100) % 10);
    *p++ = static_cast<char>('0' + (year / 10) % 10);
    *p++ = static_cast<char>('0' + year % 10);
    *p++ = '-';
    for (int k = 0; k < 5; ++k) {
      *p++ = static_cast<char>('0' + parts[k] / 10);
      *p++ = static_cast<char>('0' + parts[k] % 10);
      if (seps[k] != '\0') *p++ = seps[k];
    }
    *p = '\0';
    cached_second = seconds;
  }
  out.append(cached);
  char frac[6] = {'.',
                  static_cast<char>('0' + ms / 100),
                  static_cast<char>('0' + (ms / 10) % 10),
                  static_cast<char>('0' + ms % 10),
                  'Z',
                  '\0'};
  out.append(frac, 5);
}

void append_u64(std::string& out, std::uint64_t v) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, static_cast<std::size_t>(r.ptr - buf));
}

// How many leading bytes of p[0..n) are known to need no JSON escaping, in whole words of
// eight: a word is taken only when none of its bytes is a control character, DEL, '"', '\\'
// or non-ASCII. (x - 0x20..) & ~x & 0x80.. flags a byte below 0x20 (a borrow can only add flags
// next to a real one, never hide one); a zero byte of x ^ c marks a byte equal to c.
std::size_t plain_prefix_words(const unsigned char* p, std::size_t n) {
  constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
  constexpr std::uint64_t kHigh = kOnes * 0x80;
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    std::uint64_t w;
    std::memcpy(&w, p + i, 8);
    const std::uint64_t quote = w ^ (kOnes * '"');
    const std::uint64_t backslash = w ^ (kOnes * '\\');
    const std::uint64_t del = w ^ (kOnes * 0x7f);
    const std::uint64_t special = ((w - kOnes * 0x20) & ~w) | ((quote - kOnes) & ~quote) |
                                  ((backslash - kOnes) & ~backslash) | ((del - kOnes) & ~del) | w;
    if ((special & kHigh) != 0) break;
  }
  return i;
}

// Writes `v` with exactly three decimals as std::to_chars(fixed, 3) does (the exact binary
// value rounded half to even), without its cost when the answer is plain: a non-negative value
// below 1e6 whose scaled fraction is not within 1e-4 of a tie (the product's rounding error is
// below 1e-7 there). Returns false when the caller must use to_chars.
bool append_fixed3_fast(std::string& out, double v) {
  if (!(v >= 0.0 && v < 1e6) || std::signbit(v)) return false;
  const double scaled = v * 1000.0;
  const double whole = std::floor(scaled);
  const double frac = scaled - whole;
  if (frac > 0.4999 && frac < 0.5001) return false;
  auto n = static_cast<std::uint64_t>(whole) + (frac > 0.5 ? 1 : 0);
  char buf[24];
  char* end = buf + sizeof(buf);
  char* q = end;
  for (int k = 0; k < 3; ++k) {
    *--q = static_cast<char>('0' + n % 10);
    n /= 10;
  }
  *--q = '.';
  do {
    *--q = static_cast<char>('0' + n % 10);
    n /= 10;
  } while (n != 0);
  out.append(q, static_cast<std::size_t>(end - q));
  return true;
}

// Formats a double; JSON has no NaN/Infinity, so those become null (text: nan/inf).
void append_double(std::string& out, double v, bool json, int fixed_decimals = -1) {
  if (!std::isfinite(v)) {
    out.append(json ? "null" : (std::isnan(v) ? "nan" : (v > 0 ? "inf" : "-inf")));
    return;
  }
  if (fixed_decimals == 3 && append_fixed3_fast(out, v)) return;
  char buf[64];
  std::to_chars_result r =
      fixed_decimals >= 0
          ? std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::fixed, fixed_decimals)
          : std::to_chars(buf, buf + sizeof(buf), v);
  if (r.ec != std::errc()) {
    out.append(json ? "null" : "nan");
    return;
  }
  out.append(buf, static_cast<std::size_t>(r.ptr - buf));
}

// A string value, scrubbed when enabled, escaped; quoted in JSON and when needed in text.
bool text_needs_quotes(std::string_view s) {
  if (s.empty()) return true;
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || c == '"' || c == '=' || c == '\\' || u == 0x7f) return true;
  }
  return false;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Free functions

const char* log_level_name(LogLevel level) {
  switch (level) {
    case LogLevel::debug: return "debug";
    case LogLevel::info: return "info";
    case LogLevel::warn: return "warn";
    case LogLevel::error: return "error";
  }
  return "info";
}

Expected<LogLevel> parse_log_level(std::string_view text) {
  std::string lower;
  for (const char c : text) {
    lower.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
  }
  if (lower == "debug") return LogLevel::debug;
  if (lower == "info") return LogLevel::info;
  if (lower == "warn" || lower == "warning") return LogLevel::warn;
  if (lower == "error") return LogLevel::error;
  return Error{"invalid_log_level", "log level must be one of debug, info, warn, error"};
}


std::size_t mask_card_numbers(std::string_view text, std::string& out) {
  // Most texts (tag values, log fields) hold fewer digits than the shortest card number:
  // settle them before the group scan.
  if (text.size() < kScrubMinDigits || count_digits_at_least(text) < kScrubMinDigits) return 0;
  // Enough digits in all, but a candidate also needs them in one group: 13+ consecutive bytes
  // that are all digits, ' ' or '-'. Hex ids (request ids, say) have plenty of digits and no
  // such run; they are settled here instead of segment by segment.
  if (!has_group_run(text)) return 0;
  auto& s = scratch();
  std::size_t found = 0;
  bool copied = false;
  std::size_t i = 0;
  while (i < text.size()) {
    if (!is_digit(text[i])) {
      ++i;
      continue;
    }
    // A group: segments of contiguous digits joined by single ' ' or '-' separators.
    s.segments.clear();
    std::size_t total = 0;
    std::size_t j = i;
    for (;;) {
      const std::size_t start = j;
      while (j < text.size() && is_digit(text[j])) ++j;
      s.segments.push_back(Segment{start, j - start});
      total += j - start;
      if (j + 1 < text.size() && (text[j] == ' ' || text[j] == '-') && is_digit(text[j + 1])) {
        ++j;
        continue;
      }
      break;
    }
    if (total >= kScrubMinDigits) {
      // Candidates: every run of whole consecutive segments holding 13-19 digits.
      const std::size_t n = s.segments.size();
      s.mask.assign(n, false);
      bool any = false;
      for (std::size_t first = 0; first < n; ++first) {
        std::size_t digits = 0;
        for (std::size_t last = first; last < n; ++last) {
          digits += s.segments[last].len;
          if (digits > kScrubMaxDigits) break;
          if (digits >= kScrubMinDigits && luhn_segments(text, s.segments.data(), first, last)) {
            for (std::size_t k = first; k <= last; ++k) s.mask[k] = true;
            any = true;
            ++found;
          }
        }
      }
      if (any) {
        if (!copied) {
          out.assign(text.data(), text.size());
          copied = true;
        }
        for (std::size_t k = 0; k < n; ++k) {
          if (!s.mask[k]) continue;
          for (std::size_t c = 0; c < s.segments[k].len; ++c) out[s.segments[k].start + c] = '*';
        }
      }
    }
    i = j;
  }
  return found;
}

std::string mask_card_numbers(std::string_view text) {
  std::string out;
  if (mask_card_numbers(text, out) == 0) return std::string(text);
  return out;
}

void append_json_escaped(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  std::size_t i = 0;
  while (i < n) {
    // Copy the longest run of bytes that need no attention, found eight bytes at a time
    // (most strings are one run: scanned once, appended once).
    std::size_t run = i + plain_prefix_words(p + i, n - i);
    while (run < n && p[run] >= 0x20 && p[run] < 0x7f && p[run] != '"' && p[run] != '\\') ++run;
    if (run > i) {
      out.append(text.data() + i, run - i);
      i = run;
      if (i >= n) break;
    }
    const unsigned char c = p[i];
    if (c < 0x80) {
      switch (c) {
        case '"': out.append("\\\""); break;
        case '\\': out.append("\\\\"); break;
        case '\n': out.append("\\n"); break;
        case '\r': out.append("\\r"); break;
        case '\t': out.append("\\t"); break;
        case '\b': out.append("\\b"); break;
        case '\f': out.append("\\f"); break;
        default: {  // other control characters and DEL
          const char esc[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xf]};
          out.append(esc, 6);
        }
      }
      ++i;
      continue;
    }
    // UTF-8: validate one sequence (no overlongs, no surrogates, at most U+10FFFF).
    std::size_t len = 0;
    std::uint32_t cp = 0;
    std::uint32_t min = 0;
    if (c >= 0xc2 && c <= 0xdf) {
      len = 2;
      cp = c & 0x1f;
      min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
      len = 3;
      cp = c & 0x0f;
      min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
      len = 4;
      cp = c & 0x07;
      min = 0x10000;
    }
    bool valid = len != 0 && i + len <= n;
    for (std::size_t k = 1; valid && k < len; ++k) {
      if ((p[i + k] & 0xc0) != 0x80) {
        valid = false;
      } else {
        cp = (cp << 6) | (p[i + k] & 0x3f);
      }
    }
    if (valid && (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))) valid = false;
    if (valid) {
      out.append(text.data() + i, len);
      i += len;
    } else {
      out.append("\\ufffd");
      ++i;
    }
  }
}

std::string format_rfc3339_ms(std::chrono::system_clock::time_point t) {
  std::string out;
  append_timestamp(out, t);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Formatting

namespace {

class LineWriter {
 public:
  LineWriter(std::string& out, const LoggerOptions& options)
      : out_(out), json_(options.format == LogFormat::json), scrub_(options.scrub_card_numbers) {}

  void begin(std::chrono::system_clock::time_point t, LogLevel level, std::string_view message) {
    begin_timestamp(t);
    begin_rest(level, message);
  }
  // begin() in two parts: what follows the timestamp is the same for every access line of a
  // level, so the Logger formats it once (with the constant correlation fields) and appends it.
  void begin_timestamp(std::chrono::system_clock::time_point t) {
    if (json_) out_.append("{\"timestamp\":\"");
    append_timestamp(out_, t);
  }
  void begin_rest(LogLevel level, std::string_view message) {
    if (json_) {
      out_.append("\",\"level\":\"");
      out_.append(log_level_name(level));
      out_.append("\",\"message\":\"");
      append_scrubbed(message);
      out_.push_back('"');
    } else {
      out_.push_back(' ');
      switch (level) {
        case LogLevel::debug: out_.append("DEBUG"); break;
        case LogLevel::info: out_.append("INFO "); break;
        case LogLevel::warn: out_.append("WARN "); break;
        case LogLevel::error: out_.append("ERROR"); break;
      }
      out_.push_back(' ');
      append_scrubbed(message);
    }
  }

  // dd.service / dd.env / dd.version from the options, dd.trace_id / dd.span_id when set.
  void correlation(const LoggerOptions& options, LogCorrelation trace) {
    constant_correlation(options);
    trace_ids(trace);
  }
  // correlation() in two parts; the first is the same on every line of a Logger.
  void constant_correlation(const LoggerOptions& options) {
    if (!options.service.empty()) trusted_string("dd.service", options.service);
    if (!options.env.empty()) trusted_string("dd.env", options.env);
    if (!options.version.empty()) trusted_string("dd.version", options.version);
  }
  void trace_ids(LogCorrelation trace) {
    if (trace.trace_id != 0) u64_field("dd.trace_id", trace.trace_id, true);
    if (trace.span_id != 0) u64_field("dd.span_id", trace.span_id, true);
  }
  // Bytes formatted beforehand by this class (a prefix, a field key from field_key()).
  void raw(std::string_view bytes) { out_.append(bytes.data(), bytes.size()); }
  // What start_field(key) writes, for keys formatted once and passed to the *_at() forms.
  static std::string field_key(const LoggerOptions& options, std::string_view key) {
    std::string out;
    LineWriter(out, options).start_field(key);
    return out;
  }
  void string_at(std::string_view encoded_key, std::string_view value) {
    raw(encoded_key);
    string_value(value, scrub_);
  }
  void int_at(std::string_view encoded_key, std::int64_t v) {
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof(buf), v);
    raw(encoded_key);
    integer_value(std::string_view(buf, static_cast<std::size_t>(r.ptr - buf)));
  }
  void double_at(std::string_view encoded_key, double v, int fixed_decimals) {
    raw(encoded_key);
    append_double(out_, v, json_, fixed_decimals);
  }

  // A trusted value (our own configuration or ids): escaped, not scrubbed.
  void trusted_string(std::string_view key, std::string_view value) {
    start_field(key);
    string_value(value, false);
  }
  void string_field(std::string_view key, std::string_view value) {
    start_field(key);
    string_value(value, scrub_);
  }
  void u64_field(std::string_view key, std::uint64_t v, bool as_string = false) {
    start_field(key);
    if (as_string && json_) out_.push_back('"');
    append_u64(out_, v);
    if (as_string && json_) out_.push_back('"');
  }
  void int_field(std::string_view key, std::int64_t v) {
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof(buf), v);
    std::string_view digits(buf, static_cast<std::size_t>(r.ptr - buf));
    integer_digits(key, digits);
  }
  void uint_field(std::string_view key, std::uint64_t v) {
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof(buf), v);
    integer_digits(key, std::string_view(buf, static_cast<std::size_t>(r.ptr - buf)));
  }
  void double_field(std::string_view key, double v, int fixed_decimals = -1) {
    start_field(key);
    append_double(out_, v, json_, fixed_decimals);
  }
  void bool_field(std::string_view key, bool v) {
    start_field(key);
    out_.append(v ? "true" : "false");
  }
  void field(const LogField& f) {
    switch (f.type) {
      case LogField::Type::string: string_field(f.key, f.str); break;
      case LogField::Type::int64: int_field(f.key, f.i); break;
      case LogField::Type::uint64: uint_field(f.key, f.u); break;
      case LogField::Type::float64: double_field(f.key, f.d); break;
      case LogField::Type::boolean: bool_field(f.key, f.b); break;
    }
  }
  void end() {
    if (json_) out_.push_back('}');
    out_.push_back('\n');
  }

 private:
  void start_field(std::string_view key) {
    if (json_) {
      out_.append(",\"");
      append_json_escaped(out_, key);
      out_.append("\":");
    } else {
      out_.push_back(' ');
      append_json_escaped(out_, key);
      out_.push_back('=');
    }
  }

  void integer_digits(std::string_view key, std::string_view digits) {
    start_field(key);
    integer_value(digits);
  }

  void integer_value(std::string_view digits) {
    if (scrub_ && digits.size() >= kScrubMinDigits) {
      auto& masked = scratch().masked;
      if (mask_card_numbers(digits, masked) > 0) {
        // A masked number is no longer a number: write it as a string.
        if (json_) out_.push_back('"');
        out_.append(masked);
        if (json_) out_.push_back('"');
        return;
      }
    }
    out_.append(digits);
  }

  void append_scrubbed(std::string_view value) {
    if (scrub_) {
      auto& masked = scratch().masked;
      if (mask_card_numbers(value, masked) > 0) {
        append_json_escaped(out_, masked);
        return;
      }
    }
    append_json_escaped(out_, value);
  }

  void string_value(std::string_view value, bool scrub) {
    std::string_view v = value;
    if (scrub) {
      auto& masked = scratch().masked;
      if (mask_card_numbers(value, masked) > 0) v = masked;
    }
    const bool quote = json_ || text_needs_quotes(v);
    if (quote) out_.push_back('"');
    append_json_escaped(out_, v);
    if (quote) out_.push_back('"');
  }

  std::string& out_;
  const bool json_;
  const bool scrub_;
};

}  // namespace

// ---------------------------------------------------------------------------------------------
// Logger

namespace {

// The fields of an access line, in writing order (Logger::access_keys_ holds them formatted).
enum AccessKey : std::size_t {
  kRequestId,
  kMethod,
  kRoute,
  kStatusCode,
  kDurationMs,
  kUpstreamAttempts,
  kClientId,
  kErrorCode,
  kAccessKeyCount
};
constexpr std::string_view kAccessKeyNames[kAccessKeyCount] = {
    "request_id",  "http.method",       "http.route", "http.status_code",
    "duration_ms", "upstream_attempts", "client_id",  "error_code"};
constexpr std::string_view kAccessMessage = "request completed";

}  // namespace

void Logger::prepare_formatting() {
  static_assert(std::tuple_size<decltype(access_keys_)>::value == kAccessKeyCount);
  LineWriter(constant_correlation_, options_).constant_correlation(options_);
  const LogLevel levels[2] = {LogLevel::info, LogLevel::error};
  for (int k = 0; k < 2; ++k) {
    std::string& head = access_heads_[k];
    LineWriter w(head, options_);
    w.begin_rest(levels[k], kAccessMessage);
    w.raw(constant_correlation_);
  }
  for (std::size_t k = 0; k < kAccessKeyCount; ++k) {
    access_keys_[k] = LineWriter::field_key(options_, kAccessKeyNames[k]);
  }
}

Logger::Logger(LoggerOptions options, const Clock& clock, std::FILE* out)
    : options_(std::move(options)), clock_(clock), file_(out) {
  prepare_formatting();
  sink_ = [this](std::string_view lines) {
    if (file_ == nullptr) return;
    std::fwrite(lines.data(), 1, lines.size(), file_);
    std::fflush(file_);
  };
  if (options_.asynchronous) writer_ = std::thread([this] { writer_loop(); });
}

Logger::Logger(LoggerOptions options, const Clock& clock, LogSink sink)
    : options_(std::move(options)), clock_(clock), sink_(std::move(sink)) {
  prepare_formatting();
  if (options_.asynchronous) writer_ = std::thread([this] { writer_loop(); });
}

Logger::~Logger() {
  if (writer_.joinable()) {
    {
      std::lock_guard<std::mutex> lock(queue_mutex_);
      stop_ = true;
    }
    queue_cv_.notify_one();
    writer_.join();
  }
}

void Logger::log_event(LogLevel level, std::string_view message,
                       std::initializer_list<LogField> fields, LogCorrelation trace) {
  if (!enabled(level)) return;
  write_line(level, message, fields.begin(), fields.size(), trace);
}

void Logger::log_event(LogLevel level, std::string_view message,
                       const std::vector<LogField>& fields, LogCorrelation trace) {
  if (!enabled(level)) return;
  write_line(level, message, fields.data(), fields.size(), trace);
}

void Logger::log_access(const AccessRecord& r) {
  const LogLevel level = r.status >= 500 ? LogLevel::error : LogLevel::info;
  if (!enabled(level)) return;
  auto& s = scratch();
  s.line.clear();
  LineWriter w(s.line, options_);
  // The same bytes as begin(level, "request completed") + correlation() + one *_field() per
  // field, with everything constant formatted once by prepare_formatting().
  w.begin_timestamp(clock_.wall());
  w.raw(access_heads_[level == LogLevel::error ? 1 : 0]);
  w.trace_ids(r.trace);
  w.string_at(access_keys_[kRequestId], r.request_id);
  w.string_at(access_keys_[kMethod], r.method);
  w.string_at(access_keys_[kRoute], r.route);
  w.int_at(access_keys_[kStatusCode], r.status);
  w.double_at(access_keys_[kDurationMs], r.duration_ms, 3);
  w.int_at(access_keys_[kUpstreamAttempts], r.upstream_attempts);
  if (!r.client_id.empty()) w.string_at(access_keys_[kClientId], r.client_id);
  if (!r.error_code.empty()) w.string_at(access_keys_[kErrorCode], r.error_code);
  w.end();
  emit(s.line);
}

void Logger::write_line(LogLevel level, std::string_view message, const LogField* fields,
                        std::size_t count, LogCorrelation trace) {
  auto& s = scratch();
  s.line.clear();
  LineWriter w(s.line, options_);
  w.begin(clock_.wall(), level, message);
  w.raw(constant_correlation_);  // correlation(), its constant part formatted once
  w.trace_ids(trace);
  for (std::size_t k = 0; k < count; ++k) w.field(fields[k]);
  w.end();
  emit(s.line);
}

void Logger::emit(std::string_view line) {
  if (!options_.asynchronous) {
    std::lock_guard<std::mutex> lock(sink_mutex_);
    if (sink_) sink_(line);
    return;
  }
  bool wake = false;
  {
    std::lock_guard<std::mutex> lock(queue_mutex_);
    if (pending_.size() + line.size() > options_.max_pending_bytes) {
      ++dropped_total_;
      ++dropped_unreported_;
      return;
    }
    const std::size_t half = options_.max_pending_bytes / 2;
    const bool crosses_half = pending_.size() < half && pending_.size() + line.size() >= half;
    pending_.append(line);
    ++accepted_seq_;
    // Wake the writer only when it sleeps without a deadline, or to avoid drops; while it
    // runs its batch cadence, producers pay no system call.
    wake = writer_idle_ || crosses_half;
    writer_idle_ = false;
  }
  if (wake) queue_cv_.notify_one();
}

void Logger::writer_loop() {
  std::string batch;
  std::unique_lock<std::mutex> lock(queue_mutex_);
  for (;;) {
    writer_idle_ = true;
    queue_cv_.wait(lock, [this] { return stop_ || !pending_.empty() || dropped_unreported_ > 0; });
    writer_idle_ = false;
    if (pending_.empty() && dropped_unreported_ == 0) break;  // stop_ with nothing left
    // Busy phase: write a batch, then collect the next one for kBatchInterval.
    for (;;) {
      batch.clear();
      batch.swap(pending_);
      const std::uint64_t seq = accepted_seq_;
      const std::uint64_t dropped = dropped_unreported_;
      dropped_unreported_ = 0;
      lock.unlock();

      if (dropped > 0) {
        std::string notice;
        LineWriter w(notice, options_);
        w.begin(clock_.wall(), LogLevel::warn, "log lines dropped: the log writer fell behind");
        w.correlation(options_, LogCorrelation{});
        w.uint_field("dropped_lines", dropped);
        w.end();
        batch.insert(0, notice);
        if (options_.on_dropped) options_.on_dropped(dropped);
      }
      if (sink_ && !batch.empty()) sink_(batch);

      lock.lock();
      written_seq_ = seq;
      flushed_cv_.notify_all();
      queue_cv_.wait_for(lock, kBatchInterval, [this] {
        return stop_ || flush_waiters_ > 0 || pending_.size() >= options_.max_pending_bytes / 2;
      });
      if (pending_.empty() && dropped_unreported_ == 0) break;  // back to idle
    }
  }
  written_seq_ = accepted_seq_;
  flushed_cv_.notify_all();
}

void Logger::flush() {
  if (!options_.asynchronous) {
    std::lock_guard<std::mutex> lock(sink_mutex_);
    if (file_ != nullptr) std::fflush(file_);
    return;
  }
  std::unique_lock<std::mutex> lock(queue_mutex_);
  const std::uint64_t target = accepted_seq_;
  ++flush_waiters_;
  writer_idle_ = false;
  queue_cv_.notify_one();
  flushed_cv_.wait(lock, [this, target] { return written_seq_ >= target || !writer_.joinable(); });
  --flush_waiters_;
}

std::uint64_t Logger::dropped_lines() const {
  std::lock_guard<std::mutex> lock(queue_mutex_);
  return dropped_total_;
}

}  // namespace tokenizer
