// Test HTTP clients: `http_request()` (libcurl easy, one request per call, optional
// connection reuse through a `CurlSession`) and `RawConnection` (a plain socket for
// byte-exact requests: malformed framing, keep-alive checks, abrupt closes); and
// `RefusingPort`, a vault address that refuses connections.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace tokenizer::testing {

struct HttpReply {
  long status = 0;  // 0 = transport failure
  std::map<std::string, std::string> headers;  // lower-cased names
  std::string body;
  std::string error;  // curl's message when status == 0
  long connects = 0;  // new connections this request needed (keep-alive checks)
  double seconds = 0;
};

struct HttpCall {
  std::string method = "GET";
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  std::string body;
  std::string basic_user;            // empty = no auth
  std::string basic_password;
  long timeout_ms = 15000;
  std::string ca_file;
};

// Keeps one curl easy handle (and so its connections) across calls.
class CurlSession {
 public:
  CurlSession();
  ~CurlSession();
  HttpReply perform(const HttpCall& call);

 private:
  void* curl_;
};

HttpReply http_request(const HttpCall& call);

class RawConnection {
 public:
  // receive_buffer_bytes > 0 sets SO_RCVBUF (a client that is slow to take its replies).
  explicit RawConnection(int port, int receive_buffer_bytes = 0);
  ~RawConnection();
  bool ok() const { return fd_ >= 0; }
  // The socket, for options and getsockname() (the connection keeps owning it).
  int fd() const { return fd_; }
  bool send_all(const std::string& bytes);
  // Reads one HTTP response (headers + Content-Length body); empty on EOF/timeout.
  std::string read_response(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // True when the server closed the connection (EOF) within the timeout.
  bool closed_by_peer(std::chrono::milliseconds timeout);
  // Half-closes: sends our FIN, the socket stays open for reading.
  bool shutdown_write();
  void close();

 private:
  int fd_ = -1;
  std::string buffer_;
};

// A loopback port that refuses connections: bound (so nobody else takes it while this lives)
// but not listening. port() is 0 when the socket could not be bound.
class RefusingPort {
 public:
  RefusingPort();
  ~RefusingPort();
  RefusingPort(const RefusingPort&) = delete;
  RefusingPort& operator=(const RefusingPort&) = delete;
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

}  // namespace tokenizer::testing
