// CurlTransport against real sockets on 127.0.0.1 (servers in loopback_server.h).
// Waiting uses futures and condition variables with generous deadlines, never sleeps.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "loopback_server.h"
#include "scoped_env.h"
#include "test_certificate.h"
#include "upstream/curl_transport.h"
#include "upstream/vault_client.h"

namespace tokenizer {
namespace {

using namespace std::chrono_literals;
using testing::LoopbackServer;
using testing::ScopedEnv;

constexpr auto kDeadline = 10s;  // generous: only reached when something is broken

HttpRequest post(const std::string& url, std::chrono::milliseconds timeout = 2000ms) {
  HttpRequest r;
  r.method = "POST";
  r.url = url;
  r.body = R"({"hello":"world"})";
  r.headers = {{"Content-Type", "application/json"}};
  r.timeout = timeout;
  return r;
}

// Sends one request and waits for its result (fails the test past the deadline).
HttpResult send_and_wait(CurlTransport& transport, HttpRequest request) {
  auto promise = std::make_shared<std::promise<HttpResult>>();
  auto future = promise->get_future();
  transport.send(std::move(request), [promise](HttpResult r) { promise->set_value(std::move(r)); });
  if (future.wait_for(kDeadline) != std::future_status::ready) {
    ADD_FAILURE() << "no completion within the deadline";
    return HttpResult{};
  }
  return future.get();
}

LoopbackServer::Options reply(int status, std::string body) {
  LoopbackServer::Options o;
  o.mode = LoopbackServer::Mode::reply;
  o.status = status;
  o.body = std::move(body);
  return o;
}

LoopbackServer::Options mode(LoopbackServer::Mode m) {
  LoopbackServer::Options o;
  o.mode = m;
  return o;
}

TEST(CurlTransport, DeliversA201WithLowercasedHeadersAndSendsHttp11WithoutExpect) {
  LoopbackServer server(reply(201, R"({"ok":true})"));
  CurlTransport transport(CurlTransportConfig{});
  HttpRequest request = post(server.url());
  request.headers.emplace_back("X-Trace-Id", "abc123");
  const HttpResult result = send_and_wait(transport, request);

  ASSERT_TRUE(result.response.has_value()) << result.error.message;
  EXPECT_EQ(result.response->status, 201);
  EXPECT_EQ(result.response->body, R"({"ok":true})");
  EXPECT_EQ(result.response->headers.at("x-test-header"), "Mixed-Case Value");
  EXPECT_EQ(result.response->headers.at("content-type"), "application/json");
  EXPECT_EQ(result.response->headers.count("X-Test-Header"), 0u);
  EXPECT_GT(result.elapsed.count(), 0);

  const auto heads = server.heads();
  ASSERT_EQ(heads.size(), 1u);
  EXPECT_EQ(heads[0].rfind("POST /v1/payment_methods.json HTTP/1.1\r\n", 0), 0u) << heads[0];
  EXPECT_NE(heads[0].find("\r\nX-Trace-Id: abc123"), std::string::npos);
  EXPECT_EQ(heads[0].find("Expect:"), std::string::npos);
  EXPECT_EQ(server.bodies().at(0), R"({"hello":"world"})");
  EXPECT_EQ(transport.in_flight(), 0u);
  EXPECT_EQ(transport.completed(), 1u);
}

TEST(CurlTransport, ReusesOneKeepAliveConnectionForSequentialRequests) {
  LoopbackServer server(reply(201, "{}"));
  CurlTransport transport(CurlTransportConfig{});
  for (int i = 0; i < 5; ++i) {
    const HttpResult result = send_and_wait(transport, post(server.url()));
    ASSERT_TRUE(result.response.has_value()) << result.error.message;
    EXPECT_EQ(result.response->status, 201);
  }
  EXPECT_EQ(server.heads().size(), 5u);
  EXPECT_EQ(server.connections_accepted(), 1u);
  EXPECT_EQ(transport.connections_opened(), 1u);
}

TEST(CurlTransport, ConnectionRefusedIsConnectFailedAndNotSent) {
  // A bound socket that does not listen: connecting to it is refused, and holding it keeps
  // the port from being reused while the test runs.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const std::string url = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/";

  CurlTransport transport(CurlTransportConfig{});
  const HttpResult result = send_and_wait(transport, post(url));
  ::close(fd);

  ASSERT_FALSE(result.response.has_value());
  EXPECT_EQ(result.error.kind, TransportError::Kind::connect_failed) << result.error.message;
  EXPECT_FALSE(result.error.request_sent);
  EXPECT_EQ(result.error.message.find("hello"), std::string::npos);  // no request data
}

TEST(CurlTransport, ServerClosingAfterReadingTheRequestIsResetAndSent) {
  LoopbackServer server(mode(LoopbackServer::Mode::close_after_request));
  CurlTransport transport(CurlTransportConfig{});
  const HttpResult result = send_and_wait(transport, post(server.url()));

  ASSERT_FALSE(result.response.has_value());
  EXPECT_EQ(result.error.kind, TransportError::Kind::reset) << result.error.message;
  EXPECT_TRUE(result.error.request_sent);
  EXPECT_EQ(server.heads().size(), 1u);
}

TEST(CurlTransport, SilentServerTimesOutWithinTheAttemptTimeout) {
  LoopbackServer server(mode(LoopbackServer::Mode::never_answer));
  CurlTransport transport(CurlTransportConfig{});
  const HttpResult result = send_and_wait(transport, post(server.url(), 200ms));

  ASSERT_FALSE(result.response.has_value());
  EXPECT_EQ(result.error.kind, TransportError::Kind::timeout) << result.error.message;
  EXPECT_TRUE(result.error.request_sent);
  EXPECT_GE(result.elapsed, 150ms);
  EXPECT_LT(result.elapsed, 2s);
}

TEST(CurlTransport, FiftyConcurrentRequestsAllComplete) {
  LoopbackServer server(reply(201, R"({"n":1})"));
  CurlTransport transport(CurlTransportConfig{});
  std::mutex mutex;
  std::condition_variable cv;
  int done = 0;
  int created = 0;
  constexpr int kRequests = 50;
  for (int i = 0; i < kRequests; ++i) {
    transport.send(post(server.url()), [&](HttpResult r) {
      std::lock_guard<std::mutex> lock(mutex);
      ++done;
      if (r.response && r.response->status == 201) ++created;
      cv.notify_all();
    });
  }
  std::unique_lock<std::mutex> lock(mutex);
  ASSERT_TRUE(cv.wait_for(lock, kDeadline, [&] { return done == kRequests; }));
  EXPECT_EQ(created, kRequests);
  EXPECT_EQ(server.heads().size(), static_cast<std::size_t>(kRequests));
  EXPECT_EQ(transport.in_flight(), 0u);
}

TEST(CurlTransport, ShutdownCancelsInFlightRequestsBeforeReturning) {
  LoopbackServer server(mode(LoopbackServer::Mode::never_answer));
  CurlTransport transport(CurlTransportConfig{});
  std::mutex mutex;
  std::vector<HttpResult> results;
  std::atomic<bool> shutdown_returned{false};
  std::atomic<int> late_callbacks{0};
  constexpr int kRequests = 5;
  for (int i = 0; i < kRequests; ++i) {
    transport.send(post(server.url(), 30000ms), [&](HttpResult r) {
      if (shutdown_returned) ++late_callbacks;
      std::lock_guard<std::mutex> lock(mutex);
      results.push_back(std::move(r));
    });
  }
  ASSERT_TRUE(server.wait_for_requests(kRequests, kDeadline));
  EXPECT_EQ(transport.in_flight(), static_cast<std::size_t>(kRequests));

  transport.shutdown();
  shutdown_returned = true;
  {
    std::lock_guard<std::mutex> lock(mutex);
    ASSERT_EQ(results.size(), static_cast<std::size_t>(kRequests));
    for (const auto& r : results) {
      ASSERT_FALSE(r.response.has_value());
      EXPECT_EQ(r.error.kind, TransportError::Kind::cancelled);
      EXPECT_TRUE(r.error.request_sent);
    }
  }
  EXPECT_EQ(transport.in_flight(), 0u);

  // A send after shutdown is cancelled at once (documented exception: on the caller's thread).
  bool cancelled_now = false;
  transport.send(post(server.url()), [&](HttpResult r) {
    cancelled_now = !r.response && r.error.kind == TransportError::Kind::cancelled &&
                    !r.error.request_sent;
  });
  EXPECT_TRUE(cancelled_now);
  transport.shutdown();  // idempotent
  EXPECT_EQ(late_callbacks.load(), 0);
}

// Sends `n` requests at once and waits for every callback; returns the results in
// completion order together with the name of the thread each callback ran on.
struct Completion {
  HttpResult result;
  std::thread::id thread;
  std::string thread_name;
};
std::vector<Completion> send_all_and_wait(CurlTransport& transport, const std::string& url, int n,
                                          std::chrono::milliseconds timeout = 2000ms) {
  std::mutex mutex;
  std::condition_variable cv;
  std::vector<Completion> done;
  for (int i = 0; i < n; ++i) {
    transport.send(post(url, timeout), [&](HttpResult r) {
      char name[16] = {};
      pthread_getname_np(pthread_self(), name, sizeof name);
      std::lock_guard<std::mutex> lock(mutex);
      done.push_back({std::move(r), std::this_thread::get_id(), name});
      cv.notify_all();
    });
  }
  std::unique_lock<std::mutex> lock(mutex);
  EXPECT_TRUE(cv.wait_for(lock, kDeadline, [&] { return done.size() == static_cast<std::size_t>(n); }));
  return done;
}

TEST(CurlTransport, SeveralLoopsShareTheRequestsAndRunCallbacksOnTheirOwnNamedThreads) {
  LoopbackServer server(reply(201, R"({"n":1})"));
  CurlTransportConfig config;
  config.loops = 3;
  CurlTransport transport(config);
  const auto done = send_all_and_wait(transport, server.url(), 30);

  ASSERT_EQ(done.size(), 30u);
  std::set<std::thread::id> threads;
  std::set<std::string> names;
  for (const auto& c : done) {
    ASSERT_TRUE(c.result.response.has_value()) << c.result.error.message;
    EXPECT_EQ(c.result.response->status, 201);
    EXPECT_NE(c.thread, std::this_thread::get_id());
    threads.insert(c.thread);
    names.insert(c.thread_name);
  }
  EXPECT_EQ(threads.size(), 3u);  // round-robin: every loop served some
  EXPECT_EQ(names, (std::set<std::string>{"tk-curl-0", "tk-curl-1", "tk-curl-2"}));
  EXPECT_EQ(server.heads().size(), 30u);
  EXPECT_EQ(transport.completed(), 30u);
  EXPECT_EQ(transport.in_flight(), 0u);
}

TEST(CurlTransport, SeveralLoopsSplitTheConnectionLimit) {
  // never_answer keeps every connection busy, so each transfer over a loop's limit waits
  // inside libcurl: with 4 connections in total over 2 loops, 10 requests open at most 4.
  LoopbackServer server(mode(LoopbackServer::Mode::never_answer));
  CurlTransportConfig config;
  config.loops = 2;
  config.max_total_connections = config.max_host_connections = config.max_idle_connections = 4;
  CurlTransport transport(config);
  std::atomic<int> cancelled{0};
  for (int i = 0; i < 10; ++i) {
    transport.send(post(server.url(), 30000ms), [&](HttpResult r) {
      if (!r.response && r.error.kind == TransportError::Kind::cancelled) ++cancelled;
    });
  }
  ASSERT_TRUE(server.wait_for_requests(4, kDeadline));
  EXPECT_EQ(transport.in_flight(), 10u);
  transport.shutdown();  // cancels the waiting and the in-flight transfers of both loops
  EXPECT_EQ(cancelled.load(), 10);
  EXPECT_EQ(server.connections_accepted(), 4u);
  EXPECT_EQ(server.heads().size(), 4u);
  EXPECT_EQ(transport.in_flight(), 0u);
}

TEST(CurlTransport, AReusedHandleCarriesNothingOfThePreviousRequest) {
  LoopbackServer server(reply(201, "{}"));
  CurlTransport transport(CurlTransportConfig{});
  HttpRequest first = post(server.url());
  first.headers.emplace_back("X-First-Only", "1");
  ASSERT_TRUE(send_and_wait(transport, first).response.has_value());
  HttpRequest second;
  second.method = "GET";
  second.url = server.url();
  const HttpResult result = send_and_wait(transport, second);
  ASSERT_TRUE(result.response.has_value()) << result.error.message;

  const auto heads = server.heads();
  ASSERT_EQ(heads.size(), 2u);
  EXPECT_NE(heads[0].find("X-First-Only: 1"), std::string::npos);
  EXPECT_EQ(heads[1].rfind("GET ", 0), 0u) << heads[1];
  EXPECT_EQ(heads[1].find("X-First-Only"), std::string::npos) << heads[1];
  EXPECT_EQ(heads[1].find("Content-Length"), std::string::npos) << heads[1];
  EXPECT_EQ(server.connections_accepted(), 1u);  // and the connection was reused
}

// POST handles are reused without curl_easy_reset: each POST must still carry exactly its
// own headers, body and length, and a POST after another method must still be a POST.
TEST(CurlTransport, ReusedPostHandlesCarryOnlyTheirOwnHeadersAndBody) {
  LoopbackServer server(reply(201, "{}"));
  CurlTransport transport(CurlTransportConfig{});
  HttpRequest first = post(server.url());
  first.headers.emplace_back("X-First-Only", "1");
  ASSERT_TRUE(send_and_wait(transport, first).response.has_value());
  HttpRequest second = post(server.url("/second"));
  second.body = R"({"second":true,"longer":"than the first"})";
  ASSERT_TRUE(send_and_wait(transport, second).response.has_value());
  HttpRequest get;
  get.method = "GET";
  get.url = server.url();
  ASSERT_TRUE(send_and_wait(transport, get).response.has_value());
  HttpRequest third = post(server.url("/third"));
  third.body = "{}";
  ASSERT_TRUE(send_and_wait(transport, third).response.has_value());

  const auto heads = server.heads();
  const auto bodies = server.bodies();
  ASSERT_EQ(heads.size(), 4u);
  EXPECT_NE(heads[0].find("X-First-Only: 1"), std::string::npos) << heads[0];
  EXPECT_EQ(heads[1].rfind("POST /second ", 0), 0u) << heads[1];
  EXPECT_EQ(heads[1].find("X-First-Only"), std::string::npos) << heads[1];
  EXPECT_NE(heads[1].find("Content-Length: " + std::to_string(second.body.size())),
            std::string::npos)
      << heads[1];
  EXPECT_EQ(heads[2].rfind("GET ", 0), 0u) << heads[2];
  EXPECT_EQ(heads[3].rfind("POST /third ", 0), 0u) << heads[3];
  EXPECT_NE(heads[3].find("Content-Length: 2"), std::string::npos) << heads[3];
  EXPECT_EQ(heads[3].find("X-First-Only"), std::string::npos) << heads[3];
  ASSERT_GE(bodies.size(), 3u);
  EXPECT_EQ(bodies.at(1), second.body);
  EXPECT_EQ(bodies.back(), "{}");
  EXPECT_EQ(server.connections_accepted(), 1u);
}

// libcurl 7.88 silently sends a POST again on a new connection when a reused one dies
// before any reply (PLATFORM-NOTES.md): the vault would create the card twice. The transfer
// must instead fail as a reset that may have been sent, and the POST arrive once.
TEST(CurlTransport, APostOnAReusedConnectionThatDiesIsNotSentAgain) {
  LoopbackServer server(mode(LoopbackServer::Mode::close_second_request));
  CurlTransport transport(CurlTransportConfig{});
  const HttpResult first = send_and_wait(transport, post(server.url()));
  ASSERT_TRUE(first.response.has_value()) << first.error.message;

  const HttpResult second = send_and_wait(transport, post(server.url("/second")));
  ASSERT_FALSE(second.response.has_value());
  EXPECT_EQ(second.error.kind, TransportError::Kind::reset) << second.error.message;
  EXPECT_TRUE(second.error.request_sent);
  // (libcurl may already have opened the new connection it wanted to resend on.)
  EXPECT_EQ(server.heads().size(), 2u) << "the POST reached the server more than once";

  // The transport carries on: the next POST opens a new connection.
  const HttpResult third = send_and_wait(transport, post(server.url()));
  ASSERT_TRUE(third.response.has_value()) << third.error.message;
}

TEST(CurlTransport, NonTlsPeerOnHttpsIsTlsErrorAndNotSent) {
  LoopbackServer server(mode(LoopbackServer::Mode::garbage_on_connect));
  CurlTransport transport(CurlTransportConfig{});
  const HttpResult result = send_and_wait(transport, post(server.url("/", "https")));

  ASSERT_FALSE(result.response.has_value());
  EXPECT_EQ(result.error.kind, TransportError::Kind::tls) << result.error.message;
  EXPECT_FALSE(result.error.request_sent);
}

TEST(CurlTransport, VerifiesTheServerCertificateAgainstTheConfiguredCa) {
  testing::TestCertificate cert("127.0.0.1", "IP:127.0.0.1");
  LoopbackServer::Options options = reply(201, "{}");
  options.tls = cert.server_context();
  LoopbackServer server(options);

  CurlTransport untrusting(CurlTransportConfig{});  // system CAs: our cert is unknown
  const HttpResult refused = send_and_wait(untrusting, post(server.url("/", "https")));
  ASSERT_FALSE(refused.response.has_value());
  EXPECT_EQ(refused.error.kind, TransportError::Kind::tls) << refused.error.message;
  EXPECT_FALSE(refused.error.request_sent);

  CurlTransportConfig config;
  config.ca_file = cert.ca_file();
  CurlTransport trusting(config);
  const HttpResult accepted = send_and_wait(trusting, post(server.url("/", "https")));
  ASSERT_TRUE(accepted.response.has_value()) << accepted.error.message;
  EXPECT_EQ(accepted.response->status, 201);
  EXPECT_EQ(server.heads().size(), 1u);  // the refused attempt never sent a request
}

TEST(CurlTransport, RejectsATrustedCertificateForAnotherHost) {
  testing::TestCertificate cert("vault.example.invalid", "DNS:vault.example.invalid");
  LoopbackServer::Options options = reply(201, "{}");
  options.tls = cert.server_context();
  LoopbackServer server(options);
  CurlTransportConfig config;
  config.ca_file = cert.ca_file();
  CurlTransport transport(config);

  const HttpResult result = send_and_wait(transport, post(server.url("/", "https")));
  ASSERT_FALSE(result.response.has_value());
  EXPECT_EQ(result.error.kind, TransportError::Kind::tls) << result.error.message;
  EXPECT_TRUE(server.heads().empty());
}

TEST(CurlTransport, MissingCaFileIsTlsError) {
  testing::TestCertificate cert("127.0.0.1", "IP:127.0.0.1");
  LoopbackServer::Options options = reply(201, "{}");
  options.tls = cert.server_context();
  LoopbackServer server(options);
  CurlTransportConfig config;
  config.ca_file = cert.ca_file() + ".missing";
  CurlTransport transport(config);

  const HttpResult result = send_and_wait(transport, post(server.url("/", "https")));
  ASSERT_FALSE(result.response.has_value());
  EXPECT_EQ(result.error.kind, TransportError::Kind::tls) << result.error.message;
}

TEST(CurlTransport, OversizedResponseBodyFailsAsOther) {
  LoopbackServer server(reply(201, std::string(4096, 'x')));
  CurlTransportConfig config;
  config.max_response_bytes = 1024;
  CurlTransport transport(config);

  const HttpResult result = send_and_wait(transport, post(server.url()));
  ASSERT_FALSE(result.response.has_value());
  EXPECT_EQ(result.error.kind, TransportError::Kind::other);
  EXPECT_TRUE(result.error.request_sent);
}

TEST(CurlTransport, DropsHeadersThatWouldInjectAnotherHeader) {
  LoopbackServer server(reply(201, "{}"));
  CurlTransport transport(CurlTransportConfig{});
  HttpRequest request = post(server.url());
  request.headers.emplace_back("X-Ok", "fine");
  request.headers.emplace_back("X-Bad", "v\r\nX-Injected: 1");
  request.headers.emplace_back("X-Bad-Lf", "v\nX-Injected: 2");
  request.headers.emplace_back("X-Bad-Cr", "v\rX-Injected: 3");
  request.headers.emplace_back("X-Bad:Name", "v");
  const HttpResult result = send_and_wait(transport, request);

  ASSERT_TRUE(result.response.has_value()) << result.error.message;
  const std::string head = server.heads().at(0);
  EXPECT_NE(head.find("X-Ok: fine"), std::string::npos);
  EXPECT_EQ(head.find("X-Injected"), std::string::npos);
  EXPECT_EQ(head.find("X-Bad"), std::string::npos);
}

// The loop parses each URL once (CURLOPT_CURLU) and keeps the parsed handles: every request
// must still go to its own target, when URLs alternate, when there are more distinct URLs
// than the loop keeps, and a URL that does not parse fails as before (libcurl's own error).
TEST(CurlTransport, EachRequestReachesItsOwnTargetWhateverTheParsedUrlsKept) {
  LoopbackServer server(reply(201, "{}"));
  CurlTransport transport(CurlTransportConfig{});
  std::vector<std::string> paths = {"/a", "/b?x=1", "/a", "/b?x=2"};
  for (int i = 0; i < 20; ++i) paths.push_back("/many/" + std::to_string(i));
  paths.push_back("/a");
  paths.push_back("/many/19");
  for (const auto& path : paths) {
    const HttpResult result = send_and_wait(transport, post(server.url(path)));
    ASSERT_TRUE(result.response.has_value()) << path << ": " << result.error.message;
  }
  const auto heads = server.heads();
  ASSERT_EQ(heads.size(), paths.size());
  for (std::size_t i = 0; i < paths.size(); ++i) {
    EXPECT_EQ(heads[i].rfind("POST " + paths[i] + " HTTP/1.1\r\n", 0), 0u) << heads[i];
  }

  const HttpResult bad = send_and_wait(transport, post("http://[::1"));
  ASSERT_FALSE(bad.response.has_value());
  EXPECT_EQ(bad.error.kind, TransportError::Kind::other);
  EXPECT_FALSE(bad.error.request_sent);
  EXPECT_NE(bad.error.message.find("URL"), std::string::npos) << bad.error.message;
  // and the next good request is not disturbed
  EXPECT_TRUE(send_and_wait(transport, post(server.url("/a"))).response.has_value());
}

// libcurl's proxy variables, resolved once with its rules.
ProxyEnvironment proxies_from(std::map<std::string, std::string> vars) {
  return proxy_environment([vars = std::move(vars)](const char* name) -> const char* {
    auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  });
}

std::tuple<std::string, std::string, std::string> fields(const ProxyEnvironment& env) {
  return {env.http, env.https, env.no_proxy};
}

TEST(ProxyEnvironment, FollowsLibcurlsRulesForEachScheme) {
  using Fields = std::tuple<std::string, std::string, std::string>;  // http, https, no_proxy
  EXPECT_EQ(fields(proxies_from({})), Fields("", "", ""));
  // HTTP_PROXY in upper case is never used (httpoxy); HTTPS_PROXY is.
  EXPECT_EQ(fields(proxies_from({{"HTTP_PROXY", "http://evil:1"}, {"HTTPS_PROXY", "http://p:2"}})),
            Fields("", "http://p:2", ""));
  // Lower case wins; all_proxy fills in for a scheme without its own; empty counts as unset.
  EXPECT_EQ(fields(proxies_from({{"http_proxy", "http://h:1"},
                                 {"https_proxy", ""},
                                 {"HTTPS_PROXY", ""},
                                 {"all_proxy", "http://all:3"},
                                 {"ALL_PROXY", "http://ALL:4"},
                                 {"no_proxy", ""},
                                 {"NO_PROXY", "localhost,.internal"}})),
            Fields("http://h:1", "http://all:3", "localhost,.internal"));
  EXPECT_EQ(fields(proxies_from({{"ALL_PROXY", "http://ALL:4"}, {"no_proxy", "*"}})),
            Fields("http://ALL:4", "http://ALL:4", "*"));
}

// The environment's proxy is still honoured, and it is the one present at construction:
// the request goes to the proxy (absolute-form target) after the variables are gone.
TEST(CurlTransport, UsesTheEnvironmentsProxyReadAtConstruction) {
  LoopbackServer proxy(reply(201, "{}"));
  std::unique_ptr<CurlTransport> transport;
  {
    const std::string proxy_url = "http://127.0.0.1:" + std::to_string(proxy.port());
    ScopedEnv env({{"http_proxy", proxy_url.c_str()},
                   {"all_proxy", nullptr},
                   {"ALL_PROXY", nullptr},
                   {"no_proxy", nullptr},
                   {"NO_PROXY", nullptr}});
    transport = std::make_unique<CurlTransport>(CurlTransportConfig{});
  }
  // vault.invalid never resolves: only a proxy can take this request.
  const HttpResult result =
      send_and_wait(*transport, post("http://vault.invalid:8443/v1/payment_methods.json"));
  ASSERT_TRUE(result.response.has_value()) << result.error.message;
  const auto heads = proxy.heads();
  ASSERT_EQ(heads.size(), 1u);
  EXPECT_EQ(heads[0].rfind("POST http://vault.invalid:8443/v1/payment_methods.json HTTP/1.1\r\n", 0),
            0u)
      << heads[0];

  // no_proxy naming the target host sends it directly instead.
  LoopbackServer direct(reply(201, "{}"));
  std::unique_ptr<CurlTransport> bypass;
  {
    const std::string proxy_url = "http://127.0.0.1:" + std::to_string(proxy.port());
    ScopedEnv env({{"http_proxy", proxy_url.c_str()}, {"no_proxy", "127.0.0.1"}});
    bypass = std::make_unique<CurlTransport>(CurlTransportConfig{});
  }
  ASSERT_TRUE(send_and_wait(*bypass, post(direct.url())).response.has_value());
  EXPECT_EQ(direct.heads().size(), 1u);
  EXPECT_EQ(proxy.heads().size(), 1u);
}

TEST(CurlTransport, VaultClientEndToEndOverLoopback) {
  LoopbackServer server(reply(201, R"({"transaction": {"succeeded": true, "payment_method": {
      "token": "PMtok123", "card_type": "visa", "first_six_digits": "411111",
      "last_four_digits": "1111", "month": 12, "year": 2031}}})"));
  CurlTransport transport(CurlTransportConfig{});
  VaultClient vault(transport, VaultConfig{"http://127.0.0.1:" + std::to_string(server.port()),
                                           "Aladdin", "open sesame"});
  PaymentMethod card;
  card.card_number = "4111111111111111";
  card.cvv = "123";
  card.month = 12;
  card.year = 2031;
  card.first_name = "Ada";
  card.last_name = "Lovelace";

  auto promise = std::make_shared<std::promise<VaultAttempt>>();
  auto future = promise->get_future();
  vault.create_payment_method(card, AttemptOptions{2000ms, {{"X-Request-Id", "req-1"}}},
                              [promise](VaultAttempt a) { promise->set_value(std::move(a)); });
  ASSERT_EQ(future.wait_for(kDeadline), std::future_status::ready);
  const VaultAttempt attempt = future.get();

  EXPECT_EQ(attempt.outcome, VaultOutcome::success) << attempt.detail;
  EXPECT_EQ(attempt.token, "PMtok123");
  EXPECT_EQ(attempt.card.last_four, "1111");
  const std::string head = server.heads().at(0);
  EXPECT_EQ(head.rfind("POST /v1/payment_methods.json HTTP/1.1\r\n", 0), 0u);
  EXPECT_NE(head.find("Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="), std::string::npos);
  EXPECT_NE(head.find("Content-Type: application/json"), std::string::npos);
  EXPECT_NE(head.find("X-Request-Id: req-1"), std::string::npos);
  EXPECT_NE(server.bodies().at(0).find(R"("number":"4111111111111111")"), std::string::npos);
}

}  // namespace
}  // namespace tokenizer
