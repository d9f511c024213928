// Prototypes of hot-spot changes, measured beside the code they would replace. Bench-only
// sketches to size a gain: not used by the service, and they skip what production code must
// also do (sanitising, error details, every vault reply shape). The RapidJSON reply parser and
// the directly written success and vault bodies were promoted to the service (measured by
// BM_VaultReply_Parse, BM_SuccessReply_MapAndSerialize and BM_VaultRequest_Build); what is
// left here is nlohmann's SAX and DOM parse of the same reply, the alternatives it beat.
#include <cstdint>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <nlohmann/json.hpp>

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

// The same reply through nlohmann's DOM, as map_result did before RapidJSON (parse only).
void BM_Prototype_VaultReply_DomParse(benchmark::State& state) {
  const std::string body = bench::kVaultCreatedReply;
  for (auto _ : state) {
    json doc = json::parse(body, nullptr, false);
    benchmark::DoNotOptimize(doc);
  }
}
BENCHMARK(BM_Prototype_VaultReply_DomParse);

}  // namespace
}  // namespace tokenizer
