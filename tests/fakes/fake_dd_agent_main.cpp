// fake-dd-agent: the FakeDatadogAgent (fake_datadog_agent.h) as a process, for integration
// tests that start the real service. Prints
//   fake-dd-agent listening on http://127.0.0.1:PORT
// (flushed) once it accepts connections, then serves until SIGTERM or SIGINT.
//
//   fake-dd-agent [--port 0] [--rate-by-service '{"service:tokenizer,env:test":0.5,"service:,env:":1}']
#include <csignal>
#include <cstdio>
#include <iostream>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "fake_datadog_agent.h"

int main(int argc, char** argv) {
  CLI::App app{"Fake Datadog agent trace intake for tests"};
  int port = 0;
  std::string rates = R"({"service:,env:":1})";
  app.add_option("--port", port, "TCP port on 127.0.0.1 (0: chosen by the OS)")->check(CLI::Range(0, 65535));
  app.add_option("--rate-by-service", rates, "JSON object answered as rate_by_service");
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
    tokenizer::testing::FakeDatadogAgent agent(options);
    std::printf("fake-dd-agent listening on %s\n", agent.url().c_str());
    std::fflush(stdout);
    int received = 0;
    sigwait(&stop_signals, &received);
    agent.stop();
  } catch (const std::exception& e) {
    std::cerr << "fake-dd-agent: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
