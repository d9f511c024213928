// Prototypes of the hot-spot changes proposed in bench/README.md, measured beside the code they
// would replace (BM_VaultReply_Parse, BM_SuccessReply_MapAndSerialize, BM_VaultRequest_Build).
// Bench-only sketches to size the gain: they are not used by the service and skip what the
// production code must also do (sanitising, error details, every vault reply shape).
#include <charconv>
#include <cstdint>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <nlohmann/json.hpp>
#ifdef TOKENIZER_BENCH_HAVE_RAPIDJSON
#include <rapidjson/document.h>
#endif

#include "sample_payloads.h"

namespace tokenizer {
namespace {

using json = nlohmann::json;

// What map_result needs from a 201: transaction.succeeded and a few payment_method fields.
struct VaultFields {
  bool succeeded_false = false;
  std::string token, card_type, first_six, last_four;
  int month = 0, year = 0;
};

// SAX handler: keeps only the values at the paths above; no DOM, no strings for other values.
class VaultReplySax final : public nlohmann::json_sax<json> {
 public:
  explicit VaultReplySax(VaultFields& out) : out_(out) {}

  bool null() override { return value_done(); }
  bool boolean(bool v) override {
    if (at_transaction() && key_ == "succeeded" && !v) out_.succeeded_false = true;
    return value_done();
  }
  bool number_integer(number_integer_t v) override { return integer(v); }
  bool number_unsigned(number_unsigned_t v) override { return integer(static_cast<std::int64_t>(v)); }
  bool number_float(number_float_t, const string_t&) override { return value_done(); }
  bool string(string_t& v) override {
    if (at_payment_method()) {
      if (key_ == "token") out_.token = std::move(v);
      else if (key_ == "card_type") out_.card_type = std::move(v);
      else if (key_ == "first_six_digits") out_.first_six = std::move(v);
      else if (key_ == "last_four_digits") out_.last_four = std::move(v);
    }
    return value_done();
  }
  bool binary(binary_t&) override { return value_done(); }
  bool start_object(std::size_t) override { return push(); }
  bool end_object() override { return pop(); }
  bool start_array(std::size_t) override { return push(); }
  bool end_array() override { return pop(); }
  bool key(string_t& k) override {
    key_ = k;
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    return false;
  }

 private:
  // path_[i]: the key under which the container at depth i+1 was opened.
  bool at_transaction() const { return path_.size() == 2 && path_[1] == "transaction"; }
  bool at_payment_method() const {
    return path_.size() == 3 && path_[1] == "transaction" && path_[2] == "payment_method";
  }
  bool integer(std::int64_t v) {
    if (at_payment_method()) {
      if (key_ == "month") out_.month = static_cast<int>(v);
      else if (key_ == "year") out_.year = static_cast<int>(v);
    }
    return value_done();
  }
  bool push() {
    path_.push_back(key_);
    key_.clear();
    return true;
  }
  bool pop() {
    path_.pop_back();
    return true;
  }
  bool value_done() { return true; }

  VaultFields& out_;
  std::vector<std::string> path_;
  std::string key_;
};

void BM_Prototype_VaultReply_SaxParse(benchmark::State& state) {
  const std::string body = bench::kVaultCreatedReply;
  for (auto _ : state) {
    VaultFields fields;
    VaultReplySax sax(fields);
    const bool ok = json::sax_parse(body, &sax);
    if (!ok || fields.token.empty() || fields.year != 2031) state.SkipWithError("prototype broken");
    benchmark::DoNotOptimize(fields);
  }
}
BENCHMARK(BM_Prototype_VaultReply_SaxParse);

// The same reply through nlohmann's DOM, as map_result does today (parse only).
void BM_Prototype_VaultReply_DomParse(benchmark::State& state) {
  const std::string body = bench::kVaultCreatedReply;
  for (auto _ : state) {
    json doc = json::parse(body, nullptr, false);
    benchmark::DoNotOptimize(doc);
  }
}
BENCHMARK(BM_Prototype_VaultReply_DomParse);

#ifdef TOKENIZER_BENCH_HAVE_RAPIDJSON
// The same extraction with RapidJSON (Debian's rapidjson-dev, already installed for Pistache):
// a DOM parse with UTF-8 validation, then the same lookups map_result makes.
void BM_Prototype_VaultReply_RapidJson(benchmark::State& state) {
  const std::string body = bench::kVaultCreatedReply;
  for (auto _ : state) {
    VaultFields fields;
    rapidjson::Document doc;
    doc.Parse<rapidjson::kParseValidateEncodingFlag>(body.data(), body.size());
    if (!doc.HasParseError() && doc.IsObject()) {
      auto tx = doc.FindMember("transaction");
      if (tx != doc.MemberEnd() && tx->value.IsObject()) {
        auto ok = tx->value.FindMember("succeeded");
        fields.succeeded_false = ok != tx->value.MemberEnd() && ok->value.IsFalse();
        auto pm = tx->value.FindMember("payment_method");
        if (pm != tx->value.MemberEnd() && pm->value.IsObject()) {
          const auto& m = pm->value;
          auto str = [&m](const char* k) {
            auto it = m.FindMember(k);
            return it != m.MemberEnd() && it->value.IsString()
                       ? std::string(it->value.GetString(), it->value.GetStringLength())
                       : std::string();
          };
          auto num = [&m](const char* k) {
            auto it = m.FindMember(k);
            return it != m.MemberEnd() && it->value.IsInt() ? it->value.GetInt() : 0;
          };
          fields.token = str("token");
          fields.card_type = str("card_type");
          fields.first_six = str("first_six_digits");
          fields.last_four = str("last_four_digits");
          fields.month = num("month");
          fields.year = num("year");
        }
      }
    }
    if (fields.token.empty() || fields.year != 2031) state.SkipWithError("prototype broken");
    benchmark::DoNotOptimize(fields);
  }
}
BENCHMARK(BM_Prototype_VaultReply_RapidJson);
#endif

// JSON string body: the characters RFC 8259 requires escaping, \u00XX for other controls.
void append_json_string(std::string& out, std::string_view s) {
  out.push_back('"');
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(ch);
    } else if (c < 0x20) {
      static const char kHex[] = "0123456789abcdef";
      out.append("\\u00");
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    } else {
      out.push_back(ch);
    }
  }
  out.push_back('"');
}

void append_int(std::string& out, int v) {
  char buf[16];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

// The success reply written directly (same bytes as map_execution's dump: sorted keys).
void BM_Prototype_SuccessReply_DirectWrite(benchmark::State& state) {
  const std::string token = "7rbEKaJ9wiwkwfyV0Qp4XRkvsE1";
  const std::string request_id = "0b5f1c0e-6a53-4f7e-9f55-2c3a5d1e8e21";
  const std::string created_at = "2026-11-23T10:00:00Z";
  for (auto _ : state) {
    std::string body;
    body.reserve(320);
    body.append(R"({"card":{"brand":)");
    append_json_string(body, "visa");
    body.append(R"(,"expiry_month":)");
    append_int(body, 12);
    body.append(R"(,"expiry_year":)");
    append_int(body, 2031);
    body.append(R"(,"first_six":)");
    append_json_string(body, "411111");
    body.append(R"(,"last_four":)");
    append_json_string(body, "1111");
    body.append(R"(},"created_at":)");
    append_json_string(body, created_at);
    body.append(R"(,"payment_method_token":)");
    append_json_string(body, token);
    body.append(R"(,"request_id":)");
    append_json_string(body, request_id);
    body.append(R"(,"status":"success"})");
    benchmark::DoNotOptimize(body);
  }
}
BENCHMARK(BM_Prototype_SuccessReply_DirectWrite);

// The vault create body written directly (BM_VaultRequest_Build builds it through a DOM).
void BM_Prototype_VaultRequestBody_DirectWrite(benchmark::State& state) {
  for (auto _ : state) {
    std::string body;
    body.reserve(256);
    body.append(R"({"payment_method":{"credit_card":{"first_name":)");
    append_json_string(body, "Ada");
    body.append(R"(,"last_name":)");
    append_json_string(body, "Lovelace");
    body.append(R"(,"month":)");
    append_json_string(body, "12");
    body.append(R"(,"number":)");
    append_json_string(body, "4111111111111111");
    body.append(R"(,"verification_value":)");
    append_json_string(body, "123");
    body.append(R"(,"year":)");
    append_json_string(body, "2031");
    body.append(R"(},"email":)");
    append_json_string(body, "ada@example.com");
    body.append(R"(,"retained":true}})");
    benchmark::DoNotOptimize(body);
  }
}
BENCHMARK(BM_Prototype_VaultRequestBody_DirectWrite);

}  // namespace
}  // namespace tokenizer
