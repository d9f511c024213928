// bench-relay: the floor of tokenizer's HTTP stack, for rows (r) and (p) of bench/run.
//
// It does what nginx does in row (b) and nothing else: every request is passed to the vault
// simulator (same method, path, body, and the Authorization / Content-Type / Accept
// headers when the client sent them) and the simulator's status and body are passed back (its
// other headers are not: the benchmark's client reads none). The query string is dropped:
// the vault's create call takes none. With --header it adds fixed header lines to every vault
// request: row (p) adds the tokenizer's six trace-propagation headers, to measure what writing
// them costs on this stack alone. It is built from the service's own adapters,
// the Pistache server (src/http/server) and the libcurl event loops (src/upstream/
// curl_transport), with the service's thread defaults, but without validation, idempotency,
// resilience, metrics, tracing or logs. So r/b is what the stack, as the service drives it,
// costs against nginx, and c/r what the service's own work costs on top of it. Not a product:
// loopback only, no TLS, no limits, bench use only.
#include <pthread.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>

#include "config/config.h"
#include "http/server.h"
#include "upstream/curl_transport.h"

namespace {

using namespace tokenizer;

// Passes one request to the vault and its reply back; a transport failure becomes a 502.
// `extra` (--header) is added to every vault request as given, after the passed headers.
void relay(HttpTransport& transport, const std::string& upstream,
           const std::vector<std::pair<std::string, std::string>>& extra, ApiRequest request,
           ResponderPtr responder) {
  HttpRequest out;
  out.method = request.method;
  out.url = upstream + request.path;
  out.body = std::move(request.body);
  static constexpr const char* kPassed[][2] = {
      {"authorization", "Authorization"}, {"content-type", "Content-Type"}, {"accept", "Accept"}};
  for (const auto& names : kPassed) {
    if (auto value = request.header(names[0])) out.headers.emplace_back(names[1], *value);
  }
  out.headers.insert(out.headers.end(), extra.begin(), extra.end());
  transport.send(std::move(out), [responder = std::move(responder)](HttpResult result) {
    ApiResponse reply;
    if (result.response) {
      reply.status = result.response->status;
      reply.body = std::move(result.response->body);
    } else {
      reply.status = 502;
      reply.body = R"({"error":"relay: vault unreachable"})";
    }
    responder->send(std::move(reply));
  });
}

}  // namespace

int main(int argc, char** argv) {
  const int cores = static_cast<int>(std::max(2u, std::thread::hardware_concurrency()));
  std::string listen = "127.0.0.1:0";
  std::string upstream;
  int threads = cores;
  int loops = cores;
  std::vector<std::string> header_lines;
  CLI::App app{"bench-relay: Pistache + libcurl passing requests to the vault, nothing else"};
  app.add_option("--listen", listen, "host:port to listen on (loopback)");
  app.add_option("--upstream-url", upstream, "vault base URL, e.g. http://127.0.0.1:8081")
      ->required();
  app.add_option("--threads", threads, "server worker threads (tokenizer's default)")
      ->check(CLI::Range(1, 256));
  app.add_option("--upstream-threads", loops, "curl event loops (tokenizer's default)")
      ->check(CLI::Range(1, 64));
  app.add_option("--header", header_lines,
                 "\"Name: value\" added to every vault request (repeatable); bench/run's row p "
                 "adds the six trace-propagation headers the tokenizer sends");
  CLI11_PARSE(app, argc, argv);
  std::vector<std::pair<std::string, std::string>> extra;
  for (const auto& line : header_lines) {
    const auto colon = line.find(':');
    const auto value = line.find_first_not_of(' ', colon == std::string::npos ? 0 : colon + 1);
    if (colon == std::string::npos || colon == 0 || value == std::string::npos ||
        line.find_first_of("\r\n") != std::string::npos) {
      std::fprintf(stderr, "bench-relay: --header: want \"Name: value\", got \"%s\"\n",
                   line.c_str());
      return 2;
    }
    extra.emplace_back(line.substr(0, colon), line.substr(value));
  }
  while (!upstream.empty() && upstream.back() == '/') upstream.pop_back();

  const auto address = parse_listen_address(listen);
  if (!address) {
    std::fprintf(stderr, "bench-relay: --listen: %s\n", address.error().message.c_str());
    return 2;
  }
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  raise_fd_limit();

  // Declared before the server, so destroyed after it: Pistache's workers, which use both
  // through the dispatcher, are joined first.
  CurlTransportConfig tc;
  tc.max_total_connections = tc.max_host_connections = tc.max_idle_connections = 2048;
  tc.loops = loops;
  CurlTransport transport(tc);
  HttpServerOptions so;
  so.listen = *address;
  so.threads = threads;
  HttpServer server(so, [&transport, &upstream, &extra](ApiRequest request,
                                                        ResponderPtr responder) {
    relay(transport, upstream, extra, std::move(request), std::move(responder));
  });
  if (auto started = server.start(); !started) {
    std::fprintf(stderr, "bench-relay: %s\n", started.error().message.c_str());
    return 1;
  }
  std::printf("{\"message\":\"listening\",\"port\":%u}\n", static_cast<unsigned>(server.port()));
  std::fflush(stdout);
  int sig = 0;
  sigwait(&signals, &sig);
  // Bounded drain, as the service's: calls in flight finish and their replies are written
  // before the server stops (bench/run only stops it when wrk is done).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while ((transport.in_flight() > 0 || server.unwritten_replies() > 0) &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  server.shutdown();
  transport.shutdown();
  return 0;
}
