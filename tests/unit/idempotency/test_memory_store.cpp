// MemoryIdempotencyStore specifics (the shared contract is in test_store_contract.cpp):
// bounded size, eviction order, expired records making room first.
#include <gtest/gtest.h>

#include <string>

#include "fake_clock.h"
#include "idempotency/memory_store.h"

namespace tokenizer {
namespace {

using Kind = BeginResult::Kind;
constexpr const char* kFp = "ffff";

class MemoryStoreTest : public ::testing::Test {
 protected:
  MemoryStoreOptions options(std::size_t max_entries, std::size_t shards = 1) {
    MemoryStoreOptions o;
    o.ttls = IdempotencyTtls{std::chrono::hours(1), std::chrono::seconds(30)};
    o.max_entries = max_entries;
    o.shard_count = shards;
    return o;
  }
  Kind begin(MemoryIdempotencyStore& store, const std::string& key) {
    auto r = store.begin("client", key, kFp);
    EXPECT_TRUE(r);
    return r ? r->kind : Kind::mismatch;
  }
  Reservation start(MemoryIdempotencyStore& store, const std::string& key) {
    auto r = store.begin("client", key, kFp);
    EXPECT_TRUE(r && r->kind == Kind::started) << key;
    return r ? r->reservation : Reservation{};
  }
  testing::FakeClock clock_;
};

TEST_F(MemoryStoreTest, EvictsTheOldestRecordAtCapacity) {
  MemoryIdempotencyStore store(clock_, options(3));
  for (const char* key : {"k1", "k2", "k3"}) {
    const Reservation r = start(store, key);
    ASSERT_TRUE(store.complete(r, StoredResponse{200, key, clock_.wall()}));
  }
  EXPECT_EQ(store.size(), 3u);
  EXPECT_EQ(store.evictions(), 0u);

  start(store, "k4");
  EXPECT_EQ(store.size(), 3u);
  EXPECT_EQ(store.evictions(), 1u);
  EXPECT_EQ(begin(store, "k2"), Kind::replay);
  EXPECT_EQ(begin(store, "k3"), Kind::replay);
  EXPECT_EQ(begin(store, "k4"), Kind::in_flight);
  EXPECT_EQ(begin(store, "k1"), Kind::started);  // forgotten, so a new reservation
  EXPECT_EQ(store.evictions(), 2u);              // ... which evicted k2
}

TEST_F(MemoryStoreTest, CompletionCountsAsTheLatestWrite) {
  MemoryIdempotencyStore store(clock_, options(2));
  const Reservation a = start(store, "a");
  start(store, "b");
  ASSERT_TRUE(store.complete(a, StoredResponse{200, "a", clock_.wall()}));
  start(store, "c");  // evicts b, written before a's completion
  EXPECT_EQ(begin(store, "a"), Kind::replay);
  EXPECT_EQ(begin(store, "c"), Kind::in_flight);
  EXPECT_EQ(store.evictions(), 1u);
}

TEST_F(MemoryStoreTest, ExpiredRecordsMakeRoomBeforeLiveOnesAreEvicted) {
  MemoryIdempotencyStore store(clock_, options(2));
  start(store, "crashed");  // lock TTL 30 s, never completed
  clock_.advance(std::chrono::seconds(31));
  start(store, "b");
  start(store, "c");
  EXPECT_EQ(store.evictions(), 0u);
  EXPECT_EQ(store.size(), 2u);
  EXPECT_EQ(begin(store, "b"), Kind::in_flight);
  EXPECT_EQ(begin(store, "c"), Kind::in_flight);
}

TEST_F(MemoryStoreTest, ExpiredRecordsAreDroppedWhenTouched) {
  MemoryIdempotencyStore store(clock_, options(10));
  const Reservation r = start(store, "a");
  ASSERT_TRUE(store.complete(r, StoredResponse{200, "a", clock_.wall()}));
  EXPECT_EQ(store.size(), 1u);
  clock_.advance(std::chrono::hours(1));
  EXPECT_EQ(*store.abandon(r), FinishResult::reservation_lost);
  EXPECT_EQ(store.size(), 0u);
}

TEST_F(MemoryStoreTest, ShardedStoreNeverExceedsMaxEntries) {
  MemoryIdempotencyStore store(clock_, options(100, 16));
  for (int i = 0; i < 1000; ++i) start(store, "key-" + std::to_string(i));
  EXPECT_LE(store.size(), 100u);
  EXPECT_GE(store.size(), 50u);  // every shard filled to its share (100 / 16 = 6 each)
  EXPECT_EQ(store.evictions(), 1000u - store.size());
}

TEST_F(MemoryStoreTest, MoreShardsThanEntriesStillHoldsMaxEntries) {
  MemoryIdempotencyStore store(clock_, options(3, 16));
  for (int i = 0; i < 50; ++i) start(store, "key-" + std::to_string(i));
  EXPECT_LE(store.size(), 3u);
  EXPECT_GE(store.size(), 1u);
}

TEST_F(MemoryStoreTest, StampsNothingItselfAndKeepsTheGivenCreatedTime) {
  MemoryIdempotencyStore store(clock_, options(10));
  const Reservation r = start(store, "a");
  const auto created = clock_.wall() - std::chrono::seconds(7);
  ASSERT_TRUE(store.complete(r, StoredResponse{201, "x", created}));
  clock_.advance(std::chrono::minutes(5));
  auto replay = store.begin("client", "a", kFp);
  ASSERT_TRUE(replay);
  ASSERT_EQ(replay->kind, Kind::replay);
  EXPECT_EQ(replay->response->created, created);
  EXPECT_EQ(replay->response->status, 201);
}

}  // namespace
}  // namespace tokenizer
