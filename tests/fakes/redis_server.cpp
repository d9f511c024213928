#include "redis_server.h"

#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <thread>

namespace tokenizer::testing {
namespace {

std::uint16_t free_loopback_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  std::uint16_t port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

RawReply to_raw(const redisReply* r) {
  RawReply out;
  if (r == nullptr) return out;
  out.ok = r->type != REDIS_REPLY_ERROR;
  switch (r->type) {
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
    case REDIS_REPLY_ERROR:
      out.text.assign(r->str, r->len);
      break;
    case REDIS_REPLY_INTEGER:
      out.integer = r->integer;
      out.text = std::to_string(r->integer);
      break;
    case REDIS_REPLY_ARRAY:
      for (std::size_t i = 0; i < r->elements; ++i)
        out.elements.push_back(to_raw(r->element[i]).text);
      break;
    default:
      break;
  }
  return out;
}

}  // namespace

std::string RedisServer::binary() {
  if (const char* env = std::getenv("TOKENIZER_REDIS_SERVER"); env != nullptr && *env != '\0') {
    return env;
  }
  for (const char* candidate : {"/usr/bin/redis-server", "/usr/local/bin/redis-server"}) {
    if (access(candidate, X_OK) == 0) return candidate;
  }
  return {};
}

std::unique_ptr<RedisServer> RedisServer::start(std::string& error,
                                                std::vector<std::string> extra_args) {
  std::unique_ptr<RedisServer> server(new RedisServer());
  server->extra_args_ = std::move(extra_args);
  char dir_template[] = "/tmp/tokenizer-redis-XXXXXX";
  if (mkdtemp(dir_template) == nullptr) {
    error = "mkdtemp failed";
    return nullptr;
  }
  server->dir_ = dir_template;
  // Another process may take the port between our probe and redis binding it: retry.
  for (int attempt = 0; attempt < 5; ++attempt) {
    server->port_ = free_loopback_port();
    if (server->port_ == 0 || !server->spawn(error)) break;
    if (server->wait_ready(error)) return server;
    const bool exited = server->pid_ < 0;
    server->kill();
    if (!exited) break;  // alive but silent: another port will not help
  }
  return nullptr;
}

RedisServer::~RedisServer() {
  kill();
  if (!dir_.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
}

std::string RedisServer::url(int db) const {
  return "redis://127.0.0.1:" + std::to_string(port_) + "/" + std::to_string(db);
}

bool RedisServer::spawn(std::string& error) {
  const std::string bin = binary();
  if (bin.empty()) {
    error = "redis-server is not installed";
    return false;
  }
  std::vector<std::string> args = {
      bin,      "--port",    std::to_string(port_), "--bind",      "127.0.0.1",
      "--save", "",          "--appendonly",        "no",          "--dir",
      dir_,     "--logfile", dir_ + "/redis.log",   "--daemonize", "no"};
  args.insert(args.end(), extra_args_.begin(), extra_args_.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) {
    error = "fork failed";
    return false;
  }
  if (pid == 0) {
    // Child: only async-signal-safe calls until exec.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    execv(argv[0], argv.data());
    _exit(127);
  }
  pid_ = pid;
  paused_ = false;
  return true;
}

bool RedisServer::wait_ready(std::string& error) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      error = "redis-server exited during start-up (port " + std::to_string(port_) + ")";
      return false;
    }
    const RawReply pong = raw({"PING"});
    // NOAUTH: a server started with --requirepass answered, so it is ready too.
    if ((pong.ok && pong.text == "PONG") || pong.text.rfind("NOAUTH", 0) == 0) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  error = "redis-server did not answer PING within 10 s";
  return false;
}

void RedisServer::kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  if (paused_) ::kill(pid_, SIGCONT);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  paused_ = false;
}

void RedisServer::pause() {
  if (pid_ > 0 && ::kill(pid_, SIGSTOP) == 0) paused_ = true;
}

void RedisServer::resume() {
  if (pid_ > 0 && ::kill(pid_, SIGCONT) == 0) paused_ = false;
}

bool RedisServer::restart(std::string& error) {
  kill();
  return spawn(error) && wait_ready(error);
}

RawReply RedisServer::raw(const std::vector<std::string>& argv, int db) const {
  timeval tv{1, 0};
  redisContext* c = redisConnectWithTimeout("127.0.0.1", port_, tv);
  if (c == nullptr) return {};
  RawReply out;
  if (c->err == 0) {
    redisSetTimeout(c, tv);
    bool selected = true;
    if (db != 0) {
      const std::string dbs = std::to_string(db);
      auto* r = static_cast<redisReply*>(redisCommand(c, "SELECT %s", dbs.c_str()));
      selected = r != nullptr && r->type != REDIS_REPLY_ERROR;
      if (r != nullptr) freeReplyObject(r);
    }
    if (selected) {
      std::vector<const char*> ptrs;
      std::vector<std::size_t> lens;
      for (const auto& a : argv) {
        ptrs.push_back(a.data());
        lens.push_back(a.size());
      }
      auto* r = static_cast<redisReply*>(
          redisCommandArgv(c, static_cast<int>(ptrs.size()), ptrs.data(), lens.data()));
      out = to_raw(r);
      if (r != nullptr) freeReplyObject(r);
    }
  }
  redisFree(c);
  return out;
}

}  // namespace tokenizer::testing
