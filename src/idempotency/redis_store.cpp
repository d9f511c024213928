#include "idempotency/redis_store.h"

#include <hiredis/hiredis.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cerrno>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <mutex>
#include <vector>

#include "common/random.h"

namespace tokenizer {
namespace {

using SteadyTime = std::chrono::steady_clock::time_point;

// ---- Lua scripts (each runs atomically on the Redis server) -------------------------------
// Hash fields: state ("pending" | "done"), fp, token (pending), status, body, created (done).

// KEYS[1]; ARGV: fingerprint, token, lock_ttl_ms.
constexpr const char* kBeginScript = R"lua(
local r = redis.call('HMGET', KEYS[1], 'state', 'fp', 'status', 'body', 'created')
if not r[1] then
  redis.call('HSET', KEYS[1], 'state', 'pending', 'fp', ARGV[1], 'token', ARGV[2])
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return {'started'}
end
if r[2] ~= ARGV[1] then return {'mismatch'} end
if r[1] == 'pending' then return {'in_flight'} end
return {'replay', r[3], r[4], r[5]}
)lua";

// KEYS[1]; ARGV: token, fingerprint, status, body, created_ms, record_ttl_ms.
constexpr const char* kCompleteScript = R"lua(
local r = redis.call('HMGET', KEYS[1], 'state', 'token')
if r[1] and not (r[1] == 'pending' and r[2] == ARGV[1]) then return 'lost' end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'state', 'done', 'fp', ARGV[2], 'status', ARGV[3], 'body', ARGV[4],
           'created', ARGV[5])
redis.call('PEXPIRE', KEYS[1], ARGV[6])
return 'applied'
)lua";

// KEYS[1]; ARGV: token.
constexpr const char* kAbandonScript = R"lua(
local r = redis.call('HMGET', KEYS[1], 'state', 'token')
if r[1] == 'pending' and r[2] == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 'applied'
end
return 'lost'
)lua";

std::string hex_digest(const EVP_MD* md, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), out, &len, md, nullptr);
  static const char* kHex = "0123456789abcdef";
  std::string hex(len * 2, '0');
  for (unsigned int i = 0; i < len; ++i) {
    hex[2 * i] = kHex[out[i] >> 4];
    hex[2 * i + 1] = kHex[out[i] & 0x0F];
  }
  return hex;
}

struct Script {
  explicit Script(const char* text) : source(text), sha1(hex_digest(EVP_sha1(), text)) {}
  std::string source;
  std::string sha1;
};

struct ContextDeleter {
  void operator()(redisContext* c) const { redisFree(c); }
};
using ContextPtr = std::unique_ptr<redisContext, ContextDeleter>;

struct ReplyDeleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyDeleter>;

Error unavailable(std::string message) {
  return Error{kIdempotencyUnavailable, std::move(message)};
}

timeval to_timeval(std::chrono::milliseconds d) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(d.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((d.count() % 1000) * 1000);
  return tv;
}

// Blocks SIGPIPE for this thread while hiredis writes (it uses write(), not MSG_NOSIGNAL), and
// swallows one raised meanwhile, so a connection Redis closed cannot kill the process.
class SigpipeGuard {
 public:
  SigpipeGuard() {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    sigset_t pending;
    sigemptyset(&pending);
    sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
    pthread_sigmask(SIG_BLOCK, &pipe_, &old_);
  }
  ~SigpipeGuard() {
    if (!was_pending_) {
      sigset_t pending;
      sigemptyset(&pending);
      sigpending(&pending);
      if (sigismember(&pending, SIGPIPE) == 1) {
        const timespec zero{0, 0};
        while (sigtimedwait(&pipe_, nullptr, &zero) == -1 && errno == EINTR) {
        }
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  SigpipeGuard(const SigpipeGuard&) = delete;
  SigpipeGuard& operator=(const SigpipeGuard&) = delete;

 private:
  sigset_t pipe_;
  sigset_t old_;
  bool was_pending_ = false;
};

// An idle connection is reusable when nothing is waiting on its socket: a 0-byte read means
// Redis closed it (restart, timeout), unexpected bytes mean it is out of step.
bool idle_connection_usable(redisContext* c) {
  if (c->err != 0) return false;
  char byte;
  const ssize_t n = recv(c->fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

std::string reply_string(const redisReply* r) {
  if (r == nullptr) return {};
  if (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS ||
      r->type == REDIS_REPLY_ERROR) {
    return std::string(r->str, r->len);
  }
  if (r->type == REDIS_REPLY_INTEGER) return std::to_string(r->integer);
  return {};
}

bool parse_int64(const std::string& s, long long& out) {
  if (s.empty() || s.size() > 19) return false;
  char* end = nullptr;
  errno = 0;
  out = std::strtoll(s.c_str(), &end, 10);
  return errno == 0 && end == s.c_str() + s.size();
}

}  // namespace

class RedisIdempotencyStore::Impl {
 public:
  Impl(const Clock& clock, RedisStoreOptions options)
      : clock_(clock),
        options_(std::move(options)),
        begin_(kBeginScript),
        complete_(kCompleteScript),
        abandon_(kAbandonScript) {
    if (options_.max_connections == 0) options_.max_connections = 1;
  }

  const RedisStoreOptions& options() const { return options_; }

  std::string redis_key(std::string_view scope, std::string_view key) const {
    return options_.key_prefix + hex_digest(EVP_sha256(), scope) + ":" +
           hex_digest(EVP_sha256(), key);
  }

  // Runs `script` on KEYS[1] = key with `args`.
  Expected<ReplyPtr> eval(const Script& script, const std::string& key,
                          const std::vector<std::string>& args) {
    auto conn = acquire();
    if (!conn) return conn.error();
    ContextPtr c = std::move(conn).value();

    std::vector<std::string_view> argv = {"EVALSHA", script.sha1, "1", key};
    for (const auto& a : args) argv.emplace_back(a);
    auto reply = run(c.get(), argv);
    if (reply && (*reply)->type == REDIS_REPLY_ERROR &&
        reply_string(reply->get()).rfind("NOSCRIPT", 0) == 0) {
      argv[0] = "EVAL";
      argv[1] = script.source;
      reply = run(c.get(), argv);
    }
    release(std::move(c));
    if (!reply) return reply.error();
    if ((*reply)->type == REDIS_REPLY_ERROR) {
      return unavailable("redis error: " + reply_string(reply->get()).substr(0, 160));
    }
    return reply;
  }

  Expected<ReplyPtr> command(const std::vector<std::string_view>& argv) {
    auto conn = acquire();
    if (!conn) return conn.error();
    ContextPtr c = std::move(conn).value();
    auto reply = run(c.get(), argv);
    release(std::move(c));
    if (!reply) return reply.error();
    if ((*reply)->type == REDIS_REPLY_ERROR) {
      return unavailable("redis error: " + reply_string(reply->get()).substr(0, 160));
    }
    return reply;
  }

  const Script& begin_script() const { return begin_; }
  const Script& complete_script() const { return complete_; }
  const Script& abandon_script() const { return abandon_; }

 private:
  // One command on one connection. A null reply means an I/O or protocol error: the context
  // is then marked broken (c->err) and release() discards it.
  Expected<ReplyPtr> run(redisContext* c, const std::vector<std::string_view>& argv) {
    std::vector<const char*> ptrs;
    std::vector<std::size_t> lens;
    ptrs.reserve(argv.size());
    lens.reserve(argv.size());
    for (const auto& a : argv) {
      ptrs.push_back(a.data());
      lens.push_back(a.size());
    }
    void* raw = nullptr;
    {
      SigpipeGuard guard;
      raw = redisCommandArgv(c, static_cast<int>(ptrs.size()), ptrs.data(), lens.data());
    }
    if (raw == nullptr) {
      if (c->err == 0) c->err = REDIS_ERR_OTHER;  // be sure the connection is discarded
      return unavailable(describe_failure(c));
    }
    return ReplyPtr(static_cast<redisReply*>(raw));
  }

  std::string describe_failure(const redisContext* c) const {
    const std::string what(c->errstr);
    if (c->err == REDIS_ERR_IO && what.find("temporarily unavailable") != std::string::npos) {
      return "redis at " + options_.url.redacted() + " did not answer within " +
             std::to_string(options_.command_timeout.count()) + " ms";
    }
    if (c->err == REDIS_ERR_EOF) {
      return "redis at " + options_.url.redacted() + " closed the connection";
    }
    return "redis at " + options_.url.redacted() + ": " + (what.empty() ? "I/O error" : what);
  }

  Expected<ContextPtr> acquire() {
    std::unique_lock<std::mutex> lock(mutex_);
    // Waiting for a busy pool is bounded in real time (like the socket timeouts themselves).
    const auto deadline = std::chrono::steady_clock::now() + options_.command_timeout;
    while (true) {
      while (!idle_.empty()) {
        ContextPtr c = std::move(idle_.back());
        idle_.pop_back();
        if (idle_connection_usable(c.get())) return Expected<ContextPtr>(std::move(c));
        --open_;  // closed by Redis while idle
      }
      if (open_ < options_.max_connections) break;
      if (available_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() &&
          open_ >= options_.max_connections) {
        return unavailable("all " + std::to_string(options_.max_connections) +
                           " redis connections stayed busy for " +
                           std::to_string(options_.command_timeout.count()) + " ms");
      }
    }
    if (clock_.steady() < retry_connect_after_) {
      return unavailable("redis at " + options_.url.redacted() +
                         " was unreachable moments ago; not reconnecting yet");
    }
    ++open_;
    lock.unlock();
    auto c = connect();
    if (!c) {
      lock.lock();
      --open_;
      retry_connect_after_ = clock_.steady() + options_.reconnect_backoff;
      available_.notify_one();
    }
    return c;
  }

  void release(ContextPtr c) {
    ContextPtr discard;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (c->err == 0) {
        idle_.push_back(std::move(c));
      } else {
        discard = std::move(c);
        --open_;
      }
    }
    available_.notify_one();
  }

  Expected<ContextPtr> connect() {
    const auto& url = options_.url;
    ContextPtr c(
        redisConnectWithTimeout(url.host.c_str(), url.port, to_timeval(options_.connect_timeout)));
    if (!c) return unavailable("cannot allocate a redis connection");
    if (c->err != 0) {
      return unavailable("cannot connect to redis at " + url.redacted() + ": " + c->errstr);
    }
    if (redisSetTimeout(c.get(), to_timeval(options_.command_timeout)) != REDIS_OK) {
      return unavailable("cannot set the redis command timeout");
    }
    redisEnableKeepAlive(c.get());
    if (!url.password.empty()) {
      std::vector<std::string_view> argv = {"AUTH"};
      if (!url.username.empty()) argv.emplace_back(url.username);
      argv.emplace_back(url.password);
      auto reply = run(c.get(), argv);
      if (!reply) return reply.error();
      if ((*reply)->type == REDIS_REPLY_ERROR) {
        return unavailable("redis at " + url.redacted() +
                           " refused AUTH: " + reply_string(reply->get()).substr(0, 120));
      }
    }
    if (url.db != 0) {
      const std::string db = std::to_string(url.db);
      auto reply = run(c.get(), {"SELECT", db});
      if (!reply) return reply.error();
      if ((*reply)->type == REDIS_REPLY_ERROR) {
        return unavailable("redis at " + url.redacted() + " refused SELECT " + db + ": " +
                           reply_string(reply->get()).substr(0, 120));
      }
    }
    return c;
  }

  const Clock& clock_;
  RedisStoreOptions options_;
  const Script begin_;
  const Script complete_;
  const Script abandon_;

  std::mutex mutex_;
  std::condition_variable available_;
  std::vector<ContextPtr> idle_;
  std::size_t open_ = 0;  // idle + lent out
  SteadyTime retry_connect_after_{};
};

RedisIdempotencyStore::RedisIdempotencyStore(const Clock& clock, RedisStoreOptions options)
    : impl_(std::make_unique<Impl>(clock, std::move(options))) {}

RedisIdempotencyStore::~RedisIdempotencyStore() = default;

std::string RedisIdempotencyStore::redis_key(std::string_view scope, std::string_view key) const {
  return impl_->redis_key(scope, key);
}

Expected<BeginResult> RedisIdempotencyStore::begin(std::string_view scope, std::string_view key,
                                                   std::string_view fingerprint) {
  Reservation reservation{std::string(scope), std::string(key), std::string(fingerprint),
                          secure_random_hex(16)};
  auto reply = impl_->eval(impl_->begin_script(), impl_->redis_key(scope, key),
                           {reservation.fingerprint, reservation.token,
                            std::to_string(impl_->options().ttls.lock_ttl.count())});
  if (!reply) return reply.error();
  const redisReply* r = reply->get();
  if (r->type != REDIS_REPLY_ARRAY || r->elements == 0) {
    return unavailable("unexpected reply from redis to the idempotency begin script");
  }
  const std::string kind = reply_string(r->element[0]);
  BeginResult result;
  if (kind == "started") {
    result.kind = BeginResult::Kind::started;
    result.reservation = std::move(reservation);
  } else if (kind == "in_flight") {
    result.kind = BeginResult::Kind::in_flight;
  } else if (kind == "mismatch") {
    result.kind = BeginResult::Kind::mismatch;
  } else if (kind == "replay" && r->elements == 4) {
    long long status = 0;
    long long created_ms = 0;
    if (!parse_int64(reply_string(r->element[1]), status) ||
        !parse_int64(reply_string(r->element[3]), created_ms) ||
        r->element[2]->type != REDIS_REPLY_STRING) {
      return unavailable("malformed idempotency record in redis");
    }
    result.kind = BeginResult::Kind::replay;
    result.response =
        StoredResponse{static_cast<int>(status), reply_string(r->element[2]),
                       std::chrono::system_clock::time_point(
                           std::chrono::duration_cast<std::chrono::system_clock::duration>(
                               std::chrono::milliseconds(created_ms)))};
  } else {
    return unavailable("unexpected reply from redis to the idempotency begin script");
  }
  return result;
}

Expected<FinishResult> RedisIdempotencyStore::complete(const Reservation& reservation,
                                                       const StoredResponse& response) {
  const auto created_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(response.created.time_since_epoch())
          .count();
  auto reply = impl_->eval(
      impl_->complete_script(), impl_->redis_key(reservation.scope, reservation.key),
      {reservation.token, reservation.fingerprint, std::to_string(response.status), response.body,
       std::to_string(created_ms), std::to_string(impl_->options().ttls.record_ttl.count())});
  if (!reply) return reply.error();
  const std::string outcome = reply_string(reply->get());
  if (outcome == "applied") return FinishResult::applied;
  if (outcome == "lost") return FinishResult::reservation_lost;
  return unavailable("unexpected reply from redis to the idempotency complete script");
}

Expected<FinishResult> RedisIdempotencyStore::abandon(const Reservation& reservation) {
  auto reply =
      impl_->eval(impl_->abandon_script(), impl_->redis_key(reservation.scope, reservation.key),
                  {reservation.token});
  if (!reply) return reply.error();
  const std::string outcome = reply_string(reply->get());
  if (outcome == "applied") return FinishResult::applied;
  if (outcome == "lost") return FinishResult::reservation_lost;
  return unavailable("unexpected reply from redis to the idempotency abandon script");
}

Expected<Ok> RedisIdempotencyStore::ping() {
  auto reply = impl_->command({"PING"});
  if (!reply) return reply.error();
  if (reply_string(reply->get()) != "PONG") return unavailable("unexpected reply to redis PING");
  return Ok{};
}

}  // namespace tokenizer
