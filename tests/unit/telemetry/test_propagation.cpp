// Propagation: extraction tables for the Datadog and W3C styles (including hostile input),
// injection, and round trips.
#include <gtest/gtest.h>

#include <limits>

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "telemetry/propagation.h"

namespace tokenizer {
namespace {

using Headers = std::map<std::string, std::string>;

HeaderReader reader(const Headers& h) {
  return [&h](std::string_view name) -> std::optional<std::string_view> {
    const auto it = h.find(std::string(name));
    if (it == h.end()) return std::nullopt;
    return std::string_view(it->second);
  };
}

std::optional<std::string> tag(const TagList& tags, const std::string& key) {
  for (const auto& [k, v] : tags) {
    if (k == key) return v;
  }
  return std::nullopt;
}

const std::vector<PropagationStyle> kBoth{PropagationStyle::datadog, PropagationStyle::tracecontext};

// ---- Datadog style ----

TEST(PropagationDatadog, ExtractsAllFields) {
  const Headers h{{"x-datadog-trace-id", "1234567890123456789"},
                  {"x-datadog-parent-id", "987654321"},
                  {"x-datadog-sampling-priority", "2"},
                  {"x-datadog-origin", "synthetics"},
                  {"x-datadog-tags", "_dd.p.dm=-4,_dd.p.tid=66a1b2c300000000,other=x"}};
  const auto r = extract_datadog(reader(h));
  ASSERT_TRUE(r.context);
  EXPECT_EQ(r.context->trace_id.low, 1234567890123456789ULL);
  EXPECT_EQ(r.context->trace_id.high, 0x66a1b2c300000000ULL);
  EXPECT_EQ(r.context->parent_id, 987654321u);
  EXPECT_EQ(r.context->sampling_priority, 2);
  EXPECT_EQ(r.context->origin, "synthetics");
  EXPECT_EQ(tag(r.context->trace_tags, "_dd.p.dm"), "-4");
  EXPECT_EQ(tag(r.context->trace_tags, "_dd.p.tid"), "66a1b2c300000000");
  EXPECT_EQ(tag(r.context->trace_tags, "other"), std::nullopt);  // only _dd.p.* propagate
  EXPECT_TRUE(r.span_tags.empty());
}

TEST(PropagationDatadog, PriorityIsOptional) {
  const Headers h{{"x-datadog-trace-id", "1"}, {"x-datadog-parent-id", "2"}};
  const auto r = extract_datadog(reader(h));
  ASSERT_TRUE(r.context);
  EXPECT_FALSE(r.context->sampling_priority);
  EXPECT_EQ(r.context->sampling_priority.value_or(-99), -99);
}

TEST(PropagationDatadog, RejectsMalformedIds) {
  const std::vector<Headers> bad = {
      {{"x-datadog-trace-id", "0"}, {"x-datadog-parent-id", "2"}},
      {{"x-datadog-trace-id", "abc"}, {"x-datadog-parent-id", "2"}},
      {{"x-datadog-trace-id", "-5"}, {"x-datadog-parent-id", "2"}},
      {{"x-datadog-trace-id", "18446744073709551616"}, {"x-datadog-parent-id", "2"}},  // 2^64
      {{"x-datadog-trace-id", "1 2"}, {"x-datadog-parent-id", "2"}},
      {{"x-datadog-trace-id", ""}, {"x-datadog-parent-id", "2"}},
      {{"x-datadog-trace-id", "1"}, {"x-datadog-parent-id", "0x10"}},
      {{"x-datadog-trace-id", "1"}},                                 // no parent, no origin
      {{"x-datadog-trace-id", "1"}, {"x-datadog-parent-id", "0"}},
      {{"x-datadog-trace-id", "1"}, {"x-datadog-parent-id", "2"}, {"x-datadog-sampling-priority", "high"}},
      {{"x-datadog-trace-id", "1"}, {"x-datadog-parent-id", "2"}, {"x-datadog-sampling-priority", "99999999999"}},
      {{"x-datadog-trace-id", std::string(5000, '9')}, {"x-datadog-parent-id", "2"}},
  };
  for (const auto& h : bad) {
    EXPECT_FALSE(extract_datadog(reader(h)).context) << h.begin()->second.substr(0, 30);
  }
}

TEST(PropagationDatadog, AcceptsEdgeValues) {
  const Headers h{{"x-datadog-trace-id", " 18446744073709551615 "},
                  {"x-datadog-parent-id", "1"},
                  {"x-datadog-sampling-priority", "-1"}};
  const auto r = extract_datadog(reader(h));
  ASSERT_TRUE(r.context);
  EXPECT_EQ(r.context->trace_id.low, 18446744073709551615ULL);
  EXPECT_EQ(r.context->sampling_priority, -1);
  // Synthetics: an origin and no parent.
  const Headers s{{"x-datadog-trace-id", "7"}, {"x-datadog-origin", "synthetics"}};
  ASSERT_TRUE(extract_datadog(reader(s)).context);
}

TEST(PropagationDatadog, OversizedOrMalformedTagsAreDroppedWithADiagnostic) {
  Headers h{{"x-datadog-trace-id", "1"}, {"x-datadog-parent-id", "2"}};
  h["x-datadog-tags"] = "_dd.p.dm=-1," + std::string(600, 'a') + "=b";
  auto r = extract_datadog(reader(h));
  ASSERT_TRUE(r.context);
  EXPECT_TRUE(r.context->trace_tags.empty());
  EXPECT_EQ(tag(r.span_tags, "_dd.propagation_error"), "extract_max_size");

  for (const std::string bad : {"_dd.p.dm", "=x", "_dd.p.dm=-1,,", "_dd.p.a=\x01", "_dd.p.a b=1"}) {
    h["x-datadog-tags"] = bad;
    r = extract_datadog(reader(h));
    ASSERT_TRUE(r.context) << bad;
    EXPECT_TRUE(r.context->trace_tags.empty()) << bad;
    EXPECT_EQ(tag(r.span_tags, "_dd.propagation_error"), "decoding_error") << bad;
  }

  h["x-datadog-tags"] = "_dd.p.tid=XYZ,_dd.p.dm=-1";
  r = extract_datadog(reader(h));
  ASSERT_TRUE(r.context);
  EXPECT_EQ(r.context->trace_id.high, 0u);
  EXPECT_EQ(tag(r.context->trace_tags, "_dd.p.dm"), "-1");
  EXPECT_EQ(tag(r.context->trace_tags, "_dd.p.tid"), std::nullopt);
  EXPECT_EQ(tag(r.span_tags, "_dd.propagation_error"), "malformed_tid XYZ");
}

TEST(PropagationDatadog, ControlCharactersInOriginAreNotKept) {
  const Headers h{{"x-datadog-trace-id", "1"}, {"x-datadog-parent-id", "2"}, {"x-datadog-origin", "a\r\nb"}};
  const auto r = extract_datadog(reader(h));
  ASSERT_TRUE(r.context);
  EXPECT_FALSE(r.context->origin);
}

// ---- W3C style ----

constexpr const char* kTraceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

TEST(PropagationW3c, ExtractsTraceparentAndDatadogTracestate) {
  const Headers h{{"traceparent", kTraceparent},
                  {"tracestate", "rojo=00f067aa0ba902b7, dd=s:2;o:rum;p:00f067aa0ba902b7;t.dm:-4;t.usr.id:baz~~;x:y ,congo=t61rcWkgMzE"}};
  const auto r = extract_tracecontext(reader(h));
  ASSERT_TRUE(r.context);
  const auto& c = *r.context;
  EXPECT_EQ(c.trace_id.high, 0x4bf92f3577b34da6ULL);
  EXPECT_EQ(c.trace_id.low, 0xa3ce929d0e0e4736ULL);
  EXPECT_EQ(c.parent_id, 0x00f067aa0ba902b7ULL);
  EXPECT_EQ(c.sampling_priority, 2);
  EXPECT_EQ(c.origin, "rum");
  EXPECT_EQ(c.datadog_w3c_parent_id, "00f067aa0ba902b7");
  EXPECT_EQ(tag(c.trace_tags, "_dd.p.dm"), "-4");
  EXPECT_EQ(tag(c.trace_tags, "_dd.p.usr.id"), "baz==");
  EXPECT_EQ(tag(c.trace_tags, "_dd.p.tid"), "4bf92f3577b34da6");
  EXPECT_EQ(c.additional_datadog_tracestate, "x:y");
  EXPECT_EQ(c.additional_w3c_tracestate, "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE");
}

TEST(PropagationW3c, SampledFlagAndDatadogPriorityAreReconciled) {
  struct Case {
    const char* flags;
    const char* tracestate;
    int expected;
  };
  for (const auto& c : std::vector<Case>{{"01", "", 1},
                                          {"00", "", 0},
                                          {"01", "dd=s:2", 2},
                                          {"00", "dd=s:-1", -1},
                                          {"01", "dd=s:0", 1},    // sampled wins over a drop
                                          {"00", "dd=s:2", 0},    // not sampled wins over a keep
                                          {"03", "dd=s:bad", 1}}) {
    Headers h{{"traceparent", std::string("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-") + c.flags}};
    if (*c.tracestate) h["tracestate"] = c.tracestate;
    const auto r = extract_tracecontext(reader(h));
    ASSERT_TRUE(r.context) << c.flags << " " << c.tracestate;
    EXPECT_EQ(r.context->sampling_priority, c.expected) << c.flags << " " << c.tracestate;
  }
}

TEST(PropagationW3c, RejectsInvalidTraceparent) {
  struct Case {
    std::string value;
    const char* error;
  };
  const std::vector<Case> cases = {
      {"ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "invalid_version"},
      {"00-00000000000000000000000000000000-00f067aa0ba902b7-01", "trace_id_zero"},
      {"00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", "parent_id_zero"},
      {"00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", "malformed_traceparent"},  // upper case
      {"00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01", "malformed_traceparent"},   // short id
      {"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra", "malformed_traceparent"},
      {"00-4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7-01", "malformed_traceparent"},
      {"0x-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "malformed_traceparent"},
      {"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g", "malformed_traceparent"},
      {"", "malformed_traceparent"},
      {std::string(10000, '0'), "malformed_traceparent"},
      {"01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x", "malformed_traceparent"},
  };
  for (const auto& c : cases) {
    const Headers h{{"traceparent", c.value}};
    const auto r = extract_tracecontext(reader(h));
    EXPECT_FALSE(r.context) << c.value.substr(0, 60);
    EXPECT_EQ(tag(r.span_tags, "_dd.w3c_extraction_error"), c.error) << c.value.substr(0, 60);
  }
}

TEST(PropagationW3c, LaterVersionsMayAppendFields) {
  const Headers h{{"traceparent", "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-future"}};
  EXPECT_TRUE(extract_tracecontext(reader(h)).context);
}

TEST(PropagationW3c, HostileTracestateIsIgnoredButTheTraceContinues) {
  for (const std::string& ts : {std::string(5000, 'a'), std::string("dd=s:1\x01"), std::string(",,,=,dd,dd=;;;:")}) {
    const Headers h{{"traceparent", kTraceparent}, {"tracestate", ts}};
    const auto r = extract_tracecontext(reader(h));
    ASSERT_TRUE(r.context);
    EXPECT_EQ(r.context->sampling_priority, 1);
    EXPECT_LE(r.context->additional_w3c_tracestate.size(), 2048u);
  }
  // At most 31 other members are kept (32 with ours).
  std::string many;
  for (int i = 0; i < 40; ++i) many += (i ? "," : "") + std::string("v") + std::to_string(i) + "=x";
  const Headers h{{"traceparent", kTraceparent}, {"tracestate", many}};
  const auto r = extract_tracecontext(reader(h));
  ASSERT_TRUE(r.context);
  EXPECT_EQ(std::count(r.context->additional_w3c_tracestate.begin(), r.context->additional_w3c_tracestate.end(), ','), 30);
}

// ---- combined ----

TEST(PropagationExtract, FirstConfiguredStyleWins) {
  const Headers h{{"x-datadog-trace-id", "11"}, {"x-datadog-parent-id", "22"}, {"traceparent", kTraceparent}};
  auto r = extract_context(reader(h), kBoth);
  ASSERT_TRUE(r.context);
  EXPECT_EQ(r.context->style, PropagationStyle::datadog);
  EXPECT_EQ(r.context->trace_id.low, 11u);

  r = extract_context(reader(h), {PropagationStyle::tracecontext, PropagationStyle::datadog});
  ASSERT_TRUE(r.context);
  EXPECT_EQ(r.context->style, PropagationStyle::tracecontext);
  EXPECT_EQ(r.context->trace_id.low, 0xa3ce929d0e0e4736ULL);

  r = extract_context(reader(h), {});
  EXPECT_FALSE(r.context);
}

TEST(PropagationExtract, FallsBackToTheNextStyleWhenTheFirstIsInvalid) {
  const Headers h{{"x-datadog-trace-id", "garbage"}, {"traceparent", kTraceparent}};
  const auto r = extract_context(reader(h), kBoth);
  ASSERT_TRUE(r.context);
  EXPECT_EQ(r.context->style, PropagationStyle::tracecontext);
}

TEST(PropagationExtract, SameTraceInBothStylesKeepsOtherVendorsAndHighBits) {
  const Headers h{{"x-datadog-trace-id", std::to_string(0xa3ce929d0e0e4736ULL)},
                  {"x-datadog-parent-id", "5"},
                  {"traceparent", kTraceparent},
                  {"tracestate", "dd=s:1,rojo=abc"}};
  const auto r = extract_context(reader(h), kBoth);
  ASSERT_TRUE(r.context);
  EXPECT_EQ(r.context->style, PropagationStyle::datadog);
  EXPECT_EQ(r.context->parent_id, 5u);
  EXPECT_EQ(r.context->trace_id.high, 0x4bf92f3577b34da6ULL);
  EXPECT_EQ(tag(r.context->trace_tags, "_dd.p.tid"), "4bf92f3577b34da6");
  EXPECT_EQ(r.context->additional_w3c_tracestate, "rojo=abc");
}

TEST(PropagationExtract, NoHeadersNoContext) {
  const Headers h;
  EXPECT_FALSE(extract_context(reader(h), kBoth).context);
}

// ---- injection and round trips ----

TEST(PropagationInject, WritesBothStyles) {
  const TagList tags{{"_dd.p.dm", "-1"}, {"_dd.p.tid", "66a1b2c300000000"}, {"local", "not propagated"}};
  InjectionContext ctx;
  ctx.trace_id = {0x66a1b2c300000000ULL, 1234};
  ctx.span_id = 0xabc;
  ctx.sampling_priority = 1;
  ctx.trace_tags = &tags;
  ctx.additional_w3c_tracestate = "rojo=1";
  Headers out;
  EXPECT_TRUE(inject_context(ctx, kBoth, 512, [&](std::string_view k, std::string_view v) {
    out[std::string(k)] = std::string(v);
  }));
  EXPECT_EQ(out["x-datadog-trace-id"], "1234");
  EXPECT_EQ(out["x-datadog-parent-id"], std::to_string(0xabc));
  EXPECT_EQ(out["x-datadog-sampling-priority"], "1");
  EXPECT_EQ(out["x-datadog-tags"], "_dd.p.dm=-1,_dd.p.tid=66a1b2c300000000");
  EXPECT_EQ(out.count("x-datadog-origin"), 0u);
  EXPECT_EQ(out["traceparent"], "00-66a1b2c30000000000000000000004d2-0000000000000abc-01");
  EXPECT_EQ(out["tracestate"], "dd=s:1;p:0000000000000abc;t.dm:-1,rojo=1");
}

TEST(PropagationInject, DroppedTraceIsNotSampledInW3c) {
  InjectionContext ctx;
  ctx.trace_id = {0, 9};
  ctx.span_id = 3;
  ctx.sampling_priority = -1;
  Headers out;
  inject_context(ctx, {PropagationStyle::tracecontext}, 512,
                 [&](std::string_view k, std::string_view v) { out[std::string(k)] = std::string(v); });
  EXPECT_EQ(out.size(), 2u);
  EXPECT_EQ(out["traceparent"], "00-00000000000000000000000000000009-0000000000000003-00");
  EXPECT_EQ(out["tracestate"], "dd=s:-1;p:0000000000000003");
}

TEST(PropagationInject, OversizedTagsAreLeftOutAndReported) {
  TagList tags{{"_dd.p.big", std::string(600, 'x')}};
  InjectionContext ctx;
  ctx.trace_id = {0, 9};
  ctx.span_id = 3;
  ctx.trace_tags = &tags;
  Headers out;
  EXPECT_FALSE(inject_context(ctx, kBoth, 512,
                              [&](std::string_view k, std::string_view v) { out[std::string(k)] = std::string(v); }));
  EXPECT_EQ(out.count("x-datadog-tags"), 0u);
  EXPECT_EQ(out["x-datadog-trace-id"], "9");
  // tracestate's dd member is cut to 256 characters at a field boundary.
  EXPECT_EQ(out["tracestate"], "dd=s:1;p:0000000000000003");
}

TEST(PropagationInject, OriginIsEscapedInTracestate) {
  InjectionContext ctx;
  ctx.trace_id = {0, 9};
  ctx.span_id = 3;
  ctx.origin = "a=b;c,d~e";
  EXPECT_EQ(encode_tracestate(ctx), "dd=s:1;p:0000000000000003;o:a~b_c_d_e");
}

// traceparent and the head of tracestate are formatted on the stack: every digit position,
// both flags, and priorities up to the int limits.
TEST(PropagationInject, StackFormattedHeadersAreExact) {
  EXPECT_EQ(encode_traceparent({0x0123456789abcdefULL, 0xfedcba9876543210ULL}, 0xffffffffffffffffULL, 2),
            "00-0123456789abcdeffedcba9876543210-ffffffffffffffff-01");
  EXPECT_EQ(encode_traceparent({0, 1}, 1, 0), "00-00000000000000000000000000000001-0000000000000001-00");
  std::string appended = "keep:";
  append_traceparent(appended, {0, 1}, 1, -5);
  EXPECT_EQ(appended, "keep:00-00000000000000000000000000000001-0000000000000001-00");
  const std::pair<int, std::string> priorities[] = {{0, "0"},
                                                   {-1, "-1"},
                                                   {10, "10"},
                                                   {std::numeric_limits<int>::max(), "2147483647"},
                                                   {std::numeric_limits<int>::min(), "-2147483648"}};
  for (const auto& [priority, text] : priorities) {
    InjectionContext ctx;
    ctx.trace_id = {0, 9};
    ctx.span_id = 0xabcdef0123456789ULL;
    ctx.sampling_priority = priority;
    EXPECT_EQ(encode_tracestate(ctx), "dd=s:" + text + ";p:abcdef0123456789");
  }
}

TEST(PropagationRoundTrip, InjectedHeadersExtractToTheSameContext) {
  const TagList tags{{"_dd.p.dm", "-3"}, {"_dd.p.tid", "66a1b2c300000000"}};
  for (const auto style : {PropagationStyle::datadog, PropagationStyle::tracecontext}) {
    for (const int priority : {-1, 0, 1, 2}) {
      InjectionContext ctx;
      ctx.trace_id = {0x66a1b2c300000000ULL, 0x1234567890abcdefULL};
      ctx.span_id = 0x7edcba0987654321ULL;
      ctx.sampling_priority = priority;
      ctx.origin = "synthetics";
      ctx.trace_tags = &tags;
      Headers out;
      inject_context(ctx, {style}, 512,
                     [&](std::string_view k, std::string_view v) { out[std::string(k)] = std::string(v); });
      const auto r = extract_context(reader(out), {style});
      ASSERT_TRUE(r.context) << propagation_style_name(style);
      EXPECT_EQ(r.context->trace_id, ctx.trace_id) << propagation_style_name(style);
      EXPECT_EQ(r.context->parent_id, ctx.span_id);
      EXPECT_EQ(r.context->sampling_priority, priority);
      EXPECT_EQ(r.context->origin, "synthetics");
      EXPECT_EQ(tag(r.context->trace_tags, "_dd.p.dm"), "-3");
      EXPECT_EQ(tag(r.context->trace_tags, "_dd.p.tid"), "66a1b2c300000000");
    }
  }
}

TEST(PropagationStyles, Parse) {
  auto s = parse_propagation_styles("datadog,tracecontext");
  ASSERT_TRUE(s);
  EXPECT_EQ(*s, kBoth);
  s = parse_propagation_styles(" TraceContext  Datadog ");
  ASSERT_TRUE(s);
  EXPECT_EQ(*s, (std::vector<PropagationStyle>{PropagationStyle::tracecontext, PropagationStyle::datadog}));
  s = parse_propagation_styles("none");
  ASSERT_TRUE(s);
  EXPECT_TRUE(s->empty());
  for (const char* bad : {"", "b3", "datadog,datadog", "none,datadog", " , "}) {
    EXPECT_FALSE(parse_propagation_styles(bad)) << bad;
  }
}

TEST(PropagationNumbers, DecimalAndHexParsers) {
  EXPECT_EQ(parse_decimal_u64("18446744073709551615"), 18446744073709551615ULL);
  EXPECT_FALSE(parse_decimal_u64("18446744073709551616"));
  EXPECT_FALSE(parse_decimal_u64("+1"));
  EXPECT_EQ(parse_decimal_i64("-9223372036854775808"), INT64_MIN);
  EXPECT_FALSE(parse_decimal_i64("9223372036854775808"));
  EXPECT_FALSE(parse_decimal_i64("- 1"));
  EXPECT_FALSE(parse_decimal_i64("-"));
  EXPECT_EQ(parse_lower_hex_u64("ffffffffffffffff"), ~0ULL);
  EXPECT_FALSE(parse_lower_hex_u64("fffffffffffffffff"));
  EXPECT_FALSE(parse_lower_hex_u64("F"));
  EXPECT_FALSE(parse_lower_hex_u64(""));
}

}  // namespace
}  // namespace tokenizer
