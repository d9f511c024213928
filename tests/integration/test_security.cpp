// Integration (issue 8): hashed client credentials, throttling of failed logins and of
// clients, and TLS verified in both directions with a throwaway CA made at test time.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <thread>

#include "support/service.h"

namespace tokenizer::testing {
namespace {

using nlohmann::json;

std::string bin_dir() {
  const std::string b = TOKENIZER_BIN;
  return b.substr(0, b.rfind('/'));
}

int sh(const std::string& cmd) { return std::system((cmd + " >/dev/null 2>&1").c_str()); }

TEST(Security, HashedCredentialsFromAFile) {
  const std::string dir = make_temp_dir("tk-auth");
  const std::string file = dir + "/clients";
  ASSERT_EQ(std::system(("echo 'a-long-client-password' | " + bin_dir() +
                         "/tokenizer-passwd shop > " + file)
                            .c_str()),
            0);
  std::ifstream in(file);
  std::string line;
  std::getline(in, line);
  ASSERT_EQ(line.rfind("shop:pbkdf2-sha256$", 0), 0u) << line;

  ServiceOptions o;
  o.tokenizer_args = {"--basic-auth", "", "--basic-auth-file", file};
  ServiceUnderTest s(o);
  ASSERT_TRUE(s.ok()) << s.tokenizer().stderr_text();
  HttpCall call = tokenize_call(s.url("/api/v1/payment_methods/tokenize"), card_body(), {});
  call.basic_user = "shop";
  call.basic_password = "a-long-client-password";
  EXPECT_EQ(http_request(call).status, 200);
  EXPECT_EQ(http_request(call).status, 200);
  call.basic_password = "a-long-client-passworD";
  EXPECT_EQ(http_request(call).status, 401);
  // No plain-text warning when only hashes are configured.
  EXPECT_EQ(s.tokenizer().stdout_text().find("plain-text client passwords"), std::string::npos);
}

TEST(Security, PlainTextCredentialsWarnAtStartup) {
  ServiceUnderTest s;
  ASSERT_TRUE(s.ok());
  EXPECT_NE(s.tokenizer().stdout_text().find("plain-text client passwords"), std::string::npos);
}

TEST(Security, HundredWrongPasswordsFromOneAddressAreThrottled) {
  ServiceUnderTest s;
  ASSERT_TRUE(s.ok());
  CurlSession session;
  HttpCall call = tokenize_call(s.url("/api/v1/payment_methods/tokenize"), card_body(), {});
  call.basic_password = "guess";
  int unauthorized = 0, throttled = 0;
  for (int i = 0; i < 100; ++i) {
    const auto r = session.perform(call);
    if (r.status == 401) ++unauthorized;
    if (r.status == 429) {
      ++throttled;
      EXPECT_EQ(json::parse(r.body)["code"], "rate_limited");
      EXPECT_EQ(r.headers.count("retry-after"), 1u);
    }
  }
  EXPECT_GE(throttled, 80);
  EXPECT_LE(unauthorized, 20);
  // The right password from that address is throttled too until the bucket refills: the
  // limiter protects the password, not the session.
  call.basic_password = kClientPassword;
  EXPECT_EQ(session.perform(call).status, 429);
}

TEST(Security, ClientRateLimit) {
  ServiceUnderTest s(with_args({"--client-rate-limit", "1", "--client-rate-burst", "5"}));
  ASSERT_TRUE(s.ok());
  CurlSession session;
  int ok = 0, limited = 0;
  for (int i = 0; i < 20; ++i) {
    const auto r = s.tokenize(session, card_body());
    if (r.status == 200) ++ok;
    if (r.status == 429) ++limited;
  }
  EXPECT_GE(ok, 5);
  EXPECT_LE(ok, 7);
  EXPECT_EQ(ok + limited, 20);
  HttpCall m;
  m.url = s.url("/metrics");
  EXPECT_NE(http_request(m).body.find("tokenizer_rate_limited_total{kind=\"client\"}"),
            std::string::npos);
}

// A throwaway PKI: a CA, and server certificates signed by it for the right host, a wrong
// host, and one that expired; plus an unrelated CA.
struct Pki {
  std::string dir;
  bool ok = false;
  Pki() {
    dir = make_temp_dir("tk-pki");
    const std::string d = dir;
    std::ofstream(d + "/ca.cnf") << "[ca]\ndefault_ca=ca\n[ca]\ndir=" << d
                                 << "\ndatabase=" << d << "/index.txt\nserial=" << d
                                 << "/serial\nnew_certs_dir=" << d
                                 << "\ncertificate=" << d << "/ca.pem\nprivate_key=" << d
                                 << "/ca.key\ndefault_md=sha256\npolicy=any\ncopy_extensions=copy\n"
                                    "[any]\ncommonName=supplied\n";
    std::ofstream(d + "/index.txt");
    std::ofstream(d + "/serial") << "1000\n";
    ok = sh("cd " + d +
            " && openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2"
            " -subj /CN=test-ca") == 0 &&
         sh("cd " + d +
            " && openssl req -x509 -newkey rsa:2048 -nodes -keyout other-ca.key -out other-ca.pem"
            " -days 2 -subj /CN=other-ca") == 0 &&
         make("good", "subjectAltName=IP:127.0.0.1,DNS:localhost", "") &&
         make("wronghost", "subjectAltName=DNS:vault.invalid", "") &&
         make("expired", "subjectAltName=IP:127.0.0.1,DNS:localhost",
              "-startdate 20200101000000Z -enddate 20200201000000Z");
  }
  bool make(const std::string& name, const std::string& san, const std::string& dates) {
    const std::string d = dir;
    return sh("cd " + d + " && openssl req -newkey rsa:2048 -nodes -keyout " + name +
              ".key -out " + name + ".csr -subj /CN=" + name + " -addext '" + san + "'") == 0 &&
           sh("cd " + d + " && openssl ca -batch -config ca.cnf -in " + name + ".csr -out " +
              name + ".pem " + (dates.empty() ? std::string("-days 2") : dates)) == 0;
  }
};

class Tls : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { pki_ = new Pki(); }
  static void TearDownTestSuite() { delete pki_; }
  void SetUp() override { ASSERT_TRUE(pki_->ok) << "openssl failed in " << pki_->dir; }

  // A TLS vault front (upstream-sim over HTTPS) with the named certificate.
  std::unique_ptr<ChildProcess> tls_vault(const std::string& cert) {
    auto p = std::make_unique<ChildProcess>(
        UPSTREAM_SIM_BIN,
        std::vector<std::string>{"--listen", "127.0.0.1:0", "--environment-key", kVaultKey,
                                 "--access-secret", kVaultSecret, "--tls-cert",
                                 pki_->dir + "/" + cert + ".pem", "--tls-key",
                                 pki_->dir + "/" + cert + ".key"});
    EXPECT_TRUE(p->wait_for_port());
    return p;
  }
  ServiceOptions to(const ChildProcess& vault, const std::string& host, const std::string& ca) {
    ServiceOptions o;
    o.start_sim = false;
    o.upstream_url = "https://" + host + ":" + std::to_string(vault.port());
    o.tokenizer_args = {"--upstream-ca-file", pki_->dir + "/" + ca};
    return o;
  }
  // The log is written by a background thread: poll it, with a deadline.
  static bool logged_tls_failure(ServiceUnderTest& s) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    do {
      for (const auto& line : s.log_lines()) {
        if (line.value("message", "") == "vault attempt failed" &&
            line.value("outcome", "") == "tls_error" && !line.value("detail", "").empty()) {
          return true;
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    } while (std::chrono::steady_clock::now() < deadline);
    ADD_FAILURE() << s.tokenizer().stdout_text();
    return false;
  }
  static Pki* pki_;
};
Pki* Tls::pki_ = nullptr;

TEST_F(Tls, GoodChainWorks) {
  auto vault = tls_vault("good");
  ServiceUnderTest s(to(*vault, "localhost", "ca.pem"));
  ASSERT_TRUE(s.ok()) << s.tokenizer().stderr_text();
  const auto r = s.tokenize(card_body());
  EXPECT_EQ(r.status, 200) << r.body;
}

TEST_F(Tls, WrongCaFailsClosed) {
  auto vault = tls_vault("good");
  ServiceUnderTest s(to(*vault, "localhost", "other-ca.pem"));
  ASSERT_TRUE(s.ok());
  const auto r = s.tokenize(card_body());
  EXPECT_EQ(r.status, 502) << r.body;
  EXPECT_EQ(json::parse(r.body)["code"], "upstream_error");
  EXPECT_TRUE(logged_tls_failure(s));
}

TEST_F(Tls, WrongHostNameFailsClosed) {
  auto vault = tls_vault("wronghost");
  ServiceUnderTest s(to(*vault, "localhost", "ca.pem"));
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s.tokenize(card_body()).status, 502);
  EXPECT_TRUE(logged_tls_failure(s));
}

TEST_F(Tls, ExpiredCertificateFailsClosed) {
  auto vault = tls_vault("expired");
  ServiceUnderTest s(to(*vault, "localhost", "ca.pem"));
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s.tokenize(card_body()).status, 502);
  EXPECT_TRUE(logged_tls_failure(s));
}

TEST_F(Tls, TokenizerServesHttps) {
  ServiceUnderTest s(with_args({"--tls-cert", pki_->dir + "/good.pem", "--tls-key",
                                pki_->dir + "/good.key"}));
  ASSERT_TRUE(s.ok()) << s.tokenizer().stderr_text();
  HttpCall call = tokenize_call("https://localhost:" + std::to_string(s.tokenizer().port()) +
                                    "/api/v1/payment_methods/tokenize",
                                card_body(), {});
  call.ca_file = pki_->dir + "/ca.pem";
  const auto r = http_request(call);
  EXPECT_EQ(r.status, 200) << r.error << r.body;
  call.ca_file = pki_->dir + "/other-ca.pem";
  EXPECT_EQ(http_request(call).status, 0);  // the client refuses an untrusted server
}

}  // namespace
}  // namespace tokenizer::testing
