// HttpTransport: the asynchronous HTTP client seam between the vault client and the network.
//
// Contract:
// - `send()` never blocks on the network: it queues the request and returns at once.
// - `done` is called exactly once per request, on the transport's own event-loop thread
//   (never on the caller's thread, never re-entrantly from send()), with either a response
//   (any HTTP status) or a transport error. Keep `done` short; it must not block.
// - Thread-safe: send() may be called from any thread.
// - After `shutdown()` returns, no callback runs any more; requests still queued or in
//   flight complete with TransportError::Kind::cancelled before shutdown() returns.
// The production implementation is CurlTransport (libcurl multi on N event-loop threads); tests use
// tests/fakes/fake_transport.h.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace tokenizer {

struct HttpRequest {
  std::string method = "POST";
  std::string url;                                          // absolute http(s) URL
  std::vector<std::pair<std::string, std::string>> headers;  // sent as given
  std::string body;
  // Whole-transfer timeout (connect + send + wait + receive) for this attempt.
  std::chrono::milliseconds timeout{2000};
};

struct HttpResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lowercased; last value wins
  std::string body;
};

struct TransportError {
  enum class Kind {
    connect_failed,  // DNS, refused, unreachable, connect timeout: nothing reached the server
    reset,           // connection reset/closed before a complete response
    timeout,         // the attempt's timeout elapsed after the request was (maybe) sent
    tls,             // certificate or handshake failure: never retried
    cancelled,       // transport shutting down
    other,
  };
  Kind kind = Kind::other;
  // True when the request may have reached the server (some bytes were sent), which
  // makes a retry of a non-idempotent create unsafe.
  bool request_sent = false;
  std::string message;  // diagnostic text for logs, never for clients; no request data
};

const char* transport_error_kind_name(TransportError::Kind kind);

struct HttpResult {
  std::optional<HttpResponse> response;  // set on any HTTP reply
  TransportError error;                  // meaningful only when !response
  std::chrono::nanoseconds elapsed{0};   // time from send() to completion
};

class HttpTransport {
 public:
  using Callback = std::function<void(HttpResult)>;
  virtual ~HttpTransport() = default;
  virtual void send(HttpRequest request, Callback done) = 0;
  virtual void shutdown() = 0;
};

}  // namespace tokenizer
