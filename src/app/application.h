// Application: the composition root of `tokenizer`. Builds every component from a
// validated Config, in dependency order, and tears them down in reverse:
//
//   clock, random → metrics, logger, tracer → curl transport → vault client →
//   breaker, retry budget, timer scheduler → retry executor → load shedder →
//   idempotency store → authenticator, rate limiters → tokenize handler → router → server
//
// Lifecycle: create() (fails with a one-line reason for anything the config could not
// catch, e.g. an unreachable tracer URL format or an unusable Redis URL) → start()
// (binds, logs "listening" with the port, readiness turns 200) → drain(timeout) (readiness
// 503, new API requests refused, waits for in-flight vault calls) → stop() (listener and
// connections closed, timers, curl loop and trace exporter flushed and joined).
#pragma once

#include <chrono>
#include <memory>

#include "common/expected.h"
#include "config/config.h"

namespace tokenizer {

class Application {
 public:
  static Expected<std::unique_ptr<Application>> create(const Config& config);
  ~Application();

  Expected<Ok> start();
  std::uint16_t port() const;
  // Returns true when every in-flight request finished before the timeout.
  bool drain(std::chrono::milliseconds timeout);
  void stop();

 private:
  struct Parts;
  explicit Application(std::unique_ptr<Parts> parts);
  std::unique_ptr<Parts> p_;
};

}  // namespace tokenizer
