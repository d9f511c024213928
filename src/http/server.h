// HttpServer: the Pistache 0.4 adapter. It owns the endpoint, copies each request into an
// ApiRequest, and gives the dispatcher a Responder that completes the Pistache
// ResponseWriter from any thread (the vault call finishes on the curl loop thread).
//
// It handles Pistache's traps in one place (see PLATFORM-NOTES.md):
// - keep-alive: HTTP/1.1 without `Connection: close` (and 1.0 with `keep-alive`) gets
//   `Connection: keep-alive`; Pistache would otherwise answer `Connection: Close`;
// - exceptions never escape to Pistache (which would send `e.what()`): a 500 JSON instead;
// - nothing of Pistache's request is used after onRequest returns (it is copied);
// - `send()` promises are never waited on (dropped writes never settle them);
// - headerTimeout and bodyTimeout stay above the vault deadline, which would otherwise
//   cut requests still waiting for their asynchronous reply;
// - the descriptor limit is raised at start-up (an EMFILE from accept spins a core);
// - request headers are read from Pistache's raw list, as the client sent them; the process
//   stops Pistache from also making typed copies of them (patch 0013), except the few its
//   parser needs.
// Every response carries Content-Type: application/json, Cache-Control: no-store,
// X-Content-Type-Options: nosniff and X-Request-Id; no Server banner.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "common/expected.h"
#include "config/config.h"
#include "http/http_types.h"

namespace tokenizer {

struct HttpServerOptions {
  ListenAddress listen;
  int threads = 2;
  std::size_t max_request_bytes = 1024 * 1024;  // headers + body, enforced by Pistache
  std::chrono::milliseconds header_timeout{60000};
  std::optional<std::string> tls_cert;
  std::optional<std::string> tls_key;
};

class HttpServer {
 public:
  using Dispatcher = std::function<void(ApiRequest, ResponderPtr)>;

  HttpServer(HttpServerOptions options, Dispatcher dispatcher);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and starts serving on background threads. Error when the address is unusable.
  Expected<Ok> start();
  // The bound port (useful with port 0).
  std::uint16_t port() const;
  // Replies queued for Pistache's workers and not yet written (or failed). A reply to a
  // client that went away may stay counted; wait for 0 with a bound.
  long unwritten_replies() const;
  // Stops the listener and every connection. Call after draining.
  void shutdown();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Raises RLIMIT_NOFILE to its hard limit; returns the new soft limit.
long raise_fd_limit();

}  // namespace tokenizer
