// fuzz_trace_context: trace-context extraction from incoming headers
// (telemetry/propagation.h): `traceparent`, `tracestate` and the `x-datadog-*` headers,
// plus the codecs and number parsers they use.
//
// Input: "name: value" lines (seeds: corpus/trace_context/); names are lowercased, the
// last occurrence of a name wins, one space after the colon is dropped, the rest of the
// value (tabs, spaces, CR) is kept as sent.
// Checks, for every order of styles and two x-datadog-tags size limits:
// - an extracted context has a non-zero trace id and (W3C) a non-zero parent; an origin is
//   1-256 printable characters; trace tags are valid `_dd.p.*` pairs; `_dd.p.tid` is there
//   exactly when the high 64 bits are known and spells them; diagnostics are printable;
// - what we extracted survives our own injection: injecting it and extracting again gives
//   the same trace id, parent and sampling decision (and, Datadog style, origin and tags);
// - the decimal and hex parsers agree with a straightforward reference implementation.
#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_support.h"
#include "telemetry/propagation.h"

namespace tokenizer {
namespace {

using Headers = std::map<std::string, std::string, std::less<>>;

HeaderReader reader_of(const Headers& headers) {
  return [&headers](std::string_view name) -> std::optional<std::string_view> {
    const auto it = headers.find(name);
    if (it == headers.end()) return std::nullopt;
    return std::string_view(it->second);
  };
}

Headers parse_headers(std::string_view input) {
  Headers headers;
  for (std::string_view line : fuzz::split_lines(input)) {
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string name(line.substr(0, colon));
    for (char& c : name) {
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    std::string_view value = line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    headers[name] = std::string(value);
  }
  return headers;
}

bool is_lower_hex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

void check_context(const ExtractionResult& result, bool merged) {
  for (const auto& [key, value] : result.span_tags) {
    FUZZ_CHECK(fuzz::is_printable_ascii(key) && fuzz::is_printable_ascii(value),
               "diagnostic tags are printable");
  }
  if (!result.context) return;
  const ExtractedContext& ctx = *result.context;
  FUZZ_CHECK(!ctx.trace_id.is_zero(), "a context has a trace id");
  if (ctx.style == PropagationStyle::tracecontext) {
    FUZZ_CHECK(ctx.parent_id != 0, "a W3C context has a parent");
  } else {
    FUZZ_CHECK(ctx.parent_id != 0 || ctx.origin, "a parent, or a synthetic origin");
  }
  if (ctx.origin) {
    FUZZ_CHECK(!ctx.origin->empty() && ctx.origin->size() <= 256 &&
                   fuzz::is_printable_ascii(*ctx.origin),
               "origin is 1-256 printable characters");
  }
  std::optional<std::string> tid;
  for (const auto& [key, value] : ctx.trace_tags) {
    FUZZ_CHECK(key.rfind("_dd.p.", 0) == 0, "only propagated _dd.p.* tags");
    FUZZ_CHECK(fuzz::is_printable_ascii(key) && key.find_first_of("=, ") == std::string::npos,
               "tag key is a valid key");
    FUZZ_CHECK(fuzz::is_printable_ascii(value) && value.find(',') == std::string::npos,
               "tag value is a valid value");
    if (key == "_dd.p.tid") tid = value;
  }
  if (merged) {
    FUZZ_CHECK(tid.has_value() == (ctx.trace_id.high != 0), "_dd.p.tid iff high bits known");
    if (tid) FUZZ_CHECK(*tid == hex16(ctx.trace_id.high), "_dd.p.tid spells the high bits");
  }
  if (ctx.datadog_w3c_parent_id) {
    FUZZ_CHECK(ctx.datadog_w3c_parent_id->size() == 16 && is_lower_hex(*ctx.datadog_w3c_parent_id),
               "dd p: is 16 lower-case hex digits");
  }
  FUZZ_CHECK(ctx.additional_w3c_tracestate.size() <= 2048 &&
                 fuzz::is_printable_ascii(ctx.additional_w3c_tracestate),
             "other vendors' tracestate is bounded and printable");
  FUZZ_CHECK(fuzz::is_printable_ascii(ctx.additional_datadog_tracestate),
             "unknown dd= fields are printable");
}

// Injects `ctx` in `style` and extracts it again with the same style.
void check_round_trip(const ExtractedContext& ctx, PropagationStyle style) {
  InjectionContext inject;
  inject.trace_id = ctx.trace_id;
  inject.span_id = ctx.parent_id;
  inject.sampling_priority = ctx.sampling_priority.value_or(1);
  if (ctx.origin) inject.origin = *ctx.origin;
  inject.trace_tags = &ctx.trace_tags;
  inject.additional_datadog_tracestate = ctx.additional_datadog_tracestate;
  inject.additional_w3c_tracestate = ctx.additional_w3c_tracestate;

  Headers out;
  const bool fit = inject_context(inject, {style}, kDefaultTagsHeaderMaxSize,
                                  [&out](std::string_view name, std::string_view value) {
                                    out[std::string(name)] = std::string(value);
                                  });
  for (const auto& [name, value] : out) {
    FUZZ_CHECK(fuzz::is_printable_ascii(value), "injected headers are printable");
  }
  const ExtractionResult again = extract_context(reader_of(out), {style});
  if (style == PropagationStyle::datadog && ctx.parent_id == 0 && !ctx.origin) return;
  FUZZ_CHECK(again.context.has_value(), "an injected context can be extracted again");
  const ExtractedContext& b = *again.context;
  FUZZ_CHECK(b.parent_id == ctx.parent_id, "parent survives injection");
  const int priority = inject.sampling_priority;
  if (style == PropagationStyle::datadog) {
    FUZZ_CHECK(b.trace_id.low == ctx.trace_id.low, "trace id low survives injection");
    FUZZ_CHECK(b.sampling_priority == priority, "priority survives Datadog injection");
    FUZZ_CHECK(b.origin == ctx.origin, "origin survives Datadog injection");
    if (fit) {
      FUZZ_CHECK(b.trace_id.high == ctx.trace_id.high, "trace id high survives injection");
      FUZZ_CHECK(b.trace_tags == ctx.trace_tags, "trace tags survive Datadog injection");
    }
  } else {
    FUZZ_CHECK(b.trace_id == ctx.trace_id, "trace id survives W3C injection");
    FUZZ_CHECK(b.sampling_priority && (*b.sampling_priority > 0) == (priority > 0),
               "sampling decision survives W3C injection");
    const auto dd = out["tracestate"].substr(0, out["tracestate"].find(','));
    FUZZ_CHECK(dd.size() <= 256, "our tracestate member is at most 256 characters");
  }
}

// Reference decimal parser: optional spaces/tabs around, 1-20 digits (longer is overlong,
// even with leading zeros), no overflow.
std::optional<std::uint64_t> reference_u64(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  if (s.empty() || s.size() > 20) return std::nullopt;
  unsigned __int128 v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<unsigned>(c - '0');
    if (v > std::numeric_limits<std::uint64_t>::max()) return std::nullopt;
  }
  return static_cast<std::uint64_t>(v);
}

void check_codecs(std::string_view value) {
  const auto u = parse_decimal_u64(value);
  FUZZ_CHECK(u == reference_u64(value), "parse_decimal_u64 agrees with the reference");
  if (const auto i = parse_decimal_i64(value)) {
    std::string_view s = value;
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    const bool negative = !s.empty() && s.front() == '-';
    FUZZ_CHECK((*i < 0) == (negative && *i != 0), "parse_decimal_i64 keeps the sign");
  }
  if (const auto h = parse_lower_hex_u64(value)) {
    FUZZ_CHECK(value.size() <= 16 && is_lower_hex(value), "hex is 1-16 lower-case digits");
    FUZZ_CHECK(hex16(*h).substr(16 - value.size()) == value, "hex round-trips");
  }
  if (const auto tags = decode_datadog_tags(value)) {
    TagList propagated;
    for (const auto& kv : *tags) {
      if (kv.first.rfind("_dd.p.", 0) == 0) propagated.push_back(kv);
    }
    const auto again = decode_datadog_tags(encode_datadog_tags(*tags));
    FUZZ_CHECK(again && *again == propagated, "x-datadog-tags round-trip");
  }
}

}  // namespace
}  // namespace tokenizer

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tokenizer;  // NOLINT: a fuzz entry point
  const Headers headers = parse_headers(std::string_view(reinterpret_cast<const char*>(data), size));
  const HeaderReader read = reader_of(headers);

  const std::vector<std::vector<PropagationStyle>> orders = {
      {PropagationStyle::datadog, PropagationStyle::tracecontext},
      {PropagationStyle::tracecontext, PropagationStyle::datadog},
      {PropagationStyle::datadog},
      {PropagationStyle::tracecontext},
      {}};
  for (const auto& styles : orders) {
    for (const std::size_t max_tags : {kDefaultTagsHeaderMaxSize, std::size_t{16}}) {
      const ExtractionResult r = extract_context(read, styles, max_tags);
      check_context(r, /*merged=*/true);
      if (styles.empty()) FUZZ_CHECK(!r.context, "no style, no context");
      if (r.context && max_tags == kDefaultTagsHeaderMaxSize && styles.size() == 1) {
        check_round_trip(*r.context, styles.front());
      }
    }
  }
  check_context(extract_datadog(read), /*merged=*/false);
  check_context(extract_tracecontext(read), /*merged=*/false);
  for (const auto& [name, value] : headers) check_codecs(value);
  return 0;
}
