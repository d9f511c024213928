// pistache-race-client: regression test for replies reaching the wrong client.
//
//   pistache-race-client [options] -- <server command and its arguments>
//
// Starts the server (it must announce its port on stdout, see --port-after, and echo each
// request's X-Request-Id header in its reply), checks one request end to end, records the
// server's open descriptors, runs the RaceClient (hundreds of loopback clients, a third of
// them closing right after sending), then requires: no reply carrying another client's id,
// every reader request answered, the server still alive, and its descriptor count back to
// the baseline. Prints a summary; exits 0 on success, 1 on failure, 2 on bad usage.
// See tests/integration/pistache_race/README.md for running it against the tokenizer.
#include <CLI/CLI.hpp>

#include <chrono>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "child_process.h"
#include "common/random.h"
#include "race_client.h"

namespace tokenizer::pistache_race {
namespace {

void print_report(const char* what, const RaceReport& r) {
  std::cout << what << ": clients=" << r.clients_run << " (closers=" << r.closers << " readers=" << r.readers
            << ") requests=" << r.requests_sent << " replies_checked=" << r.replies_checked
            << " ok=" << r.replies_ok << " misdelivered=" << r.misdelivered << " bad=" << r.bad_replies
            << " io_errors=" << r.io_errors << " stray_bytes=" << r.stray_bytes
            << (r.deadline_hit ? " (deadline hit)" : "") << "\n";
  for (const auto& s : r.samples) std::cout << "  " << s << "\n";
}

// Waits until the fd count is stable (two equal readings `step` apart) or `timeout`.
Expected<int> settled_fd_count(ChildProcess& server, std::chrono::milliseconds step,
                               std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto previous = server.open_fd_count();
  for (;;) {
    if (!previous) return previous;
    std::this_thread::sleep_for(step);
    auto now = server.open_fd_count();
    if (!now) return now;
    if (*now == *previous || std::chrono::steady_clock::now() > deadline) return now;
    previous = now;
  }
}

int run(int argc, char** argv) {
  CLI::App app{"Hundreds of loopback clients checking that every reply carries their own X-Request-Id"};
  RaceConfig config;
  std::string port_marker = "127.0.0.1:";
  long close_jitter_us = config.close_jitter.count();
  long io_timeout_ms = config.io_timeout.count();
  double deadline_s = static_cast<double>(config.deadline.count()) / 1000.0;
  long startup_timeout_ms = 15000;
  long fd_settle_ms = 10000;
  long fd_allowance = 0;
  int expect_status = 0;
  std::vector<std::string> server_command;

  app.add_option("--method", config.method, "HTTP method");
  app.add_option("--path", config.path, "request target, e.g. /api/v1/payment_methods/tokenize");
  app.add_option("--body", config.body, "request body ({id} is replaced by the request id)");
  app.add_option("--header", config.headers, "extra header 'Name: value' (repeatable; {id} replaced)");
  app.add_option("--clients", config.clients, "connections to open")->check(CLI::Range(1, 1000000));
  app.add_option("--parallel", config.parallel, "client threads")->check(CLI::Range(1, 1024));
  app.add_option("--close-fraction", config.close_fraction, "share of clients that close right after sending")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--close-jitter-us", close_jitter_us, "closers wait up to this long before closing");
  app.add_option("--requests-per-connection", config.requests_per_connection, "keep-alive requests per reader")
      ->check(CLI::Range(1, 1000));
  app.add_flag("--body-contains-id", config.body_must_contain_id, "the reply body must contain the request id");
  app.add_option("--expect-status", expect_status, "required reply status (default: any)");
  app.add_option("--io-timeout-ms", io_timeout_ms, "per-read/connect timeout");
  app.add_option("--deadline-s", deadline_s, "no new client starts after this many seconds");
  app.add_option("--startup-timeout-ms", startup_timeout_ms, "wait this long for the port announcement");
  app.add_option("--fd-allowance", fd_allowance,
                 "descriptors the server may legitimately keep open after the race (e.g. a pool "
                 "of reused upstream connections); client connections must all be closed");
  app.add_option("--fd-settle-ms", fd_settle_ms, "wait this long for the descriptor count to return to baseline");
  app.add_option("--port-after", port_marker, "the server's stdout announces its port right after this text");
  app.add_option("--id-prefix", config.id_prefix, "prefix of the request ids");
  app.add_option("server", server_command, "server command (after --)")->required();
  CLI11_PARSE(app, argc, argv);
  config.close_jitter = std::chrono::microseconds(close_jitter_us);
  config.io_timeout = std::chrono::milliseconds(io_timeout_ms);
  config.deadline = std::chrono::milliseconds(static_cast<long>(deadline_s * 1000.0));
  if (expect_status > 0) config.expect_status = expect_status;

  auto started = ChildProcess::start(server_command, port_marker);
  if (!started) {
    std::cout << "FAIL: cannot start the server: " << started.error().message << "\n";
    return 1;
  }
  ChildProcess& server = **started;
  auto port = server.wait_for_port(std::chrono::milliseconds(startup_timeout_ms));
  if (!port) {
    std::cout << "FAIL: " << port.error().message << " (" << server.exit_description() << ")\n";
    return 1;
  }
  config.port = *port;
  std::cout << "server pid " << server.pid() << " on 127.0.0.1:" << config.port << "\n";

  // One ordinary request first: proves the server echoes X-Request-Id before racing.
  RaceConfig warmup = config;
  warmup.clients = 1;
  warmup.parallel = 1;
  warmup.close_fraction = 0.0;
  warmup.id_prefix = config.id_prefix + "-warmup";
  const RaceReport warm = RaceClient(warmup, SystemRandom::instance()).run();
  if (warm.replies_ok != static_cast<std::uint64_t>(warmup.requests_per_connection)) {
    print_report("warm-up", warm);
    std::cout << "FAIL: the server does not answer a plain request with its X-Request-Id\n";
    return 1;
  }
  auto baseline = settled_fd_count(server, std::chrono::milliseconds(100), std::chrono::milliseconds(3000));
  if (!baseline) {
    std::cout << "FAIL: " << baseline.error().message << "\n";
    return 1;
  }
  std::cout << "baseline open fds: " << *baseline << "\n";

  const auto begin = std::chrono::steady_clock::now();
  const RaceReport report = RaceClient(config, SystemRandom::instance()).run();
  const auto elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
  print_report("race", report);
  std::cout << "race took " << elapsed << " s\n";

  bool ok = true;
  if (!server.running()) {
    std::cout << "FAIL: server died: " << server.exit_description() << "\n";
    return 1;
  }
  const auto settle_deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(fd_settle_ms);
  auto fds = server.open_fd_count();
  while (fds && *fds > *baseline + fd_allowance && std::chrono::steady_clock::now() < settle_deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    fds = server.open_fd_count();
  }
  if (!fds) {
    std::cout << "FAIL: server died: " << server.exit_description() << "\n";
    return 1;
  }
  std::cout << "open fds after the race: " << *fds << " (baseline " << *baseline << ")\n";
  if (*fds > *baseline + fd_allowance) {
    std::cout << "FAIL: the server leaked " << (*fds - *baseline - fd_allowance) << " descriptors\n";
    ok = false;
  }
  if (report.misdelivered > 0) {
    std::cout << "FAIL: " << report.misdelivered << " replies reached the wrong client\n";
    ok = false;
  }
  if (report.bad_replies > 0 || report.io_errors > 0 || report.stray_bytes > 0) {
    std::cout << "FAIL: " << report.bad_replies << " bad replies, " << report.io_errors << " I/O errors, "
              << report.stray_bytes << " stray bytes\n";
    ok = false;
  }
  const auto expected_replies = report.readers * static_cast<std::uint64_t>(config.requests_per_connection);
  const bool clients_stopped_early = report.misdelivered + report.bad_replies + report.io_errors > 0;
  if (!clients_stopped_early && report.replies_ok != expected_replies) {
    std::cout << "FAIL: " << report.replies_ok << " of " << expected_replies << " reader requests answered\n";
    ok = false;
  }
  // The deadline bounds the test's time on a slow machine; it only fails the test when
  // too few clients ran to say anything.
  if (report.clients_run < static_cast<std::uint64_t>(config.clients)) {
    const bool too_few = report.clients_run * 10 < static_cast<std::uint64_t>(config.clients);
    std::cout << (too_few ? "FAIL" : "WARNING") << ": only " << report.clients_run << " of " << config.clients
              << " clients ran before the deadline\n";
    if (too_few) ok = false;
  }
  // A clean stop on SIGTERM: exit status 0 (this also catches sanitizer reports at exit and
  // a server that needed SIGKILL).
  server.stop();
  if (server.exit_description() != "exited with status 0") {
    std::cout << "FAIL: on SIGTERM the server " << server.exit_description() << "\n";
    ok = false;
  }
  std::cout << (ok ? "PASS" : "FAIL") << "\n";
  return ok ? 0 : 1;
}

}  // namespace
}  // namespace tokenizer::pistache_race

int main(int argc, char** argv) { return tokenizer::pistache_race::run(argc, argv); }
