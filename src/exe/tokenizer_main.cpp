// tokenizer: config → application → serve → SIGTERM/SIGINT → drain → exit 0.
#include <csignal>
#include <cstdio>
#include <pthread.h>

#include "app/application.h"
#include "config/config.h"
#include "http/server.h"

int main(int argc, char** argv) {
  using namespace tokenizer;
  const ConfigResult parsed = parse_config(argc, argv);
  if (parsed.kind == ConfigResult::Kind::help) {
    std::fputs(parsed.message.c_str(), stdout);
    return 0;
  }
  if (parsed.kind == ConfigResult::Kind::error) {
    std::fprintf(stderr, "tokenizer: %s\n", parsed.message.c_str());
    return 2;
  }
  // Signals are taken synchronously by this thread only: block them before any thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  raise_fd_limit();

  auto app = Application::create(parsed.config);
  if (!app) {
    std::fprintf(stderr, "tokenizer: %s\n", app.error().message.c_str());
    return 2;
  }
  if (auto started = (*app)->start(); !started) {
    std::fprintf(stderr, "tokenizer: %s\n", started.error().message.c_str());
    return 1;
  }
  int sig = 0;
  sigwait(&signals, &sig);
  (*app)->drain(parsed.config.drain_timeout);
  (*app)->stop();
  return 0;
}
