#include "telemetry/propagation.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <limits>

namespace tokenizer {
namespace {

constexpr std::string_view kPropagatedPrefix = "_dd.p.";
constexpr std::string_view kTraceIdHighTag = "_dd.p.tid";
constexpr std::string_view kPropagationError = "_dd.propagation_error";
constexpr std::string_view kW3cExtractionError = "_dd.w3c_extraction_error";
// Bounds on what we accept and pass on (a header is never trusted to be small).
constexpr std::size_t kMaxOriginSize = 256;
constexpr std::size_t kMaxTracestateSize = 2048;
constexpr std::size_t kMaxTracestateMembers = 32;
constexpr std::size_t kMaxDatadogTracestateSize = 256;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && s.substr(0, prefix.size()) == prefix;
}

bool printable(char c) { return c >= 0x20 && c <= 0x7e; }

bool all_printable(std::string_view s) { return std::all_of(s.begin(), s.end(), printable); }

// Valid as a propagated tag key: visible ASCII except '=' and ','.
bool valid_tag_key(std::string_view key) {
  if (key.empty()) return false;
  return std::all_of(key.begin(), key.end(),
                     [](char c) { return c > 0x20 && c <= 0x7e && c != '=' && c != ','; });
}

// Valid as a propagated tag value: printable ASCII except ','.
bool valid_tag_value(std::string_view value) {
  return std::all_of(value.begin(), value.end(), [](char c) { return printable(c) && c != ','; });
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// Splits `s` at each `sep`, calling `fn(piece)`; stops early when fn returns false.
template <typename Fn>
bool for_each_piece(std::string_view s, char sep, Fn&& fn) {
  std::size_t begin = 0;
  while (begin <= s.size()) {
    const std::size_t end = s.find(sep, begin);
    const std::size_t stop = end == std::string_view::npos ? s.size() : end;
    if (!fn(s.substr(begin, stop - begin))) return false;
    if (end == std::string_view::npos) break;
    begin = end + 1;
  }
  return true;
}

void set_tag(TagList& tags, std::string_view key, std::string value) {
  for (auto& [k, v] : tags) {
    if (k == key) {
      v = std::move(value);
      return;
    }
  }
  tags.emplace_back(std::string(key), std::move(value));
}

void erase_tag(TagList& tags, std::string_view key) {
  tags.erase(std::remove_if(tags.begin(), tags.end(), [&](const auto& kv) { return kv.first == key; }),
             tags.end());
}

std::optional<std::string> sanitize_origin(std::string_view origin) {
  if (origin.empty() || origin.size() > kMaxOriginSize || !all_printable(origin)) return std::nullopt;
  return std::string(origin);
}

// Appends `s` with characters not allowed in a tracestate field replaced by '_' and '=' by '~'.
void append_tracestate_field(std::string& out, std::string_view s, std::string_view forbidden) {
  for (char c : s) {
    if (!printable(c) || forbidden.find(c) != std::string_view::npos) {
      out.push_back('_');
    } else {
      out.push_back(c == '=' ? '~' : c);
    }
  }
}

// `value` in decimal at `p` (at most 20 bytes); returns the end.
char* write_decimal(char* p, std::uint64_t value) {
  char buf[20];
  char* q = buf + sizeof(buf);
  do {
    *--q = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0);
  const auto n = static_cast<std::size_t>(buf + sizeof(buf) - q);
  std::memcpy(p, q, n);
  return p + n;
}

// `value` in decimal at `p` (at most 11 bytes); returns the end.
char* write_decimal(char* p, int value) {
  if (value >= 0) return write_decimal(p, static_cast<std::uint64_t>(value));
  *p++ = '-';
  return write_decimal(p, static_cast<std::uint64_t>(-static_cast<std::int64_t>(value)));
}

template <typename Integer>
void append_decimal(std::string& out, Integer value) {
  char buf[21];
  out.append(buf, static_cast<std::size_t>(write_decimal(buf, value) - buf));
}

}  // namespace

// ---- numbers ----

std::optional<std::uint64_t> parse_decimal_u64(std::string_view text) {
  text = trim(text);
  if (text.empty() || text.size() > 20) return std::nullopt;
  std::uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    const auto digit = static_cast<std::uint64_t>(c - '0');
    if (value > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  return value;
}

std::optional<std::int64_t> parse_decimal_i64(std::string_view text) {
  text = trim(text);
  bool negative = false;
  if (!text.empty() && (text.front() == '-' || text.front() == '+')) {
    negative = text.front() == '-';
    text.remove_prefix(1);
  }
  if (text.empty() || text.front() == ' ' || text.front() == '\t') return std::nullopt;
  const auto magnitude = parse_decimal_u64(text);
  if (!magnitude) return std::nullopt;
  constexpr auto kMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  if (negative) {
    if (*magnitude > kMax + 1) return std::nullopt;
    return *magnitude == kMax + 1 ? std::numeric_limits<std::int64_t>::min()
                                  : -static_cast<std::int64_t>(*magnitude);
  }
  if (*magnitude > kMax) return std::nullopt;
  return static_cast<std::int64_t>(*magnitude);
}

std::optional<std::uint64_t> parse_lower_hex_u64(std::string_view text) {
  if (text.empty() || text.size() > 16) return std::nullopt;
  std::uint64_t value = 0;
  for (char c : text) {
    const int d = hex_digit(c);
    if (d < 0) return std::nullopt;
    value = (value << 4) | static_cast<std::uint64_t>(d);
  }
  return value;
}

// ---- styles ----

const char* propagation_style_name(PropagationStyle style) {
  switch (style) {
    case PropagationStyle::datadog: return "datadog";
    case PropagationStyle::tracecontext: return "tracecontext";
  }
  return "unknown";
}

Expected<std::vector<PropagationStyle>> parse_propagation_styles(std::string_view text) {
  std::vector<PropagationStyle> styles;
  bool none = false;
  std::string bad;
  std::size_t names = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    if (text[i] == ',' || text[i] == ' ' || text[i] == '\t') {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < text.size() && text[j] != ',' && text[j] != ' ' && text[j] != '\t') ++j;
    std::string name(text.substr(i, j - i));
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    i = j;
    ++names;
    std::optional<PropagationStyle> style;
    if (name == "datadog") {
      style = PropagationStyle::datadog;
    } else if (name == "tracecontext" || name == "w3c") {
      style = PropagationStyle::tracecontext;
    } else if (name == "none") {
      none = true;
      continue;
    } else {
      return Error{"invalid_propagation_style",
                   "unknown propagation style '" + name.substr(0, 64) +
                       "' (supported: datadog, tracecontext, none)"};
    }
    if (std::find(styles.begin(), styles.end(), *style) != styles.end()) {
      return Error{"invalid_propagation_style", "propagation style '" + name + "' is repeated"};
    }
    styles.push_back(*style);
  }
  if (names == 0) return Error{"invalid_propagation_style", "no propagation style given"};
  if (none && names > 1) {
    return Error{"invalid_propagation_style", "'none' cannot be combined with other styles"};
  }
  return styles;
}

// ---- x-datadog-tags ----

Expected<TagList> decode_datadog_tags(std::string_view value) {
  TagList tags;
  bool ok = true;
  if (trim(value).empty()) return tags;
  for_each_piece(value, ',', [&](std::string_view pair) {
    const auto eq = pair.find('=');
    if (eq == std::string_view::npos) return ok = false;
    const auto key = trim(pair.substr(0, eq));
    const auto val = trim(pair.substr(eq + 1));
    if (!valid_tag_key(key) || !valid_tag_value(val)) return ok = false;
    tags.emplace_back(std::string(key), std::string(val));
    return true;
  });
  if (!ok) return Error{"decoding_error", "malformed x-datadog-tags"};
  return tags;
}

void append_datadog_tags(std::string& out, const TagList& tags) {
  bool first = true;
  for (const auto& [key, value] : tags) {
    if (!starts_with(key, kPropagatedPrefix) || !valid_tag_key(key) || !valid_tag_value(value)) {
      continue;
    }
    if (!first) out.push_back(',');
    first = false;
    out += key;
    out.push_back('=');
    out += value;
  }
}

std::string encode_datadog_tags(const TagList& tags) {
  std::string out;
  append_datadog_tags(out, tags);
  return out;
}

// ---- Datadog style ----

ExtractionResult extract_datadog(const HeaderReader& headers, std::size_t tags_header_max_size) {
  ExtractionResult result;
  const auto trace_id_text = headers("x-datadog-trace-id");
  if (!trace_id_text) return result;
  const auto trace_id = parse_decimal_u64(*trace_id_text);
  if (!trace_id || *trace_id == 0) return result;

  ExtractedContext ctx;
  ctx.style = PropagationStyle::datadog;
  ctx.trace_id.low = *trace_id;

  if (const auto origin = headers("x-datadog-origin")) ctx.origin = sanitize_origin(trim(*origin));

  const auto parent_text = headers("x-datadog-parent-id");
  if (parent_text) {
    const auto parent = parse_decimal_u64(*parent_text);
    if (!parent) return result;
    ctx.parent_id = *parent;
  }
  // A parent is required, except from synthetic callers (an origin and no parent span).
  if (ctx.parent_id == 0 && !ctx.origin) return result;

  if (const auto priority_text = headers("x-datadog-sampling-priority")) {
    const auto priority = parse_decimal_i64(*priority_text);
    if (!priority || *priority < std::numeric_limits<int>::min() ||
        *priority > std::numeric_limits<int>::max()) {
      return result;
    }
    ctx.sampling_priority = static_cast<int>(*priority);
  }

  if (const auto tags_text = headers("x-datadog-tags")) {
    if (tags_text->size() > tags_header_max_size) {
      set_tag(result.span_tags, kPropagationError, "extract_max_size");
    } else if (auto decoded = decode_datadog_tags(*tags_text); !decoded) {
      set_tag(result.span_tags, kPropagationError, "decoding_error");
    } else {
      for (auto& [key, value] : *decoded) {
        if (!starts_with(key, kPropagatedPrefix)) continue;
        if (key == kTraceIdHighTag) {
          const auto high = value.size() == 16 ? parse_lower_hex_u64(value) : std::nullopt;
          if (!high) {
            set_tag(result.span_tags, kPropagationError, "malformed_tid " + value);
            continue;
          }
          ctx.trace_id.high = *high;
        }
        set_tag(ctx.trace_tags, key, std::move(value));
      }
    }
  }
  result.context = std::move(ctx);
  return result;
}

// ---- W3C trace context ----

namespace {

// Parses `traceparent`; returns an error tag value on failure.
std::optional<std::string> parse_traceparent(std::string_view text, ExtractedContext& ctx) {
  text = trim(text);
  // version "-" 32 hex "-" 16 hex "-" 2 hex = 55 characters.
  if (text.size() < 55 || text[2] != '-' || text[35] != '-' || text[52] != '-') {
    return "malformed_traceparent";
  }
  const auto version = parse_lower_hex_u64(text.substr(0, 2));
  const auto high = parse_lower_hex_u64(text.substr(3, 16));
  const auto low = parse_lower_hex_u64(text.substr(19, 16));
  const auto parent = parse_lower_hex_u64(text.substr(36, 16));
  const auto flags = parse_lower_hex_u64(text.substr(53, 2));
  if (!version || !high || !low || !parent || !flags) return "malformed_traceparent";
  if (*version == 0xff) return "invalid_version";
  // Version 00 has exactly four fields; later versions may append "-..." fields.
  if (text.size() > 55 && (*version == 0 || text[55] != '-')) return "malformed_traceparent";
  ctx.trace_id = TraceId{*high, *low};
  if (ctx.trace_id.is_zero()) return "trace_id_zero";
  if (*parent == 0) return "parent_id_zero";
  ctx.parent_id = *parent;
  ctx.sampling_priority = static_cast<int>(*flags & 1);
  return std::nullopt;
}

void parse_datadog_member(std::string_view value, ExtractedContext& ctx) {
  std::string unknown;
  for_each_piece(value, ';', [&](std::string_view field) {
    const auto colon = field.find(':');
    if (field.empty() || colon == std::string_view::npos) return true;
    const auto key = field.substr(0, colon);
    const auto val = field.substr(colon + 1);
    if (key == "s") {
      const auto priority = parse_decimal_i64(val);
      if (!priority || *priority < -1000000 || *priority > 1000000) return true;
      const int p = static_cast<int>(*priority);
      // traceparent's sampled flag wins when the two disagree on keep versus drop.
      if (!ctx.sampling_priority || (*ctx.sampling_priority > 0) == (p > 0)) ctx.sampling_priority = p;
    } else if (key == "o") {
      std::string origin(val);
      std::replace(origin.begin(), origin.end(), '~', '=');
      ctx.origin = sanitize_origin(origin);
    } else if (key == "p") {
      if (val.size() == 16 && parse_lower_hex_u64(val)) ctx.datadog_w3c_parent_id = std::string(val);
    } else if (starts_with(key, "t.") && key.size() > 2) {
      std::string tag(kPropagatedPrefix);
      tag += key.substr(2);
      std::string decoded(val);
      std::replace(decoded.begin(), decoded.end(), '~', '=');
      // The high bits come from traceparent, never from tracestate.
      if (tag != kTraceIdHighTag && valid_tag_key(tag) && valid_tag_value(decoded)) {
        set_tag(ctx.trace_tags, tag, std::move(decoded));
      }
    } else {
      if (!unknown.empty()) unknown.push_back(';');
      unknown += field;
    }
    return true;
  });
  ctx.additional_datadog_tracestate = std::move(unknown);
}

void parse_tracestate(std::string_view text, ExtractedContext& ctx) {
  text = trim(text);
  if (text.empty() || text.size() > kMaxTracestateSize || !all_printable(text)) return;
  std::string others;
  std::size_t other_count = 0;
  bool seen_dd = false;
  for_each_piece(text, ',', [&](std::string_view member) {
    member = trim(member);
    const auto eq = member.find('=');
    if (member.empty() || eq == std::string_view::npos || eq == 0) return true;
    if (member.substr(0, eq) == "dd") {
      if (!seen_dd) parse_datadog_member(member.substr(eq + 1), ctx);
      seen_dd = true;
      return true;
    }
    // Leave room for our own member: W3C allows 32 in all.
    if (other_count + 1 >= kMaxTracestateMembers) return false;
    if (!others.empty()) others.push_back(',');
    others += member;
    ++other_count;
    return true;
  });
  ctx.additional_w3c_tracestate = std::move(others);
}

}  // namespace

ExtractionResult extract_tracecontext(const HeaderReader& headers) {
  ExtractionResult result;
  const auto traceparent = headers("traceparent");
  if (!traceparent) return result;
  ExtractedContext ctx;
  ctx.style = PropagationStyle::tracecontext;
  if (auto error = parse_traceparent(*traceparent, ctx)) {
    set_tag(result.span_tags, kW3cExtractionError, std::move(*error));
    return result;
  }
  if (const auto tracestate = headers("tracestate")) parse_tracestate(*tracestate, ctx);
  if (ctx.trace_id.high != 0) set_tag(ctx.trace_tags, kTraceIdHighTag, hex16(ctx.trace_id.high));
  result.context = std::move(ctx);
  return result;
}

ExtractionResult extract_context(const HeaderReader& headers,
                                 const std::vector<PropagationStyle>& styles,
                                 std::size_t tags_header_max_size) {
  ExtractionResult chosen;
  std::optional<ExtractedContext> w3c;
  TagList diagnostics;
  for (const auto style : styles) {
    ExtractionResult r = style == PropagationStyle::datadog ? extract_datadog(headers, tags_header_max_size)
                                                            : extract_tracecontext(headers);
    for (auto& [k, v] : r.span_tags) set_tag(diagnostics, k, std::move(v));
    if (!r.context) continue;
    if (style == PropagationStyle::tracecontext) w3c = r.context;
    if (!chosen.context) chosen.context = std::move(r.context);
  }
  chosen.span_tags = std::move(diagnostics);
  auto& ctx = chosen.context;
  if (ctx && w3c && ctx->style == PropagationStyle::datadog && ctx->trace_id.low == w3c->trace_id.low &&
      (ctx->trace_id.high == 0 || ctx->trace_id.high == w3c->trace_id.high)) {
    // Same trace seen through both styles: keep what only W3C carries.
    if (ctx->trace_id.high == 0 && w3c->trace_id.high != 0) {
      ctx->trace_id.high = w3c->trace_id.high;
      set_tag(ctx->trace_tags, kTraceIdHighTag, hex16(w3c->trace_id.high));
    }
    ctx->additional_w3c_tracestate = std::move(w3c->additional_w3c_tracestate);
  }
  if (ctx && ctx->trace_id.high == 0) erase_tag(ctx->trace_tags, kTraceIdHighTag);
  return chosen;
}

// ---- injection ----

void append_traceparent(std::string& out, const TraceId& trace_id, std::uint64_t span_id, int sampling_priority) {
  // "00-" 32 hex "-" 16 hex "-0x": formatted on the stack, appended once.
  char buf[55];
  std::memcpy(buf, "00-", 3);
  write_hex16(buf + 3, trace_id.high);
  write_hex16(buf + 19, trace_id.low);
  buf[35] = '-';
  write_hex16(buf + 36, span_id);
  std::memcpy(buf + 52, sampling_priority > 0 ? "-01" : "-00", 3);
  out.append(buf, sizeof(buf));
}

std::string encode_traceparent(const TraceId& trace_id, std::uint64_t span_id, int sampling_priority) {
  std::string out;
  append_traceparent(out, trace_id, span_id, sampling_priority);
  return out;
}

void append_tracestate(std::string& out, const InjectionContext& context) {
  const std::size_t begin = out.size();
  {
    // "dd=s:<priority>;p:<16 hex>", appended once.
    char buf[5 + 12 + 3 + 16];
    char* p = buf;
    std::memcpy(p, "dd=s:", 5);
    p += 5;
    p = write_decimal(p, context.sampling_priority);
    std::memcpy(p, ";p:", 3);
    p += 3;
    write_hex16(p, context.span_id);
    p += 16;
    out.append(buf, static_cast<std::size_t>(p - buf));
  }
  if (!context.origin.empty()) {
    out += ";o:";
    append_tracestate_field(out, context.origin, ",;~");
  }
  if (context.trace_tags != nullptr) {
    for (const auto& [key, value] : *context.trace_tags) {
      if (!starts_with(key, kPropagatedPrefix) || key == kTraceIdHighTag) continue;
      out += ";t.";
      append_tracestate_field(out, std::string_view(key).substr(kPropagatedPrefix.size()), " ,;=~");
      out.push_back(':');
      append_tracestate_field(out, value, ",;~");
    }
  }
  if (!context.additional_datadog_tracestate.empty()) {
    out.push_back(';');
    out += context.additional_datadog_tracestate;
  }
  // Our member is limited to 256 characters: drop whole fields from the end.
  while (out.size() - begin > kMaxDatadogTracestateSize) {
    const auto last = out.rfind(';');
    out.resize(last);  // "dd=s:<int>;p:<16 hex>" alone is far below the limit
  }
  if (!context.additional_w3c_tracestate.empty()) {
    out.push_back(',');
    out += context.additional_w3c_tracestate;
  }
}

std::string encode_tracestate(const InjectionContext& context) {
  std::string out;
  append_tracestate(out, context);
  return out;
}

std::string& EncodedInjection::add(std::string_view name) {
  if (count == headers.size()) headers.emplace_back();
  Header& h = headers[count++];
  h.name = name;
  h.value.clear();
  return h.value;
}

void encode_injection(const InjectionContext& context, const std::vector<PropagationStyle>& styles,
                      std::size_t tags_header_max_size, EncodedInjection& out) {
  out.count = 0;
  out.datadog_tags_fit = true;
  for (const auto style : styles) {
    if (style == PropagationStyle::datadog) {
      append_decimal(out.add("x-datadog-trace-id"), context.trace_id.low);
      append_decimal(out.add("x-datadog-parent-id"), context.span_id);
      append_decimal(out.add("x-datadog-sampling-priority"), context.sampling_priority);
      if (!context.origin.empty()) out.add("x-datadog-origin").assign(context.origin.data(), context.origin.size());
      if (context.trace_tags != nullptr) {
        std::string& tags = out.add("x-datadog-tags");
        append_datadog_tags(tags, *context.trace_tags);
        if (tags.size() > tags_header_max_size) {
          out.datadog_tags_fit = false;
          --out.count;
        } else if (tags.empty()) {
          --out.count;
        }
      }
    } else {
      append_traceparent(out.add("traceparent"), context.trace_id, context.span_id, context.sampling_priority);
      append_tracestate(out.add("tracestate"), context);
    }
  }
}

void write_injection(const EncodedInjection& encoded, const HeaderWriter& writer) {
  for (std::size_t i = 0; i < encoded.count; ++i) writer(encoded.headers[i].name, encoded.headers[i].value);
}

bool inject_context(const InjectionContext& context, const std::vector<PropagationStyle>& styles,
                    std::size_t tags_header_max_size, const HeaderWriter& writer) {
  EncodedInjection encoded;
  encoded.headers.reserve(7);  // both styles with an origin
  encode_injection(context, styles, tags_header_max_size, encoded);
  write_injection(encoded, writer);
  return encoded.datadog_tags_fit;
}

}  // namespace tokenizer
