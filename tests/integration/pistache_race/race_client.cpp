#include "race_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>
#include <thread>
#include <utility>

namespace tokenizer::pistache_race {
namespace {

constexpr std::size_t kMaxSamples = 12;
constexpr std::size_t kMaxHeaderBytes = 64 * 1024;

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (std::size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

std::string trim(const std::string& text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string::npos) return {};
  const auto last = text.find_last_not_of(" \t\r");
  return text.substr(first, last - first + 1);
}

// A blocking loopback TCP connection with send and receive timeouts; closed on destruction.
class Connection {
 public:
  Connection() = default;
  ~Connection() { close_now(); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  std::string open(int port, std::chrono::milliseconds timeout) {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return std::string("socket: ") + std::strerror(errno);
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    const int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
      return std::string("connect: ") + std::strerror(errno);
    }
    return {};
  }

  std::string send_all(const std::string& data) {
    std::size_t done = 0;
    while (done < data.size()) {
      const ssize_t n = ::send(fd_, data.data() + done, data.size() - done, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return std::string("send: ") + std::strerror(errno);
      done += static_cast<std::size_t>(n);
    }
    return {};
  }

  // Appends what arrives to `buffer`. 0 on EOF; -1 with `error` set on failure or timeout.
  ssize_t receive(std::string& buffer, std::string& error) {
    char chunk[8192];
    for (;;) {
      const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        error = (errno == EAGAIN || errno == EWOULDBLOCK) ? std::string("timeout")
                                                           : std::string(std::strerror(errno));
        return -1;
      }
      buffer.append(chunk, static_cast<std::size_t>(n));
      return n;
    }
  }

  void shutdown_write() { ::shutdown(fd_, SHUT_WR); }

  void close_now() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

struct Reply {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

// Reads one HTTP/1.1 reply (Content-Length framed) from `conn`, keeping extra bytes in
// `carry`. Returns an error description, empty on success.
std::string read_reply(Connection& conn, std::string& carry, Reply& reply) {
  std::string error;
  std::size_t header_end = std::string::npos;
  while ((header_end = carry.find("\r\n\r\n")) == std::string::npos) {
    if (carry.size() > kMaxHeaderBytes) return "reply header too large";
    const ssize_t n = conn.receive(carry, error);
    if (n == 0) return carry.empty() ? "connection closed before a reply" : "connection closed mid-reply";
    if (n < 0) return "reading reply: " + error;
  }
  const std::string head = carry.substr(0, header_end);
  std::size_t line_end = head.find("\r\n");
  const std::string status_line = head.substr(0, line_end);
  if (status_line.rfind("HTTP/1.", 0) != 0 || status_line.size() < 12) return "malformed status line";
  reply.status = std::atoi(status_line.c_str() + 9);
  while (line_end != std::string::npos) {
    const std::size_t start = line_end + 2;
    line_end = head.find("\r\n", start);
    const std::string line = head.substr(start, line_end == std::string::npos ? std::string::npos : line_end - start);
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    reply.headers[lower(trim(line.substr(0, colon)))] = trim(line.substr(colon + 1));
  }
  carry.erase(0, header_end + 4);
  const auto length_it = reply.headers.find("content-length");
  if (length_it == reply.headers.end()) return "reply without Content-Length";
  const std::size_t length = std::strtoul(length_it->second.c_str(), nullptr, 10);
  while (carry.size() < length) {
    const ssize_t n = conn.receive(carry, error);
    if (n == 0) return "connection closed mid-body";
    if (n < 0) return "reading body: " + error;
  }
  reply.body = carry.substr(0, length);
  carry.erase(0, length);
  return {};
}

void add_sample(RaceReport& report, std::string text) {
  if (report.samples.size() < kMaxSamples) report.samples.push_back(std::move(text));
}

void merge(RaceReport& into, const RaceReport& from) {
  into.clients_run += from.clients_run;
  into.closers += from.closers;
  into.readers += from.readers;
  into.requests_sent += from.requests_sent;
  into.replies_checked += from.replies_checked;
  into.replies_ok += from.replies_ok;
  into.misdelivered += from.misdelivered;
  into.bad_replies += from.bad_replies;
  into.stray_bytes += from.stray_bytes;
  into.io_errors += from.io_errors;
  into.deadline_hit = into.deadline_hit || from.deadline_hit;
  for (const auto& s : from.samples) add_sample(into, s);
}

}  // namespace

RaceClient::RaceClient(RaceConfig config, Random& random) : config_(std::move(config)), random_(random) {}

RaceReport RaceClient::run() {
  const auto deadline = std::chrono::steady_clock::now() + config_.deadline;
  std::atomic<int> next{0};
  std::mutex merge_mutex;
  RaceReport total;
  std::vector<std::thread> threads;
  for (int t = 0; t < std::max(1, config_.parallel); ++t) {
    threads.emplace_back([&] {
      RaceReport mine;
      for (;;) {
        const int client = next.fetch_add(1);
        if (client >= config_.clients) break;
        if (std::chrono::steady_clock::now() > deadline) {
          mine.deadline_hit = true;
          break;
        }
        run_one(client, mine);
      }
      std::lock_guard<std::mutex> lock(merge_mutex);
      merge(total, mine);
    });
  }
  for (auto& thread : threads) thread.join();
  return total;
}

void RaceClient::run_one(int client, RaceReport& report) {
  ++report.clients_run;
  // Closers are spread evenly: client i closes when floor((i+1)f) > floor(i f).
  const double f = config_.close_fraction;
  const bool closer = static_cast<long>((client + 1) * f) > static_cast<long>(client * f);
  const int requests = closer ? 1 : std::max(1, config_.requests_per_connection);
  (closer ? report.closers : report.readers) += 1;

  Connection conn;
  if (auto error = conn.open(config_.port, config_.io_timeout); !error.empty()) {
    ++report.io_errors;
    add_sample(report, "client " + std::to_string(client) + ": " + error);
    return;
  }
  std::string carry;
  for (int n = 0; n < requests; ++n) {
    const std::string id = config_.id_prefix + "-" + std::to_string(client) + "-" + std::to_string(n);
    std::string request = config_.method + " " + replace_all(config_.path, "{id}", id) +
                          " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\nX-Request-Id: " + id +
                          "\r\n";
    for (const auto& header : config_.headers) request += replace_all(header, "{id}", id) + "\r\n";
    const std::string body = replace_all(config_.body, "{id}", id);
    if (!body.empty() || config_.method == "POST" || config_.method == "PUT") {
      request += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    }
    request += "\r\n" + body;
    if (auto error = conn.send_all(request); !error.empty()) {
      ++report.io_errors;
      add_sample(report, "client " + std::to_string(client) + ": " + error);
      return;
    }
    ++report.requests_sent;
    if (closer) {
      const auto pause = static_cast<long>(random_.next_unit() * static_cast<double>(config_.close_jitter.count()));
      if (pause > 0) std::this_thread::sleep_for(std::chrono::microseconds(pause));
      return;  // Connection closes without reading the reply.
    }
    Reply reply;
    if (auto error = read_reply(conn, carry, reply); !error.empty()) {
      ++report.io_errors;
      add_sample(report, "client " + std::to_string(client) + " request " + id + ": " + error);
      return;
    }
    ++report.replies_checked;
    const auto id_it = reply.headers.find("x-request-id");
    if (id_it != reply.headers.end() && id_it->second != id) {
      ++report.misdelivered;
      add_sample(report, "MISDELIVERY: request " + id + " was answered with the reply for " + id_it->second);
      return;
    }
    if (id_it == reply.headers.end()) {
      ++report.bad_replies;
      add_sample(report, "request " + id + ": reply " + std::to_string(reply.status) + " without X-Request-Id");
      return;
    }
    if (config_.expect_status && reply.status != *config_.expect_status) {
      ++report.bad_replies;
      add_sample(report, "request " + id + ": status " + std::to_string(reply.status));
      return;
    }
    if (config_.body_must_contain_id && reply.body.find(id) == std::string::npos) {
      ++report.misdelivered;
      add_sample(report, "MISDELIVERY: request " + id + " got a body for another request");
      return;
    }
    ++report.replies_ok;
  }
  // Anything after our last reply was meant for someone else (or is garbage).
  conn.shutdown_write();
  std::string error;
  for (;;) {
    const ssize_t n = conn.receive(carry, error);
    if (n == 0) break;
    if (n < 0) {
      if (error != "Connection reset by peer") {
        ++report.io_errors;
        add_sample(report, "client " + std::to_string(client) + ": waiting for close: " + error);
      }
      break;
    }
  }
  if (!carry.empty()) {
    const std::string text = lower(carry);
    const auto at = text.find("\r\nx-request-id:");
    if (at != std::string::npos) {
      const auto start = at + std::strlen("\r\nx-request-id:");
      const auto end = carry.find("\r\n", start);
      ++report.misdelivered;
      add_sample(report, "MISDELIVERY: client " + std::to_string(client) + " also received the reply for " +
                             trim(carry.substr(start, end == std::string::npos ? std::string::npos : end - start)));
    } else {
      report.stray_bytes += carry.size();
      add_sample(report, "client " + std::to_string(client) + ": " + std::to_string(carry.size()) +
                             " unexpected bytes after its last reply");
    }
  }
}

}  // namespace tokenizer::pistache_race
