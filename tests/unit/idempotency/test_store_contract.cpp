// The IdempotencyStore contract, written once and run against every implementation
// (memory and a real redis-server), see store_harness.h.
#include <gtest/gtest.h>

#include <algorithm>
#include <future>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include "idempotency/idempotency_store.h"
#include "store_harness.h"

namespace tokenizer {
namespace {

using Kind = BeginResult::Kind;
using testing::StoreHarness;

constexpr const char* kFingerprintA =
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
constexpr const char* kFingerprintB =
    "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

enum class Backend { memory, redis };

void PrintTo(Backend backend, std::ostream* os) {
  *os << (backend == Backend::memory ? "memory" : "redis");
}

class StoreContract : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    harness_ = GetParam() == Backend::memory ? testing::make_memory_harness()
                                             : testing::make_redis_harness();
    if (!harness_->skip_reason().empty()) GTEST_SKIP() << harness_->skip_reason();
    ASSERT_TRUE(harness_->setup_error().empty()) << harness_->setup_error();
  }

  IdempotencyStore& store() { return harness_->store(); }

  // A response stamped with the fake wall clock, at millisecond precision (what Redis keeps).
  StoredResponse response(int status, std::string body) {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
        harness_->clock.wall().time_since_epoch());
    return StoredResponse{status, std::move(body),
                          std::chrono::system_clock::time_point(
                              std::chrono::duration_cast<std::chrono::system_clock::duration>(ms))};
  }

  Reservation start(const std::string& scope, const std::string& key,
                    const std::string& fingerprint = kFingerprintA) {
    auto r = store().begin(scope, key, fingerprint);
    EXPECT_TRUE(r) << (r ? "" : r.error().message);
    if (!r) return {};
    EXPECT_EQ(r->kind, Kind::started) << begin_kind_name(r->kind);
    return r->reservation;
  }

  Kind kind_of(const std::string& scope, const std::string& key,
               const std::string& fingerprint = kFingerprintA) {
    auto r = store().begin(scope, key, fingerprint);
    EXPECT_TRUE(r) << (r ? "" : r.error().message);
    return r ? r->kind : Kind::started;
  }

  std::unique_ptr<StoreHarness> harness_;
};

TEST_P(StoreContract, FirstBeginStartsAndARepeatIsInFlight) {
  const Reservation r = start("client-a", "key-1");
  EXPECT_EQ(r.scope, "client-a");
  EXPECT_EQ(r.key, "key-1");
  EXPECT_EQ(r.fingerprint, kFingerprintA);
  EXPECT_FALSE(r.token.empty());
  EXPECT_EQ(kind_of("client-a", "key-1"), Kind::in_flight);
}

TEST_P(StoreContract, DifferentPayloadWhileInFlightIsAMismatch) {
  start("client-a", "key-1");
  EXPECT_EQ(kind_of("client-a", "key-1", kFingerprintB), Kind::mismatch);
  EXPECT_EQ(kind_of("client-a", "key-1", kFingerprintA), Kind::in_flight);
}

TEST_P(StoreContract, CompletedOutcomeIsReplayed) {
  const Reservation r = start("client-a", "key-1");
  const StoredResponse stored = response(200, R"({"token":"tok_1","last_four":"1111"})");
  harness_->clock.advance(std::chrono::seconds(3));
  auto done = store().complete(r, stored);
  ASSERT_TRUE(done) << done.error().message;
  EXPECT_EQ(*done, FinishResult::applied);

  harness_->clock.advance(std::chrono::seconds(5));
  for (int i = 0; i < 2; ++i) {
    auto again = store().begin("client-a", "key-1", kFingerprintA);
    ASSERT_TRUE(again) << again.error().message;
    ASSERT_EQ(again->kind, Kind::replay) << begin_kind_name(again->kind);
    ASSERT_TRUE(again->response.has_value());
    EXPECT_EQ(again->response->status, 200);
    EXPECT_EQ(again->response->body, stored.body);
    EXPECT_EQ(again->response->created, stored.created);
  }
}

TEST_P(StoreContract, CardRejectionIsReplayedToo) {
  const Reservation r = start("client-a", "key-1");
  ASSERT_TRUE(store().complete(r, response(422, R"({"error":"card_rejected"})")));
  auto again = store().begin("client-a", "key-1", kFingerprintA);
  ASSERT_TRUE(again);
  ASSERT_EQ(again->kind, Kind::replay);
  EXPECT_EQ(again->response->status, 422);
  EXPECT_EQ(again->response->body, R"({"error":"card_rejected"})");
}

TEST_P(StoreContract, DifferentPayloadAfterCompletionIsAMismatch) {
  const Reservation r = start("client-a", "key-1");
  ASSERT_TRUE(store().complete(r, response(200, "{}")));
  auto other = store().begin("client-a", "key-1", kFingerprintB);
  ASSERT_TRUE(other);
  EXPECT_EQ(other->kind, Kind::mismatch);
  EXPECT_FALSE(other->response.has_value());
}

TEST_P(StoreContract, BodiesSurviveByteForByte) {
  const std::string body = std::string("{\"name\":\"Zo\xC3\xAB \\\"Q\\\"\",\n\t\"x\":\"") +
                           std::string(3000, 'y') + "\"}" + std::string("\0tail", 5);
  const Reservation r = start("client-a", "key-1");
  ASSERT_TRUE(store().complete(r, response(200, body)));
  auto again = store().begin("client-a", "key-1", kFingerprintA);
  ASSERT_TRUE(again);
  ASSERT_EQ(again->kind, Kind::replay);
  EXPECT_EQ(again->response->body, body);
}

TEST_P(StoreContract, KeysAreScopedByClient) {
  start("client-a", "shared-key");
  start("client-b", "shared-key");
  // Length-prefixed or hashed: moving characters between scope and key is another key.
  start("client-ab", "c");
  start("client-a", "bc");
  EXPECT_EQ(kind_of("client-a", "shared-key"), Kind::in_flight);
}

TEST_P(StoreContract, AbandonReleasesTheKeyForARetry) {
  const Reservation first = start("client-a", "key-1");
  auto released = store().abandon(first);
  ASSERT_TRUE(released) << released.error().message;
  EXPECT_EQ(*released, FinishResult::applied);
  const Reservation second = start("client-a", "key-1");
  EXPECT_NE(second.token, first.token);
  // A retry may even carry another payload: nothing was stored.
  ASSERT_TRUE(store().abandon(second));
  start("client-a", "key-1", kFingerprintB);
}

TEST_P(StoreContract, AStaleReservationCannotTouchItsSuccessor) {
  const Reservation first = start("client-a", "key-1");
  ASSERT_TRUE(store().abandon(first));
  const Reservation second = start("client-a", "key-1");

  auto stale_abandon = store().abandon(first);
  ASSERT_TRUE(stale_abandon);
  EXPECT_EQ(*stale_abandon, FinishResult::reservation_lost);
  EXPECT_EQ(kind_of("client-a", "key-1"), Kind::in_flight);

  auto stale_complete = store().complete(first, response(200, "first"));
  ASSERT_TRUE(stale_complete);
  EXPECT_EQ(*stale_complete, FinishResult::reservation_lost);
  EXPECT_EQ(kind_of("client-a", "key-1"), Kind::in_flight);

  ASSERT_EQ(*store().complete(second, response(200, "second")), FinishResult::applied);
  auto replay = store().begin("client-a", "key-1", kFingerprintA);
  ASSERT_TRUE(replay);
  ASSERT_EQ(replay->kind, Kind::replay);
  EXPECT_EQ(replay->response->body, "second");
}

TEST_P(StoreContract, FirstCompletedOutcomeWins) {
  const Reservation r = start("client-a", "key-1");
  ASSERT_EQ(*store().complete(r, response(200, "first")), FinishResult::applied);
  EXPECT_EQ(*store().complete(r, response(200, "second")), FinishResult::reservation_lost);
  EXPECT_EQ(*store().abandon(r), FinishResult::reservation_lost);
  auto replay = store().begin("client-a", "key-1", kFingerprintA);
  ASSERT_TRUE(replay);
  ASSERT_EQ(replay->kind, Kind::replay);
  EXPECT_EQ(replay->response->body, "first");
}

TEST_P(StoreContract, InFlightReservationExpiresOnItsOwn) {
  const Reservation crashed = start("client-a", "key-1");
  harness_->age_to_just_before("client-a", "key-1", harness_->ttls.lock_ttl);
  EXPECT_EQ(kind_of("client-a", "key-1"), Kind::in_flight);
  harness_->age_past("client-a", "key-1");
  const Reservation retry = start("client-a", "key-1");
  EXPECT_NE(retry.token, crashed.token);
  // The crashed holder coming back late changes nothing.
  EXPECT_EQ(*store().complete(crashed, response(200, "late")), FinishResult::reservation_lost);
  EXPECT_EQ(kind_of("client-a", "key-1"), Kind::in_flight);
}

TEST_P(StoreContract, CompletedRecordExpiresAfterItsTtl) {
  const Reservation r = start("client-a", "key-1");
  ASSERT_TRUE(store().complete(r, response(200, "{}")));
  harness_->age_to_just_before("client-a", "key-1", harness_->ttls.record_ttl);
  EXPECT_EQ(kind_of("client-a", "key-1"), Kind::replay);
  harness_->age_past("client-a", "key-1");
  start("client-a", "key-1", kFingerprintB);
}

TEST_P(StoreContract, CompletionAfterTheLockExpiredStillStoresWhenNobodyTookTheKey) {
  const Reservation slow = start("client-a", "key-1");
  harness_->age_to_just_before("client-a", "key-1", harness_->ttls.lock_ttl);
  harness_->age_past("client-a", "key-1");
  EXPECT_EQ(*store().complete(slow, response(200, "slow")), FinishResult::applied);
  auto replay = store().begin("client-a", "key-1", kFingerprintA);
  ASSERT_TRUE(replay);
  ASSERT_EQ(replay->kind, Kind::replay);
  EXPECT_EQ(replay->response->body, "slow");
}

TEST_P(StoreContract, ConcurrentBeginsFromTwentyThreadsStartExactlyOnce) {
  constexpr int kThreads = 20;
  std::promise<void> go;
  std::shared_future<void> start_signal = go.get_future().share();
  std::vector<std::future<Expected<BeginResult>>> results;
  for (int i = 0; i < kThreads; ++i) {
    results.push_back(std::async(std::launch::async, [this, start_signal] {
      start_signal.wait();
      return store().begin("client-a", "contended", kFingerprintA);
    }));
  }
  go.set_value();
  int started = 0;
  int in_flight = 0;
  for (auto& f : results) {
    auto r = f.get();
    ASSERT_TRUE(r) << r.error().message;
    started += r->kind == Kind::started ? 1 : 0;
    in_flight += r->kind == Kind::in_flight ? 1 : 0;
  }
  EXPECT_EQ(started, 1);
  EXPECT_EQ(in_flight, kThreads - 1);
}

TEST_P(StoreContract, ConcurrentRetriesAfterCompletionAllReplayTheSameOutcome) {
  const Reservation r = start("client-a", "key-1");
  ASSERT_TRUE(store().complete(r, response(200, R"({"token":"tok_once"})")));
  std::promise<void> go;
  std::shared_future<void> start_signal = go.get_future().share();
  std::vector<std::future<Expected<BeginResult>>> results;
  for (int i = 0; i < 20; ++i) {
    results.push_back(std::async(std::launch::async, [this, start_signal] {
      start_signal.wait();
      return store().begin("client-a", "key-1", kFingerprintA);
    }));
  }
  go.set_value();
  for (auto& f : results) {
    auto replay = f.get();
    ASSERT_TRUE(replay) << replay.error().message;
    ASSERT_EQ(replay->kind, Kind::replay);
    EXPECT_EQ(replay->response->body, R"({"token":"tok_once"})");
  }
}

TEST_P(StoreContract, AnotherInstanceSeesTheKeysOnlyWhenTheBackendIsShared) {
  auto other = harness_->another_instance();
  ASSERT_TRUE(other);
  if (!harness_->shared_between_instances()) {
    start("client-a", "key-1");
    auto own = other->begin("client-a", "key-1", kFingerprintA);
    ASSERT_TRUE(own);
    EXPECT_EQ(own->kind, Kind::started);
    return;
  }
  const Reservation r = start("client-a", "key-1");
  auto seen = other->begin("client-a", "key-1", kFingerprintA);
  ASSERT_TRUE(seen);
  EXPECT_EQ(seen->kind, Kind::in_flight);
  ASSERT_TRUE(store().complete(r, response(200, "from instance one")));
  auto replay = other->begin("client-a", "key-1", kFingerprintA);
  ASSERT_TRUE(replay);
  ASSERT_EQ(replay->kind, Kind::replay);
  EXPECT_EQ(replay->response->body, "from instance one");

  // And the other way round, abandon included.
  auto theirs = other->begin("client-a", "key-2", kFingerprintA);
  ASSERT_TRUE(theirs);
  ASSERT_EQ(theirs->kind, Kind::started);
  EXPECT_EQ(kind_of("client-a", "key-2"), Kind::in_flight);
  ASSERT_EQ(*other->abandon(theirs->reservation), FinishResult::applied);
  start("client-a", "key-2");
}

INSTANTIATE_TEST_SUITE_P(Stores, StoreContract, ::testing::Values(Backend::memory, Backend::redis),
                         [](const ::testing::TestParamInfo<Backend>& info) {
                           return info.param == Backend::memory ? "memory" : "redis";
                         });

}  // namespace
}  // namespace tokenizer
