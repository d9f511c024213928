// CurlTransport: the production HttpTransport, libcurl's multi interface driven by
// dedicated event-loop threads ("tk-curl-N"; one by default, `loops` in the config).
//
// Use: construct once at start-up with a CurlTransportConfig, hand it (as HttpTransport&) to
// the VaultClient, call shutdown() while draining (the destructor calls it too).
//
//   CurlTransport transport(CurlTransportConfig{.connect_timeout = 1000ms, ...});
//   transport.send(request, [](HttpResult r) { ... });   // returns at once
//
// How it works: each loop owns a multi handle (its own connection pool and DNS cache), an
// epoll set and an eventfd. send() picks a loop round-robin, appends to that loop's
// mutex-protected submission queue and wakes it through the eventfd; the loop adds queued
// transfers to its multi handle and drives them with curl_multi_socket_action() from
// epoll_wait() (libcurl tells it which sockets to watch and when its next timeout is due), so
// a wake-up costs work proportional to the sockets that are ready, not to every transfer in
// flight. Each `done` is called exactly once, on the loop thread of its transfer, with the
// response or a classified TransportError. Connections to the vault are reused across
// requests (HTTP/1.1 keep-alive; HTTP/1.1 is pinned, no HTTP/2 multiplexing); an idle pooled
// connection stays in the epoll set (re-armed only when its events change). Finished easy
// handles are reused: a POST handle keeps its options for the next POST, any other is reset.
// A POST body goes with CURLOPT_POSTFIELDS, written together with the headers.
//
// Several loops: the completion work (parsing the vault reply, the retry executor, building
// and writing the client's reply, metrics, spans) runs on the loop thread, so one loop is a
// serial ceiling on a multi-core machine. With `loops` = N the connection limits are split
// evenly between the loops (rounded up), each loop keeping its own pool.
//
// Failure classification (TransportError::Kind) and `request_sent`:
// - connect_failed: resolve or connect errors, or the timeout elapsing before any request
//   byte was written (TCP or TLS connect still in progress). request_sent = false.
// - tls: certificate, CA or handshake failures. Handshakes precede the request:
//   request_sent = false. Peer and host verification are ALWAYS on; there is no option to
//   turn them off (ca_file only changes which CAs are trusted, e.g. for tests).
// - reset: send/receive errors, an empty or truncated reply. request_sent is true when
//   libcurl wrote any request byte (CURLINFO_REQUEST_SIZE > 0) — bytes in the kernel's
//   send buffer may or may not have reached the vault, so "sent" is the safe assumption.
// - timeout: the attempt timeout elapsed after request bytes were written.
// - cancelled: shutdown() ran while the request was queued or in flight.
// - other: anything else (malformed URL, unsupported protocol, response over
//   max_response_bytes, a reply that is not HTTP); request_sent as measured.
//
// At most once (libcurl 7.88, no option disables this): when a REUSED keep-alive connection
// turns out to be dead before any reply byte arrives, libcurl wants to send the request again
// on a new connection, so a create could reach the vault twice. A CURLOPT_PREREQFUNCTION lets
// each transfer send once; the refused second send ends the transfer as `reset` with
// request_sent = true. Idle connections are also retired after `max_connection_age`
// (CURLOPT_MAXAGE_CONN), which should stay below the vault's idle timeout, to keep it rare.
//
// Thread-safety: send(), in_flight(), connections_opened() and shutdown() may be called from
// any thread. Do not call shutdown() from inside a `done` callback (it cannot join its own
// thread; it then only stops the loops, and the destructor joins). Callbacks must be short and
// must not block: they run on a loop thread that serves many transfers.
//
// Exception to the "never called from send()" rule of the contract: a send() after shutdown()
// completes `done` synchronously, on the caller's thread, with `cancelled` (there is no loop
// left to run it on, and dropping it would break "exactly once").
//
// Proxies: libcurl's environment variables (http_proxy, https_proxy/HTTPS_PROXY,
// all_proxy/ALL_PROXY, no_proxy/NO_PROXY; never HTTP_PROXY) are honoured with libcurl's rules,
// but read once, when the transport is constructed (proxy_environment() below), and passed as
// CURLOPT_PROXY / CURLOPT_NOPROXY: left to libcurl, every transfer would call getenv() five
// times (~2k instructions per request). Changing them needs a restart, like any other setting.
//
// Signals: CURLOPT_NOSIGNAL is set (libcurl must not use SIGALRM in a threaded program) and
// SIGPIPE is blocked on the loop thread; the service should still ignore SIGPIPE process-wide.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "upstream/http_transport.h"

namespace tokenizer {

struct CurlTransportConfig {
  // TCP + TLS connect limit per attempt (CURLOPT_CONNECTTIMEOUT_MS); an attempt's own
  // timeout caps it when smaller.
  std::chrono::milliseconds connect_timeout{1000};
  // Open connections at most, in total and to one host (CURLMOPT_MAX_TOTAL_CONNECTIONS /
  // CURLMOPT_MAX_HOST_CONNECTIONS). Transfers over the limit wait inside libcurl, and that
  // wait counts against their timeout. 0 = unlimited.
  long max_total_connections = 256;
  long max_host_connections = 256;
  // Idle connections kept for reuse (CURLMOPT_MAXCONNECTS). Keep it at least the in-flight
  // window, or connections are closed and reopened under load.
  long max_idle_connections = 256;
  // Idle connections older than this are not reused (CURLOPT_MAXAGE_CONN). Keep it below
  // the vault's keep-alive idle timeout (see the caveat above).
  std::chrono::seconds max_connection_age{30};
  // PEM bundle of trusted CAs (CURLOPT_CAINFO); system CAs when unset.
  std::optional<std::string> ca_file;
  // TCP keep-alive probes on idle connections.
  bool tcp_keepalive = true;
  std::chrono::seconds tcp_keepalive_idle{30};
  std::chrono::seconds tcp_keepalive_interval{10};
  // How long resolved addresses are cached (CURLOPT_DNS_CACHE_TIMEOUT).
  std::chrono::seconds dns_cache_timeout{60};
  // Larger response bodies fail the transfer with Kind::other (a vault reply is ~1 KiB).
  std::size_t max_response_bytes = 1024 * 1024;
  std::string user_agent = "tokenizer/1.0";
  // Event-loop threads, each with its own multi handle and share of the connection limits.
  int loops = 1;
};

// The proxy libcurl would pick from the environment for each URL scheme ("" = none), and its
// no-proxy list. `getenv` is injected for tests; a variable set to "" counts as unset, as in
// libcurl.
struct ProxyEnvironment {
  std::string http;
  std::string https;
  std::string no_proxy;
};
ProxyEnvironment proxy_environment(const std::function<const char*(const char*)>& getenv);

class CurlTransport final : public HttpTransport {
 public:
  // Starts the loop thread. `clock` measures HttpResult::elapsed and must outlive this.
  explicit CurlTransport(CurlTransportConfig config,
                         const Clock& clock = SystemClock::instance());
  ~CurlTransport() override;  // calls shutdown()

  CurlTransport(const CurlTransport&) = delete;
  CurlTransport& operator=(const CurlTransport&) = delete;

  void send(HttpRequest request, Callback done) override;

  // Stops the loop: every queued or in-flight request completes with `cancelled` (on the
  // loop thread), then the thread is joined. Idempotent.
  void shutdown() override;

  // Requests accepted by send() whose callback has not finished yet (queued + in flight).
  std::size_t in_flight() const { return in_flight_.load(std::memory_order_relaxed); }
  // New connections libcurl opened since start (CURLINFO_NUM_CONNECTS summed per transfer).
  std::uint64_t connections_opened() const {
    return connections_opened_.load(std::memory_order_relaxed);
  }
  // Requests completed (any outcome) since start.
  std::uint64_t completed() const { return completed_.load(std::memory_order_relaxed); }

  const CurlTransportConfig& config() const { return config_; }

 private:
  struct Transfer;
  class Loop;

  const CurlTransportConfig config_;
  const ProxyEnvironment proxy_;
  const Clock& clock_;
  std::vector<std::unique_ptr<Loop>> loops_;
  std::atomic<std::size_t> next_loop_{0};

  void complete(std::unique_ptr<Transfer> transfer, HttpResult result);

  std::atomic<std::size_t> in_flight_{0};
  std::atomic<std::uint64_t> connections_opened_{0};
  std::atomic<std::uint64_t> completed_{0};
};

}  // namespace tokenizer
