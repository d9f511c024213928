// encode_span against a plain reference encoder written with MsgpackWriter's one-value calls:
// the cursor, the pre-encoded keys, the replaced-tag mask and the inline key comparison must
// give the very same bytes (tag counts past 64, keys of the fixed keys' lengths, str8/16/32).
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "telemetry/msgpack_encoder.h"

namespace tokenizer {
namespace {

template <typename List>
bool listed(const List& list, std::string_view key) {
  for (const auto& [k, v] : list) {
    if (k == key) return true;
  }
  return false;
}

std::string reference_encode(const SpanData& s, const SpanDefaults* d) {
  std::string out;
  MsgpackWriter w(out);
  w.write_map_header(12);
  w.write_string("service");
  w.write_string(s.service);
  w.write_string("name");
  w.write_string(s.name);
  w.write_string("resource");
  w.write_string(s.resource);
  w.write_string("type");
  w.write_string(s.type);
  w.write_string("trace_id");
  w.write_uint64(s.trace_id.low);
  w.write_string("span_id");
  w.write_uint64(s.span_id);
  w.write_string("parent_id");
  w.write_uint64(s.parent_id);
  w.write_string("start");
  w.write_int64(s.start_ns);
  w.write_string("duration");
  w.write_int64(s.duration_ns);
  w.write_string("error");
  w.write_int32(s.error ? 1 : 0);
  std::vector<std::pair<std::string, std::string>> meta;
  for (const auto& [k, v] : s.meta) {
    if (d == nullptr || !listed(d->fixed_meta, k)) meta.emplace_back(k, v);
  }
  if (d != nullptr) {
    for (const auto& [k, v] : d->meta) {
      if (s.meta.count(k) == 0) meta.emplace_back(k, v);
    }
    for (const auto& kv : d->fixed_meta) meta.push_back(kv);
  }
  w.write_string("meta");
  w.write_map_header(static_cast<std::uint32_t>(meta.size()));
  for (const auto& [k, v] : meta) {
    w.write_string(k);
    w.write_string(v);
  }
  std::vector<std::pair<std::string, double>> metrics;
  for (const auto& [k, v] : s.metrics) {
    if (d == nullptr || !listed(d->fixed_metrics, k)) metrics.emplace_back(k, v);
  }
  if (d != nullptr) {
    for (const auto& kv : d->fixed_metrics) metrics.push_back(kv);
  }
  w.write_string("metrics");
  w.write_map_header(static_cast<std::uint32_t>(metrics.size()));
  for (const auto& [k, v] : metrics) {
    w.write_string(k);
    w.write_float64(v);
  }
  return out;
}

std::string encode(const SpanData& s, const SpanDefaults* d) {
  std::string out;
  MsgpackWriter w(out);
  encode_span(w, s, d);
  return out;
}

TEST(MsgpackFastPaths, EncodeSpanMatchesTheReferenceEncoder) {
  auto defaults = std::make_shared<SpanDefaults>();
  defaults->meta = {{"env", "bench"}, {"version", "1.0.0"}, {"team", "payments"}};
  defaults->fixed_meta = {{"language", "cpp"}, {"runtime-id", "0f0e0d0c-0b0a-0908-0706-050403020100"}};
  defaults->fixed_metrics = {{"process_id", 4242}};
  // Same lengths as the fixed keys but different bytes (first, middle and last byte), the fixed
  // keys themselves, and ordinary tags.
  const std::vector<std::string> keys = {"languagf", "lbnguage", "languabe", "language",  "runtime-id",
                                         "runtime-ie", "suntime-id", "http.url", "out.host", "span.kind",
                                         "request_id", "env",        "version", "x",        "a.much.longer.tag.key.name"};
  for (int tags = 0; tags <= 80; tags += (tags < 20 ? 1 : 7)) {
    for (int variant = 0; variant < 3; ++variant) {
      SpanData s;
      s.name = variant == 0 ? "http.request" : std::string(40, 'n');
      s.service = "tokenizer";
      s.resource = variant == 2 ? std::string(300, 'r') : "POST /api/v1/payment_methods/tokenize";
      s.type = variant == 1 ? "" : "web";
      s.trace_id = {1, 0x7fffffffffffffffULL};
      s.span_id = 12345;
      s.parent_id = static_cast<std::uint64_t>(tags);
      s.start_ns = 1795428000000000000LL;
      s.duration_ns = tags;
      s.error = variant == 1;
      for (int i = 0; i < tags; ++i) {
        const std::string key = i < static_cast<int>(keys.size()) && variant != 2
                                    ? keys[static_cast<std::size_t>(i)]
                                    : "tag." + std::to_string(i);
        s.meta.set(key, std::string(static_cast<std::size_t>(i % 5) * 7, 'v'));
      }
      // A fixed key set after the 64th tag: replaced without the mask.
      if (tags > 66) s.meta.set(variant == 0 ? "runtime-id" : "language", "mine");
      s.metrics.set("_sampling_priority_v1", 1);
      if (variant != 0) s.metrics.set("process_id", 7);
      s.metrics.set("_dd.agent_psr", 0.25);
      ASSERT_EQ(reference_encode(s, nullptr), encode(s, nullptr)) << tags << " " << variant;
      ASSERT_EQ(reference_encode(s, defaults.get()), encode(s, defaults.get())) << tags << " " << variant;
    }
  }
}

}  // namespace
}  // namespace tokenizer
