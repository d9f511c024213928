// Propagation: reading a caller's trace context from incoming request headers and writing
// ours into outgoing ones, in the Datadog (`x-datadog-*`) and W3C (`traceparent`,
// `tracestate`) styles, as dd-trace-cpp does.
//
// - Extraction tries every configured style; the first one (in configured order) that
//   yields a trace id wins. When the W3C context carries the same trace id, its other
//   vendors' `tracestate` members are kept so they can be passed on.
// - Parsers see hostile input (they are fuzzed): they never throw, never read out of
//   bounds, and reject version `ff`, all-zero ids, bad hex or decimal, overlong values
//   and control characters. A rejected style simply yields no context; diagnostics go to
//   `span_tags` (e.g. `_dd.propagation_error`) for the local root span.
// - Headers are read through a lookup function (lower-case names) and written through a
//   setter, so the HTTP layer can adapt Pistache's headers and the vault client its
//   HttpRequest without this component knowing either.
//
// Free functions over caller-owned data: thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/expected.h"
#include "telemetry/span_data.h"

namespace tokenizer {

// Looks up a request header by its lower-case name.
using HeaderReader = std::function<std::optional<std::string_view>(std::string_view lowercase_name)>;
// Sets an outgoing request header (names are lower-case).
using HeaderWriter = std::function<void(std::string_view name, std::string_view value)>;

using TagList = std::vector<std::pair<std::string, std::string>>;

enum class PropagationStyle { datadog, tracecontext };

const char* propagation_style_name(PropagationStyle style);

// "datadog,tracecontext" (comma and/or space separated, case-insensitive; "w3c" is an
// alias of "tracecontext"; "none" alone means no style). Unknown or repeated names are errors.
Expected<std::vector<PropagationStyle>> parse_propagation_styles(std::string_view text);

inline constexpr std::size_t kDefaultTagsHeaderMaxSize = 512;

struct ExtractedContext {
  PropagationStyle style = PropagationStyle::datadog;
  TraceId trace_id;
  std::uint64_t parent_id = 0;
  std::optional<int> sampling_priority;
  std::optional<std::string> origin;
  // Propagated trace tags (`_dd.p.*`), including `_dd.p.tid` when the high 64 bits are known.
  TagList trace_tags;
  // W3C only: the `p:` member of `dd=` (the last Datadog span seen upstream), 16 hex digits.
  std::optional<std::string> datadog_w3c_parent_id;
  // W3C only: unknown members of our `dd=` entry, and other vendors' entries, as received.
  std::string additional_datadog_tracestate;
  std::string additional_w3c_tracestate;
};

struct ExtractionResult {
  std::optional<ExtractedContext> context;
  TagList span_tags;  // diagnostics for the local root span
};

// Every style in `styles`; the first that yields a trace id wins.
ExtractionResult extract_context(const HeaderReader& headers,
                                 const std::vector<PropagationStyle>& styles,
                                 std::size_t tags_header_max_size = kDefaultTagsHeaderMaxSize);

// One style (exposed for tests and fuzzers).
ExtractionResult extract_datadog(const HeaderReader& headers,
                                 std::size_t tags_header_max_size = kDefaultTagsHeaderMaxSize);
ExtractionResult extract_tracecontext(const HeaderReader& headers);

struct InjectionContext {
  TraceId trace_id;
  std::uint64_t span_id = 0;  // becomes the callee's parent id
  int sampling_priority = 1;
  std::string_view origin;  // empty: none
  const TagList* trace_tags = nullptr;
  std::string_view additional_datadog_tracestate;
  std::string_view additional_w3c_tracestate;
};

// Writes the headers of every style in `styles`. Returns false when `x-datadog-tags` was
// left out because it exceeded `tags_header_max_size` (the caller then tags its local root
// `_dd.propagation_error: inject_max_size`).
bool inject_context(const InjectionContext& context, const std::vector<PropagationStyle>& styles,
                    std::size_t tags_header_max_size, const HeaderWriter& writer);

// inject_context() in two steps, so a caller can encode while it holds the lock guarding the
// context's strings and call the writer after releasing it. The header values are kept in
// reused buffers: an EncodedInjection that lives on (e.g. one per thread) stops allocating
// after its first use. inject_context() is encode_injection() + write_injection().
struct EncodedInjection {
  struct Header {
    std::string_view name;
    std::string value;
  };
  std::vector<Header> headers;  // in writing order; only the first `count` are current
  std::size_t count = 0;
  bool datadog_tags_fit = true;

  std::string& add(std::string_view name);  // the next header's value buffer, cleared
};
void encode_injection(const InjectionContext& context, const std::vector<PropagationStyle>& styles,
                      std::size_t tags_header_max_size, EncodedInjection& out);
void write_injection(const EncodedInjection& encoded, const HeaderWriter& writer);

// Codecs (exposed for tests and fuzzers).
// `x-datadog-tags`: "k=v,k=v". Any malformed pair fails the whole value.
Expected<TagList> decode_datadog_tags(std::string_view value);
std::string encode_datadog_tags(const TagList& tags);  // only `_dd.p.*` entries
std::string encode_traceparent(const TraceId& trace_id, std::uint64_t span_id, int sampling_priority);
std::string encode_tracestate(const InjectionContext& context);
// The same, appended to `out`.
void append_datadog_tags(std::string& out, const TagList& tags);
void append_traceparent(std::string& out, const TraceId& trace_id, std::uint64_t span_id, int sampling_priority);
void append_tracestate(std::string& out, const InjectionContext& context);

// Number parsing shared with the configuration: whole string, no sign for unsigned, no
// overflow, optional surrounding spaces/tabs.
std::optional<std::uint64_t> parse_decimal_u64(std::string_view text);
std::optional<std::int64_t> parse_decimal_i64(std::string_view text);
// Exactly `text.size()` lower-case hex digits (1..16).
std::optional<std::uint64_t> parse_lower_hex_u64(std::string_view text);

}  // namespace tokenizer
