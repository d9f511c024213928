#include "http/server.h"

#include <pistache/endpoint.h>
#include <pistache/http.h>
#include <pistache/net.h>
#include <netinet/in.h>
#include <sys/resource.h>

#include <atomic>
#include <mutex>
#include <ostream>

#include "http/api_error.h"
#include "http/peer_address.h"
#include "http/request_id.h"

namespace tokenizer {
namespace {

using namespace Pistache;

// ASCII lower case without std::tolower's call per character (header names are ASCII).
std::string lower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + ('a' - 'A'));
  }
  return s;
}

// The peer's numeric host, as Pistache's Address::host() gives it; IPv4 without
// getnameinfo() or inet_ntop() (peer_address.h), anything else through Pistache.
std::string peer_host(const Address& address) {
  const sockaddr& sa = address.getSockAddr();
  if (sa.sa_family == AF_INET) return ipv4_text(reinterpret_cast<const sockaddr_in&>(sa).sin_addr);
  return address.host();
}

// A response header with a name chosen at run time. Pistache 0.4 writes only typed headers
// into responses (raw ones are silently dropped), so every custom header goes through this.
class ValueHeader final : public Http::Header::Header {
 public:
  ValueHeader(std::string name, std::string value)
      : name_(std::move(name)), value_(std::move(value)) {}
  const char* name() const override { return name_.c_str(); }
  void write(std::ostream& os) const override { os << value_; }
  void parse(const std::string& data) override { value_ = data; }
  // Pistache checks this hash before a typed get<H>(); ours is never fetched that way.
  uint64_t hash() const override { return Http::Header::detail::hash(name_.c_str()); }

 private:
  std::string name_;
  std::string value_;
};

void add_header(Http::Header::Collection& h, std::string name, std::string value) {
  h.add(std::make_shared<ValueHeader>(std::move(name), std::move(value)));
}

// The headers every reply carries with the same value: one immutable object each, shared by
// all replies (write() is const), instead of an allocation per reply. Never destroyed, so a
// reply still being written while the process exits cannot outlive them.
const std::shared_ptr<Http::Header::Header>& constant_header(const char* name, const char* value) {
  return *new std::shared_ptr<Http::Header::Header>(std::make_shared<ValueHeader>(name, value));
}
const std::shared_ptr<Http::Header::Header>& cache_control_no_store() {
  static const std::shared_ptr<Http::Header::Header>& h = constant_header("Cache-Control", "no-store");
  return h;
}
const std::shared_ptr<Http::Header::Header>& content_type_json() {
  static const std::shared_ptr<Http::Header::Header>& h =
      constant_header("Content-Type", "application/json");
  return h;
}
const std::shared_ptr<Http::Header::Header>& content_type_options_nosniff() {
  static const std::shared_ptr<Http::Header::Header>& h =
      constant_header("X-Content-Type-Options", "nosniff");
  return h;
}

class PistacheResponder final : public Responder {
 public:
  PistacheResponder(Http::ResponseWriter writer, bool keep_alive, std::string request_id,
                    std::shared_ptr<std::atomic<long>> unwritten)
      : writer_(std::move(writer)),
        keep_alive_(keep_alive),
        request_id_(std::move(request_id)),
        unwritten_(std::move(unwritten)) {}

  ~PistacheResponder() override {
    // A handler that forgot to answer must not leave the client hanging.
    if (!sent_.load()) {
      send(make_error(ApiErrorCode::internal_error, request_id_));
    }
  }

  void send(ApiResponse r) override {
    if (sent_.exchange(true)) return;
    bool counted = false;
    try {
      auto& h = writer_.headers();
      const bool keep = keep_alive_ && !r.close_connection;
      const Http::Header::Connection connection(keep ? Http::ConnectionControl::KeepAlive
                                                     : Http::ConnectionControl::Close);
      // Pistache gave the writer a Connection header from the request's; overwrite it in place.
      if (auto existing = h.tryGet<Http::Header::Connection>()) {
        *existing = connection;
      } else {
        h.add(std::make_shared<Http::Header::Connection>(connection));
      }
      if (r.content_type.empty()) {
        h.add(content_type_json());  // a JSON reply: no MediaType to build per reply
      } else {
        writer_.setMime(Http::Mime::MediaType::fromString(r.content_type));
      }
      h.add(cache_control_no_store());
      h.add(content_type_options_nosniff());
      // send() runs once (sent_), and the destructor only reads request_id_ when it did not.
      add_header(h, "X-Request-Id", std::move(request_id_));
      for (auto& [k, v] : r.headers) add_header(h, std::move(k), std::move(v));
      // Counted until Pistache's worker has written it (or failed to), so that a drain does
      // not stop the workers under a reply that is only queued. A write to a closed peer may
      // never settle its promise: the drain's wait for writes is bounded for that reason.
      unwritten_->fetch_add(1, std::memory_order_relaxed);
      counted = true;
      auto unwritten = unwritten_;
      writer_.send(static_cast<Http::Code>(r.status), r.body)
          .then([unwritten](PST_SSIZE_T) { unwritten->fetch_sub(1, std::memory_order_relaxed); },
                [unwritten](std::exception_ptr&) {
                  unwritten->fetch_sub(1, std::memory_order_relaxed);
                });
      counted = false;  // the promise owns the count now
    } catch (...) {
      // The peer is gone or the write could not be queued: nothing left to tell anyone.
      if (counted) unwritten_->fetch_sub(1, std::memory_order_relaxed);
    }
  }

 private:
  Http::ResponseWriter writer_;
  bool keep_alive_;
  std::string request_id_;
  std::shared_ptr<std::atomic<long>> unwritten_;
  std::atomic<bool> sent_{false};
};

bool wants_keep_alive(const Http::Request& req) {
  auto conn = req.headers().tryGet<Http::Header::Connection>();
  if (req.version() == Http::Version::Http11) {
    return !conn || conn->control() != Http::ConnectionControl::Close;
  }
  return conn && conn->control() == Http::ConnectionControl::KeepAlive;
}

ApiRequest copy_request(const Http::Request& req) {
  ApiRequest out;
  out.method = Http::methodString(req.method());
  out.path = req.resource();
  out.query = req.query().as_str();
  // Pistache keeps every header in its raw list, typed or not, with the value as the client
  // sent it (the first of repeated names). The typed copies are not read here: writing them
  // back would add a second, re-serialised entry per known header (a Host without a port
  // came back as "host:80") and cost an ostream and a string per header.
  const auto& raw_headers = req.headers().rawList();
  out.headers.reserve(raw_headers.size());
  for (const auto& [name, raw] : raw_headers) {
    out.headers.emplace_back(lower(name), raw.value());
  }
  out.body = req.body();
  try {
    out.peer_address = peer_host(req.address());
  } catch (...) {
    out.peer_address = "unknown";
  }
  return out;
}

class Handler final : public Http::Handler {
 public:
  HTTP_PROTOTYPE(Handler)

  Handler(std::shared_ptr<HttpServer::Dispatcher> dispatcher,
          std::shared_ptr<std::atomic<long>> unwritten)
      : dispatcher_(std::move(dispatcher)), unwritten_(std::move(unwritten)) {}

  void onRequest(const Http::Request& req, Http::ResponseWriter writer) override {
    std::shared_ptr<PistacheResponder> responder;
    try {
      ApiRequest api = copy_request(req);
      api.request_id = choose_request_id(api.header("x-request-id"));
      responder = std::make_shared<PistacheResponder>(std::move(writer), wants_keep_alive(req),
                                                      api.request_id, unwritten_);
      (*dispatcher_)(std::move(api), responder);
    } catch (...) {
      if (responder) {
        responder->send(make_error(ApiErrorCode::internal_error, ""));
      }
    }
  }

  void onTimeout(const Http::Request&, Http::ResponseWriter writer) override {
    try {
      writer.headers().remove<Http::Header::Connection>();
      writer.headers().add<Http::Header::Connection>(Http::ConnectionControl::Close);
      writer.setMime(MIME(Application, Json));
      writer.send(Http::Code::Request_Timeout,
                  R"({"error":"The request was not received in time.","code":"request_timeout"})");
    } catch (...) {
    }
  }

 private:
  std::shared_ptr<HttpServer::Dispatcher> dispatcher_;
  std::shared_ptr<std::atomic<long>> unwritten_;
};

// copy_request() reads request headers from Pistache's raw list only, so their typed forms
// (a factory call, a heap object and a parse per known header: Host, Content-Type,
// Authorization, User-Agent, Accept, ...) are never looked at. Pistache patch 0013 lets the
// process stop making them; it keeps the ones its own parser and server read (Content-Length,
// Transfer-Encoding, Connection, Expect), which wants_keep_alive() uses too. Process-wide,
// and before any server starts parsing.
void keep_request_headers_raw() {
  static std::once_flag once;
  std::call_once(once, [] {
    auto& registry = Http::Header::Registry::instance();
    for (const std::string& name : registry.headersList()) registry.unregisterHeader(name);
  });
}

}  // namespace

struct HttpServer::Impl {
  HttpServerOptions options;
  std::shared_ptr<Dispatcher> dispatcher;
  // Replies handed to Pistache and not yet written (see PistacheResponder::send).
  std::shared_ptr<std::atomic<long>> unwritten = std::make_shared<std::atomic<long>>(0);
  std::unique_ptr<Http::Endpoint> endpoint;
  bool started = false;
};

HttpServer::HttpServer(HttpServerOptions options, Dispatcher dispatcher)
    : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  impl_->dispatcher = std::make_shared<Dispatcher>(std::move(dispatcher));
}

HttpServer::~HttpServer() { shutdown(); }

Expected<Ok> HttpServer::start() {
  keep_request_headers_raw();
  try {
    const auto& o = impl_->options;
    Address addr(o.listen.host, Port(o.listen.port));
    impl_->endpoint = std::make_unique<Http::Endpoint>(addr);
    auto opts = Http::Endpoint::options()
                    .threads(o.threads)
                    .flags(Tcp::Options::ReuseAddr)
                    .backlog(4096)
                    .maxRequestSize(o.max_request_bytes)
                    .maxResponseSize(1024 * 1024)
                    .headerTimeout(o.header_timeout)
                    .bodyTimeout(o.header_timeout);
    impl_->endpoint->init(opts);
    impl_->endpoint->setHandler(std::make_shared<Handler>(impl_->dispatcher, impl_->unwritten));
    if (o.tls_cert && o.tls_key) impl_->endpoint->useSSL(*o.tls_cert, *o.tls_key);
    impl_->endpoint->serveThreaded();
    impl_->started = true;
    return Ok{};
  } catch (const std::exception& e) {
    impl_->endpoint.reset();
    return Error{"listen_failed", std::string("cannot serve on ") +
                                      impl_->options.listen.to_string() + ": " + e.what()};
  }
}

std::uint16_t HttpServer::port() const {
  return impl_->endpoint ? static_cast<std::uint16_t>(impl_->endpoint->getPort()) : 0;
}

long HttpServer::unwritten_replies() const { return impl_->unwritten->load(); }

void HttpServer::shutdown() {
  if (impl_ && impl_->endpoint && impl_->started) {
    impl_->started = false;
    impl_->endpoint->shutdown();
  }
}

long raise_fd_limit() {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0) return -1;
  if (lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
    getrlimit(RLIMIT_NOFILE, &lim);
  }
  return static_cast<long>(lim.rlim_cur);
}

}  // namespace tokenizer
