// RedisServer (tests only): a throw-away `redis-server` on a free loopback port, for tests that
// need a real Redis. Debian's redis-server does not start on its own here; this starts one with
// `--port N --bind 127.0.0.1 --save '' --appendonly no --dir <tmpdir>` and waits until it answers
// PING (polling, 10 s deadline). The child gets PR_SET_PDEATHSIG(SIGKILL), so it dies with the
// test process even if the test crashes; the destructor kills it by PID, reaps it and removes
// its directory.
//
// kill() / pause() (SIGSTOP) / resume() / restart() simulate outages. raw() runs one command
// on a fresh connection, for assertions about what the store wrote. Not thread-safe: drive it
// from the test's main thread. Set TOKENIZER_REDIS_SERVER to use another binary.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace tokenizer::testing {

struct RawReply {
  bool ok = false;   // false: connection failed or error reply
  std::string text;  // string/status/error reply, or the integer as text
  long long integer = 0;
  std::vector<std::string> elements;  // array replies (strings and integers as text)
};

class RedisServer {
 public:
  // The binary to run, or empty if none is installed.
  static std::string binary();
  // Starts a server; nullptr and `error` set on failure.
  static std::unique_ptr<RedisServer> start(std::string& error,
                                            std::vector<std::string> extra_args = {});
  ~RedisServer();
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  std::uint16_t port() const { return port_; }
  std::string url(int db = 0) const;  // redis://127.0.0.1:<port>/<db>

  void kill();    // SIGKILL and reap
  void pause();   // SIGSTOP: accepts connections (kernel backlog) but never answers
  void resume();  // SIGCONT
  bool restart(std::string& error);  // kill if running, start again on the same port

  RawReply raw(const std::vector<std::string>& argv, int db = 0) const;

 private:
  RedisServer() = default;
  bool spawn(std::string& error);
  bool wait_ready(std::string& error);

  std::uint16_t port_ = 0;
  pid_t pid_ = -1;
  bool paused_ = false;
  std::string dir_;
  std::vector<std::string> extra_args_;
};

}  // namespace tokenizer::testing
