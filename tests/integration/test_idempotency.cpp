// Integration: Idempotency-Key against the real `tokenizer` and `upstream-sim` binaries
// (issue 4, "Tests" items 7 and 8): concurrent reuse of one key, replays, payload mismatch,
// invalid keys, transient failures that are not stored, client scoping, and two `tokenizer`
// processes sharing one real `redis-server`, including Redis going away.
//
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <future>
#include <set>
#include <thread>

#include "redis_server.h"
#include "support/service.h"

namespace tokenizer::testing {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using SteadyClock = std::chrono::steady_clock;

std::string token_of(const HttpReply& r) {
  const json j = reply_json(r);
  return j.is_object() ? j.value("payment_method_token", "") : "";
}

bool replayed(const HttpReply& r) {
  const auto it = r.headers.find("idempotent-replayed");
  return it != r.headers.end() && it->second == "true";
}

std::string key_header(const std::string& key) { return "Idempotency-Key: " + key; }

bool eventually(const std::function<bool()>& condition, milliseconds timeout,
                milliseconds step = milliseconds(20)) {
  const auto deadline = SteadyClock::now() + timeout;
  while (true) {
    if (condition()) return true;
    if (SteadyClock::now() >= deadline) return false;
    std::this_thread::sleep_for(step);
  }
}

// A key unique to this run, so a shared Redis never sees a key from an earlier run.
std::string unique_key(const std::string& name) {
  static std::atomic<int> counter{0};
  return "it-" + name + "-" + std::to_string(getpid()) + "-" + std::to_string(++counter);
}

// (7) Twenty clients send one key at once while the vault takes 300 ms: one vault call, one
// fresh 200, the rest 409 (or replays of the same token if they came after it finished).
TEST(Idempotency, ConcurrentRequestsWithOneKeyCallTheVaultOnce) {
  ServiceUnderTest s;
  ASSERT_TRUE(s.ok()) << s.tokenizer().stderr_text();
  s.set_faults({{"latency_ms", 300}});
  const std::string key = unique_key("concurrent");
  const std::string body = card_body();
  const long before = s.vault_requests();

  constexpr int kClients = 20;
  std::promise<void> go;
  std::shared_future<void> start = go.get_future().share();
  std::atomic<int> ready{0};
  std::vector<std::future<HttpReply>> replies;
  for (int i = 0; i < kClients; ++i) {
    replies.push_back(std::async(std::launch::async, [&, start] {
      ++ready;
      start.wait();
      return s.tokenize(body, {key_header(key)});
    }));
  }
  ASSERT_TRUE(eventually([&] { return ready.load() == kClients; }, milliseconds(10000),
                         milliseconds(1)));
  go.set_value();

  int fresh = 0;
  int conflicts = 0;
  std::set<std::string> tokens;
  std::vector<HttpReply> replays;
  for (auto& f : replies) {
    const auto r = f.get();
    if (r.status == 200 && !replayed(r)) {
      ++fresh;
      tokens.insert(token_of(r));
    } else if (r.status == 200) {
      replays.push_back(r);
      tokens.insert(token_of(r));
    } else {
      expect_error(r, 409, "idempotency_key_in_use");
      EXPECT_EQ(r.headers.count("retry-after"), 1u);
      ++conflicts;
    }
  }
  EXPECT_EQ(fresh, 1);
  EXPECT_GE(conflicts, 1) << "no request overlapped the first one: the test proved nothing";
  EXPECT_EQ(fresh + conflicts + static_cast<int>(replays.size()), kClients);
  ASSERT_EQ(tokens.size(), 1u) << "replays must carry the first request's token";
  const std::string token = *tokens.begin();
  EXPECT_FALSE(token.empty());
  EXPECT_EQ(s.vault_requests() - before, 1) << "exactly one vault call for one key";

  // After completion, a repeat replays the stored answer without calling the vault.
  const auto replay = s.tokenize(body, {key_header(key)});
  EXPECT_EQ(replay.status, 200) << replay.body;
  EXPECT_TRUE(replayed(replay));
  EXPECT_EQ(token_of(replay), token);
  EXPECT_EQ(s.vault_requests() - before, 1);

  // Same key, different payload: refused, still without a vault call.
  const auto reused = s.tokenize(card_body("5555555555554444"), {key_header(key)});
  expect_error(reused, 422, "idempotency_key_reused");
  EXPECT_FALSE(replayed(reused));
  EXPECT_EQ(s.vault_requests() - before, 1);

  // The fingerprint is over the canonical payload: key order and whitespace do not matter.
  const json reordered = json::parse(body);
  const auto same = s.tokenize(reordered.dump(2), {key_header(key)});
  EXPECT_EQ(same.status, 200) << same.body;
  EXPECT_TRUE(replayed(same));
  EXPECT_EQ(s.vault_requests() - before, 1);
}

TEST(Idempotency, InvalidKeysAreRejected) {
  ServiceUnderTest s;
  ASSERT_TRUE(s.ok()) << s.tokenizer().stderr_text();
  const long before = s.vault_requests();
  expect_error(s.tokenize(card_body(), {key_header(std::string(256, 'k'))}), 400,
               "invalid_idempotency_key");
  expect_error(s.tokenize(card_body(), {key_header("caf\xc3\xa9")}), 400,
               "invalid_idempotency_key");
  expect_error(s.tokenize(card_body(), {key_header("a\x01z")}), 400, "invalid_idempotency_key");
  EXPECT_EQ(s.vault_requests(), before);
  // 255 printable characters are fine.
  const auto longest = s.tokenize(card_body(), {key_header(std::string(255, 'k'))});
  EXPECT_EQ(longest.status, 200) << longest.body;
}

// Transient failures are not stored: the retry with the same key reaches the vault.
TEST(Idempotency, TransientFailuresAreNotStored) {
  ServiceUnderTest s(with_args({"--breaker-min-calls", "1000"}));
  ASSERT_TRUE(s.ok()) << s.tokenizer().stderr_text();
  const std::string body = card_body();

  const std::string key = unique_key("transient");
  s.set_faults({{"status", 503}});
  expect_error(s.tokenize(body, {key_header(key)}), 503, "upstream_unavailable");
  s.set_faults({{"mode", "garbage"}});
  expect_error(s.tokenize(body, {key_header(key)}), 502, "upstream_error");
  s.clear_faults();
  const long before = s.vault_requests();
  const auto retried = s.tokenize(body, {key_header(key)});
  EXPECT_EQ(retried.status, 200) << retried.body;
  EXPECT_FALSE(replayed(retried));
  EXPECT_EQ(s.vault_requests() - before, 1) << "the retry must reach the vault";
  const auto replay = s.tokenize(body, {key_header(key)});
  EXPECT_TRUE(replayed(replay));
  EXPECT_EQ(token_of(replay), token_of(retried));
  EXPECT_EQ(s.vault_requests() - before, 1);

  // A vault card rejection is a final answer: stored and replayed.
  const std::string rejected_key = unique_key("rejected");
  const std::string rejected_body = card_body("4000000000000002");
  const auto first = s.tokenize(rejected_body, {key_header(rejected_key)});
  expect_error(first, 422, "card_rejected");
  const long after_reject = s.vault_requests();
  const auto again = s.tokenize(rejected_body, {key_header(rejected_key)});
  expect_error(again, 422, "card_rejected");
  EXPECT_TRUE(replayed(again));
  EXPECT_EQ(s.vault_requests(), after_reject);
}

// Keys are scoped to the authenticated client: another client's identical key is its own.
TEST(Idempotency, KeysAreScopedToTheClient) {
  ServiceUnderTest s(with_args(
      {"--basic-auth", std::string(kClientUser) + ":" + kClientPassword + ",other:other-password"}));
  ASSERT_TRUE(s.ok()) << s.tokenizer().stderr_text();
  const std::string key = unique_key("scoped");
  const long before = s.vault_requests();
  const auto mine = s.tokenize(card_body(), {key_header(key)});
  ASSERT_EQ(mine.status, 200) << mine.body;
  HttpCall call = tokenize_call(s.url("/api/v1/payment_methods/tokenize"), card_body(),
                                {key_header(key)});
  call.basic_user = "other";
  call.basic_password = "other-password";
  const auto theirs = http_request(call);
  EXPECT_EQ(theirs.status, 200) << theirs.body;
  EXPECT_FALSE(replayed(theirs));
  EXPECT_NE(token_of(theirs), token_of(mine));
  EXPECT_EQ(s.vault_requests() - before, 2);
}

// (8) Two tokenizer processes share one real Redis: each replays the other's keys, a key in
// flight on one is a 409 on the other, and Redis going away only affects keyed requests.
TEST(Idempotency, TwoInstancesShareKeysThroughRedis) {
  std::string error;
  auto server = RedisServer::start(error);  // tests/fakes/redis_server.h, shared with unit tests
  ASSERT_TRUE(server) << error;
  RedisServer& redis = *server;
  const std::vector<std::string> shared = {"--idempotency-store", redis.url(),
                                           "--idempotency-secret", "integration-shared-secret"};
  ServiceUnderTest a(with_args(shared));
  ServiceUnderTest b(with_args(shared));
  ASSERT_TRUE(a.ok()) << a.tokenizer().stderr_text();
  ASSERT_TRUE(b.ok()) << b.tokenizer().stderr_text();
  HttpCall ready;
  ready.url = b.url("/readyz");
  EXPECT_EQ(reply_json(http_request(ready))["components"]["idempotency_store"], "redis");

  // Each instance has its own simulated vault, so a replay is visible as "no call at all".
  const std::string body = card_body();
  const std::string key_a = unique_key("shared-a");
  const auto first = a.tokenize(body, {key_header(key_a)});
  ASSERT_EQ(first.status, 200) << first.body;
  const long b_before = b.vault_requests();
  const auto on_b = b.tokenize(body, {key_header(key_a)});
  EXPECT_EQ(on_b.status, 200) << on_b.body;
  EXPECT_TRUE(replayed(on_b));
  EXPECT_EQ(token_of(on_b), token_of(first));
  EXPECT_EQ(b.vault_requests(), b_before);
  expect_error(b.tokenize(card_body("5555555555554444"), {key_header(key_a)}), 422,
               "idempotency_key_reused");

  const std::string key_b = unique_key("shared-b");
  const auto second = b.tokenize(body, {key_header(key_b)});
  ASSERT_EQ(second.status, 200) << second.body;
  const long a_before = a.vault_requests();
  const auto on_a = a.tokenize(body, {key_header(key_b)});
  EXPECT_TRUE(replayed(on_a));
  EXPECT_EQ(token_of(on_a), token_of(second));
  EXPECT_EQ(a.vault_requests(), a_before);

  // A key in flight on A is in use for B too.
  a.set_faults({{"latency_ms", 1000}});
  const std::string key_c = unique_key("shared-c");
  const long a_calls = a.vault_requests();
  auto slow = std::async(std::launch::async, [&] { return a.tokenize(body, {key_header(key_c)}); });
  ASSERT_TRUE(eventually([&] { return a.vault_requests() > a_calls; }, milliseconds(5000)));
  expect_error(b.tokenize(body, {key_header(key_c)}), 409, "idempotency_key_in_use");
  EXPECT_EQ(slow.get().status, 200);
  a.clear_faults();

  // Redis goes away: keyed requests get a fast 503, unkeyed ones are unaffected.
  redis.kill();
  const auto keyed = a.tokenize(body, {key_header(unique_key("down"))});
  expect_error(keyed, 503, "idempotency_unavailable");
  EXPECT_EQ(keyed.headers.count("retry-after"), 1u);
  EXPECT_LT(keyed.seconds, 1.0);
  const auto replay_down = b.tokenize(body, {key_header(key_a)});
  expect_error(replay_down, 503, "idempotency_unavailable");
  const auto unkeyed_a = a.tokenize(body);
  EXPECT_EQ(unkeyed_a.status, 200) << unkeyed_a.body;
  const auto unkeyed_b = b.tokenize(body);
  EXPECT_EQ(unkeyed_b.status, 200) << unkeyed_b.body;
  HttpCall health;
  health.url = a.url("/readyz");
  EXPECT_EQ(http_request(health).status, 200);
}

}  // namespace
}  // namespace tokenizer::testing
