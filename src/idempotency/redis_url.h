// RedisUrl: the `--idempotency-store redis://...` setting, parsed and checked once at start-up.
//
// Accepted: redis://[[username]:password@]host[:port][/db]
//   host  a name, an IPv4 address or a bracketed IPv6 address ([::1])
//   port  1-65535, default 6379
//   db    0-1000000, default 0 (selected with SELECT after connecting)
//   username/password  percent-decoded; sent with AUTH (username needs Redis 6 ACLs)
// Rejected with a message naming what is wrong (code `invalid_idempotency_store`): other schemes
// (rediss:// - TLS is not available in Debian's hiredis 0.14), query strings, fragments, empty
// hosts, bad ports and dbs. Error messages never contain the password.
// Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/expected.h"

namespace tokenizer {

inline constexpr const char* kInvalidIdempotencyStore = "invalid_idempotency_store";

struct RedisUrl {
  std::string host;
  std::uint16_t port = 6379;
  int db = 0;
  std::string username;  // empty: AUTH with the password alone (or no AUTH)
  std::string password;  // empty: no AUTH

  // redis://host:port/db with any credentials redacted, for logs.
  std::string redacted() const;
};

Expected<RedisUrl> parse_redis_url(std::string_view url);

}  // namespace tokenizer
