// upstream-sim: a local Spreedly-style vault with run-time fault injection (see
// sim/sim_engine.h for the routes, sim/test_cards.h for the test cards, sim/sim_options.h
// for the flags). Thin main: flags -> engine -> server -> wait for SIGTERM/SIGINT -> stop.
#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <iostream>

#include "common/clock.h"
#include "common/random.h"
#include "sim/sim_engine.h"
#include "sim/sim_options.h"
#include "sim/sim_server.h"

int main(int argc, char** argv) {
  using namespace tokenizer;
  auto command_line = parse_sim_command_line(argc, argv);
  if (!command_line.config) {
    (command_line.exit_code == 0 ? std::cout : std::cerr) << command_line.message << std::endl;
    return command_line.exit_code;
  }
  const SimConfig& config = *command_line.config;

  // Block the termination signals before any thread exists, so every thread inherits the
  // mask and sigwait() below is the only place they are delivered.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);
  raise_open_file_limit();

  SimEngine engine(config.credentials, SystemClock::instance(), SystemRandom::instance(),
                   config.faults);
  SimServer server(config.server, engine, SystemClock::instance());
  if (auto started = server.start(); !started) {
    std::cerr << "upstream-sim: " << started.error().message << std::endl;
    return 1;
  }
  const bool v6 = config.server.host.find(':') != std::string::npos;
  std::cout << "upstream-sim listening on " << (server.tls() ? "https" : "http") << "://"
            << (v6 ? "[" : "") << config.server.host << (v6 ? "]" : "") << ":" << server.port()
            << std::endl;

  int received = 0;
  sigwait(&signals, &received);
  server.stop();
  return 0;
}
