// Request ids (http/request_id.h): a sane client id is kept, anything else is replaced by a
// fresh 32-hex-character id that is unique across threads.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <thread>
#include <vector>

#include "http/request_id.h"

namespace tokenizer {
namespace {

bool is_fresh_id(const std::string& id) {
  return id.size() == 32 && id.find_first_not_of("0123456789abcdef") == std::string::npos;
}

TEST(RequestId, KeepsASaneClientId) {
  for (std::string id : {std::string("a"), std::string("abc-DEF_012.345:6789"), std::string(128, 'x'),
                         std::string("00000000-0000-4000-8000-000000000000")}) {
    EXPECT_TRUE(is_sane_request_id(id)) << id;
    EXPECT_EQ(choose_request_id(id), id);
  }
}

TEST(RequestId, ReplacesAnInsaneOrMissingClientId) {
  for (std::string id : {std::string(), std::string(129, 'x'), std::string("a b"),
                         std::string("a\r\nX-Injected: 1"), std::string("caf\xc3\xa9"),
                         std::string("a\0b", 3), std::string("{\"json\":1}"), std::string("a/b")}) {
    EXPECT_FALSE(is_sane_request_id(id)) << id;
    const std::string chosen = choose_request_id(id);
    EXPECT_TRUE(is_fresh_id(chosen)) << chosen;
  }
  EXPECT_TRUE(is_fresh_id(choose_request_id(std::nullopt)));
}

TEST(RequestId, FreshIdsAreUniqueAcrossThreads) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 25000;
  std::vector<std::vector<std::string>> ids(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&ids, t] {
      ids[t].reserve(kPerThread);
      for (int i = 0; i < kPerThread; ++i) ids[t].push_back(choose_request_id(std::nullopt));
    });
  }
  for (auto& th : threads) th.join();
  std::set<std::string> all;
  for (const auto& v : ids) {
    for (const auto& id : v) {
      ASSERT_TRUE(is_fresh_id(id)) << id;
      all.insert(id);
    }
  }
  EXPECT_EQ(all.size(), static_cast<std::size_t>(kThreads * kPerThread));
}

}  // namespace
}  // namespace tokenizer
