#include "sim/sim_server.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <exception>
#include <mutex>
#include <ostream>

#include <pistache/endpoint.h>
#include <pistache/http.h>
#include <pistache/http_header.h>
#include <pistache/net.h>
#include <pistache/peer.h>

#include "sim/delayed_queue.h"
#include "sim/vault_reply.h"

namespace tokenizer {

namespace Http = Pistache::Http;

namespace {

// A response header whose name is only known at run time (Pistache writes typed headers
// only; raw ones are never sent).
class DynamicHeader final : public Http::Header::Header {
 public:
  DynamicHeader(std::string name, std::string value)
      : name_(std::move(name)), value_(std::move(value)) {}
  const char* name() const override { return name_.c_str(); }
  void write(std::ostream& os) const override { os << value_; }
#ifdef SAFE_HEADER_CAST
  uint64_t hash() const override { return 0; }
#endif

 private:
  std::string name_;
  std::string value_;
};

// An X-Request-Id worth echoing: 1..128 visible ASCII characters.
std::string sane_request_id(const std::string* value) {
  if (value == nullptr || value->empty() || value->size() > 128) return "";
  for (char c : *value) {
    if (c <= ' ' || c > '~') return "";
  }
  return *value;
}

bool wants_keep_alive(const Http::Request& request) {
  auto connection = request.headers().tryGet<Http::Header::Connection>();
  if (connection) return connection->control() == Http::ConnectionControl::KeepAlive;
  return request.version() == Http::Version::Http11;
}

// SO_LINGER 0 turns the eventual close() into a RST; shutting the read side makes the
// worker that owns the connection read end-of-stream and close it itself.
void reset_socket(int fd) {
  if (fd < 0) return;
  linger no_linger{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &no_linger, sizeof no_linger);
  ::shutdown(fd, SHUT_RD);
}

int socket_of(const Http::ResponseWriter& writer) {
  auto peer = writer.getPeer();
  if (!peer) return -1;
  return peer->actualFd();
}

}  // namespace

struct SimServer::State {
  State(SimEngine& engine_in, const Clock& clock_in, std::chrono::milliseconds hang_cap_in)
      : engine(engine_in), clock(clock_in), queue(clock_in), hang_cap(hang_cap_in) {}

  SimEngine& engine;
  const Clock& clock;
  DelayedQueue queue;
  const std::chrono::milliseconds hang_cap;
  const Http::Mime::MediaType json_mime = MIME(Application, Json);
  const Http::Mime::MediaType metrics_mime =
      Http::Mime::MediaType::fromString("text/plain; version=0.0.4");
  std::unique_ptr<Pistache::Http::Endpoint> endpoint;

  const Http::Mime::MediaType& mime_for(const std::string& content_type) const {
    return content_type == "application/json" ? json_mime : metrics_mime;
  }

  void send(Http::ResponseWriter& writer, const SimReply& reply, const std::string& request_id,
            bool keep_alive) const {
    auto& headers = writer.headers();
    headers.remove<Http::Header::Connection>();
    headers.add<Http::Header::Connection>(keep_alive ? Http::ConnectionControl::KeepAlive
                                                     : Http::ConnectionControl::Close);
    if (!request_id.empty())
      headers.add(std::make_shared<DynamicHeader>("X-Request-Id", request_id));
    for (const auto& [name, value] : reply.headers) {
      headers.add(std::make_shared<DynamicHeader>(name, value));
    }
    // The promise is dropped on purpose: a write to a vanished client never settles.
    writer.send(static_cast<Http::Code>(reply.status), reply.body, mime_for(reply.content_type));
  }
};

namespace {

// A reply, reset or hang held by the timer thread.
class HeldRequest final : public DelayedTask {
 public:
  HeldRequest(const SimServer::State* state, Http::ResponseWriter writer, Plan plan, int dup_fd,
              std::string request_id, bool keep_alive,
              std::chrono::steady_clock::time_point received)
      : state_(state),
        writer_(std::move(writer)),
        plan_(std::move(plan)),
        dup_fd_(dup_fd),
        request_id_(std::move(request_id)),
        keep_alive_(keep_alive),
        received_(received) {}

  ~HeldRequest() override {
    if (dup_fd_ >= 0) ::close(dup_fd_);
  }

  void run() override {
    // Holding the peer keeps it alive for the whole send (Pistache tests expired() and then
    // lock()s, which can race with the worker dropping the connection).
    auto peer = writer_.getPeer();
    if (!peer) return;
    if (plan_.action == PlanAction::kReply) {
      state_->send(writer_, plan_.reply, request_id_, keep_alive_);
      if (plan_.vault_api)
        state_->engine.stats().observe_reply_delay(state_->clock.steady() - received_);
    } else {
      reset_socket(dup_fd_);
    }
  }

  bool abandoned() const override { return writer_.getPeer() == nullptr; }

 private:
  const SimServer::State* state_;  // owns the queue that owns this task
  mutable Http::ResponseWriter writer_;
  Plan plan_;
  int dup_fd_;
  std::string request_id_;
  bool keep_alive_;
  std::chrono::steady_clock::time_point received_;
};

class SimHandler final : public Http::Handler {
 public:
  HTTP_PROTOTYPE(SimHandler)

  explicit SimHandler(std::shared_ptr<SimServer::State> state) : state_(std::move(state)) {}

  void onRequest(const Http::Request& request, Http::ResponseWriter writer) override {
    bool writer_taken = false;
    std::string request_id;
    bool keep_alive = false;
    try {
      const auto received = state_->clock.steady();
      // Copy everything the plan needs now: `request` dies when this handler returns.
      SimRequest sim;
      sim.method = Http::methodString(request.method());
      sim.path = request.resource();
      sim.body = request.body();
      const auto& raw = request.headers().rawList();
      sim.headers.reserve(raw.size());
      for (const auto& entry : raw) {
        std::string name = entry.second.name();
        for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        sim.headers.emplace_back(std::move(name), entry.second.value());
      }
      request_id = sane_request_id(sim.header("x-request-id"));
      keep_alive = wants_keep_alive(request);

      Plan plan = state_->engine.handle(sim);

      if (plan.action == PlanAction::kReply && plan.delay.count() <= 0) {
        state_->send(writer, plan.reply, request_id, keep_alive);
        if (plan.vault_api)
          state_->engine.stats().observe_reply_delay(state_->clock.steady() - received);
        return;
      }
      if (plan.action == PlanAction::kReset && plan.delay.count() <= 0) {
        reset_socket(socket_of(writer));  // on the worker that owns the socket: no race
        return;
      }
      int dup_fd = -1;
      if (plan.action != PlanAction::kReply) {
        const int fd = socket_of(writer);
        if (fd >= 0) dup_fd = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
      }
      const auto wait = plan.action == PlanAction::kHang ? state_->hang_cap : plan.delay;
      writer_taken = true;
      auto held = std::make_unique<HeldRequest>(state_.get(), std::move(writer), std::move(plan),
                                                dup_fd, request_id, keep_alive, received);
      state_->queue.schedule(received + wait, std::move(held));
    } catch (...) {
      if (writer_taken) return;
      try {
        SimReply reply;
        reply.status = 500;
        reply.body =
            VaultReplyBuilder::error("errors.internal_server_error", "Internal server error");
        state_->send(writer, reply, request_id, keep_alive);
      } catch (...) {
      }
    }
  }

 private:
  std::shared_ptr<SimServer::State> state_;
};

}  // namespace

SimServer::SimServer(SimServerOptions options, SimEngine& engine, const Clock& clock)
    : options_(std::move(options)),
      state_(std::make_shared<State>(engine, clock, options_.hang_cap)) {}

SimServer::~SimServer() { stop(); }

Expected<Ok> SimServer::start() {
  if (state_->endpoint) return Error{"already_started", "the server is already running"};
  try {
    Pistache::Address address(options_.host, Pistache::Port(options_.port));
    auto endpoint = std::make_unique<Http::Endpoint>(address);
    // Pistache's header/body timeouts also cut requests waiting for an asynchronous reply
    // (408), so they must outlast the longest hold: the hang cap or the largest latency.
    auto longest = std::max<std::chrono::milliseconds>(options_.hang_cap, kMaxFaultLatency);
    longest += std::chrono::seconds(2) /* slow test card */ + std::chrono::seconds(30);
    auto opts = Http::Endpoint::options()
                    .threads(options_.threads)
                    .threadsName("upstream-sim")
                    .flags(Pistache::Tcp::Options::ReuseAddr | Pistache::Tcp::Options::NoDelay)
                    .maxRequestSize(options_.max_request_bytes)
                    .headerTimeout(longest)
                    .bodyTimeout(longest);
    endpoint->init(opts);
    if (!options_.tls_cert.empty() || !options_.tls_key.empty()) {
      try {
        endpoint->useSSL(options_.tls_cert, options_.tls_key);
      } catch (const std::exception&) {
        return Error{"tls_failed", "could not load the TLS certificate or key"};
      }
    }
    endpoint->setHandler(Http::make_handler<SimHandler>(state_));
    state_->queue.start();
    endpoint->serveThreaded();
    state_->endpoint = std::move(endpoint);
  } catch (const std::exception& e) {
    state_->queue.stop();
    return Error{"bind_failed", "cannot listen on " + options_.host + ":" +
                                    std::to_string(options_.port) + ": " + e.what()};
  }
  return Ok{};
}

void SimServer::stop() {
  // No reply may be sent while the endpoint shuts down: stop the timer thread first, then
  // the endpoint, then drop what is still held (and what workers queued meanwhile); the
  // endpoint goes last because held writers point into its transports. Resetting it also
  // releases the handlers, which share `state_`.
  state_->queue.stop();
  if (state_->endpoint) state_->endpoint->shutdown();
  state_->queue.stop();
  state_->endpoint.reset();
}

std::uint16_t SimServer::port() const {
  if (!state_->endpoint) return 0;
  return static_cast<std::uint16_t>(state_->endpoint->getPort());
}

std::size_t SimServer::held() const { return state_->queue.size(); }

std::uint64_t raise_open_file_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
  if (limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
    ::getrlimit(RLIMIT_NOFILE, &limit);
  }
  return static_cast<std::uint64_t>(limit.rlim_cur);
}

}  // namespace tokenizer
