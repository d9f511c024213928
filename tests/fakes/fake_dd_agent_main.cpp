// fake-dd-agent: the FakeDatadogAgent (fake_datadog_agent.h) as a process, for integration
// tests that start the real service, and for load benchmarks. Prints
//   fake-dd-agent listening on http://127.0.0.1:PORT
// (flushed) once it accepts connections, then serves until SIGTERM or SIGINT.
//
//   fake-dd-agent [--port 0] [--rate-by-service '{"service:tokenizer,env:test":0.5,"service:,env:":1}'] [--sink]
//
// Default: every intake payload is decoded and checked against the agent's rules and kept
// (GET /test/traces, /test/requests), as integration tests need. `--sink` (benchmarks): the
// payloads are answered the same way (200 + rate_by_service) but neither decoded, checked
// nor kept; only payloads, bytes and traces (from each payload's array header) are counted,
// served as GET /test/stats and printed as
//   fake-dd-agent sink: P payloads, B bytes, T traces
// when it stops. Memory stays flat however long the run.
#include <csignal>
#include <cstdio>
#include <iostream>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "fake_datadog_agent.h"

int main(int argc, char** argv) {
  CLI::App app{"Fake Datadog agent trace intake for tests and benchmarks"};
  int port = 0;
  bool sink = false;
  std::string rates = R"({"service:,env:":1})";
  app.add_option("--port", port, "TCP port on 127.0.0.1 (0: chosen by the OS)")->check(CLI::Range(0, 65535));
  app.add_option("--rate-by-service", rates, "JSON object answered as rate_by_service");
  app.add_flag("--sink", sink,
               "Benchmark mode: answer intake payloads like the agent but do not decode, check or keep them; "
               "only count payloads, bytes and traces (GET /test/stats)");
  CLI11_PARSE(app, argc, argv);
  const auto parsed = nlohmann::json::parse(rates, nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object()) {
    std::cerr << "fake-dd-agent: --rate-by-service must be a JSON object\n";
    return 2;
  }

  // Block the stop signals before any thread starts, then wait for one of them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  try {
    tokenizer::testing::FakeDatadogAgent::Options options;
    options.port = static_cast<std::uint16_t>(port);
    options.rate_by_service = parsed.dump();
    options.sink = sink;
    tokenizer::testing::FakeDatadogAgent agent(options);
    std::printf("fake-dd-agent listening on %s%s\n", agent.url().c_str(), sink ? " (sink)" : "");
    std::fflush(stdout);
    int received = 0;
    sigwait(&stop_signals, &received);
    agent.stop();
    if (sink) {
      const auto s = agent.sink_stats();
      std::printf("fake-dd-agent sink: %llu payloads, %llu bytes, %llu traces\n",
                  static_cast<unsigned long long>(s.payloads), static_cast<unsigned long long>(s.bytes),
                  static_cast<unsigned long long>(s.traces));
      std::fflush(stdout);
    }
  } catch (const std::exception& e) {
    std::cerr << "fake-dd-agent: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
