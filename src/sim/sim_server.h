// SimServer: the Pistache HTTP(S) front of upstream-sim. It copies each request into a
// SimRequest, asks the SimEngine for a Plan and carries it out without parking a server
// thread: a delayed reply, a delayed reset and a hung request move their ResponseWriter
// into a DelayedQueue served by one timer thread and the handler returns at once. So 1,000
// concurrent requests at 100 ms latency cost heap entries, not threads.
//
// Every reply echoes the request's X-Request-Id (when it is sane) and answers keep-alive
// to HTTP/1.1 clients that did not ask to close (Pistache otherwise answers Close).
// `reset` sets SO_LINGER 0 and shuts the socket's read side, so the worker's own read sees
// end-of-stream and closes it: a TCP RST, no reply, and Pistache still owns the descriptor.
// Delayed resets and hangs act on a dup() of the socket taken while the request was in
// hand, so they can never hit a descriptor number that a new connection has reused.
// Exceptions never leave the handler (Pistache would send e.what()); card data is never
// logged (this component logs nothing).
//
// Usage:
//   SimEngine engine(credentials, SystemClock::instance(), SystemRandom::instance());
//   SimServer server(options, engine, SystemClock::instance());
//   if (auto started = server.start(); !started) { ... started.error().message ... }
//   server.port();   // the bound port (options.port may be 0)
//   server.stop();   // drops held replies, shuts the endpoint down; also done by ~SimServer
// The engine must outlive the server. start()/stop() from one thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "common/clock.h"
#include "common/expected.h"
#include "sim/sim_engine.h"

namespace tokenizer {

struct SimServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8081;  // 0: let the OS choose
  int threads = 2;
  std::string tls_cert;  // both set: serve HTTPS
  std::string tls_key;
  std::chrono::milliseconds hang_cap{120000};
  std::size_t max_request_bytes = 64 * 1024;
};

class SimServer {
 public:
  SimServer(SimServerOptions options, SimEngine& engine, const Clock& clock);
  ~SimServer();
  SimServer(const SimServer&) = delete;
  SimServer& operator=(const SimServer&) = delete;

  // Binds and starts serving on background threads. Errors: bind_failed, tls_failed.
  Expected<Ok> start();
  void stop();

  std::uint16_t port() const;
  bool tls() const { return !options_.tls_cert.empty(); }
  // Replies, resets and hangs currently held by the timer thread.
  std::size_t held() const;

  struct State;  // shared with the per-thread handlers (defined in the .cpp)

 private:
  SimServerOptions options_;
  std::shared_ptr<State> state_;
};

// Raises RLIMIT_NOFILE's soft limit to its hard limit (so accept() does not hit EMFILE,
// which spins a core in Pistache); returns the new soft limit.
std::uint64_t raise_open_file_limit();

}  // namespace tokenizer
