// RaceClient: many short HTTP/1.1 clients on loopback, each checking that every reply it
// reads carries its own X-Request-Id.
//
// It reproduces the fd-reuse race of Pistache 0.4.26 against any server that echoes the
// request's `X-Request-Id` header in its reply: `clients` connections are opened by
// `parallel` threads; a `close_fraction` of them (spread evenly) send one request and close
// their connection without reading, after a random pause of at most `close_jitter` (0: at
// once), so that their replies are still in flight while new connections take their file
// descriptors; the others send `requests_per_connection` keep-alive requests one after the
// other, read each reply, then half-close and read until the server closes, so that a reply
// written to them after their own is seen too. Every request has a unique id
// (`<id_prefix>-<client>-<n>`); `{id}` in the path, body and extra headers is replaced by it.
//
// Usage: fill a RaceConfig, `RaceClient(config, random).run()`, then judge the RaceReport
// (`misdelivered` must be 0 and every reader request answered). Only 127.0.0.1 is used.
// Thread-safety: run() is called once, from one thread; it starts and joins its own
// threads. `random` decides the closers' pauses and is used from those threads (pass a
// thread-safe Random such as SystemRandom).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/random.h"

namespace tokenizer::pistache_race {

struct RaceConfig {
  int port = 0;
  std::string method = "GET";
  std::string path = "/";
  std::string body;
  std::vector<std::string> headers;  // "Name: value", sent as is after substitution
  int clients = 600;
  int parallel = 24;
  double close_fraction = 1.0 / 3.0;
  int requests_per_connection = 2;
  std::chrono::microseconds close_jitter{4000};
  bool body_must_contain_id = false;
  std::optional<int> expect_status;
  std::chrono::milliseconds io_timeout{5000};
  std::chrono::milliseconds deadline{40000};  // no new client starts after this
  std::string id_prefix = "race";
};

struct RaceReport {
  std::uint64_t clients_run = 0;
  std::uint64_t closers = 0;
  std::uint64_t readers = 0;
  std::uint64_t requests_sent = 0;
  std::uint64_t replies_checked = 0;  // replies read by readers and compared
  std::uint64_t replies_ok = 0;       // ... carrying the reader's own id
  std::uint64_t misdelivered = 0;     // replies carrying another client's id
  std::uint64_t bad_replies = 0;      // malformed, no id, wrong status, body without id
  std::uint64_t stray_bytes = 0;      // bytes after a reader's last reply, not a reply
  std::uint64_t io_errors = 0;        // connect/send/read failures and timeouts
  bool deadline_hit = false;
  std::vector<std::string> samples;   // a few human-readable problem descriptions
};

class RaceClient {
 public:
  RaceClient(RaceConfig config, Random& random);

  RaceReport run();

 private:
  void run_one(int client, RaceReport& report);

  const RaceConfig config_;
  Random& random_;
};

}  // namespace tokenizer::pistache_race
