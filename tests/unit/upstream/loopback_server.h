// LoopbackServer: a tiny raw-socket HTTP/1.1 server on 127.0.0.1:<port chosen by the OS>,
// for CurlTransport tests. One thread accepts, one thread serves each connection; the
// behaviour is fixed at construction (reply with keep-alive, close after reading the request,
// never answer, or write non-HTTP bytes at once). Optionally speaks TLS with a given
// certificate. The destructor stops everything it started (no test leaves a thread behind).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace tokenizer::testing {

class LoopbackServer {
 public:
  enum class Mode {
    reply,                // answer every request (keep-alive) with status/body below
    close_after_request,  // read one full request, then close without a reply
    never_answer,         // read requests, never reply; close only when the client does
    garbage_on_connect,   // write non-HTTP, non-TLS bytes right after accept, then close
    // answer the first request of each connection (keep-alive), then read the second and
    // close without a reply: a kept-alive connection that dies once the request went out
    close_second_request,
  };
  struct Options {
    Mode mode = Mode::reply;
    int status = 201;
    std::string body = "{}";
    // When set, connections speak TLS with this context (the server takes a reference).
    SSL_CTX* tls = nullptr;
  };

  explicit LoopbackServer(Options options) : options_(std::move(options)) {
    if (options_.tls != nullptr) SSL_CTX_up_ref(options_.tls);
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    stop_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (listen_fd_ < 0 || stop_fd_ < 0) throw std::runtime_error("socket/eventfd failed");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof addr;
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(listen_fd_, 256) != 0 ||
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      throw std::runtime_error("bind/listen failed");
    }
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
  }

  ~LoopbackServer() { stop(); }
  LoopbackServer(const LoopbackServer&) = delete;
  LoopbackServer& operator=(const LoopbackServer&) = delete;

  void stop() {
    if (stopped_.exchange(true)) return;
    const std::uint64_t one = 1;
    (void)!::write(stop_fd_, &one, sizeof one);
    acceptor_.join();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      for (int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);
    }
    for (auto& t : workers_) t.join();
    ::close(listen_fd_);
    ::close(stop_fd_);
    if (options_.tls != nullptr) SSL_CTX_free(options_.tls);
  }

  std::uint16_t port() const { return port_; }
  std::string url(const std::string& path = "/v1/payment_methods.json",
                  const char* scheme = "http") const {
    return std::string(scheme) + "://127.0.0.1:" + std::to_string(port_) + path;
  }

  std::size_t connections_accepted() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return accepted_;
  }
  // Raw request heads (request line + headers) and bodies, in arrival order.
  std::vector<std::string> heads() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return heads_;
  }
  std::vector<std::string> bodies() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return bodies_;
  }
  bool wait_for_requests(std::size_t n, std::chrono::milliseconds deadline) {
    std::unique_lock<std::mutex> lock(mutex_);
    return changed_.wait_for(lock, deadline, [&] { return heads_.size() >= n; });
  }

 private:
  // A connection, plain or TLS.
  struct Conn {
    int fd = -1;
    SSL* ssl = nullptr;
    ~Conn() {
      if (ssl != nullptr) SSL_free(ssl);
    }
    long read(char* buf, std::size_t n) {
      if (ssl != nullptr) {
        const int r = SSL_read(ssl, buf, static_cast<int>(n));
        return r > 0 ? r : 0;
      }
      return ::recv(fd, buf, n, 0);
    }
    bool write_all(const std::string& data) {
      std::size_t off = 0;
      while (off < data.size()) {
        long w = ssl != nullptr
                     ? SSL_write(ssl, data.data() + off, static_cast<int>(data.size() - off))
                     : ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
        if (w <= 0) return false;
        off += static_cast<std::size_t>(w);
      }
      return true;
    }
  };

  void accept_loop() {
    // Writes to a peer that already left (TLS alerts, replies) raise SIGPIPE on the writing
    // thread; block it here, which the connection threads started below inherit.
    sigset_t pipe_only;
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_only, nullptr);
    for (;;) {
      pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
      if (::poll(fds, 2, -1) < 0) continue;
      if (fds[1].revents != 0) return;
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      std::lock_guard<std::mutex> lock(mutex_);
      ++accepted_;
      open_fds_.insert(fd);
      workers_.emplace_back([this, fd] { serve(fd); });
    }
  }

  // Waits until the client closes or the server stops (never_answer).
  void park(int fd) {
    char sink[4096];
    for (;;) {
      pollfd fds[2] = {{fd, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
      if (::poll(fds, 2, -1) < 0) continue;
      if (fds[1].revents != 0) return;
      if (::recv(fd, sink, sizeof sink, 0) <= 0) return;
    }
  }

  void serve(int fd) {
    Conn conn;
    conn.fd = fd;
    serve_connection(conn);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      open_fds_.erase(fd);
    }
    if (conn.ssl != nullptr) SSL_shutdown(conn.ssl);
    ::close(fd);
  }

  void serve_connection(Conn& conn) {
    if (options_.mode == Mode::garbage_on_connect) {
      conn.write_all("this is neither HTTP nor TLS\r\n");
      return;
    }
    if (options_.tls != nullptr) {
      conn.ssl = SSL_new(options_.tls);
      SSL_set_fd(conn.ssl, conn.fd);
      if (SSL_accept(conn.ssl) != 1) return;  // e.g. the client refused our certificate
    }
    std::string buffer;
    char chunk[16384];
    for (int served = 0;; ++served) {
      // Read one request: head up to CRLFCRLF, then Content-Length bytes of body.
      std::size_t head_end;
      while ((head_end = buffer.find("\r\n\r\n")) == std::string::npos) {
        const long n = conn.read(chunk, sizeof chunk);
        if (n <= 0) return;
        buffer.append(chunk, static_cast<std::size_t>(n));
      }
      const std::string head = buffer.substr(0, head_end);
      const std::size_t length = content_length(head);
      while (buffer.size() < head_end + 4 + length) {
        const long n = conn.read(chunk, sizeof chunk);
        if (n <= 0) return;
        buffer.append(chunk, static_cast<std::size_t>(n));
      }
      const std::string body = buffer.substr(head_end + 4, length);
      buffer.erase(0, head_end + 4 + length);
      {
        std::lock_guard<std::mutex> lock(mutex_);
        heads_.push_back(head);
        bodies_.push_back(body);
      }
      changed_.notify_all();

      switch (options_.mode) {
        case Mode::close_after_request:
          return;
        case Mode::close_second_request:
          if (served >= 1) return;
          break;
        case Mode::never_answer:
          park(conn.fd);
          return;
        case Mode::reply:
        case Mode::garbage_on_connect:
          break;
      }
      const std::string reply = "HTTP/1.1 " + std::to_string(options_.status) +
                                " Test\r\nContent-Type: application/json\r\n"
                                "X-Test-Header: Mixed-Case Value\r\nContent-Length: " +
                                std::to_string(options_.body.size()) + "\r\n\r\n" +
                                options_.body;
      if (!conn.write_all(reply)) return;
    }
  }

  static std::size_t content_length(const std::string& head) {
    std::string lower = head;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    const auto pos = lower.find("\r\ncontent-length:");
    if (pos == std::string::npos) return 0;
    return static_cast<std::size_t>(std::stoul(head.substr(pos + 17)));
  }

  Options options_;
  int listen_fd_ = -1;
  int stop_fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stopped_{false};
  std::thread acceptor_;

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::size_t accepted_ = 0;
  std::set<int> open_fds_;
  std::vector<std::thread> workers_;  // joined in stop()
  std::vector<std::string> heads_;
  std::vector<std::string> bodies_;
};

}  // namespace tokenizer::testing
