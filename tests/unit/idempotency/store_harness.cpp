#include "store_harness.h"

#include <gtest/gtest.h>

#include <atomic>

#include "idempotency/memory_store.h"
#include "idempotency/redis_store.h"
#include "redis_server.h"

namespace tokenizer::testing {
namespace {

class MemoryHarness final : public StoreHarness {
 public:
  MemoryHarness() {
    MemoryStoreOptions options;
    options.ttls = ttls;
    options.max_entries = 10000;
    store_ = std::make_unique<MemoryIdempotencyStore>(clock, options);
  }
  IdempotencyStore& store() override { return *store_; }
  std::unique_ptr<IdempotencyStore> another_instance() override {
    MemoryStoreOptions options;
    options.ttls = ttls;
    return std::make_unique<MemoryIdempotencyStore>(clock, options);
  }
  bool shared_between_instances() const override { return false; }
  void age_to_just_before(const std::string&, const std::string&,
                          std::chrono::milliseconds ttl) override {
    clock.advance(ttl - std::chrono::milliseconds(1));
  }
  void age_past(const std::string&, const std::string&) override {
    clock.advance(std::chrono::milliseconds(1));
  }

 private:
  std::unique_ptr<MemoryIdempotencyStore> store_;
};

// One redis-server per test process (ctest runs each test in its own process).
RedisServer* shared_server(std::string& error) {
  static std::string start_error;
  static std::unique_ptr<RedisServer> server = RedisServer::start(start_error);
  error = start_error;
  return server.get();
}

class RedisHarness final : public StoreHarness {
 public:
  RedisHarness() {
    static std::atomic<int> counter{0};
    server_ = shared_server(error_);
    if (server_ == nullptr) return;
    prefix_ = "test" + std::to_string(counter++) + ":";
    store_ = make_store();
  }
  IdempotencyStore& store() override { return *store_; }
  std::unique_ptr<IdempotencyStore> another_instance() override { return make_store(); }
  bool shared_between_instances() const override { return true; }
  void age_to_just_before(const std::string& scope, const std::string& key,
                          std::chrono::milliseconds ttl) override {
    const RawReply pttl = server_->raw({"PTTL", store_->redis_key(scope, key)});
    ASSERT_TRUE(pttl.ok) << pttl.text;
    EXPECT_LE(pttl.integer, ttl.count());
    EXPECT_GT(pttl.integer, ttl.count() - 10000) << "TTL set far below " << ttl.count() << " ms";
  }
  void age_past(const std::string& scope, const std::string& key) override {
    const RawReply expired = server_->raw({"PEXPIRE", store_->redis_key(scope, key), "0"});
    ASSERT_TRUE(expired.ok) << expired.text;
    ASSERT_EQ(expired.integer, 1) << "no such key to expire";
  }
  std::string skip_reason() const override {
    return RedisServer::binary().empty() ? "redis-server is not installed" : std::string();
  }
  std::string setup_error() const override {
    return server_ == nullptr ? "cannot start redis-server: " + error_ : std::string();
  }

 private:
  std::unique_ptr<RedisIdempotencyStore> make_store() {
    RedisStoreOptions options;
    auto url = parse_redis_url(server_->url());
    EXPECT_TRUE(url);
    options.url = *url;
    options.ttls = ttls;
    // Generous timeouts: these tests check the contract, not latency, on a shared machine.
    options.connect_timeout = std::chrono::milliseconds(2000);
    options.command_timeout = std::chrono::milliseconds(2000);
    options.max_connections = 32;
    options.key_prefix = prefix_;
    return std::make_unique<RedisIdempotencyStore>(clock, options);
  }

  RedisServer* server_ = nullptr;
  std::string error_;
  std::string prefix_;
  std::unique_ptr<RedisIdempotencyStore> store_;
};

}  // namespace

std::unique_ptr<StoreHarness> make_memory_harness() { return std::make_unique<MemoryHarness>(); }
std::unique_ptr<StoreHarness> make_redis_harness() { return std::make_unique<RedisHarness>(); }

}  // namespace tokenizer::testing
