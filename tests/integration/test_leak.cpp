// Integration: card data and secrets never leave the service where they should not (issues 5
// and 8). Valid, invalid and failing requests carry distinctive card numbers (Luhn-valid,
// computed here, plus one that fails Luhn), CVVs, card holder names and e-mails, through a
// tokenizer at `--log-level debug` that traces to the fake Datadog agent and talks to an
// upstream-sim with distinctive credentials; then every line the tokenizer and upstream-sim
// wrote (stdout and stderr, shutdown included), every span the agent received, both
// `/metrics` scrapes and every reply are searched for each of them: zero hits. The first six
// and last four digits are allowed (PCI DSS 3.3), so only whole numbers are searched, in
// plain, spaced and dashed forms.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "support/service.h"

namespace tokenizer::testing {
namespace {

using json = nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr char kTokenizeRoute[] = "/api/v1/payment_methods/tokenize";

// Distinctive credentials (none of them is the demo default).
constexpr char kLeakVaultKey[] = "vk-tint-Q7mZ2";
constexpr char kLeakVaultSecret[] = "vs-tint-Xh3K9pWq71LmN";
constexpr char kLeakClientUser[] = "leakclient";
constexpr char kLeakClientPassword[] = "cpw-tint-Rr84vTyc2Zk";
constexpr char kLeakWrongPassword[] = "cpw-tint-WRONG-Bq55";
constexpr char kLeakIdempotencySecret[] = "idem-tint-Jf02Lx9sPq";

std::string agent_binary() {
  return (std::filesystem::path(TOKENIZER_BIN).parent_path() / "fake-dd-agent").string();
}

HttpReply get(const std::string& url) {
  HttpCall call;
  call.url = url;
  return http_request(call);
}

std::string base64(const std::string& in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(in[i]) << 16) |
                       (static_cast<unsigned char>(in[i + 1]) << 8) | static_cast<unsigned char>(in[i + 2]);
    for (int k = 18; k >= 0; k -= 6) out.push_back(kAlphabet[(v >> k) & 63]);
  }
  if (i < in.size()) {
    unsigned v = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) v |= static_cast<unsigned char>(in[i + 1]) << 8;
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(i + 1 < in.size() ? kAlphabet[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

// `digits` followed by its Luhn check digit.
std::string with_luhn_check(const std::string& digits) {
  int sum = 0;
  bool twice = true;  // the digit left of the check digit is doubled
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    int d = *it - '0';
    if (twice) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    twice = !twice;
  }
  return digits + static_cast<char>('0' + (10 - sum % 10) % 10);
}

bool luhn_ok(const std::string& pan) {
  return with_luhn_check(pan.substr(0, pan.size() - 1)) == pan;
}

// The same digits grouped as printed on cards (4-4-4-4…, Amex 4-6-5), joined by `sep`.
std::string grouped(const std::string& pan, char sep) {
  std::vector<std::size_t> sizes;
  if (pan.size() == 15) {
    sizes = {4, 6, 5};
  } else {
    for (std::size_t left = pan.size(); left > 0; left -= std::min<std::size_t>(4, left)) {
      sizes.push_back(std::min<std::size_t>(4, left));
    }
  }
  std::string out;
  std::size_t at = 0;
  for (const auto n : sizes) {
    if (!out.empty()) out.push_back(sep);
    out += pan.substr(at, n);
    at += n;
  }
  return out;
}

struct Holder {
  std::string first, last, email;
};

std::string body_for(const std::string& pan_json, const std::string& cvv, const Holder& h,
                     const std::string& month = "\"11\"") {
  return R"({"payment_method":{"card_number":)" + pan_json + R"(,"month":)" + month +
         R"(,"year":"2031","first_name":")" + h.first + R"(","last_name":")" + h.last +
         R"(","cvv":")" + cvv + R"(","email":")" + h.email + R"("}})";
}
std::string as_json_string(const std::string& s) { return "\"" + s + "\""; }

// Everything a run produced, by where it came from.
struct Collected {
  std::map<std::string, std::string> sources;  // name -> text
  std::vector<std::string> pans;               // every card number sent
  std::vector<std::string> cvvs;
  std::vector<std::string> people;             // names and e-mails
  std::vector<std::string> secrets;
  std::vector<std::string> request_ids;        // every request, for coverage checks
  std::vector<std::string> failures;           // setup problems
};

// Polls the agent until the server span of every request id arrived.
bool wait_for_spans(const std::string& agent_url, const std::vector<std::string>& ids,
                    std::string& raw) {
  const auto deadline = std::chrono::steady_clock::now() + seconds(15);
  for (;;) {
    raw = get(agent_url + "/test/traces").body;
    bool all = true;
    for (const auto& id : ids) {
      if (raw.find("\"request_id\":\"" + id + "\"") == std::string::npos) all = false;
    }
    if (all) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(milliseconds(100));
  }
}

Collected run_leak_scenarios() {
  Collected c;
  auto fail = [&c](const std::string& why) { c.failures.push_back(why); };

  ChildProcess agent(agent_binary(), {"--port", "0"});
  if (!agent.wait_for_port()) {
    fail("fake-dd-agent did not start (build target fake-dd-agent): " + agent.stderr_text());
    return c;
  }
  ChildProcess sim(UPSTREAM_SIM_BIN, {"--listen", "127.0.0.1:0", "--environment-key", kLeakVaultKey,
                                      "--access-secret", kLeakVaultSecret});
  if (!sim.wait_for_port()) {
    fail("upstream-sim did not start: " + sim.stderr_text());
    return c;
  }
  // The vault secret arrives through the environment, the client password through a flag.
  ChildProcess tk(TOKENIZER_BIN,
                  {"--listen", "127.0.0.1:0", "--threads", "2", "--upstream-url", sim.base_url(),
                   "--upstream-key", kLeakVaultKey, "--basic-auth",
                   std::string(kLeakClientUser) + ":" + kLeakClientPassword, "--idempotency-secret",
                   kLeakIdempotencySecret, "--log-level", "debug", "--upstream-timeout-ms", "1500",
                   "--upstream-attempt-timeout-ms", "400", "--retry-base-ms", "5",
                   "--breaker-min-calls", "1000"},
                  {{"TOKENIZER_UPSTREAM_SECRET", kLeakVaultSecret},
                   {"DD_TRACE_AGENT_URL", agent.base_url()},
                   {"DD_TRACE_SAMPLE_RATE", "1"},
                   {"DD_ENV", "leaktest"},
                   {"DD_VERSION", "9.9.9"}});
  if (!tk.wait_for_port()) {
    fail("tokenizer did not start: " + tk.stdout_text() + tk.stderr_text());
    return c;
  }

  const Holder ada{"Zephyrine", "Quattlebaum", "zephyrine.quattlebaum@leaktest.example"};
  const Holder bad{"Brunhilde", "Vandersloot", "brunhilde-at-leaktest"};  // invalid e-mail
  c.people = {ada.first, ada.last, ada.email, bad.first, bad.last, bad.email};
  c.secrets = {kLeakVaultSecret,
               base64(std::string(kLeakVaultKey) + ":" + kLeakVaultSecret),
               kLeakClientPassword,
               base64(std::string(kLeakClientUser) + ":" + kLeakClientPassword),
               kLeakWrongPassword,
               base64(std::string(kLeakClientUser) + ":" + kLeakWrongPassword),
               kLeakIdempotencySecret};

  std::string replies;
  int n = 0;
  auto send = [&](const std::string& pan, const std::string& cvv, const std::string& body,
                  std::vector<std::string> headers = {}, const char* password = kLeakClientPassword,
                  long expect_min = 200, long expect_max = 599) {
    if (!pan.empty()) c.pans.push_back(pan);
    if (!cvv.empty()) c.cvvs.push_back(cvv);
    const std::string id = "leak-" + std::to_string(++n);
    c.request_ids.push_back(id);
    headers.push_back("X-Request-Id: " + id);
    HttpCall call = tokenize_call(tk.base_url() + kTokenizeRoute, body, std::move(headers));
    call.basic_user = kLeakClientUser;
    call.basic_password = password;
    const auto r = http_request(call);
    if (r.status < expect_min || r.status > expect_max) {
      fail("request " + id + ": HTTP " + std::to_string(r.status) + " " + r.body + r.error);
    }
    replies += id + " " + std::to_string(r.status) + "\n";
    for (const auto& [k, v] : r.headers) replies += k + ": " + v + "\n";
    replies += r.body + "\n";
    return r;
  };
  auto faults = [&](const json& f) {
    HttpCall call;
    call.method = "POST";
    call.url = sim.base_url() + "/__sim/faults";
    call.body = f.dump();
    call.headers = {"Content-Type: application/json"};
    if (http_request(call).status != 200) fail("could not set faults " + f.dump());
  };

  const std::string visa = with_luhn_check("493817265019384");
  const std::string mastercard = with_luhn_check("539104827365019");
  const std::string amex = with_luhn_check("37918462537019");
  const std::string discover = with_luhn_check("601173829104562");
  const std::string visa19 = with_luhn_check("492817364501928374");
  std::string not_luhn = with_luhn_check("471693820574613");
  not_luhn.back() = static_cast<char>('0' + (not_luhn.back() - '0' + 1) % 10);

  // Accepted cards.
  send(visa, "842", body_for(as_json_string(visa), "842", ada), {}, kLeakClientPassword, 200, 200);
  send(mastercard, "906", body_for(as_json_string(mastercard), "906", ada), {}, kLeakClientPassword, 200, 200);
  send(amex, "7391", body_for(as_json_string(amex), "7391", ada), {}, kLeakClientPassword, 200, 200);
  send(discover, "718", body_for(as_json_string(discover), "718", ada), {}, kLeakClientPassword, 200, 200);
  send(visa19, "", body_for(as_json_string(visa19), "839", ada));
  c.cvvs.push_back("839");
  // Invalid: Luhn failure, other fields invalid, malformed JSON, wrong types, spaced digits.
  send(not_luhn, "628", body_for(as_json_string(not_luhn), "628", ada), {}, kLeakClientPassword, 422, 422);
  const std::string v2 = with_luhn_check("451827390164523");
  send(v2, "973", body_for(as_json_string(v2), "973", bad, "13"), {}, kLeakClientPassword, 422, 422);
  const std::string v3 = with_luhn_check("455639182047561");
  send(v3, "5147", body_for(as_json_string(v3), "5147", ada).substr(0, 70) + "} oops", {}, kLeakClientPassword, 400, 400);
  const std::string v4 = with_luhn_check("459201837465019");
  send(v4, "", body_for(v4, "657", ada), {}, kLeakClientPassword, 400, 422);  // a JSON number
  c.cvvs.push_back("657");
  const std::string v5 = with_luhn_check("448812093746152");
  send(v5, "", body_for(as_json_string(grouped(v5, ' ')), "385", ada));  // spaced, as typed
  c.cvvs.push_back("385");
  const std::string v6 = with_luhn_check("402739184650271");
  send(v6, "", body_for(as_json_string(v6 + "12345"), "2946", ada), {}, kLeakClientPassword, 422, 422);  // too long
  c.cvvs.push_back("2946");
  // Refused before validation: bad credentials, wrong media type, oversized body.
  const std::string v7 = with_luhn_check("431908275610384");
  send(v7, "4821", body_for(as_json_string(v7), "4821", ada), {}, kLeakWrongPassword, 401, 401);
  const std::string v8 = with_luhn_check("476510293847561");
  send(v8, "3068", body_for(as_json_string(v8), "3068", ada), {"Content-Type: text/plain"}, kLeakClientPassword, 415, 415);
  const std::string v9 = with_luhn_check("439182736450192");
  send(v9, "792", body_for(as_json_string(v9), "792", ada, "\"11\",\"pad\":\"" + std::string(20000, 'p') + "\""),
       {}, kLeakClientPassword, 413, 413);
  // Failing vault: 500, garbage, reset, hang, 422 (card rejected), 401 (our credentials).
  const std::vector<std::pair<json, std::string>> failures = {
      {{{"status", 500}}, "461029384756102"}, {{{"mode", "garbage"}}, "462918374650193"},
      {{{"mode", "reset"}}, "463827465019283"}, {{{"mode", "hang"}}, "464736501928374"},
      {{{"status", 422}}, "465645019283746"},   {{{"status", 401}}, "466554728391045"},
      {{{"status", 503}}, "467463829104756"}};
  const std::vector<std::string> failure_cvvs = {"518", "627", "736", "845", "954", "163", "274"};
  for (std::size_t i = 0; i < failures.size(); ++i) {
    faults(failures[i].first);
    const std::string pan = with_luhn_check(failures[i].second);
    send(pan, failure_cvvs[i], body_for(as_json_string(pan), failure_cvvs[i], ada), {}, kLeakClientPassword, 422, 504);
  }
  faults(json::object());
  // Idempotency: first use, replay, same key with another card (mismatch).
  const std::string v10 = with_luhn_check("468372910465018");
  const std::string v11 = with_luhn_check("469281047365029");
  send(v10, "118", body_for(as_json_string(v10), "118", ada), {"Idempotency-Key: leak-key-1"}, kLeakClientPassword, 200, 200);
  send(v10, "118", body_for(as_json_string(v10), "118", ada), {"Idempotency-Key: leak-key-1"}, kLeakClientPassword, 200, 200);
  send(v11, "329", body_for(as_json_string(v11), "329", ada), {"Idempotency-Key: leak-key-1"}, kLeakClientPassword, 409, 422);

  for (const auto& pan : c.pans) {
    if (pan != not_luhn && !luhn_ok(pan)) fail("test bug: " + pan + " is not Luhn-valid");
  }
  if (luhn_ok(not_luhn)) fail("test bug: " + not_luhn + " passes Luhn");

  // The tokenizer's requests that produced spans (the 401 and 415 ones too: they are traced).
  std::string raw_spans;
  if (!wait_for_spans(agent.base_url(), c.request_ids, raw_spans)) {
    fail("not every request's server span reached the agent");
  }
  c.sources["tokenizer /metrics"] = get(tk.base_url() + "/metrics").body;
  c.sources["upstream-sim /metrics"] = get(sim.base_url() + "/metrics").body;
  c.sources["replies to clients"] = replies;

  // Shutdown writes its own lines and flushes the last spans.
  tk.signal(SIGTERM);
  if (!tk.wait_exit(seconds(15))) fail("tokenizer did not exit after SIGTERM");
  c.sources["tokenizer stdout"] = tk.stdout_text();
  c.sources["tokenizer stderr"] = tk.stderr_text();
  c.sources["agent spans"] = get(agent.base_url() + "/test/traces").body;
  c.sources["agent intake requests"] = get(agent.base_url() + "/test/requests").body;
  const auto vault_log = get(sim.base_url() + "/__sim/requests").body;
  if (vault_log.find("/v1/payment_methods") == std::string::npos) fail("the vault saw no request");
  c.sources["upstream-sim request log"] = vault_log;  // headers only: no body, no credentials
  sim.signal(SIGTERM);
  sim.wait_exit(seconds(10));
  c.sources["upstream-sim stdout"] = sim.stdout_text();
  c.sources["upstream-sim stderr"] = sim.stderr_text();
  return c;
}

// Every occurrence of `needle` in `text`, each reported with its line.
std::vector<std::string> hits(const std::string& text, const std::string& needle) {
  std::vector<std::string> out;
  for (std::size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
    const auto begin = text.rfind('\n', at);
    const auto end = text.find('\n', at);
    std::string line = text.substr(begin == std::string::npos ? 0 : begin + 1,
                                   (end == std::string::npos ? text.size() : end) -
                                       (begin == std::string::npos ? 0 : begin + 1));
    if (line.size() > 400) line = "…" + text.substr(at < 150 ? 0 : at - 150, 300 + needle.size()) + "…";
    out.push_back(line);
  }
  return out;
}

class LeakTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { collected_ = new Collected(run_leak_scenarios()); }
  static void TearDownTestSuite() {
    delete collected_;
    collected_ = nullptr;
  }
  void SetUp() override {
    std::string why;
    for (const auto& f : collected_->failures) why += "\n  " + f;
    ASSERT_TRUE(collected_->failures.empty()) << "the scenario run failed:" << why;
  }

  // Searches one source for every needle of the run.
  static void expect_clean(const std::string& source) {
    const auto it = collected_->sources.find(source);
    ASSERT_NE(it, collected_->sources.end()) << source;
    const std::string& text = it->second;
    std::vector<std::pair<std::string, std::string>> needles;  // what, needle
    for (const auto& pan : collected_->pans) {
      needles.emplace_back("card number", pan);
      needles.emplace_back("card number (spaced)", grouped(pan, ' '));
      needles.emplace_back("card number (dashed)", grouped(pan, '-'));
    }
    for (const auto& cvv : collected_->cvvs) needles.emplace_back("CVV", "\"" + cvv + "\"");
    for (const auto& p : collected_->people) needles.emplace_back("name or e-mail", p);
    for (const auto& s : collected_->secrets) needles.emplace_back("secret", s);
    for (const auto& [what, needle] : needles) {
      for (const auto& line : hits(text, needle)) {
        ADD_FAILURE() << what << " '" << needle << "' found in " << source << ":\n  " << line;
      }
    }
  }
  static Collected* collected_;
};
Collected* LeakTest::collected_ = nullptr;

TEST_F(LeakTest, TheRunReachedEverySink) {
  // The scan means something only if the sinks saw these requests.
  const auto& s = collected_->sources;
  EXPECT_GE(collected_->pans.size(), 20u);
  for (const auto& id : collected_->request_ids) {
    EXPECT_NE(s.at("tokenizer stdout").find("\"request_id\":\"" + id + "\""), std::string::npos)
        << "no log line for " << id;
    EXPECT_NE(s.at("agent spans").find("\"request_id\":\"" + id + "\""), std::string::npos)
        << "no span for " << id;
  }
  EXPECT_NE(s.at("tokenizer /metrics").find("tokenizer_tokenizations_total"), std::string::npos);
  EXPECT_NE(s.at("upstream-sim /metrics").find("# TYPE"), std::string::npos);
  // First six and last four are the allowed parts, and the client does get them.
  // The computed card numbers really went through: the vault saw them and echoed their ends.
  const std::string& replies = s.at("replies to clients");
  for (const auto& pan : {collected_->pans[0], collected_->pans[2]}) {  // the Visa and the Amex
    EXPECT_NE(replies.find("\"first_six\":\"" + pan.substr(0, 6) + "\""), std::string::npos) << pan;
    EXPECT_NE(replies.find("\"last_four\":\"" + pan.substr(pan.size() - 4) + "\""), std::string::npos) << pan;
  }
}

TEST_F(LeakTest, NothingInTheTokenizerLogs) {
  expect_clean("tokenizer stdout");
  expect_clean("tokenizer stderr");
}

TEST_F(LeakTest, NothingInTheExportedSpans) {
  expect_clean("agent spans");
  expect_clean("agent intake requests");
}

TEST_F(LeakTest, NothingInTheMetrics) {
  expect_clean("tokenizer /metrics");
  expect_clean("upstream-sim /metrics");
}

TEST_F(LeakTest, NothingInTheVaultSimulatorOutput) {
  expect_clean("upstream-sim stdout");
  expect_clean("upstream-sim stderr");
  expect_clean("upstream-sim request log");
}

TEST_F(LeakTest, NothingInTheRepliesButFirstSixAndLastFour) { expect_clean("replies to clients"); }

TEST(SecretLeak, HelpPrintsNoSecretFromTheEnvironment) {
  ChildProcess p(TOKENIZER_BIN, {"--help"},
                 {{"TOKENIZER_UPSTREAM_SECRET", kLeakVaultSecret},
                  {"TOKENIZER_BASIC_AUTH", std::string(kLeakClientUser) + ":" + kLeakClientPassword},
                  {"TOKENIZER_IDEMPOTENCY_SECRET", kLeakIdempotencySecret}});
  const auto status = p.wait_exit(seconds(10));
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(*status, 0);
  const std::string out = p.stdout_text() + p.stderr_text();
  ASSERT_NE(out.find("--upstream-secret"), std::string::npos) << "no help printed: " << out;
  for (const std::string secret : {kLeakVaultSecret, kLeakClientPassword, kLeakIdempotencySecret}) {
    EXPECT_EQ(out.find(secret), std::string::npos) << "--help prints " << secret << ":\n" << out;
  }
}

TEST(SecretLeak, StartupConfigLineRedactsSecretsGivenAsFlags) {
  ChildProcess sim(UPSTREAM_SIM_BIN, {"--listen", "127.0.0.1:0", "--environment-key", kLeakVaultKey,
                                      "--access-secret", kLeakVaultSecret});
  ASSERT_TRUE(sim.wait_for_port());
  ChildProcess tk(TOKENIZER_BIN,
                  {"--listen", "127.0.0.1:0", "--upstream-url", sim.base_url(), "--upstream-key",
                   kLeakVaultKey, "--upstream-secret", kLeakVaultSecret, "--basic-auth",
                   std::string(kLeakClientUser) + ":" + kLeakClientPassword, "--idempotency-secret",
                   kLeakIdempotencySecret},
                  {{"DD_TRACE_AGENT_URL", "http://127.0.0.1:9"}});
  ASSERT_TRUE(tk.wait_for_port()) << tk.stderr_text();
  tk.signal(SIGTERM);
  ASSERT_TRUE(tk.wait_exit(seconds(15)).has_value());
  const std::string out = tk.stdout_text() + tk.stderr_text();
  EXPECT_NE(out.find("\"upstream_secret\""), std::string::npos) << "no startup config line: " << out;
  for (const std::string secret : {kLeakVaultSecret, kLeakClientPassword, kLeakIdempotencySecret}) {
    EXPECT_EQ(out.find(secret), std::string::npos) << "startup output prints " << secret << ":\n" << out;
  }
}

}  // namespace
}  // namespace tokenizer::testing
