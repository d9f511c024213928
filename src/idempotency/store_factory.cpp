#include "idempotency/store_factory.h"

#include "idempotency/memory_store.h"
#include "idempotency/redis_store.h"
#include "idempotency/redis_url.h"

namespace tokenizer {

Expected<std::unique_ptr<IdempotencyStore>> make_idempotency_store(std::string_view spec,
                                                                   const Clock& clock,
                                                                   IdempotencyTtls ttls,
                                                                   std::size_t max_entries) {
  if (ttls.record_ttl.count() <= 0 || ttls.lock_ttl.count() <= 0) {
    return Error{kInvalidIdempotencyStore, "idempotency TTLs must be positive"};
  }
  if (spec == "memory") {
    if (max_entries == 0) {
      return Error{kInvalidIdempotencyStore, "--idempotency-max-entries must be at least 1"};
    }
    MemoryStoreOptions options;
    options.ttls = ttls;
    options.max_entries = max_entries;
    return Expected<std::unique_ptr<IdempotencyStore>>(
        std::make_unique<MemoryIdempotencyStore>(clock, options));
  }
  auto url = parse_redis_url(spec);
  if (!url) return url.error();
  RedisStoreOptions options;
  options.url = std::move(url).value();
  options.ttls = ttls;
  return Expected<std::unique_ptr<IdempotencyStore>>(
      std::make_unique<RedisIdempotencyStore>(clock, std::move(options)));
}

bool is_shared_idempotency_store(std::string_view spec) { return spec != "memory"; }

}  // namespace tokenizer
