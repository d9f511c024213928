// read_request_json (tokenization/request_json.h) must accept exactly what nlohmann_json's
// strict parser accepts and pick out the same values (the last of duplicate keys, decoded
// strings, the same number classes). nlohmann is the reference here: generated documents,
// tricky tokens and random mutations of both are read by both and compared.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "tokenization/json_prescan.h"
#include "tokenization/request_json.h"

namespace tokenizer {
namespace {

using Kind = RequestJsonValue::Kind;
using Json = nlohmann::json;

constexpr int kDepth = 32;

const char* kind_name(Kind k) {
  switch (k) {
    case Kind::absent: return "absent";
    case Kind::null: return "null";
    case Kind::boolean: return "boolean";
    case Kind::string: return "string";
    case Kind::unsigned_integer: return "unsigned";
    case Kind::signed_integer: return "signed";
    case Kind::floating: return "float";
    case Kind::object: return "object";
    case Kind::array: return "array";
  }
  return "?";
}

// A value as text, for comparison: kind plus its value where the validator reads one.
std::string describe(const RequestJsonValue& v) {
  std::string s = kind_name(v.kind);
  if (v.kind == Kind::string) s += ":" + std::string(v.text);
  if (v.kind == Kind::unsigned_integer) s += ":" + std::to_string(v.unsigned_value);
  if (v.kind == Kind::signed_integer) s += ":" + std::to_string(v.signed_value);
  return s;
}

std::string describe(const Json* v) {
  if (v == nullptr) return "absent";
  if (v->is_null()) return "null";
  if (v->is_boolean()) return "boolean";
  if (v->is_string()) return "string:" + v->get<std::string>();
  if (v->is_number_unsigned()) return "unsigned:" + std::to_string(v->get<std::uint64_t>());
  if (v->is_number_integer()) return "signed:" + std::to_string(v->get<std::int64_t>());
  if (v->is_number_float()) return "float";
  if (v->is_object()) return "object";
  if (v->is_array()) return "array";
  return "?";
}

// payment_method's own value is never read, only its kind.
std::string kind_only(std::string described) { return described.substr(0, described.find(':')); }

const char* kFields[] = {"card_number", "cvv", "month", "year", "first_name", "last_name", "email"};

// Both readers' view of `body`, as one comparable string.
std::string reference_view(const std::string& body) {
  const Json doc = Json::parse(body.begin(), body.end(), nullptr, false);
  if (doc.is_discarded()) return "not_json";
  if (!doc.is_object()) return "not_an_object";
  const auto member = [](const Json& o, const char* key) -> const Json* {
    const auto it = o.find(key);
    return it == o.end() ? nullptr : &*it;
  };
  const Json* pm = member(doc, "payment_method");
  std::string s = "ok pm=" + kind_only(describe(pm));
  if (pm != nullptr && pm->is_object()) {
    for (const char* f : kFields) s += std::string(" ") + f + "=" + describe(member(*pm, f));
  }
  return s;
}

std::string reader_view(const std::string& body) {
  RequestJson out;
  switch (read_request_json(body, kDepth, out)) {
    case RequestJsonStatus::not_json: return "not_json";
    case RequestJsonStatus::not_an_object: return "not_an_object";
    case RequestJsonStatus::ok: break;
  }
  std::string s = "ok pm=" + kind_only(describe(out.payment_method));
  if (out.payment_method.kind == Kind::object) {
    const RequestJsonValue* values[] = {&out.card_number, &out.cvv,       &out.month,
                                        &out.year,        &out.first_name, &out.last_name,
                                        &out.email};
    for (std::size_t i = 0; i < 7; ++i) s += std::string(" ") + kFields[i] + "=" + describe(*values[i]);
  }
  return s;
}

// Compares the two on `body` when it meets the reader's precondition (prescan_json ok).
// Returns false on a disagreement (and records a failure).
bool agree(const std::string& body) {
  if (prescan_json(body, kDepth) != JsonPrescanResult::ok) return true;
  const std::string want = reference_view(body);
  const std::string got = reader_view(body);
  if (want == got) return true;
  ADD_FAILURE() << "body " << ::testing::PrintToString(body) << "\n  nlohmann: " << want
                << "\n  reader:   " << got;
  return false;
}

const std::string kValid =
    R"({"payment_method":{"card_number":"4111111111111111","month":"12","year":2031,)"
    R"("first_name":"Ada","last_name":"Lovelace","cvv":"123","email":"ada@example.com"}})";

TEST(RequestJson, ReadsATypicalBody) {
  RequestJson out;
  ASSERT_EQ(read_request_json(kValid, kDepth, out), RequestJsonStatus::ok);
  EXPECT_EQ(out.payment_method.kind, Kind::object);
  EXPECT_EQ(out.card_number.text, "4111111111111111");
  EXPECT_EQ(out.month.text, "12");
  EXPECT_EQ(out.year.kind, Kind::unsigned_integer);
  EXPECT_EQ(out.year.unsigned_value, 2031u);
  EXPECT_EQ(out.email.text, "ada@example.com");
  EXPECT_TRUE(agree(kValid));
}

TEST(RequestJson, TrickyTokensAgreeWithNlohmann) {
  const std::vector<std::string> values = {
      // numbers
      "0", "-0", "01", "-01", "1.5", "1.", ".5", "-", "+1", "1e5", "1E+2", "1e-2", "1e", "1e+",
      "-1e400", "1e400", "1e-400", "2.5e308", "18446744073709551615", "18446744073709551616",
      "-9223372036854775808", "-9223372036854775809", "9223372036854775807",
      "1000000000000000000000", std::string(400, '9'), "-" + std::string(400, '9'), "0.0",
      "1.0e0", "00", "0x1", "1 2", "NaN", "Infinity", "-Infinity",
      // literals
      "true", "false", "null", "tru", "nul", "nulll", "True", "falsey",
      // strings
      R"("")", R"("a")", R"("\"\\\/\b\f\n\r\t")", R"("\u0041")", R"("\u00e9")", R"("\u20AC")",
      R"("\ud83d\ude00")", R"("\uD83D\uDE00")", R"("\ud83d")", R"("\ude00")", R"("\ud83dx")",
      R"("\ud83d\u0041")", R"("\ud83d\ud83d")", R"("\u12")", R"("\u12G4")", R"("\x41")",
      R"("\a")", R"("\'")", "\"a\tb\"", "\"a\nb\"", std::string("\"a\0b\"", 5), R"("\u0000")",
      "\"caf\xc3\xa9\"", "\"\xf0\x9f\x98\x80\"", R"("unterminated)", R"("a\")",
      // containers
      "[]", "{}", "[1,]", "[,1]", "{,}", R"({"a":1,})", R"({"a" 1})", R"({"a":})", R"({1:2})",
      R"([1 2])", "[[[]]]", R"({"a":[{"b":null}]})", "[", "{", "]", "}"};
  for (const std::string& v : values) {
    agree(v);
    agree(" " + v + " ");
    agree(R"({"payment_method":{"card_number":)" + v + "}}");
    agree(R"({"payment_method":{"month":)" + v + R"(,"year":)" + v + "}}");
    agree(R"({"payment_method":)" + v + "}");
    agree(R"({"x":)" + v + R"(,"payment_method":{"cvv":"1"}})");
  }
}

TEST(RequestJson, EdgesOfTheDocumentAgreeWithNlohmann) {
  for (const std::string& body : std::vector<std::string>{
           "\xef\xbb\xbf" + kValid,                 // BOM at the start
           " \xef\xbb\xbf" + kValid,                // not at the start
           "\xef\xbb" + kValid,                     // a broken BOM
           kValid + std::string("\0", 1),           // NUL after the document
           kValid + std::string("\0garbage", 8),    // anything after a NUL
           std::string("\0", 1) + kValid,           // NUL first
           kValid + " x", kValid + kValid, kValid + "\n\t\r ", "\n" + kValid,
           std::string(R"({"payment_method":{"card_number":"4111)") + std::string("\0", 1) + "\"}}",
           R"({"payment_method":null})", R"({"payment_method":[]})", R"({"payment_method":"x"})",
           R"({"payment_method":{}})", R"({})", R"([])", R"("payment_method")", "",
           R"({"payment_method":{"cvv":"1"},"payment_method":{"month":2}})",       // last wins
           R"({"payment_method":{"cvv":"1"},"payment_method":3})",
           R"({"payment_method":{"cvv":"1","cvv":"2","cvv":{}}})",
           R"({"payment\u005fmethod":{"card\u005Fnumber":"4\u0031"}})",          // escaped keys
           R"({"payment_method":{"first_name":"A\u0000B","email":"a\/b@c.de"}})",
           R"({"a":{"payment_method":{"cvv":"1"}}})",                             // not top level
           R"({"payment_method":{"x":{"cvv":"1"}},"cvv":"2"})",                   // not direct
       }) {
    agree(body);
  }
}

// Random documents built from the pieces the validator looks at, and random mutations of
// them (inserted, deleted and replaced bytes).
class Generator {
 public:
  explicit Generator(unsigned seed) : rng_(seed) {}

  std::string document() {
    std::string s = "{";
    const int members = pick(4);
    for (int i = 0; i < members; ++i) {
      if (i > 0) s += ",";
      if (pick(3) == 0) {
        s += key_of("x") + ":" + value(2);
      } else {
        s += key_of("payment_method") + ":" + (pick(5) == 0 ? value(2) : payment_method());
      }
    }
    return s + "}";
  }

  std::string mutate(std::string s) {
    static const std::string kAlphabet = "{}[]\",:\\ u0123456789.eE+-tfnl\x01\x7f\xc3\xa9";
    const int edits = 1 + pick(3);
    for (int i = 0; i < edits && !s.empty(); ++i) {
      const std::size_t at = static_cast<std::size_t>(pick(static_cast<int>(s.size())));
      const char c = kAlphabet[static_cast<std::size_t>(pick(static_cast<int>(kAlphabet.size())))];
      switch (pick(3)) {
        case 0: s.insert(s.begin() + static_cast<std::ptrdiff_t>(at), c); break;
        case 1: s.erase(at, 1); break;
        default: s[at] = c; break;
      }
    }
    return s;
  }

 private:
  int pick(int n) { return static_cast<int>(rng_() % static_cast<unsigned>(n)); }

  std::string ws() {
    static const char* kWs[] = {"", "", "", " ", "\n", "\t ", "\r\n"};
    return kWs[pick(7)];
  }

  std::string key_of(const std::string& key) {
    if (pick(8) == 0 && key.find('_') != std::string::npos) {  // the same key, escaped
      std::string k = key;
      k.replace(k.find('_'), 1, pick(2) == 0 ? "\\u005f" : "\\u005F");
      return ws() + "\"" + k + "\"" + ws();
    }
    return ws() + "\"" + key + "\"" + ws();
  }

  std::string payment_method() {
    std::string s = ws() + "{";
    const int members = pick(9);
    for (int i = 0; i < members; ++i) {
      if (i > 0) s += ",";
      const std::string key = pick(6) == 0 ? "other" : kFields[pick(7)];
      s += key_of(key) + ":" + value(1);
    }
    return s + "}" + ws();
  }

  std::string value(int depth) {
    static const std::vector<std::string> kScalars = {
        "\"4111111111111111\"", "\"4111 1111-1111 1111\"", "\"123\"", "\"12\"", "\"2031\"",
        "\"Ada\"", "\"\"", "\"a\\u00e9\\n\"", "\"\\ud83d\\ude00\"", "\"x\\\"y\"",
        "\"ada@example.com\"", "12", "2031", "-1", "-0", "0", "1.5", "1e3", "1e999",
        "18446744073709551616", "-9223372036854775809", "true", "false", "null",
        "\"caf\xc3\xa9\""};
    std::string v;
    const int kind = depth > 0 ? pick(10) : 9;
    if (kind == 0) {
      v = "[";
      const int n = pick(3);
      for (int i = 0; i < n; ++i) v += (i > 0 ? "," : "") + value(depth - 1);
      v += "]";
    } else if (kind == 1) {
      v = "{";
      const int n = pick(3);
      for (int i = 0; i < n; ++i) v += (i > 0 ? "," : "") + key_of(kFields[pick(7)]) + ":" + value(depth - 1);
      v += "}";
    } else {
      v = kScalars[static_cast<std::size_t>(pick(static_cast<int>(kScalars.size())))];
    }
    return ws() + v + ws();
  }

  std::mt19937 rng_;
};

TEST(RequestJson, GeneratedAndMutatedDocumentsAgreeWithNlohmann) {
  Generator gen(20261124);
  int disagreements = 0;
  int valid = 0;
  for (int i = 0; i < 30000 && disagreements < 5; ++i) {
    const std::string doc = gen.document();
    if (!agree(doc)) ++disagreements;
    if (reference_view(doc) != "not_json") ++valid;
    for (int m = 0; m < 3; ++m) {
      if (!agree(gen.mutate(doc))) ++disagreements;
    }
  }
  EXPECT_GT(valid, 20000);  // the generator mostly makes JSON: the comparison has substance
}

}  // namespace
}  // namespace tokenizer
