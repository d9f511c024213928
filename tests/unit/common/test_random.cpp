#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/random.h"
#include "fake_clock.h"
#include "fake_random.h"

namespace tokenizer {
namespace {

TEST(SecureRandom, HexHasRequestedLengthAndDiffers) {
  const auto a = secure_random_hex(16);
  const auto b = secure_random_hex(16);
  EXPECT_EQ(a.size(), 32u);
  EXPECT_NE(a, b);
  EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos);
}

TEST(SecureRandom, UuidIsVersion4) {
  const auto u = secure_random_uuid();
  ASSERT_EQ(u.size(), 36u) << u;
  for (std::size_t i : {8u, 13u, 18u, 23u}) EXPECT_EQ(u[i], '-') << u;
  EXPECT_EQ(u[14], '4') << u;                                        // version 4
  EXPECT_NE(std::string("89ab").find(u[19]), std::string::npos) << u;  // RFC 4122 variant
  std::string hex = u;
  hex.erase(std::remove(hex.begin(), hex.end(), '-'), hex.end());
  EXPECT_EQ(hex.find_first_not_of("0123456789abcdef"), std::string::npos) << u;
}

// RFC 8439, 2.3.2: the block function's test vector.
TEST(UnguessableHex, HasRequestedLengthAndAlphabet) {
  for (std::size_t bytes : {1u, 16u, 31u, 32u, 33u, 100u}) {
    const std::string h = unguessable_hex(bytes);
    EXPECT_EQ(h.size(), 2 * bytes);
    EXPECT_EQ(h.find_first_not_of("0123456789abcdef"), std::string::npos) << h;
  }
  EXPECT_EQ(unguessable_hex(0), "");
}

TEST(UnguessableHex, UniqueAcrossThreads) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 20000;
  std::vector<std::vector<std::string>> ids(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&ids, t] {
      for (int i = 0; i < kPerThread; ++i) ids[t].push_back(unguessable_hex(16));
    });
  }
  for (auto& th : threads) th.join();
  std::set<std::string> all;
  for (const auto& v : ids) all.insert(v.begin(), v.end());
  EXPECT_EQ(all.size(), static_cast<std::size_t>(kThreads * kPerThread));
}

TEST(UnguessableHex, BitsLookUniform) {
  // A crude check that the ids are not stuck or biased: each bit of 4,096 ids is set
  // about half the time (binomial, sd 32: the bounds are > 9 sd away).
  int ones[128] = {};
  constexpr int kIds = 4096;
  for (int i = 0; i < kIds; ++i) {
    unsigned char b[16];
    fill_unguessable(b, sizeof b);
    for (int bit = 0; bit < 128; ++bit) ones[bit] += (b[bit / 8] >> (bit % 8)) & 1;
  }
  for (int bit = 0; bit < 128; ++bit) {
    EXPECT_GT(ones[bit], kIds / 2 - 300) << bit;
    EXPECT_LT(ones[bit], kIds / 2 + 300) << bit;
  }
}

TEST(UnguessableHex, ForkedChildDoesNotRepeatTheParentsStream) {
  (void)unguessable_hex(16);  // this thread's stream exists before the fork
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    const std::string child = unguessable_hex(16);
    const ssize_t n = write(fds[1], child.data(), child.size());
    _exit(n == static_cast<ssize_t>(child.size()) ? 0 : 1);
  }
  close(fds[1]);
  char buf[32];
  std::size_t got = 0;
  while (got < sizeof buf) {
    const ssize_t n = read(fds[0], buf + got, sizeof buf - got);
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  close(fds[0]);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  ASSERT_EQ(got, sizeof buf);
  const std::string parent = unguessable_hex(16);
  EXPECT_NE(std::string(buf, sizeof buf), parent);
}

TEST(Random, NextUnitIsInHalfOpenRange) {
  testing::FakeRandom zero(0);
  EXPECT_EQ(zero.next_unit(), 0.0);
  testing::FakeRandom max(~0ULL);
  EXPECT_LT(max.next_unit(), 1.0);
  testing::FakeRandom half(testing::FakeRandom::unit(0.5));
  EXPECT_DOUBLE_EQ(half.next_unit(), 0.5);
}

TEST(FakeClock, AdvancesBothClocks) {
  testing::FakeClock clock;
  const auto w = clock.wall();
  const auto s = clock.steady();
  clock.advance(std::chrono::seconds(3));
  EXPECT_EQ(clock.wall() - w, std::chrono::seconds(3));
  EXPECT_EQ(clock.steady() - s, std::chrono::seconds(3));
}

}  // namespace
}  // namespace tokenizer
