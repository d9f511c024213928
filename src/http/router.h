// Router: maps every request to its handler and owns the service's lifecycle state.
//
//   POST /api/v1/payment_methods/tokenize  → TokenizeHandler (405 + Allow for other methods)
//   GET|HEAD /healthz                       → 200 while the process serves (liveness)
//   GET|HEAD /readyz                        → 200 when ready, 503 while starting or draining,
//                                             with component states (breaker included: it
//                                             never fails readiness, see README)
//   GET /metrics                            → Prometheus text format
//   anything else                           → 404 not_found
// Only API routes are counted as traffic (metrics, access log); probes and scrapes are not.
// While draining, new tokenize requests get 503 shutting_down with `Connection: close`.
// Thread-safe.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "http/http_types.h"
#include "http/tokenize_handler.h"
#include "telemetry/logger.h"
#include "telemetry/metrics.h"

namespace tokenizer {

enum class Lifecycle { starting, ready, draining };

class Router {
 public:
  using ComponentStates = std::function<std::vector<std::pair<std::string, std::string>>()>;

  Router(TokenizeHandler& tokenize, Metrics& metrics, Logger& logger, ComponentStates components,
         bool access_log);

  void dispatch(ApiRequest request, ResponderPtr responder);

  void set_lifecycle(Lifecycle state) { lifecycle_.store(state); }
  Lifecycle lifecycle() const { return lifecycle_.load(); }

 private:
  void answer_untracked(ApiRequest& request, ResponderPtr& responder, ApiResponse response,
                        const std::string& error_code);

  TokenizeHandler& tokenize_;
  Metrics& metrics_;
  Logger& logger_;
  ComponentStates components_;
  bool access_log_;
  std::atomic<Lifecycle> lifecycle_{Lifecycle::starting};
};

}  // namespace tokenizer
