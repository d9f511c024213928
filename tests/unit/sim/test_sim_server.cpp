// In-process tests of the real server: SimServer on 127.0.0.1:0, driven with libcurl.
#include "sim/sim_server.h"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "fake_clock.h"
#include "fake_random.h"

namespace tokenizer {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;

const std::string kCard =
    R"({"payment_method": {"credit_card": {"first_name": "Ada", "last_name": "Lovelace",
  "number": "4111111111111111", "verification_value": "123", "month": "12", "year": "2031"},
  "retained": true}})";

std::string card_body(const std::string& number) {
  std::string body = kCard;
  body.replace(body.find("4111111111111111"), 16, number);
  return body;
}

struct Reply {
  CURLcode code = CURLE_OK;
  long status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // lowercased names
  long new_connections = 0;
  double seconds = 0;

  std::string header(const std::string& lowercase_name) const {
    auto it = headers.find(lowercase_name);
    return it == headers.end() ? "" : it->second;
  }
};

size_t collect_body(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

size_t collect_header(char* data, size_t size, size_t n, void* out) {
  std::string line(data, size * n);
  const auto colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ')) value.erase(0, 1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n')) value.pop_back();
    (*static_cast<std::map<std::string, std::string>*>(out))[name] = value;
  }
  return size * n;
}

// One libcurl easy handle (so connections are reused between calls).
class Client {
 public:
  Client() : easy_(curl_easy_init()) {}
  ~Client() { curl_easy_cleanup(easy_); }

  Reply call(const std::string& method, const std::string& url, const std::string& body = "",
             std::vector<std::string> headers = {}, long timeout_ms = 10000, bool fresh = false) {
    Reply reply;
    curl_easy_reset(easy_);
    curl_easy_setopt(easy_, CURLOPT_URL, url.c_str());
    curl_easy_setopt(easy_, CURLOPT_CUSTOMREQUEST, method.c_str());
    if (method == "POST" || !body.empty()) {
      curl_easy_setopt(easy_, CURLOPT_POSTFIELDS, body.c_str());
      curl_easy_setopt(easy_, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
    }
    curl_slist* list = nullptr;
    headers.push_back("Expect:");
    for (const auto& h : headers) list = curl_slist_append(list, h.c_str());
    curl_easy_setopt(easy_, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(easy_, CURLOPT_WRITEFUNCTION, collect_body);
    curl_easy_setopt(easy_, CURLOPT_WRITEDATA, &reply.body);
    curl_easy_setopt(easy_, CURLOPT_HEADERFUNCTION, collect_header);
    curl_easy_setopt(easy_, CURLOPT_HEADERDATA, &reply.headers);
    curl_easy_setopt(easy_, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(easy_, CURLOPT_NOSIGNAL, 1L);
    // libcurl silently resends a request once when a *reused* connection dies before any
    // reply; a fresh connection makes the server see each reset request exactly once.
    if (fresh) curl_easy_setopt(easy_, CURLOPT_FRESH_CONNECT, 1L);
    if (!ca_file_.empty()) curl_easy_setopt(easy_, CURLOPT_CAINFO, ca_file_.c_str());
    reply.code = curl_easy_perform(easy_);
    curl_easy_getinfo(easy_, CURLINFO_RESPONSE_CODE, &reply.status);
    curl_easy_getinfo(easy_, CURLINFO_NUM_CONNECTS, &reply.new_connections);
    curl_easy_getinfo(easy_, CURLINFO_TOTAL_TIME, &reply.seconds);
    curl_slist_free_all(list);
    return reply;
  }

  void trust(const std::string& ca_file) { ca_file_ = ca_file; }

 private:
  CURL* easy_;
  std::string ca_file_;
};

const std::vector<std::string> kAuth = {"Authorization: Basic ZGVtby1rZXk6ZGVtby1zZWNyZXQ=",
                                        "Content-Type: application/json"};

class SimServerTest : public ::testing::Test {
 protected:
  void SetUp() override { start(SimServerOptions{}); }

  void start(SimServerOptions options) {
    options.host = "127.0.0.1";
    options.port = 0;
    server_ = std::make_unique<SimServer>(options, engine_, SystemClock::instance());
    auto started = server_->start();
    ASSERT_TRUE(started.has_value()) << started.error().message;
    ASSERT_NE(server_->port(), 0);
    base_ = std::string(server_->tls() ? "https" : "http") +
            "://127.0.0.1:" + std::to_string(server_->port());
  }

  Reply create(const std::string& body = kCard, std::vector<std::string> extra = {},
               long timeout_ms = 10000, bool fresh = false) {
    auto headers = kAuth;
    headers.insert(headers.end(), extra.begin(), extra.end());
    return client_.call("POST", base_ + "/v1/payment_methods.json", body, headers, timeout_ms,
                        fresh);
  }

  void set_faults(const std::string& faults) {
    const Reply reply = client_.call("POST", base_ + "/__sim/faults", faults);
    ASSERT_EQ(reply.status, 200) << reply.body;
  }

  testing::FakeClock clock_;  // wall time for card expiry only: 2026-11-23
  testing::FakeRandom random_{{testing::FakeRandom::unit(0.25), testing::FakeRandom::unit(0.75)}};
  SimEngine engine_{SimCredentials{"demo-key", "demo-secret"}, clock_, random_};
  std::unique_ptr<SimServer> server_;
  std::string base_;
  Client client_;
};

TEST_F(SimServerTest, CreateAnswers201WithTheVaultShape) {
  const Reply reply = create(kCard, {"X-Request-Id: test-123"});
  ASSERT_EQ(reply.code, CURLE_OK);
  EXPECT_EQ(reply.status, 201);
  EXPECT_EQ(reply.header("content-type"), "application/json");
  EXPECT_EQ(reply.header("x-request-id"), "test-123");
  EXPECT_EQ(reply.header("connection"), "Keep-Alive");
  const json doc = json::parse(reply.body);
  const auto& pm = doc["transaction"]["payment_method"];
  EXPECT_EQ(pm["token"].get<std::string>().size(), 26u);
  EXPECT_EQ(pm["card_type"], "visa");
  EXPECT_EQ(pm["first_six_digits"], "411111");
  EXPECT_EQ(pm["last_four_digits"], "1111");
  EXPECT_EQ(pm["number"], "XXXX-XXXX-XXXX-1111");
  EXPECT_EQ(pm["month"], 12);
  EXPECT_EQ(pm["year"], 2031);
  EXPECT_EQ(pm["storage_state"], "retained");
  EXPECT_EQ(reply.body.find("4111111111111111"), std::string::npos);
}

TEST_F(SimServerTest, KeepAliveReusesTheConnectionUnlessTheClientCloses) {
  EXPECT_EQ(create().new_connections, 1);
  EXPECT_EQ(create().new_connections, 0);
  const Reply closing = create(kCard, {"Connection: close"});
  EXPECT_EQ(closing.header("connection"), "Close");
}

TEST_F(SimServerTest, WrongCredentialsAre401) {
  const Reply reply = client_.call("POST", base_ + "/v1/payment_methods.json", kCard,
                                   {"Authorization: Basic ZGVtby1rZXk6bm9wZQ=="});
  EXPECT_EQ(reply.status, 401);
  EXPECT_EQ(json::parse(reply.body)["errors"][0]["key"], "errors.access_denied");
  EXPECT_EQ(reply.header("www-authenticate"), "Basic realm=\"upstream-sim\"");
}

TEST_F(SimServerTest, InvalidCardsAre422WithEveryError) {
  const Reply reply =
      create(R"({"payment_method": {"credit_card": {"number": "4111111111111112", "month": "13",)"
             R"( "year": "2031"}}})");
  EXPECT_EQ(reply.status, 422);
  const json doc = json::parse(reply.body);
  ASSERT_EQ(doc["errors"].size(), 4u);
  EXPECT_EQ(doc["errors"][0]["attribute"], "first_name");
  EXPECT_EQ(doc["errors"][2]["attribute"], "number");
  EXPECT_EQ(doc["errors"][3]["attribute"], "month");
}

TEST_F(SimServerTest, TestCardsAnswerTheirFixedStatus) {
  EXPECT_EQ(create(card_body("4000000000000002")).status, 422);
  EXPECT_EQ(create(card_body("4000000000000069")).status, 402);
  EXPECT_EQ(create(card_body("4000000000000119")).status, 500);
  const Reply unavailable = create(card_body("4000000000009995"));
  EXPECT_EQ(unavailable.status, 503);
  EXPECT_EQ(unavailable.header("retry-after"), "1");
  const Reply cards = client_.call("GET", base_ + "/__sim/cards");
  EXPECT_EQ(json::parse(cards.body)["cards"].size(), 6u);
}

TEST_F(SimServerTest, StatusFaultWithRetryAfterUntilDeleted) {
  set_faults(R"({"status": 503, "retry_after": 2})");
  const Reply reply = create(kCard, {"X-Request-Id: fault-1"});
  EXPECT_EQ(reply.status, 503);
  EXPECT_EQ(reply.header("retry-after"), "2");
  EXPECT_EQ(reply.header("x-request-id"), "fault-1");
  EXPECT_EQ(json::parse(reply.body)["errors"][0]["key"], "errors.service_unavailable");
  EXPECT_EQ(client_.call("DELETE", base_ + "/__sim/faults").status, 200);
  EXPECT_EQ(create().status, 201);
}

TEST_F(SimServerTest, InvalidFaultsAre400AndChangeNothing) {
  set_faults(R"({"latency_ms": 1})");
  const Reply reply = client_.call("POST", base_ + "/__sim/faults", R"({"mode": "explode"})");
  EXPECT_EQ(reply.status, 400);
  EXPECT_EQ(json::parse(reply.body)["errors"][0]["key"], "errors.invalid_faults");
  EXPECT_EQ(engine_.faults().latency, milliseconds(1));
}

TEST_F(SimServerTest, ResetClosesTheConnectionWithoutAReply) {
  set_faults(R"({"mode": "reset"})");
  Reply reply = create(kCard, {}, 10000, /*fresh=*/true);
  EXPECT_EQ(reply.code, CURLE_RECV_ERROR) << curl_easy_strerror(reply.code);  // ECONNRESET
  EXPECT_EQ(reply.status, 0);
  set_faults(R"({"mode": "reset", "latency_ms": 100})");
  reply = create(kCard, {}, 10000, /*fresh=*/true);
  EXPECT_EQ(reply.code, CURLE_RECV_ERROR) << curl_easy_strerror(reply.code);
  EXPECT_GE(reply.seconds, 0.1);
  EXPECT_EQ(engine_.stats().count_for(kOutcomeReset), 2u);
  client_.call("DELETE", base_ + "/__sim/faults");
  EXPECT_EQ(create().status, 201);
}

TEST_F(SimServerTest, GarbageIs201WithABodyThatIsNotJson) {
  set_faults(R"({"mode": "garbage"})");
  const Reply reply = create();
  EXPECT_EQ(reply.status, 201);
  EXPECT_TRUE(json::parse(reply.body, nullptr, false).is_discarded());
}

TEST_F(SimServerTest, HangHoldsTheRequestWithoutBlockingOthers) {
  set_faults(R"({"mode": "hang"})");
  const Reply hung = create(kCard, {}, 300);
  EXPECT_EQ(hung.code, CURLE_OPERATION_TIMEDOUT);
  EXPECT_EQ(engine_.stats().count_for(kOutcomeHang), 1u);
  // The server still answers while the request is held.
  EXPECT_EQ(client_.call("GET", base_ + "/__sim/stats").status, 200);
  client_.call("DELETE", base_ + "/__sim/faults");
  EXPECT_EQ(create().status, 201);
}

TEST_F(SimServerTest, HungRequestsAreResetAtTheCap) {
  server_.reset();
  SimServerOptions options;
  options.hang_cap = milliseconds(300);
  start(options);
  const Reply reply = create(card_body("4000000000000101"));  // the hang test card
  EXPECT_EQ(reply.code, CURLE_RECV_ERROR) << curl_easy_strerror(reply.code);
  EXPECT_GE(reply.seconds, 0.3);
}

TEST_F(SimServerTest, ErrorRateUsesTheInjectedRandom) {
  set_faults(R"({"status": 500, "error_rate": 0.5})");
  std::vector<long> statuses;
  for (int i = 0; i < 4; ++i) statuses.push_back(create().status);
  EXPECT_EQ(statuses, (std::vector<long>{500, 201, 500, 201}));  // draws 0.25, 0.75, ...
}

// 20 requests at 200 ms latency over 2 server threads: a server that parked a thread per
// held reply would have received at most 2 of them when the first reply arrives.
TEST_F(SimServerTest, LatencyIsHonouredWithoutBlockingServerThreads) {
  set_faults(R"({"latency_ms": 200})");
  const auto before = engine_.stats().requests();
  constexpr int kRequests = 20;
  CURLM* multi = curl_multi_init();
  std::vector<CURL*> easies;
  std::vector<std::string> bodies(kRequests);
  curl_slist* headers = nullptr;
  for (const auto& h : kAuth) headers = curl_slist_append(headers, h.c_str());
  const std::string url = base_ + "/v1/payment_methods.json";
  for (int i = 0; i < kRequests; ++i) {
    CURL* easy = curl_easy_init();
    curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, kCard.c_str());
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, collect_body);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, &bodies[i]);
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, 20000L);
    curl_multi_add_handle(multi, easy);
    easies.push_back(easy);
  }
  int running = 0;
  int done = 0;
  std::uint64_t received_at_first_reply = 0;
  do {
    curl_multi_perform(multi, &running);
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi, &left)) {
      if (msg->msg != CURLMSG_DONE) continue;
      if (done++ == 0) received_at_first_reply = engine_.stats().requests() - before;
      EXPECT_EQ(msg->data.result, CURLE_OK);
      long status = 0;
      double seconds = 0;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
      curl_easy_getinfo(msg->easy_handle, CURLINFO_TOTAL_TIME, &seconds);
      EXPECT_EQ(status, 201);
      EXPECT_GE(seconds, 0.2);  // the latency is honoured
    }
    if (running > 0) curl_multi_poll(multi, nullptr, 0, 100, nullptr);
  } while (running > 0);
  EXPECT_EQ(done, kRequests);
  EXPECT_EQ(received_at_first_reply, static_cast<std::uint64_t>(kRequests));
  for (CURL* easy : easies) {
    curl_multi_remove_handle(multi, easy);
    curl_easy_cleanup(easy);
  }
  curl_slist_free_all(headers);
  curl_multi_cleanup(multi);
}

TEST_F(SimServerTest, StatsRequestsAndMetricsEndpoints) {
  create(kCard, {"X-Request-Id: first"});
  create(kCard, {"X-Request-Id: second",
                 "traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"});
  const json stats = json::parse(client_.call("GET", base_ + "/__sim/stats").body);
  EXPECT_EQ(stats["requests"], 2);
  EXPECT_EQ(stats["by_status"]["201"], 2);
  EXPECT_EQ(stats["faults_injected"], 0);

  const json requests =
      json::parse(client_.call("GET", base_ + "/__sim/requests").body)["requests"];
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0]["headers"]["x-request-id"], "first");
  EXPECT_EQ(requests[1]["headers"]["x-request-id"], "second");  // newest last
  EXPECT_EQ(requests[1]["headers"]["traceparent"].get<std::string>().substr(0, 3), "00-");
  EXPECT_EQ(requests[1]["headers"]["authorization"], "Basic [redacted]");
  EXPECT_EQ(requests[1]["method"], "POST");
  EXPECT_EQ(requests[1]["path"], "/v1/payment_methods.json");
  EXPECT_FALSE(requests[1].contains("body"));

  const Reply metrics = client_.call("GET", base_ + "/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.header("content-type").find("text/plain"), std::string::npos);
  EXPECT_NE(metrics.body.find("upstream_sim_requests_total{status=\"201\"} 2"), std::string::npos);
  EXPECT_EQ(client_.call("GET", base_ + "/nowhere").status, 404);
}

// --- TLS: a throwaway self-signed certificate for 127.0.0.1, made with OpenSSL at test time.

struct TempDir {
  TempDir() {
    char pattern[] = "/tmp/test_sim_tls.XXXXXX";
    path = ::mkdtemp(pattern);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string path;
};

bool write_self_signed(const std::string& cert_path, const std::string& key_path) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* cert = X509_new();
  bool ok = key != nullptr && cert != nullptr;
  if (ok) {
    X509_set_version(cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert), -60);
    X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
    X509_set_pubkey(cert, key);
    X509_NAME* name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("127.0.0.1"), -1, -1, 0);
    X509_set_issuer_name(cert, name);
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
    for (const auto& [nid, value] :
         {std::pair<int, const char*>{NID_subject_alt_name, "IP:127.0.0.1"},
          {NID_basic_constraints, "critical,CA:TRUE"}}) {
      X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
      ok = ok && ext != nullptr && X509_add_ext(cert, ext, -1) == 1;
      X509_EXTENSION_free(ext);
    }
    ok = ok && X509_sign(cert, key, EVP_sha256()) > 0;
  }
  if (ok) {
    FILE* f = std::fopen(cert_path.c_str(), "w");
    ok = f != nullptr && PEM_write_X509(f, cert) == 1;
    if (f) std::fclose(f);
    f = std::fopen(key_path.c_str(), "w");
    ok = ok && f != nullptr &&
         PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr) == 1;
    if (f) std::fclose(f);
  }
  X509_free(cert);
  EVP_PKEY_free(key);
  return ok;
}

TEST_F(SimServerTest, ServesHttpsWithTheGivenCertificate) {
  TempDir dir;
  const std::string cert = dir.path + "/cert.pem", key = dir.path + "/key.pem";
  ASSERT_TRUE(write_self_signed(cert, key));
  server_.reset();
  SimServerOptions options;
  options.tls_cert = cert;
  options.tls_key = key;
  start(options);
  ASSERT_EQ(base_.substr(0, 8), "https://");
  client_.trust(cert);
  const Reply reply = create(kCard, {"X-Request-Id: tls-1"});
  EXPECT_EQ(reply.code, CURLE_OK) << curl_easy_strerror(reply.code);
  EXPECT_EQ(reply.status, 201);
  EXPECT_EQ(reply.header("x-request-id"), "tls-1");
  EXPECT_EQ(create().new_connections, 0);  // keep-alive over TLS too

  Client untrusting;  // system CAs only: the self-signed certificate must be refused
  const Reply refused = untrusting.call("GET", base_ + "/healthz");
  EXPECT_NE(refused.code, CURLE_OK);
}

TEST(SimServerStart, BadTlsFilesFailToStart) {
  testing::FakeClock clock;
  testing::FakeRandom random;
  SimEngine engine(SimCredentials{"k", "s"}, clock, random);
  SimServerOptions options;
  options.port = 0;
  options.tls_cert = "/nonexistent/cert.pem";
  options.tls_key = "/nonexistent/key.pem";
  SimServer server(options, engine, SystemClock::instance());
  auto started = server.start();
  ASSERT_FALSE(started.has_value());
  EXPECT_EQ(started.error().code, "tls_failed");
}

}  // namespace
}  // namespace tokenizer
