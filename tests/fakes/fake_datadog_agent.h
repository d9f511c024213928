// FakeDatadogAgent: a Datadog agent trace intake for tests, in-process (unit tests) or as the
// `fake-dd-agent` executable (integration tests; tests/fakes/fake_dd_agent_main.cpp).
//
// An HTTP/1.1 server on 127.0.0.1 (port 0 = chosen by the OS) that:
// - accepts `PUT`/`POST /v0.4/traces` and applies the agent's rules with a strict msgpack
//   walker (telemetry/msgpack_reader.h) that records the wire type of every value:
//   Content-Type application/msgpack, a Content-Length, X-Datadog-Trace-Count equal to the
//   number of chunks, non-empty chunks, non-zero trace and span ids, one trace id per chunk,
//   integer ids/start/duration/error, meta str->str, metrics float64 or integer (a float32
//   is a 400, as it makes the real agent reject the payload). A violation answers 400 with
//   the reason, and the payload is recorded as rejected;
// - answers accepted payloads `200 {"rate_by_service": ...}` (knob: set_rate_by_service);
// - serves `GET /test/traces` (every accepted span as JSON: ids as decimal strings, meta,
//   metrics, wire types), `GET /test/requests` (each intake request's headers and whether it
//   was accepted or why not) and `DELETE /test/traces` (clears both).
// Knobs for tests: set_forced_status() (answer every intake with that status),
// hold_intake() (intake replies wait until released: an agent that hangs).
//
// Sink mode (`Options::sink`, `fake-dd-agent --sink`), for load benchmarks: intake requests
// get the same HTTP handling and the same answers, but their bodies are neither decoded,
// checked nor kept; the agent only counts payloads, body bytes and traces (read from the
// payload's msgpack array header), served as `GET /test/stats`
// (`{"payloads":N,"bytes":N,"traces":N}`) and by sink_stats(). Its CPU per payload is then a
// read of the body, so a benchmark measures the service, not this test double. The records
// (spans(), requests(), payloads()) stay empty.
//
// Header-only like the other fakes, so a unit test needs nothing but this include path and
// tk_telemetry. Thread-safe; the destructor stops the server and joins its threads.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <climits>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/expected.h"
#include "telemetry/msgpack_reader.h"

namespace tokenizer::testing {

struct FakeAgentSpan {
  std::uint64_t trace_id = 0;
  std::uint64_t span_id = 0;
  std::uint64_t parent_id = 0;
  std::string name;
  std::string service;
  std::string resource;
  std::string type;
  std::int64_t start = 0;
  std::int64_t duration = 0;
  std::int64_t error = 0;
  std::map<std::string, std::string> meta;
  std::map<std::string, double> metrics;
  // Wire type of each top-level field ("trace_id" -> "uint64") and of each metric
  // ("metrics.process_id" -> "float64").
  std::map<std::string, std::string> wire_types;
  std::size_t request_index = 0;  // which intake request carried it
  std::size_t chunk_index = 0;    // which chunk of that request
};

struct FakeAgentRequest {
  std::string method;
  std::string path;
  std::map<std::string, std::string> headers;  // names lower-cased
  int status = 0;
  bool accepted = false;
  std::string reason;  // why it was rejected
  std::size_t traces = 0;
  std::size_t spans = 0;
  std::size_t body_size = 0;
};

inline bool fake_agent_all_digits(const std::string& text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// The agent's rules over one intake request: the decoded chunks, or why it is rejected.
inline Expected<std::vector<std::vector<FakeAgentSpan>>> validate_trace_intake(
    const std::map<std::string, std::string>& headers, std::string_view body) {
  using Chunks = std::vector<std::vector<FakeAgentSpan>>;
  auto reject = [](std::string why) -> Expected<Chunks> { return Error{"rejected", std::move(why)}; };

  const auto ct = headers.find("content-type");
  if (ct == headers.end() || ct->second.substr(0, ct->second.find(';')) != "application/msgpack") {
    return reject("Content-Type is not application/msgpack");
  }
  const auto count_header = headers.find("x-datadog-trace-count");
  if (count_header == headers.end()) return reject("missing X-Datadog-Trace-Count");
  std::uint64_t declared = 0;
  {
    const auto& text = count_header->second;
    if (text.empty() || text.size() > 9 || !fake_agent_all_digits(text)) {
      return reject("X-Datadog-Trace-Count is not a number");
    }
    declared = std::stoull(text);
  }
  auto decoded = decode_msgpack(body);
  if (!decoded) return reject("undecodable msgpack: " + decoded.error().message);
  const MsgpackValue& root = *decoded;
  if (root.type != MsgpackType::array) return reject("payload is not an array of chunks");
  if (root.items.size() != declared) {
    return reject("X-Datadog-Trace-Count " + std::to_string(declared) + " != " +
                  std::to_string(root.items.size()) + " chunks");
  }

  auto as_uint = [](const MsgpackValue& v, std::uint64_t& out) {
    out = 0;
    if (v.type == MsgpackType::nil) return true;
    if (v.is_unsigned()) {
      out = v.uint_value;
      return true;
    }
    if (!v.is_integer() || v.int_value < 0) return false;
    out = static_cast<std::uint64_t>(v.int_value);
    return true;
  };
  auto as_int = [](const MsgpackValue& v, std::int64_t& out) {
    out = 0;
    if (v.type == MsgpackType::nil) return true;
    if (!v.is_integer()) return false;
    if (v.is_unsigned() && v.uint_value > static_cast<std::uint64_t>(INT64_MAX)) return false;
    out = v.int_value;
    return true;
  };
  auto as_str = [](const MsgpackValue& v, std::string& out) {
    out.clear();
    if (v.type == MsgpackType::nil) return true;
    if (!v.is_string()) return false;
    out = v.bytes;
    return true;
  };

  Chunks chunks;
  for (std::size_t c = 0; c < root.items.size(); ++c) {
    const auto& chunk = root.items[c];
    const std::string where = "chunk " + std::to_string(c);
    if (chunk.type != MsgpackType::array) return reject(where + " is not an array");
    if (chunk.items.empty()) return reject(where + " is empty");
    std::vector<FakeAgentSpan> spans;
    for (std::size_t s = 0; s < chunk.items.size(); ++s) {
      const auto& map = chunk.items[s];
      const std::string at = where + " span " + std::to_string(s);
      if (map.type != MsgpackType::map) return reject(at + " is not a map");
      FakeAgentSpan span;
      span.chunk_index = c;
      for (const auto& [key, value] : map.entries) {
        if (!key.is_string()) return reject(at + " has a non-string key");
        const std::string& k = key.bytes;
        span.wire_types[k] = msgpack_type_name(value.type);
        bool ok = true;
        if (k == "trace_id") {
          ok = as_uint(value, span.trace_id);
        } else if (k == "span_id") {
          ok = as_uint(value, span.span_id);
        } else if (k == "parent_id") {
          ok = as_uint(value, span.parent_id);
        } else if (k == "start") {
          ok = as_int(value, span.start);
        } else if (k == "duration") {
          ok = as_int(value, span.duration);
        } else if (k == "error") {
          ok = as_int(value, span.error) && span.error >= INT32_MIN && span.error <= INT32_MAX;
        } else if (k == "name") {
          ok = as_str(value, span.name);
        } else if (k == "service") {
          ok = as_str(value, span.service);
        } else if (k == "resource") {
          ok = as_str(value, span.resource);
        } else if (k == "type") {
          ok = as_str(value, span.type);
        } else if (k == "meta") {
          if (value.type == MsgpackType::nil) continue;
          if (value.type != MsgpackType::map) return reject(at + " meta is not a map");
          for (const auto& [mk, mv] : value.entries) {
            std::string v;
            if (!mk.is_string() || !as_str(mv, v)) return reject(at + " meta is not str->str");
            span.meta[mk.bytes] = v;
          }
        } else if (k == "metrics") {
          if (value.type == MsgpackType::nil) continue;
          if (value.type != MsgpackType::map) return reject(at + " metrics is not a map");
          for (const auto& [mk, mv] : value.entries) {
            if (!mk.is_string()) return reject(at + " metrics has a non-string key");
            span.wire_types["metrics." + mk.bytes] = msgpack_type_name(mv.type);
            if (mv.type == MsgpackType::float32) {
              return reject(at + " metric '" + mk.bytes + "' is float32 (the agent requires float64)");
            }
            if (mv.type == MsgpackType::float64) {
              span.metrics[mk.bytes] = mv.float_value;
            } else if (mv.is_unsigned()) {
              span.metrics[mk.bytes] = static_cast<double>(mv.uint_value);
            } else if (mv.is_integer()) {
              span.metrics[mk.bytes] = static_cast<double>(mv.int_value);
            } else {
              return reject(at + " metric '" + mk.bytes + "' is not a number");
            }
          }
        }
        // Other keys (meta_struct, span_links, ...) are ignored, as by the agent.
        if (!ok) return reject(at + " field '" + k + "' has wire type " + msgpack_type_name(value.type));
      }
      if (span.trace_id == 0) return reject(at + " has trace_id 0");
      if (span.span_id == 0) return reject(at + " has span_id 0");
      if (!spans.empty() && spans.front().trace_id != span.trace_id) {
        return reject(where + " mixes trace ids");
      }
      spans.push_back(std::move(span));
    }
    chunks.push_back(std::move(spans));
  }
  return chunks;
}

// The chunk count of a v0.4 payload from its leading msgpack array header (fixarray,
// array16 or array32); nullopt when `body` does not start with one.
inline std::optional<std::uint64_t> fake_agent_array_size(std::string_view body) {
  if (body.empty()) return std::nullopt;
  const auto b = static_cast<unsigned char>(body[0]);
  if ((b & 0xf0) == 0x90) return b & 0x0f;
  const std::size_t n = b == 0xdc ? 2 : b == 0xdd ? 4 : 0;
  if (n == 0 || body.size() < 1 + n) return std::nullopt;
  std::uint64_t size = 0;
  for (std::size_t i = 0; i < n; ++i) size = (size << 8) | static_cast<unsigned char>(body[1 + i]);
  return size;
}

struct FakeAgentSinkStats {
  std::uint64_t payloads = 0;  // intake requests answered 200
  std::uint64_t bytes = 0;     // their body bytes
  std::uint64_t traces = 0;    // their chunks, from each payload's array header
};

class FakeDatadogAgent {
 public:
  struct Options {
    std::uint16_t port = 0;  // 0: chosen by the OS
    std::string rate_by_service = R"({"service:,env:":1})";
    bool sink = false;  // count intake payloads without decoding, checking or keeping them
  };

  FakeDatadogAgent() : FakeDatadogAgent(Options{}) {}
  // Binds 127.0.0.1 and starts serving; throws std::runtime_error when it cannot.
  explicit FakeDatadogAgent(Options options) : sink_(options.sink), rate_by_service_(options.rate_by_service) {
    wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (wake_fd_ < 0 || listen_fd_ < 0) throw std::runtime_error("fake agent: socket failed");
    const int one = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(options.port);
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
        ::listen(listen_fd_, 64) != 0) {
      const std::string why = std::strerror(errno);
      close_fds();
      throw std::runtime_error("fake agent: cannot listen on 127.0.0.1:" + std::to_string(options.port) + ": " + why);
    }
    socklen_t len = sizeof(addr);
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    accept_thread_ = std::thread([this] { accept_loop(); });
  }

  ~FakeDatadogAgent() { stop(); }
  FakeDatadogAgent(const FakeDatadogAgent&) = delete;
  FakeDatadogAgent& operator=(const FakeDatadogAgent&) = delete;

  std::uint16_t port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  void stop() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stopping_) return;
      stopping_ = true;
    }
    changed_.notify_all();
    const std::uint64_t one = 1;
    [[maybe_unused]] const auto n = ::write(wake_fd_, &one, sizeof(one));
    if (accept_thread_.joinable()) accept_thread_.join();
    std::vector<Connection> connections;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      connections.swap(connections_);
    }
    for (auto& c : connections) c.thread.join();
    close_fds();
  }

  // ---- knobs ----
  void set_rate_by_service(std::string json_object) {
    std::lock_guard<std::mutex> lock(mutex_);
    rate_by_service_ = std::move(json_object);
  }
  void set_forced_status(int status) {
    std::lock_guard<std::mutex> lock(mutex_);
    forced_status_ = status;
  }
  void hold_intake(bool hold) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      hold_ = hold;
    }
    changed_.notify_all();
  }

  // ---- records ----
  std::vector<FakeAgentSpan> spans() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return spans_;
  }
  std::vector<FakeAgentRequest> requests() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return requests_;
  }
  std::vector<std::string> payloads() const {  // bodies of accepted intake requests
    std::lock_guard<std::mutex> lock(mutex_);
    return payloads_;
  }
  void clear() {
    std::lock_guard<std::mutex> lock(mutex_);
    spans_.clear();
    requests_.clear();
    payloads_.clear();
    received_ = 0;
  }
  FakeAgentSinkStats sink_stats() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return sink_stats_;
  }
  std::string sink_stats_json() const {
    const auto s = sink_stats();
    return nlohmann::json{{"payloads", s.payloads}, {"bytes", s.bytes}, {"traces", s.traces}}.dump();
  }
  // TCP connections accepted so far (a client that keeps its connection alive makes one).
  std::size_t connections_accepted() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return accepted_;
  }
  // Intake requests received (counted before they are answered, so also while held).
  bool wait_for_intake(std::size_t n, std::chrono::milliseconds timeout) const {
    std::unique_lock<std::mutex> lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return received_ >= n; });
  }
  // Intake requests answered (accepted or not).
  bool wait_for_requests(std::size_t n, std::chrono::milliseconds timeout) const {
    std::unique_lock<std::mutex> lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return requests_.size() >= n; });
  }

  std::string traces_json() const {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& s : spans()) {
      out.push_back({{"trace_id", std::to_string(s.trace_id)},
                     {"span_id", std::to_string(s.span_id)},
                     {"parent_id", std::to_string(s.parent_id)},
                     {"name", s.name},
                     {"service", s.service},
                     {"resource", s.resource},
                     {"type", s.type},
                     {"start", s.start},
                     {"duration", s.duration},
                     {"error", s.error},
                     {"meta", s.meta},
                     {"metrics", s.metrics},
                     {"wire_types", s.wire_types},
                     {"request_index", s.request_index},
                     {"chunk_index", s.chunk_index}});
    }
    return out.dump();
  }

  std::string requests_json() const {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& r : requests()) {
      out.push_back({{"method", r.method},
                     {"path", r.path},
                     {"headers", r.headers},
                     {"status", r.status},
                     {"accepted", r.accepted},
                     {"reason", r.reason},
                     {"traces", r.traces},
                     {"spans", r.spans},
                     {"body_size", r.body_size}});
    }
    return out.dump();
  }

 private:
  static constexpr std::size_t kMaxHeaderBytes = 64 * 1024;
  static constexpr std::size_t kMaxBodyBytes = 32 * 1024 * 1024;

  struct Connection {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };
  struct Request {
    std::string method;
    std::string path;
    std::map<std::string, std::string> headers;
    std::string body;
  };
  struct Reply {
    int status = 200;
    std::string content_type = "application/json";
    std::string body;
  };

  void close_fds() {
    if (listen_fd_ >= 0) ::close(listen_fd_);
    if (wake_fd_ >= 0) ::close(wake_fd_);
    listen_fd_ = wake_fd_ = -1;
  }

  bool is_stopping() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return stopping_;
  }

  void accept_loop() {
    while (!is_stopping()) {
      pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
      if (::poll(fds, 2, -1) < 0 && errno != EINTR) break;
      if (fds[1].revents != 0) break;
      if ((fds[0].revents & POLLIN) == 0) continue;
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      auto done = std::make_shared<std::atomic<bool>>(false);
      std::lock_guard<std::mutex> lock(mutex_);
      ++accepted_;
      // Reap finished connections so a long-running agent does not accumulate threads.
      for (auto it = connections_.begin(); it != connections_.end();) {
        if (it->done->load()) {
          it->thread.join();
          it = connections_.erase(it);
        } else {
          ++it;
        }
      }
      connections_.push_back({std::thread([this, fd, done] {
                                serve_connection(fd);
                                ::close(fd);
                                done->store(true);
                              }),
                              done});
    }
  }

  // Reads more bytes into `buffer`; false on close, error or stop.
  bool read_more(int fd, std::string& buffer) {
    for (;;) {
      pollfd fds[2] = {{fd, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
      if (::poll(fds, 2, -1) < 0) {
        if (errno == EINTR) continue;
        return false;
      }
      if (fds[1].revents != 0) return false;
      char chunk[16384];
      const ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
      if (n <= 0) return false;
      buffer.append(chunk, static_cast<std::size_t>(n));
      return true;
    }
  }

  static bool write_all(int fd, const std::string& data) {
    std::size_t sent = 0;
    while (sent < data.size()) {
      const ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return false;
      sent += static_cast<std::size_t>(n);
    }
    return true;
  }

  static std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
  }

  static std::string trim(const std::string& s) {
    const auto b = s.find_first_not_of(" \t");
    if (b == std::string::npos) return "";
    return s.substr(b, s.find_last_not_of(" \t") - b + 1);
  }

  static const char* reason_phrase(int status) {
    switch (status) {
      case 200: return "OK";
      case 400: return "Bad Request";
      case 404: return "Not Found";
      case 405: return "Method Not Allowed";
      case 411: return "Length Required";
      case 413: return "Payload Too Large";
      case 429: return "Too Many Requests";
      case 500: return "Internal Server Error";
      case 503: return "Service Unavailable";
      default: return "Status";
    }
  }

  void serve_connection(int fd) {
    std::string buffer;
    for (;;) {
      std::size_t header_end;
      while ((header_end = buffer.find("\r\n\r\n")) == std::string::npos) {
        if (buffer.size() > kMaxHeaderBytes || !read_more(fd, buffer)) return;
      }
      Request request;
      bool close_after = false;
      Reply reply;
      if (!parse_head(buffer.substr(0, header_end), request)) {
        reply = {400, "text/plain", "malformed request"};
        close_after = true;
        buffer.clear();
      } else {
        buffer.erase(0, header_end + 4);
        const auto cl = request.headers.find("content-length");
        std::size_t length = 0;
        if (request.headers.count("transfer-encoding") != 0) {
          reply = {411, "text/plain", "chunked bodies are not accepted: send a Content-Length"};
          close_after = true;
        } else if (cl != request.headers.end()) {
          const auto& text = cl->second;
          if (text.empty() || text.size() > 10 || !fake_agent_all_digits(text)) {
            reply = {400, "text/plain", "bad Content-Length"};
            close_after = true;
          } else if ((length = std::stoull(text)) > kMaxBodyBytes) {
            reply = {413, "text/plain", "payload too large"};
            close_after = true;
          }
        }
        if (!close_after && sink_ && request.path == "/v0.4/traces" &&
            (request.method == "PUT" || request.method == "POST") && cl != request.headers.end()) {
          std::string head;  // the body's first bytes: its array header
          if (!drain_body(fd, buffer, length, head)) return;
          const auto connection = request.headers.find("connection");
          close_after = connection != request.headers.end() && lower(connection->second) == "close";
          reply = sink_intake(length, head);
        } else if (!close_after) {
          while (buffer.size() < length) {
            if (!read_more(fd, buffer)) return;
          }
          request.body = buffer.substr(0, length);
          buffer.erase(0, length);
          const auto connection = request.headers.find("connection");
          close_after = connection != request.headers.end() && lower(connection->second) == "close";
          reply = handle(request, cl != request.headers.end());
        }
      }
      std::string out = "HTTP/1.1 " + std::to_string(reply.status) + " " + reason_phrase(reply.status) + "\r\n";
      out += "Content-Type: " + reply.content_type + "\r\n";
      out += "Content-Length: " + std::to_string(reply.body.size()) + "\r\n";
      if (close_after) out += "Connection: close\r\n";
      out += "\r\n" + reply.body;
      if (!write_all(fd, out) || close_after) return;
    }
  }

  // Sink mode: consumes a `length`-byte body (its start may already be in `buffer`) without
  // keeping it; its first bytes (up to 5) go to `head`. False when the connection ends first.
  bool drain_body(int fd, std::string& buffer, std::size_t length, std::string& head) {
    constexpr std::size_t kHeadBytes = 5;
    auto keep_head = [&](const char* data, std::size_t n) {
      if (head.size() < kHeadBytes) head.append(data, std::min(n, kHeadBytes - head.size()));
    };
    const std::size_t buffered = std::min(buffer.size(), length);
    keep_head(buffer.data(), buffered);
    buffer.erase(0, buffered);
    std::size_t remaining = length - buffered;
    char chunk[64 * 1024];
    while (remaining > 0) {
      pollfd fds[2] = {{fd, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
      if (::poll(fds, 2, -1) < 0) {
        if (errno == EINTR) continue;
        return false;
      }
      if (fds[1].revents != 0) return false;
      // Never past this body: what follows belongs to the next request.
      const ssize_t n = ::recv(fd, chunk, std::min(sizeof(chunk), remaining), 0);
      if (n <= 0) return false;
      keep_head(chunk, static_cast<std::size_t>(n));
      remaining -= static_cast<std::size_t>(n);
    }
    return true;
  }

  Reply sink_intake(std::size_t body_size, const std::string& head) {
    std::unique_lock<std::mutex> lock(mutex_);
    ++received_;
    changed_.notify_all();
    changed_.wait(lock, [&] { return !hold_ || stopping_; });
    if (forced_status_ != 0) return {forced_status_, "text/plain", "forced status"};
    ++sink_stats_.payloads;
    sink_stats_.bytes += body_size;
    sink_stats_.traces += fake_agent_array_size(head).value_or(0);
    return {200, "application/json", "{\"rate_by_service\":" + rate_by_service_ + "}"};
  }

  static bool parse_head(const std::string& head, Request& request) {
    const auto line_end = head.find("\r\n");
    const std::string line = head.substr(0, line_end);
    const auto sp1 = line.find(' ');
    const auto sp2 = line.find(' ', sp1 == std::string::npos ? sp1 : sp1 + 1);
    if (sp1 == std::string::npos || sp2 == std::string::npos) return false;
    request.method = line.substr(0, sp1);
    request.path = line.substr(sp1 + 1, sp2 - sp1 - 1);
    if (const auto q = request.path.find('?'); q != std::string::npos) request.path.resize(q);
    std::size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
    while (pos < head.size()) {
      auto end = head.find("\r\n", pos);
      if (end == std::string::npos) end = head.size();
      const std::string header = head.substr(pos, end - pos);
      pos = end + 2;
      const auto colon = header.find(':');
      if (colon == std::string::npos || colon == 0) return false;
      request.headers[lower(header.substr(0, colon))] = trim(header.substr(colon + 1));
    }
    return true;
  }

  Reply handle(const Request& request, bool has_content_length) {
    if (request.path == "/v0.4/traces") {
      if (request.method != "PUT" && request.method != "POST") return {405, "text/plain", "use PUT or POST"};
      return intake(request, has_content_length);
    }
    if (request.path == "/test/traces") {
      if (request.method == "GET") return {200, "application/json", traces_json()};
      if (request.method == "DELETE") {
        clear();
        return {200, "application/json", "{}"};
      }
      return {405, "text/plain", "use GET or DELETE"};
    }
    if (request.path == "/test/requests" && request.method == "GET") {
      return {200, "application/json", requests_json()};
    }
    if (request.path == "/test/stats" && request.method == "GET") {
      return {200, "application/json", sink_stats_json()};
    }
    return {404, "text/plain", "not found"};
  }

  Reply intake(const Request& request, bool has_content_length) {
    int forced = 0;
    std::string rates;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      ++received_;
      changed_.notify_all();
      changed_.wait(lock, [&] { return !hold_ || stopping_; });
      forced = forced_status_;
      rates = rate_by_service_;
    }
    FakeAgentRequest record;
    record.method = request.method;
    record.path = request.path;
    record.headers = request.headers;
    record.body_size = request.body.size();
    Reply reply;
    auto chunks = has_content_length
                      ? validate_trace_intake(request.headers, request.body)
                      : Expected<std::vector<std::vector<FakeAgentSpan>>>(Error{"rejected", "missing Content-Length"});
    if (forced != 0) {
      reply = {forced, "text/plain", "forced status"};
      record.reason = "forced status";
    } else if (!chunks) {
      reply = {400, "text/plain", chunks.error().message};
      record.reason = chunks.error().message;
    } else {
      reply = {200, "application/json", "{\"rate_by_service\":" + rates + "}"};
    }
    record.status = reply.status;
    record.accepted = reply.status == 200;
    std::lock_guard<std::mutex> lock(mutex_);
    if (record.accepted) {
      record.traces = chunks->size();
      for (auto& chunk : *chunks) {
        record.spans += chunk.size();
        for (auto& span : chunk) {
          span.request_index = requests_.size();
          spans_.push_back(std::move(span));
        }
      }
      payloads_.push_back(request.body);
    }
    requests_.push_back(std::move(record));
    changed_.notify_all();
    return reply;
  }

  const bool sink_;
  int listen_fd_ = -1;
  int wake_fd_ = -1;
  std::uint16_t port_ = 0;
  std::thread accept_thread_;

  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  bool stopping_ = false;
  bool hold_ = false;
  int forced_status_ = 0;
  std::string rate_by_service_;
  std::size_t received_ = 0;
  std::size_t accepted_ = 0;
  FakeAgentSinkStats sink_stats_;
  std::vector<Connection> connections_;
  std::vector<FakeAgentSpan> spans_;
  std::vector<FakeAgentRequest> requests_;
  std::vector<std::string> payloads_;
};

}  // namespace tokenizer::testing
