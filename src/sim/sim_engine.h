// SimEngine: everything upstream-sim decides, without any networking. The server turns
// each HTTP request into a SimRequest, asks handle() for a Plan, and carries it out
// (reply now, reply after `delay`, reset the connection, or hold it). Unit tests drive the
// engine directly with a FakeClock and a FakeRandom.
//
// Routes (anything else: 404):
//   POST   /v1/payment_methods.json  the vault create call (any /v1/ path is "vault API":
//                                    counted, logged and subject to faults)
//   GET|POST|DELETE /__sim/faults    read / replace / reset the fault set (fault_config.h)
//   GET    /__sim/stats              counters (sim_stats.h)
//   GET|DELETE /__sim/requests       recent vault request headers / clear that log
//   GET    /__sim/cards              the fixed-behaviour test cards (test_cards.h)
//   GET    /metrics                  Prometheus text format
//   GET    /healthz                  {"status": "ok"}
//
// Vault request order: count and log it; draw the fault (status / reset / garbage / hang,
// with probability error_rate); otherwise 404/405 for other /v1/ routes, 401 for wrong
// Basic credentials, 400 for a body that is not JSON, 422 for invalid fields, the test
// card's fixed behaviour, or 201. `latency_ms` delays every vault reply (and a reset).
//
// Thread-safe: handle() may run on every server thread at once. The Random is only drawn
// under a mutex (so a FakeRandom is safe), the fault set is swapped under a mutex.
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/random.h"
#include "sim/fault_config.h"
#include "sim/sim_stats.h"
#include "sim/vault_reply.h"

namespace tokenizer {

struct SimRequest {
  std::string method;                                        // "POST"
  std::string path;                                          // without the query string
  std::vector<std::pair<std::string, std::string>> headers;  // lowercased names
  std::string body;

  // The first header with this (lowercase) name, or nullptr.
  const std::string* header(std::string_view lowercase_name) const;
};

enum class PlanAction {
  kReply,  // send `reply` after `delay`
  kReset,  // close the connection with a TCP RST after `delay`, no reply
  kHang,   // never reply; hold until the client leaves or the hang cap, then reset
};

struct SimReply {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers
};

struct Plan {
  PlanAction action = PlanAction::kReply;
  SimReply reply;
  std::chrono::milliseconds delay{0};
  bool vault_api = false;
};

struct SimCredentials {
  std::string environment_key;
  std::string access_secret;
};

class SimEngine {
 public:
  SimEngine(SimCredentials credentials, const Clock& clock, Random& random,
            FaultConfig faults = FaultConfig{});
  SimEngine(const SimEngine&) = delete;
  SimEngine& operator=(const SimEngine&) = delete;

  Plan handle(const SimRequest& request);

  void set_faults(const FaultConfig& faults);
  FaultConfig faults() const;

  SimStats& stats() { return stats_; }
  const SimStats& stats() const { return stats_; }

 private:
  Plan handle_vault(const SimRequest& request);
  Plan handle_faults(const SimRequest& request);
  bool authorized(const SimRequest& request) const;
  bool draw_fault(double error_rate);

  const SimCredentials credentials_;
  const Clock& clock_;
  Random& random_;
  VaultReplyBuilder replies_;
  SimStats stats_;

  mutable std::mutex faults_mutex_;
  FaultConfig faults_;
  std::mutex random_mutex_;
};

}  // namespace tokenizer
