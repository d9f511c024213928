// CurlTransport: libcurl multi on one event-loop thread. See curl_transport.h.
#include "upstream/curl_transport.h"

#include <curl/curl.h>
#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <utility>

namespace tokenizer {

namespace {

CURLM* as_multi(void* p) { return static_cast<CURLM*>(p); }

void global_init_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

bool has_line_break(const std::string& s) {
  return s.find_first_of("\r\n") != std::string::npos;
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
      // A reused connection died after (part of) the body was sent; libcurl wanted to send
      // it again on a new connection and we refused (see body_reader). It may have arrived.
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
  curl_slist* headers = nullptr;
  HttpResponse response;
  std::size_t body_offset = 0;  // how much of request.body libcurl has read
  bool body_too_large = false;
  char error_buffer[CURL_ERROR_SIZE] = {};

  Transfer() = default;
  Transfer(const Transfer&) = delete;
  Transfer& operator=(const Transfer&) = delete;
  ~Transfer() {
    if (easy != nullptr) curl_easy_cleanup(easy);
    if (headers != nullptr) curl_slist_free_all(headers);
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

  static size_t read_body(char* out, size_t size, size_t count, void* user) {
    auto* t = static_cast<Transfer*>(user);
    const std::size_t left = t->request.body.size() - t->body_offset;
    const std::size_t n = std::min(left, size * count);
    std::memcpy(out, t->request.body.data() + t->body_offset, n);
    t->body_offset += n;
    return n;
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
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    self->response.headers[name] = trim(colon + 1, end);
    return n;
  }
};

CurlTransport::CurlTransport(CurlTransportConfig config, const Clock& clock)
    : config_(std::move(config)), clock_(clock) {
  global_init_once();
  CURLM* multi = curl_multi_init();
  if (multi == nullptr) throw std::runtime_error("curl_multi_init failed");  // start-up only
  multi_ = multi;
  curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, config_.max_idle_connections);
  curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, config_.max_total_connections);
  curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, config_.max_host_connections);
  curl_multi_setopt(multi, CURLMOPT_PIPELINING, static_cast<long>(CURLPIPE_NOTHING));
  loop_ = std::thread([this] { run_loop(); });
}

CurlTransport::~CurlTransport() {
  shutdown();
  {
    std::lock_guard<std::mutex> lock(join_mutex_);
    if (loop_.joinable()) loop_.join();  // only when shutdown() was first called on the loop
  }
  curl_multi_cleanup(as_multi(multi_));
}

void CurlTransport::send(HttpRequest request, Callback done) {
  auto transfer = std::make_unique<Transfer>();
  transfer->request = std::move(request);
  transfer->done = std::move(done);
  transfer->started = clock_.steady();
  transfer->max_body = config_.max_response_bytes;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (accepting_) {
      in_flight_.fetch_add(1, std::memory_order_relaxed);
      const bool was_empty = queue_.empty();
      queue_.push_back(std::move(transfer));
      // Under the lock so that the multi handle cannot be cleaned up meanwhile. One wake-up
      // per batch: a non-empty queue already has one pending.
      if (was_empty) curl_multi_wakeup(as_multi(multi_));
      return;
    }
  }
  // Shut down: no loop left to run the callback on (documented exception).
  HttpResult result;
  result.error.kind = TransportError::Kind::cancelled;
  result.error.message = "transport shut down";
  in_flight_.fetch_add(1, std::memory_order_relaxed);
  complete(std::move(transfer), std::move(result));
}

void CurlTransport::shutdown() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!stop_requested_) {
      stop_requested_ = true;
      curl_multi_wakeup(as_multi(multi_));
    }
  }
  std::lock_guard<std::mutex> lock(join_mutex_);
  if (!loop_.joinable() || loop_.get_id() == std::this_thread::get_id()) return;
  loop_.join();
}

void CurlTransport::run_loop() {
  // A peer closing a TLS connection can make OpenSSL's write raise SIGPIPE on this thread.
  sigset_t pipe_only;
  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_only, nullptr);

  CURLM* multi = as_multi(multi_);
  std::vector<std::unique_ptr<Transfer>> incoming;
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
    curl_multi_perform(multi, &running);
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi, &left)) {
      if (msg->msg != CURLMSG_DONE) continue;
      char* priv = nullptr;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
      finish_transfer(reinterpret_cast<Transfer*>(priv), static_cast<int>(msg->data.result));
    }
    curl_multi_poll(multi, nullptr, 0, 1000, nullptr);
  }

  // Stopping: cancel what never started, then what is in flight.
  for (auto& transfer : incoming) {
    HttpResult result;
    result.error.kind = TransportError::Kind::cancelled;
    result.error.message = "transport shut down before the request started";
    complete(std::move(transfer), std::move(result));
  }
  incoming.clear();
  auto active = std::move(active_);
  active_.clear();
  for (auto& entry : active) {
    auto transfer = std::move(entry.second);
    curl_multi_remove_handle(multi, transfer->easy);
    connections_opened_.fetch_add(transfer->new_connections(), std::memory_order_relaxed);
    HttpResult result;
    result.error.kind = TransportError::Kind::cancelled;
    result.error.request_sent = transfer->request_sent();
    result.error.message = "transport shut down while the request was in flight";
    complete(std::move(transfer), std::move(result));
  }
}

void CurlTransport::start_transfer(std::unique_ptr<Transfer> transfer) {
  CURL* easy = curl_easy_init();
  if (easy == nullptr) {
    HttpResult result;
    result.error.kind = TransportError::Kind::other;
    result.error.message = "curl_easy_init failed";
    complete(std::move(transfer), std::move(result));
    return;
  }
  transfer->easy = easy;
  const HttpRequest& request = transfer->request;

  // libcurl treats a zero timeout as "none": an exhausted budget still gets 1 ms.
  const long timeout_ms = std::max<long>(1, static_cast<long>(request.timeout.count()));
  const long connect_ms = std::min<long>(
      timeout_ms, std::max<long>(1, static_cast<long>(config_.connect_timeout.count())));

  curl_easy_setopt(easy, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(easy, CURLOPT_MAXAGE_CONN, static_cast<long>(config_.max_connection_age.count()));
  curl_easy_setopt(easy, CURLOPT_DNS_CACHE_TIMEOUT,
                   static_cast<long>(config_.dns_cache_timeout.count()));
  if (config_.tcp_keepalive) {
    curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(easy, CURLOPT_TCP_KEEPIDLE,
                     static_cast<long>(config_.tcp_keepalive_idle.count()));
    curl_easy_setopt(easy, CURLOPT_TCP_KEEPINTVL,
                     static_cast<long>(config_.tcp_keepalive_interval.count()));
  }
  // TLS verification is always on; only the trusted CAs are configurable.
  curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 2L);
  if (config_.ca_file) curl_easy_setopt(easy, CURLOPT_CAINFO, config_.ca_file->c_str());
  if (!config_.user_agent.empty()) {
    curl_easy_setopt(easy, CURLOPT_USERAGENT, config_.user_agent.c_str());
  }

  for (const auto& header : request.headers) {
    if (!is_sendable_header(header)) continue;  // never let a value smuggle a header in
    const std::string line = header.first + ": " + header.second;
    curl_slist* next = curl_slist_append(transfer->headers, line.c_str());
    if (next != nullptr) transfer->headers = next;
  }
  if (curl_slist* next = curl_slist_append(transfer->headers, "Expect:")) {
    transfer->headers = next;
  }
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, transfer->headers);

  if (request.method == "POST") {
    // The body is streamed through a read callback with no seek callback: libcurl then
    // cannot rewind it, so it never silently resends a POST on a fresh connection when a
    // reused one dies (it would with CURLOPT_POSTFIELDS). A vault create must reach the
    // vault at most once per attempt; whether to retry is the retry policy's decision.
    curl_easy_setopt(easy, CURLOPT_POST, 1L);
    curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(request.body.size()));
    curl_easy_setopt(easy, CURLOPT_READFUNCTION, &Transfer::read_body);
    curl_easy_setopt(easy, CURLOPT_READDATA, transfer.get());
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

  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &Transfer::on_body);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, transfer.get());
  curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, &Transfer::on_header);
  curl_easy_setopt(easy, CURLOPT_HEADERDATA, transfer.get());
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, transfer->error_buffer);
  curl_easy_setopt(easy, CURLOPT_PRIVATE, transfer.get());

  const CURLMcode added = curl_multi_add_handle(as_multi(multi_), easy);
  if (added != CURLM_OK) {
    HttpResult result;
    result.error.kind = TransportError::Kind::other;
    result.error.message = std::string("curl_multi_add_handle: ") + curl_multi_strerror(added);
    complete(std::move(transfer), std::move(result));
    return;
  }
  Transfer* key = transfer.get();
  active_.emplace(key, std::move(transfer));
}

void CurlTransport::finish_transfer(Transfer* key, int curl_code) {
  auto it = active_.find(key);
  if (it == active_.end()) return;
  auto transfer = std::move(it->second);
  active_.erase(it);
  curl_multi_remove_handle(as_multi(multi_), transfer->easy);
  connections_opened_.fetch_add(transfer->new_connections(), std::memory_order_relaxed);

  HttpResult result;
  const auto code = static_cast<CURLcode>(curl_code);
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
  } else {
    result.error = classify(code, transfer->request_sent(), transfer->error_buffer);
  }
  complete(std::move(transfer), std::move(result));
}

void CurlTransport::complete(std::unique_ptr<Transfer> transfer, HttpResult result) {
  result.elapsed = std::chrono::duration_cast<std::chrono::nanoseconds>(clock_.steady() -
                                                                        transfer->started);
  Callback done = std::move(transfer->done);
  transfer.reset();  // release the easy handle before user code runs
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
