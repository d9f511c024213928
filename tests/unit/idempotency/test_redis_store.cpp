// RedisIdempotencyStore specifics against a real redis-server (the shared contract is in
// test_store_contract.cpp): URL parsing, key namespacing, what is stored, outages (killed,
// paused, restarted), back-off, script cache flush, database selection and AUTH.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "fake_clock.h"
#include "idempotency/redis_store.h"
#include "idempotency/redis_url.h"
#include "idempotency/store_factory.h"
#include "redis_server.h"

namespace tokenizer {
namespace {

using Kind = BeginResult::Kind;
using testing::RedisServer;
constexpr const char* kFp = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

// ---- URL parsing --------------------------------------------------------------------------

struct UrlCase {
  const char* name;
  const char* url;
  bool valid;
  const char* host;
  int port;
  int db;
  const char* username;
  const char* password;
};

class RedisUrlTable : public ::testing::TestWithParam<UrlCase> {};

TEST_P(RedisUrlTable, ParsesOrExplains) {
  const UrlCase& c = GetParam();
  const auto url = parse_redis_url(c.url);
  ASSERT_EQ(url.has_value(), c.valid) << (url ? url->redacted() : url.error().message);
  if (!c.valid) {
    EXPECT_EQ(url.error().code, "invalid_idempotency_store");
    EXPECT_NE(url.error().message.find("--idempotency-store"), std::string::npos);
    EXPECT_EQ(url.error().message.find("s3cret"), std::string::npos) << url.error().message;
    return;
  }
  EXPECT_EQ(url->host, c.host);
  EXPECT_EQ(url->port, c.port);
  EXPECT_EQ(url->db, c.db);
  EXPECT_EQ(url->username, c.username);
  EXPECT_EQ(url->password, c.password);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, RedisUrlTable,
    ::testing::Values(
        UrlCase{"full", "redis://127.0.0.1:6380/2", true, "127.0.0.1", 6380, 2, "", ""},
        UrlCase{"defaults", "redis://cache.internal", true, "cache.internal", 6379, 0, "", ""},
        UrlCase{"trailing_slash", "redis://h:1/", true, "h", 1, 0, "", ""},
        UrlCase{"ipv6", "redis://[::1]:7000/1", true, "::1", 7000, 1, "", ""},
        UrlCase{"ipv6_default_port", "redis://[::1]", true, "::1", 6379, 0, "", ""},
        UrlCase{"password_only", "redis://:s3cret@h:6379/0", true, "h", 6379, 0, "", "s3cret"},
        UrlCase{"user_and_password", "redis://svc:s3cret@h", true, "h", 6379, 0, "svc", "s3cret"},
        UrlCase{"percent_encoded_password", "redis://:s3%40cret%3A@h", true, "h", 6379, 0, "",
                "s3@cret:"},
        UrlCase{"at_in_password", "redis://:s3cret@x@h", true, "h", 6379, 0, "", "s3cret@x"},
        UrlCase{"wrong_scheme", "http://h:6379", false, "", 0, 0, "", ""},
        UrlCase{"tls_scheme", "rediss://h:6379", false, "", 0, 0, "", ""},
        UrlCase{"bare_host", "h:6379", false, "", 0, 0, "", ""},
        UrlCase{"empty_host", "redis://:6379/0", false, "", 0, 0, "", ""},
        UrlCase{"empty_port", "redis://h:/0", false, "", 0, 0, "", ""},
        UrlCase{"port_zero", "redis://h:0", false, "", 0, 0, "", ""},
        UrlCase{"port_too_big", "redis://h:65536", false, "", 0, 0, "", ""},
        UrlCase{"port_not_number", "redis://h:http", false, "", 0, 0, "", ""},
        UrlCase{"db_not_number", "redis://h:1/x", false, "", 0, 0, "", ""},
        UrlCase{"db_negative", "redis://h:1/-1", false, "", 0, 0, "", ""},
        UrlCase{"db_path", "redis://h:1/0/1", false, "", 0, 0, "", ""},
        UrlCase{"query", "redis://h:1/0?timeout=1", false, "", 0, 0, "", ""},
        UrlCase{"user_without_colon", "redis://s3cret@h", false, "", 0, 0, "", ""},
        UrlCase{"empty_password", "redis://user:@h", false, "", 0, 0, "", ""},
        UrlCase{"bad_percent", "redis://:s3cret%zz@h", false, "", 0, 0, "", ""},
        UrlCase{"unclosed_ipv6", "redis://[::1:6379", false, "", 0, 0, "", ""},
        UrlCase{"text_after_ipv6", "redis://[::1]x", false, "", 0, 0, "", ""},
        UrlCase{"empty", "", false, "", 0, 0, "", ""}),
    [](const ::testing::TestParamInfo<UrlCase>& info) { return std::string(info.param.name); });

TEST(RedisUrl, RedactedFormHidesThePassword) {
  const auto url = parse_redis_url("redis://svc:s3cret@10.0.0.5:6380/3");
  ASSERT_TRUE(url);
  EXPECT_EQ(url->redacted(), "redis://svc:***@10.0.0.5:6380/3");
  const auto v6 = parse_redis_url("redis://[::1]:7000");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->redacted(), "redis://[::1]:7000/0");
}

TEST(StoreFactory, BuildsTheConfiguredStoreOrExplains) {
  testing::FakeClock clock;
  EXPECT_TRUE(make_idempotency_store("memory", clock, {}, 100));
  EXPECT_TRUE(make_idempotency_store("redis://127.0.0.1:1/0", clock, {}, 100));  // no I/O yet
  const auto bad = make_idempotency_store("memcached://h", clock, {}, 100);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, "invalid_idempotency_store");
  EXPECT_FALSE(make_idempotency_store("memory", clock, {}, 0));
  EXPECT_FALSE(make_idempotency_store(
      "memory", clock, IdempotencyTtls{std::chrono::hours(1), std::chrono::milliseconds(0)}, 10));
  EXPECT_FALSE(is_shared_idempotency_store("memory"));
  EXPECT_TRUE(is_shared_idempotency_store("redis://h"));
}

// ---- Against a real redis-server ----------------------------------------------------------

class RedisStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { start_server(); }

  void start_server(std::vector<std::string> extra_args = {}) {
    if (RedisServer::binary().empty()) GTEST_SKIP() << "redis-server is not installed";
    std::string error;
    server_ = RedisServer::start(error, std::move(extra_args));
    ASSERT_TRUE(server_) << error;
  }

  RedisStoreOptions options(const std::string& url_text) {
    RedisStoreOptions o;
    auto url = parse_redis_url(url_text);
    EXPECT_TRUE(url) << url_text;
    if (url) o.url = *url;
    o.ttls = IdempotencyTtls{std::chrono::hours(24), std::chrono::seconds(60)};
    o.connect_timeout = std::chrono::milliseconds(100);
    o.command_timeout = std::chrono::milliseconds(100);
    o.reconnect_backoff = std::chrono::milliseconds(200);
    return o;
  }

  std::unique_ptr<RedisIdempotencyStore> make_store(int db = 0) {
    return std::make_unique<RedisIdempotencyStore>(clock_, options(server_->url(db)));
  }

  testing::FakeClock clock_;
  std::unique_ptr<RedisServer> server_;
};

TEST_F(RedisStoreTest, KeysAreHashedAndNamespaced) {
  auto store = make_store();
  const std::string key = store->redis_key("client a", "key {1}");
  const std::string prefix = "tokenizer:idem:";
  ASSERT_EQ(key.size(), prefix.size() + 64 + 1 + 64);
  EXPECT_EQ(key.substr(0, prefix.size()), prefix);
  EXPECT_EQ(key[prefix.size() + 64], ':');
  EXPECT_EQ(key.find("client"), std::string::npos);
  EXPECT_EQ(key.find("{1}"), std::string::npos);
  EXPECT_NE(store->redis_key("client a", "key {1}"), store->redis_key("client b", "key {1}"));
  EXPECT_NE(store->redis_key("ab", "c"), store->redis_key("a", "bc"));

  ASSERT_EQ(store->begin("client a", "key {1}", kFp)->kind, Kind::started);
  const auto keys = server_->raw({"KEYS", "*"});
  ASSERT_EQ(keys.elements.size(), 1u);
  EXPECT_EQ(keys.elements[0], key);
}

TEST_F(RedisStoreTest, StoresOnlyFingerprintAndResponse) {
  auto store = make_store();
  auto begun = store->begin("client", "k", kFp);
  ASSERT_TRUE(begun) << begun.error().message;
  const std::string body = R"({"token":"tok_1","card":{"last_four":"1111"}})";
  ASSERT_TRUE(store->complete(begun->reservation, StoredResponse{200, body, clock_.wall()}));
  const auto fields = server_->raw({"HGETALL", store->redis_key("client", "k")});
  ASSERT_TRUE(fields.ok);
  std::map<std::string, std::string> record;
  for (std::size_t i = 0; i + 1 < fields.elements.size(); i += 2) {
    record[fields.elements[i]] = fields.elements[i + 1];
  }
  EXPECT_EQ(record.size(), 5u);
  EXPECT_EQ(record["state"], "done");
  EXPECT_EQ(record["fp"], kFp);
  EXPECT_EQ(record["status"], "200");
  EXPECT_EQ(record["body"], body);
  EXPECT_EQ(record["created"], "1795428000000");
  EXPECT_EQ(record.count("token"), 0u);
}

TEST_F(RedisStoreTest, PingAnswers) {
  auto store = make_store();
  auto pong = store->ping();
  EXPECT_TRUE(pong) << pong.error().message;
}

TEST_F(RedisStoreTest, UsesTheDatabaseFromTheUrl) {
  auto store = make_store(3);
  ASSERT_EQ(store->begin("client", "k", kFp)->kind, Kind::started);
  const std::string key = store->redis_key("client", "k");
  EXPECT_EQ(server_->raw({"EXISTS", key}, 3).integer, 1);
  EXPECT_EQ(server_->raw({"EXISTS", key}, 0).integer, 0);
}

TEST_F(RedisStoreTest, SurvivesAScriptCacheFlush) {
  auto store = make_store();
  ASSERT_EQ(store->begin("client", "k1", kFp)->kind, Kind::started);
  ASSERT_TRUE(server_->raw({"SCRIPT", "FLUSH"}).ok);
  auto again = store->begin("client", "k2", kFp);
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(again->kind, Kind::started);
}

TEST_F(RedisStoreTest, KilledRedisFailsFastAndRecoversAfterTheBackOff) {
  auto store = make_store();
  ASSERT_EQ(store->begin("client", "before", kFp)->kind, Kind::started);  // pool warm
  server_->kill();

  const auto t0 = std::chrono::steady_clock::now();
  auto down = store->begin("client", "during", kFp);
  const auto elapsed = std::chrono::steady_clock::now() - t0;
  ASSERT_FALSE(down);
  EXPECT_EQ(down.error().code, "idempotency_unavailable");
  EXPECT_LT(elapsed, std::chrono::milliseconds(1000));

  // Within the back-off no connection is attempted: still failing though Redis is back.
  std::string error;
  ASSERT_TRUE(server_->restart(error)) << error;
  auto backing_off = store->begin("client", "during", kFp);
  ASSERT_FALSE(backing_off);
  EXPECT_EQ(backing_off.error().code, "idempotency_unavailable");
  EXPECT_NE(backing_off.error().message.find("not reconnecting yet"), std::string::npos)
      << backing_off.error().message;

  clock_.advance(std::chrono::milliseconds(200));
  auto back = store->begin("client", "during", kFp);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->kind, Kind::started);
}

TEST_F(RedisStoreTest, RestartedRedisDoesNotFailRequestsOnStaleConnections) {
  auto store = make_store();
  ASSERT_EQ(store->begin("client", "before", kFp)->kind, Kind::started);  // pool warm
  std::string error;
  ASSERT_TRUE(server_->restart(error)) << error;
  auto after = store->begin("client", "after", kFp);
  ASSERT_TRUE(after) << after.error().message;
  EXPECT_EQ(after->kind, Kind::started);
}

TEST_F(RedisStoreTest, HungRedisTimesOutWithinTheCommandTimeout) {
  auto store = make_store();
  ASSERT_EQ(store->begin("client", "before", kFp)->kind, Kind::started);
  server_->pause();
  const auto t0 = std::chrono::steady_clock::now();
  auto hung = store->begin("client", "during", kFp);
  const auto elapsed = std::chrono::steady_clock::now() - t0;
  server_->resume();
  ASSERT_FALSE(hung);
  EXPECT_EQ(hung.error().code, "idempotency_unavailable");
  EXPECT_NE(hung.error().message.find("did not answer within 100 ms"), std::string::npos)
      << hung.error().message;
  EXPECT_GE(elapsed, std::chrono::milliseconds(90));
  EXPECT_LT(elapsed, std::chrono::milliseconds(1000));

  // The timed-out connection was discarded; the next call works on a fresh one.
  auto next = store->begin("client", "after", kFp);
  ASSERT_TRUE(next) << next.error().message;
  EXPECT_EQ(next->kind, Kind::started);
}

TEST_F(RedisStoreTest, NothingListeningIsUnavailableAtOnce) {
  const std::uint16_t port = server_->port();
  server_->kill();
  RedisIdempotencyStore store(clock_, options("redis://127.0.0.1:" + std::to_string(port) + "/0"));
  const auto t0 = std::chrono::steady_clock::now();
  auto r = store.begin("client", "k", kFp);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(1000));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "idempotency_unavailable");
  EXPECT_NE(r.error().message.find("cannot connect"), std::string::npos) << r.error().message;
  EXPECT_FALSE(store.ping());
}

class RedisAuthTest : public RedisStoreTest {
 protected:
  void SetUp() override { start_server({"--requirepass", "s3cret-pass"}); }
};

TEST_F(RedisAuthTest, AuthenticatesWithThePasswordFromTheUrl) {
  const std::string port = std::to_string(server_->port());
  RedisIdempotencyStore good(clock_, options("redis://:s3cret-pass@127.0.0.1:" + port + "/0"));
  auto ok = good.begin("client", "k", kFp);
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->kind, Kind::started);

  RedisIdempotencyStore bad(clock_, options("redis://:wrong-pass@127.0.0.1:" + port + "/0"));
  auto refused = bad.begin("client", "k", kFp);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, "idempotency_unavailable");
  EXPECT_NE(refused.error().message.find("AUTH"), std::string::npos) << refused.error().message;
  EXPECT_EQ(refused.error().message.find("wrong-pass"), std::string::npos);

  RedisIdempotencyStore none(clock_, options("redis://127.0.0.1:" + port + "/0"));
  EXPECT_FALSE(none.begin("client", "k", kFp));
}

}  // namespace
}  // namespace tokenizer
