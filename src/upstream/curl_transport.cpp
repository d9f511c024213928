// CurlTransport: libcurl multi driven by epoll on N event-loop threads. See curl_transport.h.
#include "upstream/curl_transport.h"

#include <curl/curl.h>
#include <pthread.h>
#include <signal.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <utility>

namespace tokenizer {

namespace {

void global_init_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// Two memchr scans (vectorised; ~20 instructions each on a header value) rather than
// find_first_of("\r\n"), which calls memchr once per character, or a loop over the bytes
// (~4 instructions each; the vault request carries ~300 bytes of header values).
bool has_line_break(const std::string& s) {
  return std::memchr(s.data(), '\r', s.size()) != nullptr ||
         std::memchr(s.data(), '\n', s.size()) != nullptr;
}

// A header name libcurl can send as given: non-empty, no separators that would let it
// smuggle another header or change its meaning.
bool is_sendable_header(const std::pair<std::string, std::string>& header) {
  const auto& name = header.first;
  if (name.empty() || has_line_break(header.second)) return false;
  return std::all_of(name.begin(), name.end(), [](unsigned char c) {
    return c > 0x20 && c < 0x7f && c != ':';
  });
}

// libcurl's test for an https target (the scheme is case-insensitive).
bool is_https(const std::string& url) { return strncasecmp(url.c_str(), "https:", 6) == 0; }

std::string trim(const char* begin, const char* end) {
  while (begin < end && (*begin == ' ' || *begin == '\t')) ++begin;
  while (end > begin && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r' || end[-1] == '\n')) {
    --end;
  }
  return std::string(begin, end);
}

TransportError classify(CURLcode code, bool request_sent, const char* detail) {
  TransportError error;
  error.request_sent = request_sent;
  using Kind = TransportError::Kind;
  switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
      error.kind = Kind::connect_failed;
      error.request_sent = false;
      break;
    case CURLE_OPERATION_TIMEDOUT:
      // No request byte written: the connect (TCP or TLS) never completed, or the transfer
      // waited for a free connection the whole time. Nothing reached the vault.
      error.kind = request_sent ? Kind::timeout : Kind::connect_failed;
      break;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CLIENTCERT:
    case CURLE_USE_SSL_FAILED:
      error.kind = Kind::tls;
      break;
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
      error.kind = Kind::reset;
      break;
    case CURLE_SEND_FAIL_REWIND:
      // A reused connection died after (part of) the body was sent and libcurl could not
      // rewind the body to send it again. It may have arrived.
      error.kind = Kind::reset;
      error.request_sent = true;
      break;
    default:
      error.kind = Kind::other;
      break;
  }
  error.message = std::string("curl: ") + curl_easy_strerror(code);
  if (detail != nullptr && detail[0] != '\0') {
    error.message += " (";
    error.message += detail;
    error.message += ")";
  }
  return error;
}

}  // namespace

struct CurlTransport::Transfer {
  HttpRequest request;
  Callback done;
  std::chrono::steady_clock::time_point started;
  std::size_t max_body = 0;

  CURL* easy = nullptr;
  // The request's header lines for CURLOPT_HTTPHEADER, built without one allocation per
  // line: the nodes are ours (curl_slist is a public struct libcurl only reads), each
  // pointing into header_text. Never passed to curl_slist_free_all.
  std::vector<curl_slist> header_nodes;
  std::string header_text;
  HttpResponse response;
  int sends = 0;  // how many times libcurl was about to send the request (prereq_once)
  bool body_too_large = false;
  char error_buffer[CURL_ERROR_SIZE] = {};

  Transfer() = default;
  Transfer(const Transfer&) = delete;
  Transfer& operator=(const Transfer&) = delete;
  ~Transfer() {
    if (easy != nullptr) curl_easy_cleanup(easy);
  }

  bool request_sent() const {
    if (easy == nullptr) return false;
    long size = 0;
    curl_easy_getinfo(easy, CURLINFO_REQUEST_SIZE, &size);
    return size > 0;
  }
  std::uint64_t new_connections() const {
    if (easy == nullptr) return 0;
    long n = 0;
    curl_easy_getinfo(easy, CURLINFO_NUM_CONNECTS, &n);
    return n > 0 ? static_cast<std::uint64_t>(n) : 0;
  }

  // CURLOPT_PREREQFUNCTION: libcurl calls it each time it is about to send the request,
  // including when it would silently send it again on a new connection because a reused
  // one died before any reply (PLATFORM-NOTES.md). A vault create must reach the vault at
  // most once per attempt, so the second call aborts the transfer; whether to retry is the
  // retry policy's decision (the error says the request may have been sent).
  static int prereq_once(void* user, char*, char*, int, int) {
    auto* t = static_cast<Transfer*>(user);
    return ++t->sends == 1 ? CURL_PREREQFUNC_OK : CURL_PREREQFUNC_ABORT;
  }

  static size_t on_body(char* data, size_t size, size_t count, void* user) {
    auto* self = static_cast<Transfer*>(user);
    const size_t n = size * count;
    if (self->response.body.size() + n > self->max_body) {
      self->body_too_large = true;
      return 0;  // aborts the transfer with CURLE_WRITE_ERROR
    }
    self->response.body.append(data, n);
    return n;
  }

  static size_t on_header(char* data, size_t size, size_t count, void* user) {
    auto* self = static_cast<Transfer*>(user);
    const size_t n = size * count;
    const char* end = data + n;
    if (n >= 5 && std::memcmp(data, "HTTP/", 5) == 0) {
      self->response.headers.clear();  // a new status line (e.g. after a 100 Continue)
      return n;
    }
    const char* colon = static_cast<const char*>(std::memchr(data, ':', n));
    if (colon == nullptr || colon == data) return n;  // blank line or not a header
    std::string name(static_cast<const char*>(data), colon);
    for (char& c : name) {
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    self->response.headers[name] = trim(colon + 1, end);
    return n;
  }
};

// One event loop: a multi handle driven by curl_multi_socket_action() from epoll_wait().
class CurlTransport::Loop {
 public:
  Loop(CurlTransport& owner, int index, long max_total, long max_host, long max_idle)
      : owner_(owner), index_(index) {
    multi_ = curl_multi_init();
    epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
    wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (multi_ == nullptr || epoll_fd_ < 0 || wake_fd_ < 0) {
      release();
      throw std::runtime_error("curl event loop: cannot create multi handle, epoll or eventfd");
    }
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLET;
    ev.data.fd = wake_fd_;
    if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev) != 0) {
      release();
      throw std::runtime_error("curl event loop: cannot watch its eventfd");
    }
    curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS, max_idle);
    curl_multi_setopt(multi_, CURLMOPT_MAX_TOTAL_CONNECTIONS, max_total);
    curl_multi_setopt(multi_, CURLMOPT_MAX_HOST_CONNECTIONS, max_host);
    curl_multi_setopt(multi_, CURLMOPT_PIPELINING, static_cast<long>(CURLPIPE_NOTHING));
    curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, &Loop::on_socket);
    curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
    thread_ = std::thread([this] { run(); });
  }

  ~Loop() {
    request_stop();
    join();
    {
      std::lock_guard<std::mutex> lock(join_mutex_);
      if (thread_.joinable()) thread_.join();  // stop was requested from the loop itself
    }
    for (CURL* easy : spare_) curl_easy_cleanup(easy);
    for (CURL* easy : spare_post_) curl_easy_cleanup(easy);
    release();
    for (auto& entry : urls_) curl_url_cleanup(entry.second);
  }

  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;

  // Queues `transfer` and returns true, or leaves it untouched and returns false once the
  // loop has stopped accepting.
  bool try_submit(std::unique_ptr<Transfer>& transfer) {
    bool was_empty = false;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!accepting_) return false;
      was_empty = queue_.empty();
      queue_.push_back(std::move(transfer));
    }
    // One wake-up per batch: a non-empty queue already has one pending. Written after the
    // lock is released, so the woken loop does not block on it (a futex each time).
    if (was_empty) wake();
    return true;
  }

  void request_stop() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!stop_requested_) {
      stop_requested_ = true;
      wake();
    }
  }

  // Joins the loop thread unless called on it (then the destructor joins).
  void join() {
    std::lock_guard<std::mutex> lock(join_mutex_);
    if (!thread_.joinable() || thread_.get_id() == std::this_thread::get_id()) return;
    thread_.join();
  }

 private:
  void release() {
    if (multi_ != nullptr) curl_multi_cleanup(multi_);
    if (epoll_fd_ >= 0) close(epoll_fd_);
    if (wake_fd_ >= 0) close(wake_fd_);
    multi_ = nullptr;
    epoll_fd_ = wake_fd_ = -1;
  }

  // The eventfd is watched edge-triggered and never read: every write raises one event,
  // which saves the loop a read() per wake-up. (The counter would need 2^64 writes to fill.)
  void wake() {
    const std::uint64_t one = 1;
    [[maybe_unused]] const ssize_t n = write(wake_fd_, &one, sizeof one);
  }

  // libcurl says which sockets to watch (CURLMOPT_SOCKETFUNCTION). A connection socket it
  // stops watching (CURL_POLL_REMOVE) is usually going back to the pool for the next
  // transfer: it stays in the epoll set, "parked", and is re-armed only when its events
  // change, which saves two epoll_ctl calls per request. Only sockets opened and closed
  // through on_open_socket/on_close_socket are parked, so none can be closed unseen while
  // the table still thinks it is armed (libcurl closes its resolver's socketpair itself:
  // those are removed from the set as before).
  static int on_socket(CURL*, curl_socket_t s, int what, void* userp, void*) {
    auto* self = static_cast<Loop*>(userp);
    if (s < 0) return 0;
    if (what == CURL_POLL_REMOVE) {
      self->park(s);
      return 0;
    }
    std::uint32_t events = 0;
    if (what & CURL_POLL_IN) events |= EPOLLIN;
    if (what & CURL_POLL_OUT) events |= EPOLLOUT;
    self->watch(s, events);
    return 0;
  }

  // CURLOPT_OPENSOCKETFUNCTION / CLOSESOCKETFUNCTION, set on every handle (a connection
  // keeps the callbacks of the handle that opened it).
  static curl_socket_t on_open_socket(void* userp, curlsocktype, curl_sockaddr* address) {
    const int fd = socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
    if (fd < 0) return CURL_SOCKET_BAD;
    static_cast<Loop*>(userp)->slot(fd) = kConnection;
    return fd;
  }
  static int on_close_socket(void* userp, curl_socket_t s) {
    static_cast<Loop*>(userp)->forget(s);
    return close(s);
  }

  // Per descriptor: its events in the epoll set (EPOLLIN/EPOLLOUT) and these flags.
  static constexpr std::uint32_t kInSet = 1u << 29;       // in the epoll set
  static constexpr std::uint32_t kParked = 1u << 30;      // in the set, libcurl not watching
  static constexpr std::uint32_t kConnection = 1u << 31;  // opened by on_open_socket

  std::uint32_t& slot(int fd) {
    if (static_cast<std::size_t>(fd) >= sockets_.size()) sockets_.resize(fd + 64, 0);
    return sockets_[fd];
  }

  bool parked(int fd) const {
    return fd >= 0 && static_cast<std::size_t>(fd) < sockets_.size() && (sockets_[fd] & kParked);
  }

  void watch(int fd, std::uint32_t events) {
    std::uint32_t& state = slot(fd);
    const std::uint32_t armed = state & (kInSet | EPOLLIN | EPOLLOUT);
    if (armed == (events | kInSet)) {  // already armed exactly so (a parked connection)
      state &= ~kParked;
      return;
    }
    epoll_event ev{};
    ev.events = events;
    ev.data.fd = fd;
    int op = (state & kInSet) ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    if (epoll_ctl(epoll_fd_, op, fd, &ev) != 0) {
      op = errno == ENOENT ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
      epoll_ctl(epoll_fd_, op, fd, &ev);
    }
    state = (state & kConnection) | events | kInSet;
  }

  // libcurl no longer watches `fd`. A connection is parked readable-only (watched for
  // writing it would wake the loop at once); anything else leaves the set.
  void park(int fd) {
    std::uint32_t& state = slot(fd);
    if (!(state & kInSet)) return;
    if (!(state & kConnection)) {
      unwatch(fd);
      return;
    }
    if (state & EPOLLOUT) {
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.fd = fd;
      epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &ev);
      state = kConnection | kInSet | EPOLLIN;
    }
    state |= kParked;
  }

  void unwatch(int fd) {
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);  // may already be closed
    std::uint32_t& state = slot(fd);
    state &= kConnection;
  }

  void forget(int fd) {
    if (fd >= 0 && static_cast<std::size_t>(fd) < sockets_.size()) sockets_[fd] = 0;
  }

  void run() {
    char name[16];
    std::snprintf(name, sizeof name, "tk-curl-%d", index_);
    pthread_setname_np(pthread_self(), name);
    // A peer closing a TLS connection can make OpenSSL's write raise SIGPIPE on this thread.
    sigset_t pipe_only;
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_only, nullptr);

    std::vector<std::unique_ptr<Transfer>> incoming;
    epoll_event events[64];
    for (;;) {
      bool stop = false;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        incoming.swap(queue_);
        stop = stop_requested_;
        if (stop) accepting_ = false;
      }
      if (stop) break;
      for (auto& transfer : incoming) start_transfer(std::move(transfer));
      incoming.clear();

      int running = 0;
      long timeout_ms = -1;
      curl_multi_timeout(multi_, &timeout_ms);
      if (timeout_ms != 0) {
        // Bounded so that a missed timer can never stall transfers for long.
        const int wait_ms = timeout_ms < 0 ? 1000 : static_cast<int>(std::min(timeout_ms, 1000L));
        const int n = epoll_wait(epoll_fd_, events, 64, wait_ms);
        for (int i = 0; i < n; ++i) {
          const int fd = events[i].data.fd;
          if (fd == wake_fd_) continue;  // the queue is read at the top of the loop
          if (parked(fd)) {
            // An idle pooled connection became readable: the vault closed it (or sent
            // something unasked). libcurl notices when it next checks the connection; stop
            // watching it so that a level-triggered event does not fire again and again.
            unwatch(fd);
            continue;
          }
          int mask = 0;
          if (events[i].events & EPOLLIN) mask |= CURL_CSELECT_IN;
          if (events[i].events & EPOLLOUT) mask |= CURL_CSELECT_OUT;
          if (events[i].events & (EPOLLERR | EPOLLHUP)) mask |= CURL_CSELECT_ERR;
          curl_multi_socket_action(multi_, fd, mask, &running);
        }
        curl_multi_timeout(multi_, &timeout_ms);
      }
      if (timeout_ms == 0) curl_multi_socket_action(multi_, CURL_SOCKET_TIMEOUT, 0, &running);
      drain_messages();
    }
    stop_all(incoming);
  }

  void drain_messages() {
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi_, &left)) {
      if (msg->msg != CURLMSG_DONE) continue;
      char* priv = nullptr;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
      finish_transfer(reinterpret_cast<Transfer*>(priv), msg->data.result);
    }
  }

  // Stopping: cancel what never started, then what is in flight.
  void stop_all(std::vector<std::unique_ptr<Transfer>>& incoming) {
    for (auto& transfer : incoming) {
      HttpResult result;
      result.error.kind = TransportError::Kind::cancelled;
      result.error.message = "transport shut down before the request started";
      owner_.complete(std::move(transfer), std::move(result));
    }
    incoming.clear();
    auto active = std::move(active_);
    active_.clear();
    for (auto& entry : active) {
      auto transfer = std::move(entry.second);
      curl_multi_remove_handle(multi_, transfer->easy);
      owner_.connections_opened_.fetch_add(transfer->new_connections(), std::memory_order_relaxed);
      HttpResult result;
      result.error.kind = TransportError::Kind::cancelled;
      result.error.request_sent = transfer->request_sent();
      result.error.message = "transport shut down while the request was in flight";
      owner_.complete(std::move(transfer), std::move(result));
    }
  }

  // A handle for the next transfer. For a POST, one that served a POST before keeps every
  // option that does not change between POSTs (`*configured` is then true) and needs only
  // the per-transfer ones: curl_easy_reset and setting the rest again cost ~8k
  // instructions per request (callgrind), and every vault create is a POST.
  CURL* take_easy(bool post, bool* configured) {
    *configured = false;
    if (post && !spare_post_.empty()) {
      CURL* easy = spare_post_.back();
      spare_post_.pop_back();
      *configured = true;
      return easy;
    }
    if (spare_.empty()) return curl_easy_init();
    CURL* easy = spare_.back();
    spare_.pop_back();
    return easy;
  }

  // A finished handle serves the next transfer: connections and the DNS cache belong to
  // the multi handle, and libcurl re-initialises a transfer's state when it starts. A POST
  // handle keeps its options (pointers into the finished transfer are cleared); any other
  // is curl_easy_reset, so that nothing of its method or headers reaches the next one.
  void recycle_easy(CURL* easy, bool post) {
    if (spare_.size() + spare_post_.size() >= kMaxSpareHandles) {
      curl_easy_cleanup(easy);
      return;
    }
    if (post) {
      curl_easy_setopt(easy, CURLOPT_HTTPHEADER, nullptr);
      curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, nullptr);
      curl_easy_setopt(easy, CURLOPT_PRIVATE, nullptr);
      curl_easy_setopt(easy, CURLOPT_PREREQDATA, nullptr);
      curl_easy_setopt(easy, CURLOPT_POSTFIELDS, nullptr);
      curl_easy_setopt(easy, CURLOPT_WRITEDATA, nullptr);
      curl_easy_setopt(easy, CURLOPT_HEADERDATA, nullptr);
      spare_post_.push_back(easy);
      return;
    }
    curl_easy_reset(easy);
    spare_.push_back(easy);
  }

  // `url` parsed once, for CURLOPT_CURLU: given only CURLOPT_URL, libcurl parses the URL
  // and prints it back in normalised form at the start of every transfer (~14k instructions
  // per request); given a parsed handle, it copies it. The handles are never changed once
  // made (a transfer waiting to start may point at one) and live as long as the loop. The
  // vault client sends to a handful of URLs; past kMaxParsedUrls, or when the URL does not
  // parse, nullptr: libcurl then parses CURLOPT_URL itself and reports its own error.
  CURLU* parsed_url(const std::string& url) {
    for (const auto& entry : urls_) {
      if (entry.first == url) return entry.second;
    }
    if (urls_.size() >= kMaxParsedUrls) return nullptr;
    CURLU* handle = curl_url();
    if (handle == nullptr) return nullptr;
    // The flags libcurl itself parses CURLOPT_URL with.
    if (curl_url_set(handle, CURLUPART_URL, url.c_str(),
                     CURLU_GUESS_SCHEME | CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK) {
      curl_url_cleanup(handle);
      return nullptr;
    }
    urls_.emplace_back(url, handle);
    return handle;
  }

  void start_transfer(std::unique_ptr<Transfer> transfer);
  void finish_transfer(Transfer* key, CURLcode code);

  static constexpr std::size_t kMaxSpareHandles = 256;
  static constexpr std::size_t kMaxParsedUrls = 16;

  CurlTransport& owner_;
  const int index_;
  CURLM* multi_ = nullptr;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;

  std::mutex mutex_;  // guards queue_, accepting_, stop_requested_
  std::vector<std::unique_ptr<Transfer>> queue_;
  bool accepting_ = true;
  bool stop_requested_ = false;

  std::unordered_map<Transfer*, std::unique_ptr<Transfer>> active_;  // loop thread only
  std::vector<CURL*> spare_;       // reset handles; loop thread only
  std::vector<CURL*> spare_post_;  // handles configured by a POST; loop thread only
  std::vector<std::uint32_t> sockets_;  // by descriptor: see kInSet/kParked; loop thread only
  std::vector<std::pair<std::string, CURLU*>> urls_;  // parsed_url(); loop thread only

  std::mutex join_mutex_;  // serialises joiners
  std::thread thread_;
};

namespace {

// The options every transfer of this transport gets, whatever its method and target.
// (The socket callbacks are set by the loop, which owns the epoll set.)
void set_constant_options(CURL* easy, const CurlTransportConfig& config,
                          const ProxyEnvironment& proxy) {
  curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
  curl_easy_setopt(easy, CURLOPT_MAXAGE_CONN, static_cast<long>(config.max_connection_age.count()));
  curl_easy_setopt(easy, CURLOPT_DNS_CACHE_TIMEOUT,
                   static_cast<long>(config.dns_cache_timeout.count()));
  if (config.tcp_keepalive) {
    curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(easy, CURLOPT_TCP_KEEPIDLE,
                     static_cast<long>(config.tcp_keepalive_idle.count()));
    curl_easy_setopt(easy, CURLOPT_TCP_KEEPINTVL,
                     static_cast<long>(config.tcp_keepalive_interval.count()));
  }
  // TLS verification is always on; only the trusted CAs are configurable.
  curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 2L);
  if (config.ca_file) curl_easy_setopt(easy, CURLOPT_CAINFO, config.ca_file->c_str());
  if (!config.user_agent.empty()) {
    curl_easy_setopt(easy, CURLOPT_USERAGENT, config.user_agent.c_str());
  }
  // The environment's proxy settings, read once (see the header); "" = none. With both set,
  // libcurl reads no environment variable per transfer.
  curl_easy_setopt(easy, CURLOPT_NOPROXY, proxy.no_proxy.c_str());
  if (proxy.http == proxy.https) curl_easy_setopt(easy, CURLOPT_PROXY, proxy.http.c_str());
}

}  // namespace

void CurlTransport::Loop::start_transfer(std::unique_ptr<Transfer> transfer) {
  const bool post = transfer->request.method == "POST";
  bool configured = false;
  CURL* easy = take_easy(post, &configured);
  if (easy == nullptr) {
    HttpResult result;
    result.error.kind = TransportError::Kind::other;
    result.error.message = "curl_easy_init failed";
    owner_.complete(std::move(transfer), std::move(result));
    return;
  }
  transfer->easy = easy;
  const HttpRequest& request = transfer->request;
  const CurlTransportConfig& config = owner_.config_;

  // libcurl treats a zero timeout as "none": an exhausted budget still gets 1 ms.
  const long timeout_ms = std::max<long>(1, static_cast<long>(request.timeout.count()));
  const long connect_ms = std::min<long>(
      timeout_ms, std::max<long>(1, static_cast<long>(config.connect_timeout.count())));

  // CURLOPT_URL as well as the parsed handle, so that libcurl's own idea of the URL (error
  // texts, CURLINFO_EFFECTIVE_URL) is this transfer's, not a previous one's.
  curl_easy_setopt(easy, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(easy, CURLOPT_CURLU, parsed_url(request.url));
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, timeout_ms);
  const ProxyEnvironment& proxy = owner_.proxy_;
  if (proxy.http != proxy.https) {
    curl_easy_setopt(easy, CURLOPT_PROXY,
                     is_https(request.url) ? proxy.https.c_str() : proxy.http.c_str());
  }
  if (!configured) {
    set_constant_options(easy, config, proxy);
    curl_easy_setopt(easy, CURLOPT_OPENSOCKETFUNCTION, &Loop::on_open_socket);
    curl_easy_setopt(easy, CURLOPT_OPENSOCKETDATA, this);
    curl_easy_setopt(easy, CURLOPT_CLOSESOCKETFUNCTION, &Loop::on_close_socket);
    curl_easy_setopt(easy, CURLOPT_CLOSESOCKETDATA, this);
  }


  // "name: value\0" for every sendable header, then "Expect:\0" (no 100-continue wait), in
  // one buffer sized beforehand: the nodes point into it, so it must never reallocate.
  constexpr std::string_view kNoExpect = "Expect:";
  std::size_t bound = kNoExpect.size() + 1;
  for (const auto& header : request.headers) {
    bound += header.first.size() + header.second.size() + 3;  // ": " and the NUL
  }
  std::string& text = transfer->header_text;
  text.resize(bound);
  char* out = text.data();
  auto& nodes = transfer->header_nodes;
  nodes.clear();
  nodes.reserve(request.headers.size() + 1);
  const auto append = [&out](std::string_view part) {
    std::memcpy(out, part.data(), part.size());
    out += part.size();
  };
  for (const auto& header : request.headers) {
    if (!is_sendable_header(header)) continue;  // never let a value smuggle a header in
    nodes.push_back(curl_slist{out, nullptr});
    append(header.first);
    append(": ");
    append(header.second);
    *out++ = '\0';
  }
  nodes.push_back(curl_slist{out, nullptr});
  append(kNoExpect);
  *out++ = '\0';
  for (std::size_t i = 0; i + 1 < nodes.size(); ++i) nodes[i].next = &nodes[i + 1];
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, nodes.data());

  if (post) {
    // CURLOPT_POSTFIELDS: libcurl sends a small body in the same write as the headers (one
    // sendto and one TCP segment instead of two). It would also silently send the POST
    // again when a reused connection dies; prereq_once refuses that second send.
    if (!configured) {
      curl_easy_setopt(easy, CURLOPT_POST, 1L);
      curl_easy_setopt(easy, CURLOPT_PREREQFUNCTION, &Transfer::prereq_once);
    }
    curl_easy_setopt(easy, CURLOPT_PREREQDATA, transfer.get());
    curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(request.body.size()));
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, request.body.data());
  } else if (request.method == "GET") {
    curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
  } else {
    curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    if (request.method == "HEAD") curl_easy_setopt(easy, CURLOPT_NOBODY, 1L);
    if (!request.body.empty()) {
      curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE,
                       static_cast<curl_off_t>(request.body.size()));
      curl_easy_setopt(easy, CURLOPT_POSTFIELDS, request.body.data());
    }
  }

  if (!configured) {
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &Transfer::on_body);
    curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, &Transfer::on_header);
  }
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, transfer.get());
  curl_easy_setopt(easy, CURLOPT_HEADERDATA, transfer.get());
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, transfer->error_buffer);
  curl_easy_setopt(easy, CURLOPT_PRIVATE, transfer.get());

  const CURLMcode added = curl_multi_add_handle(multi_, easy);
  if (added != CURLM_OK) {
    HttpResult result;
    result.error.kind = TransportError::Kind::other;
    result.error.message = std::string("curl_multi_add_handle: ") + curl_multi_strerror(added);
    owner_.complete(std::move(transfer), std::move(result));
    return;
  }
  Transfer* key = transfer.get();
  active_.emplace(key, std::move(transfer));
}

void CurlTransport::Loop::finish_transfer(Transfer* key, CURLcode code) {
  auto it = active_.find(key);
  if (it == active_.end()) return;
  auto transfer = std::move(it->second);
  active_.erase(it);
  curl_multi_remove_handle(multi_, transfer->easy);
  owner_.connections_opened_.fetch_add(transfer->new_connections(), std::memory_order_relaxed);

  HttpResult result;
  long status = 0;
  curl_easy_getinfo(transfer->easy, CURLINFO_RESPONSE_CODE, &status);
  if (code == CURLE_OK && status >= 100) {
    transfer->response.status = static_cast<int>(status);
    result.response = std::move(transfer->response);
  } else if (transfer->body_too_large) {
    result.error.kind = TransportError::Kind::other;
    result.error.request_sent = true;
    result.error.message = "response body over " + std::to_string(transfer->max_body) + " bytes";
  } else if (code == CURLE_OK) {
    result.error.kind = TransportError::Kind::other;
    result.error.request_sent = transfer->request_sent();
    result.error.message = "reply carried no HTTP status";
  } else if (code == CURLE_ABORTED_BY_CALLBACK && transfer->sends > 1) {
    // prereq_once refused a second send: the connection died after the request went out.
    result.error.kind = TransportError::Kind::reset;
    result.error.request_sent = true;
    result.error.message =
        "curl: the reused connection died before a reply; the request was not sent again";
  } else {
    result.error = classify(code, transfer->request_sent(), transfer->error_buffer);
  }
  recycle_easy(transfer->easy, transfer->request.method == "POST");
  transfer->easy = nullptr;
  owner_.complete(std::move(transfer), std::move(result));
}

namespace {

// Splits a connection limit between `loops` pools, rounding up; 0 (unlimited) stays 0.
long share(long limit, int loops) { return limit <= 0 ? limit : (limit + loops - 1) / loops; }

}  // namespace

ProxyEnvironment proxy_environment(const std::function<const char*(const char*)>& getenv) {
  // libcurl 7.88's rules (lib/url.c, detect_proxy): <scheme>_proxy in lower case, then in
  // upper case except HTTP_PROXY (a CGI program's environment lets a client set it through
  // a "Proxy:" request header), then all_proxy / ALL_PROXY; no_proxy / NO_PROXY.
  auto first = [&getenv](std::initializer_list<const char*> names) {
    for (const char* name : names) {
      const char* value = getenv(name);
      if (value != nullptr && value[0] != '\0') return std::string(value);
    }
    return std::string();
  };
  ProxyEnvironment env;
  const std::string all = first({"all_proxy", "ALL_PROXY"});
  env.http = first({"http_proxy"});
  if (env.http.empty()) env.http = all;
  env.https = first({"https_proxy", "HTTPS_PROXY"});
  if (env.https.empty()) env.https = all;
  env.no_proxy = first({"no_proxy", "NO_PROXY"});
  return env;
}

CurlTransport::CurlTransport(CurlTransportConfig config, const Clock& clock)
    : config_(std::move(config)),
      proxy_(proxy_environment([](const char* name) -> const char* { return std::getenv(name); })),
      clock_(clock) {
  global_init_once();
  const int loops = std::max(1, config_.loops);
  loops_.reserve(static_cast<std::size_t>(loops));
  for (int i = 0; i < loops; ++i) {
    loops_.push_back(std::make_unique<Loop>(*this, i, share(config_.max_total_connections, loops),
                                            share(config_.max_host_connections, loops),
                                            share(config_.max_idle_connections, loops)));
  }
}

CurlTransport::~CurlTransport() {
  shutdown();
  loops_.clear();  // joins any loop whose shutdown was requested from its own thread
}

void CurlTransport::send(HttpRequest request, Callback done) {
  auto transfer = std::make_unique<Transfer>();
  transfer->request = std::move(request);
  transfer->done = std::move(done);
  transfer->started = clock_.steady();
  transfer->max_body = config_.max_response_bytes;
  in_flight_.fetch_add(1, std::memory_order_relaxed);
  const std::size_t pick = next_loop_.fetch_add(1, std::memory_order_relaxed) % loops_.size();
  if (loops_[pick]->try_submit(transfer)) return;
  // Shut down: no loop left to run the callback on (documented exception).
  HttpResult result;
  result.error.kind = TransportError::Kind::cancelled;
  result.error.message = "transport shut down";
  complete(std::move(transfer), std::move(result));
}

void CurlTransport::shutdown() {
  for (auto& loop : loops_) loop->request_stop();
  for (auto& loop : loops_) loop->join();
}

void CurlTransport::complete(std::unique_ptr<Transfer> transfer, HttpResult result) {
  result.elapsed = std::chrono::duration_cast<std::chrono::nanoseconds>(clock_.steady() -
                                                                        transfer->started);
  Callback done = std::move(transfer->done);
  transfer.reset();  // release the request's memory before user code runs
  in_flight_.fetch_sub(1, std::memory_order_relaxed);
  completed_.fetch_add(1, std::memory_order_relaxed);
  if (!done) return;
  try {
    done(std::move(result));
  } catch (...) {
    // A callback must not throw; swallowing keeps the loop (and every other transfer) alive.
  }
}

}  // namespace tokenizer
