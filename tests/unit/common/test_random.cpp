#include <gtest/gtest.h>
#include <openssl/evp.h>
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
TEST(ChaCha20, BlockMatchesRfc8439) {
  std::uint32_t key[8];
  for (int i = 0; i < 8; ++i) {
    key[i] = static_cast<std::uint32_t>(4 * i) | static_cast<std::uint32_t>(4 * i + 1) << 8 |
             static_cast<std::uint32_t>(4 * i + 2) << 16 | static_cast<std::uint32_t>(4 * i + 3) << 24;
  }
  const std::uint32_t nonce[3] = {0x09000000, 0x4a000000, 0x00000000};
  unsigned char out[64];
  detail::chacha20_block(key, 1, nonce, out);
  const unsigned char expected[64] = {
      0x10, 0xf1, 0xe7, 0xe4, 0xd1, 0x3b, 0x59, 0x15, 0x50, 0x0f, 0xdd, 0x1f, 0xa3, 0x20, 0x71, 0xc4,
      0xc7, 0xd1, 0xf4, 0xc7, 0x33, 0xc0, 0x68, 0x03, 0x04, 0x22, 0xaa, 0x9a, 0xc3, 0xd4, 0x6c, 0x4e,
      0xd2, 0x82, 0x64, 0x46, 0x07, 0x9f, 0xaa, 0x09, 0x14, 0xc2, 0xd7, 0x05, 0xd9, 0x8b, 0x02, 0xa2,
      0xb5, 0x12, 0x9c, 0xd1, 0xde, 0x16, 0x4e, 0xb9, 0xcb, 0xd0, 0x83, 0xe8, 0xa2, 0x50, 0x3c, 0x4e};
  EXPECT_EQ(std::memcmp(out, expected, sizeof out), 0);
}

// The same keystream as OpenSSL's ChaCha20 (16-byte IV = counter || nonce, little-endian).
TEST(ChaCha20, BlockMatchesOpenSsl) {
  unsigned char key_bytes[32];
  unsigned char iv[16];
  for (int i = 0; i < 32; ++i) key_bytes[i] = static_cast<unsigned char>(7 * i + 3);
  for (int i = 0; i < 16; ++i) iv[i] = static_cast<unsigned char>(11 * i + 5);
  std::uint32_t key[8];
  std::uint32_t words[4];
  std::memcpy(key, key_bytes, sizeof key);  // little-endian host (x86-64, arm64)
  std::memcpy(words, iv, sizeof words);
  const std::uint32_t nonce[3] = {words[1], words[2], words[3]};
  unsigned char ours[128];
  detail::chacha20_block(key, words[0], nonce, ours);
  detail::chacha20_block(key, words[0] + 1, nonce, ours + 64);

  unsigned char zeros[128] = {};
  unsigned char theirs[128];
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  ASSERT_NE(ctx, nullptr);
  int len = 0;
  ASSERT_EQ(EVP_EncryptInit_ex(ctx, EVP_chacha20(), nullptr, key_bytes, iv), 1);
  ASSERT_EQ(EVP_EncryptUpdate(ctx, theirs, &len, zeros, sizeof zeros), 1);
  EVP_CIPHER_CTX_free(ctx);
  ASSERT_EQ(len, 128);
  EXPECT_EQ(std::memcmp(ours, theirs, sizeof ours), 0);
}

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
  // A crude check that the keystream is not stuck or biased: each bit of 4,096 ids is set
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
