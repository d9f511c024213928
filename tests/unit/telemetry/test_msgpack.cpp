// MsgpackWriter / encode_trace_chunks (exact wire types) and the strict MsgpackReader.
#include <gtest/gtest.h>

#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "telemetry/msgpack_encoder.h"
#include "telemetry/msgpack_reader.h"

namespace tokenizer {
namespace {

std::string bytes(std::initializer_list<int> b) {
  std::string out;
  for (int c : b) out.push_back(static_cast<char>(c));
  return out;
}

SpanData sample_span() {
  SpanData s;
  s.name = "http.request";
  s.service = "tokenizer";
  s.resource = "POST /api/v1/payment_methods/tokenize";
  s.type = "web";
  s.trace_id = {0x66a1b2c300000000ULL, 0x7fffffffffffffffULL};
  s.span_id = 1;  // small values must still be written as uint64
  s.parent_id = 0;
  s.start_ns = 1795428000000000000LL;
  s.duration_ns = 5;
  s.error = true;
  s.meta.set("http.status_code", "201");
  s.meta.set("long", std::string(300, 'x'));  // str16
  s.metrics.set("_sampling_priority_v1", 1.0);  // fits a float32: must still be float64
  s.metrics.set("process_id", 4242);
  s.metrics.set("_dd.agent_psr", 0.5);
  return s;
}

TEST(MsgpackEncoder, SpanFieldsUseTheAgentsWireTypes) {
  const std::string body = encode_trace_chunks({TraceChunk({sample_span()})});
  auto decoded = decode_msgpack(body);
  ASSERT_TRUE(decoded) << decoded.error().message;
  ASSERT_EQ(decoded->type, MsgpackType::array);
  ASSERT_EQ(decoded->items.size(), 1u);
  ASSERT_EQ(decoded->items[0].items.size(), 1u);
  const MsgpackValue& span = decoded->items[0].items[0];
  ASSERT_EQ(span.type, MsgpackType::map);
  EXPECT_EQ(span.entries.size(), 12u);

  struct Expect {
    const char* key;
    MsgpackType type;
  };
  for (const auto& e : std::vector<Expect>{{"trace_id", MsgpackType::uint64},
                                           {"span_id", MsgpackType::uint64},
                                           {"parent_id", MsgpackType::uint64},
                                           {"start", MsgpackType::int64},
                                           {"duration", MsgpackType::int64},
                                           {"error", MsgpackType::int32},
                                           {"name", MsgpackType::str},
                                           {"service", MsgpackType::str},
                                           {"resource", MsgpackType::str},
                                           {"type", MsgpackType::str},
                                           {"meta", MsgpackType::map},
                                           {"metrics", MsgpackType::map}}) {
    const MsgpackValue* v = span.find(e.key);
    ASSERT_NE(v, nullptr) << e.key;
    EXPECT_EQ(v->type, e.type) << e.key << " is " << msgpack_type_name(v->type);
  }
  EXPECT_EQ(span.find("trace_id")->uint_value, 0x7fffffffffffffffULL);  // low 64 bits only
  EXPECT_EQ(span.find("span_id")->uint_value, 1u);
  EXPECT_EQ(span.find("parent_id")->uint_value, 0u);
  EXPECT_EQ(span.find("start")->int_value, 1795428000000000000LL);
  EXPECT_EQ(span.find("duration")->int_value, 5);
  EXPECT_EQ(span.find("error")->int_value, 1);
  EXPECT_EQ(span.find("resource")->bytes, "POST /api/v1/payment_methods/tokenize");

  const MsgpackValue& meta = *span.find("meta");
  ASSERT_NE(meta.find("http.status_code"), nullptr);
  EXPECT_EQ(meta.find("http.status_code")->type, MsgpackType::str);
  EXPECT_EQ(meta.find("http.status_code")->bytes, "201");
  EXPECT_EQ(meta.find("long")->bytes, std::string(300, 'x'));

  const MsgpackValue& metrics = *span.find("metrics");
  ASSERT_EQ(metrics.entries.size(), 3u);
  for (const auto& [k, v] : metrics.entries) {
    EXPECT_EQ(v.type, MsgpackType::float64) << k.bytes << " is " << msgpack_type_name(v.type);
  }
  EXPECT_EQ(metrics.find("_sampling_priority_v1")->float_value, 1.0);
  EXPECT_EQ(metrics.find("process_id")->float_value, 4242.0);
  EXPECT_EQ(metrics.find("_dd.agent_psr")->float_value, 0.5);
}

TEST(MsgpackEncoder, OneChunkPerTrace) {
  SpanData a = sample_span();
  SpanData b = sample_span();
  b.span_id = 2;
  b.parent_id = 1;
  SpanData c = sample_span();
  c.trace_id.low = 99;
  const std::string body = encode_trace_chunks({TraceChunk({a, b}), TraceChunk({c})});
  auto decoded = decode_msgpack(body);
  ASSERT_TRUE(decoded);
  ASSERT_EQ(decoded->items.size(), 2u);
  EXPECT_EQ(decoded->items[0].items.size(), 2u);
  EXPECT_EQ(decoded->items[1].items.size(), 1u);
  EXPECT_EQ(decoded->items[0].items[1].find("parent_id")->uint_value, 1u);
  EXPECT_EQ(decoded->items[1].items[0].find("trace_id")->uint_value, 99u);
}

TEST(MsgpackEncoder, EmptyPayloadIsAnEmptyArray) { EXPECT_EQ(encode_trace_chunks({}), bytes({0x90})); }

// The tracer's SpanDefaults are written into every span map: defaults under the span's own
// tags of the same key, fixed ones over them.
TEST(MsgpackEncoder, ChunkDefaultsAreWrittenIntoEverySpan) {
  auto defaults = std::make_shared<SpanDefaults>();
  defaults->meta = {{"env", "prod"}, {"version", "1.2.3"}, {"team", "payments"}};
  defaults->fixed_meta = {{"language", "cpp"}, {"runtime-id", "rid"}};
  defaults->fixed_metrics = {{"process_id", 42}};
  SpanData plain = sample_span();
  SpanData overriding = sample_span();
  overriding.span_id = 2;
  overriding.meta.set("version", "9.9.9");    // the span's own tag wins over a default
  overriding.meta.set("language", "python");  // a fixed one wins over the span's own
  overriding.metrics.set("process_id", 7);
  const std::string body = encode_trace_chunks({TraceChunk({plain, overriding}, defaults)});
  auto decoded = decode_msgpack(body);
  ASSERT_TRUE(decoded) << decoded.error().message;
  const auto& spans = decoded->items.at(0).items;
  ASSERT_EQ(spans.size(), 2u);
  for (std::size_t i = 0; i < spans.size(); ++i) {
    const MsgpackValue& meta = *spans[i].find("meta");
    const MsgpackValue& metrics = *spans[i].find("metrics");
    std::map<std::string, std::string> m;
    for (const auto& [k, v] : meta.entries) {
      EXPECT_TRUE(m.emplace(k.bytes, v.bytes).second) << "duplicate key " << k.bytes;
    }
    EXPECT_EQ(meta.entries.size(), 7u);  // http.status_code, long, env, version, team, language, runtime-id
    EXPECT_EQ(m["env"], "prod");
    EXPECT_EQ(m["team"], "payments");
    EXPECT_EQ(m["version"], i == 0 ? "1.2.3" : "9.9.9");
    EXPECT_EQ(m["language"], "cpp");
    EXPECT_EQ(m["runtime-id"], "rid");
    EXPECT_EQ(m["http.status_code"], "201");
    ASSERT_EQ(metrics.entries.size(), 3u);
    EXPECT_EQ(metrics.find("process_id")->float_value, 42.0);
    EXPECT_EQ(metrics.find("process_id")->type, MsgpackType::float64);
  }
}

TEST(MsgpackEncoder, ChunksAppendedToABufferMatchTheWholePayload) {
  const std::vector<TraceChunk> chunks = {TraceChunk({sample_span()}), TraceChunk({sample_span(), sample_span()})};
  std::string appended;
  MsgpackWriter w(appended);
  for (const auto& c : chunks) append_trace_chunk(w, c);
  for (std::uint32_t n : {2u, 15u, 16u, 65535u, 65536u}) {
    char header[5];
    const std::size_t size = MsgpackWriter::array_header(n, header);
    std::string expected;
    MsgpackWriter(expected).write_array_header(n);
    EXPECT_EQ(std::string(header, size), expected) << n;
  }
  char header[5];
  const std::size_t size = MsgpackWriter::array_header(2, header);
  EXPECT_EQ(std::string(header, size) + appended, encode_trace_chunks(chunks));
}

// encode_span writes into space sized from an upper bound: long strings (every string
// header size), more than 15 tags (map16) and defaults must all fit (ASan checks the rest).
TEST(MsgpackEncoder, LargeSpansEncodeExactly) {
  SpanData s = sample_span();
  s.resource = std::string(70000, 'r');  // str32
  s.name = std::string(40, 'n');         // str8
  for (int i = 0; i < 40; ++i) s.meta.set("tag." + std::to_string(i), std::string(static_cast<std::size_t>(i) * 10, 'v'));
  for (int i = 0; i < 20; ++i) s.metrics.set("metric." + std::to_string(i), i);
  auto defaults = std::make_shared<SpanDefaults>();
  for (int i = 0; i < 70; ++i) defaults->meta.emplace_back("default." + std::to_string(i), "d");  // past the 64-bit mask
  defaults->meta.emplace_back("tag.3", "not written: the span has its own");
  defaults->fixed_meta = {{"language", "cpp"}};
  defaults->fixed_metrics = {{"process_id", 1}};
  const std::string body = encode_trace_chunks({TraceChunk({s}, defaults)});
  auto decoded = decode_msgpack(body);
  ASSERT_TRUE(decoded) << decoded.error().message;
  const MsgpackValue& span = decoded->items.at(0).items.at(0);
  EXPECT_EQ(span.find("resource")->bytes.size(), 70000u);
  EXPECT_EQ(span.find("name")->bytes.size(), 40u);
  const MsgpackValue& meta = *span.find("meta");
  EXPECT_EQ(meta.entries.size(), 2u + 40u + 70u + 1u);
  EXPECT_EQ(meta.find("tag.3")->bytes, std::string(30, 'v'));
  EXPECT_EQ(meta.find("default.69")->bytes, "d");
  EXPECT_EQ(span.find("metrics")->entries.size(), 3u + 20u);  // sample's 3 (process_id replaced) + 20
}

TEST(SpanMeta, FlatTagsKeepInsertionOrderAndUniqueKeys) {
  SpanMeta meta;
  meta.set("a", "1");
  meta.set("b", "two");
  meta.set("a", "longer value");  // grows: appended, old bytes unused
  meta.set("b", "2");             // shrinks: rewritten in place
  meta.set("c", "");
  EXPECT_EQ(meta.size(), 3u);
  EXPECT_EQ(meta.at("a"), "longer value");
  EXPECT_EQ(meta.at("b"), "2");
  EXPECT_EQ(meta.at("c"), "");
  EXPECT_EQ(meta.count("d"), 0u);
  EXPECT_FALSE(meta.get("d"));
  EXPECT_THROW(meta.at("d"), std::out_of_range);
  std::vector<std::string> keys;
  for (const auto& [k, v] : meta) keys.emplace_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"a", "b", "c"}));

  SpanMetrics metrics;
  metrics.set("x", 1);
  metrics.set("y", 2);
  metrics.set("x", 3);
  EXPECT_EQ(metrics.size(), 2u);
  EXPECT_EQ(metrics.at("x"), 3.0);
  EXPECT_THROW(metrics.at("z"), std::out_of_range);
  SpanMetrics moved = std::move(metrics);
  EXPECT_EQ(moved.at("y"), 2.0);
}

TEST(MsgpackWriter, ExactBytes) {
  std::string out;
  MsgpackWriter w(out);
  w.write_uint64(1);
  w.write_int64(-2);
  w.write_int32(1);
  w.write_float64(1.0);
  w.write_string("ab");
  EXPECT_EQ(out, bytes({0xcf, 0, 0, 0, 0, 0, 0, 0, 1,                //
                        0xd3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,  //
                        0xd2, 0, 0, 0, 1,                                //
                        0xcb, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0,              //
                        0xa2, 'a', 'b'}));
}

TEST(MsgpackWriter, ContainerAndStringHeaderSizes) {
  std::string out;
  MsgpackWriter w(out);
  w.write_array_header(15);
  w.write_array_header(16);
  w.write_map_header(70000);
  w.write_string(std::string(31, 'a'));
  EXPECT_EQ(out.substr(0, 1), bytes({0x9f}));
  EXPECT_EQ(out.substr(1, 3), bytes({0xdc, 0x00, 0x10}));
  EXPECT_EQ(out.substr(4, 5), bytes({0xdf, 0x00, 0x01, 0x11, 0x70}));
  EXPECT_EQ(out.substr(9, 1), bytes({0xbf}));
  std::string s8, s16, s32;
  MsgpackWriter(s8).write_string(std::string(32, 'a'));
  MsgpackWriter(s16).write_string(std::string(256, 'a'));
  MsgpackWriter(s32).write_string(std::string(65536, 'a'));
  EXPECT_EQ(s8.substr(0, 2), bytes({0xd9, 32}));
  EXPECT_EQ(s16.substr(0, 3), bytes({0xda, 0x01, 0x00}));
  EXPECT_EQ(s32.substr(0, 5), bytes({0xdb, 0x00, 0x01, 0x00, 0x00}));
  for (const auto* s : {&s8, &s16, &s32}) {
    auto v = decode_msgpack(*s);
    ASSERT_TRUE(v);
    EXPECT_EQ(v->bytes.size(), s->size() - (s == &s8 ? 2 : s == &s16 ? 3 : 5));
  }
}

TEST(MsgpackReader, RecordsWireTypesOfEveryScalar) {
  struct Case {
    std::string in;
    MsgpackType type;
  };
  const std::vector<Case> cases = {
      {bytes({0x05}), MsgpackType::positive_fixint}, {bytes({0xff}), MsgpackType::negative_fixint},
      {bytes({0xcc, 1}), MsgpackType::uint8},        {bytes({0xcd, 0, 1}), MsgpackType::uint16},
      {bytes({0xce, 0, 0, 0, 1}), MsgpackType::uint32}, {bytes({0xd0, 0x80}), MsgpackType::int8},
      {bytes({0xd1, 0xff, 0xfe}), MsgpackType::int16},  {bytes({0xca, 0x3f, 0x80, 0, 0}), MsgpackType::float32},
      {bytes({0xc0}), MsgpackType::nil},               {bytes({0xc3}), MsgpackType::boolean},
      {bytes({0xc4, 1, 'x'}), MsgpackType::bin},       {bytes({0xd4, 1, 2}), MsgpackType::ext},
  };
  for (const auto& c : cases) {
    auto v = decode_msgpack(c.in);
    ASSERT_TRUE(v) << msgpack_type_name(c.type);
    EXPECT_EQ(v->type, c.type);
  }
  EXPECT_EQ(decode_msgpack(bytes({0xd0, 0x80}))->int_value, -128);
  EXPECT_EQ(decode_msgpack(bytes({0xd1, 0xff, 0xfe}))->int_value, -2);
  EXPECT_EQ(decode_msgpack(bytes({0xff}))->int_value, -1);
  EXPECT_FLOAT_EQ(static_cast<float>(decode_msgpack(bytes({0xca, 0x3f, 0x80, 0, 0}))->float_value), 1.0f);
}

TEST(MsgpackReader, RejectsHostileInput) {
  const std::vector<std::string> bad = {
      "",                                            // nothing
      bytes({0xc1}),                                 // reserved
      bytes({0xcf, 0, 0}),                           // truncated uint64
      bytes({0xdb, 0xff, 0xff, 0xff, 0xff, 'a'}),    // str32 longer than the input
      bytes({0xdd, 0xff, 0xff, 0xff, 0xff}),         // array32 of 4G elements
      bytes({0xdf, 0x7f, 0xff, 0xff, 0xff, 1, 2}),   // map32 longer than the input
      bytes({0x92, 0x01}),                           // array missing an element
      bytes({0x01, 0x02}),                           // trailing bytes
      bytes({0xc7, 0x05, 0x01, 'a'}),                // ext8 truncated
  };
  for (const auto& in : bad) {
    auto v = decode_msgpack(in);
    EXPECT_FALSE(v) << "accepted " << in.size() << " bytes";
  }
}

TEST(MsgpackReader, BoundsNestingDepthAndValueCount) {
  std::string deep(100, static_cast<char>(0x91));
  deep.push_back(0x01);
  auto v = decode_msgpack(deep);
  ASSERT_FALSE(v);
  EXPECT_NE(v.error().message.find("nesting"), std::string::npos);

  std::string shallow(10, static_cast<char>(0x91));
  shallow.push_back(0x01);
  EXPECT_TRUE(decode_msgpack(shallow));

  std::string many = bytes({0xdc, 0x00, 0x10});
  many += std::string(16, '\x01');
  MsgpackLimits limits;
  limits.max_values = 10;
  EXPECT_FALSE(decode_msgpack(many, limits));
  limits.max_values = 17;
  EXPECT_TRUE(decode_msgpack(many, limits));
}

// Every prefix of a valid payload is rejected cleanly (never read past the end).
TEST(MsgpackReader, EveryTruncationOfAValidPayloadIsRejected) {
  const std::string body = encode_trace_chunks({TraceChunk({sample_span()})});
  ASSERT_TRUE(decode_msgpack(body));
  for (std::size_t n = 0; n < body.size(); ++n) {
    EXPECT_FALSE(decode_msgpack(std::string_view(body.data(), n))) << n;
  }
}

}  // namespace
}  // namespace tokenizer
