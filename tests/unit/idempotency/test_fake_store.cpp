// The fake other modules' tests rely on (tests/fakes/fake_idempotency_store.h).
#include <gtest/gtest.h>

#include "fake_clock.h"
#include "fake_idempotency_store.h"

namespace tokenizer {
namespace {

TEST(FakeIdempotencyStore, BehavesLikeTheStoreAndCountsCalls) {
  testing::FakeClock clock;
  testing::FakeIdempotencyStore store(clock);
  auto r = store.begin("c", "k", "fp");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->kind, BeginResult::Kind::started);
  EXPECT_EQ(store.begin("c", "k", "fp")->kind, BeginResult::Kind::in_flight);
  ASSERT_TRUE(store.complete(r->reservation, StoredResponse{200, "body", clock.wall()}));
  EXPECT_EQ(store.begin("c", "k", "fp")->kind, BeginResult::Kind::replay);
  EXPECT_EQ(store.begins.load(), 3);
  EXPECT_EQ(store.completes.load(), 1);
  ASSERT_EQ(store.completed_responses().size(), 1u);
  EXPECT_EQ(store.completed_responses()[0].body, "body");
}

TEST(FakeIdempotencyStore, UnavailableKnobFailsEveryCall) {
  testing::FakeClock clock;
  testing::FakeIdempotencyStore store(clock);
  store.unavailable = true;
  auto r = store.begin("c", "k", "fp");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "idempotency_unavailable");
  EXPECT_FALSE(store.abandon(Reservation{}));
  EXPECT_EQ(store.abandons.load(), 1);
}

}  // namespace
}  // namespace tokenizer
