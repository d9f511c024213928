// SimStats: what upstream-sim counts about the vault API requests it receives, served by
// `GET /__sim/stats`, `GET /__sim/requests` and `GET /metrics`.
//
//   /__sim/stats     {"requests": N, "by_status": {"201": n, "reset": n, ...},
//                     "faults_injected": N}
//   /__sim/requests  {"requests": [{"method", "path", "headers": {...}}]}: the last
//                    kRequestLogSize vault requests, newest last; header names lowercased,
//                    the authorization value reduced to its scheme ("Basic [redacted]"),
//                    never bodies.
//   /metrics         upstream_sim_requests_total{status}, upstream_sim_faults_injected_total{mode},
//                    upstream_sim_reply_delay_seconds (histogram: receipt to reply handed to
//                    the server, injected latency included).
// An outcome is a status code (100..599) or kOutcomeReset / kOutcomeHang, shown as "reset" /
// "hang". Counters are resolved once and cached (no per-request family.Add).
//
// Thread-safe: counters are atomics, the request log is guarded by a mutex.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace prometheus {
class Counter;
class Histogram;
class Registry;
template <typename T>
class Family;
}  // namespace prometheus

namespace tokenizer {

inline constexpr int kOutcomeReset = 600;
inline constexpr int kOutcomeHang = 601;
inline constexpr std::size_t kRequestLogSize = 200;

// Which fault, if any, a request received.
enum class InjectedFault { kNone, kStatus, kReset, kGarbage, kHang };

struct LoggedRequest {
  std::string method;
  std::string path;
  std::vector<std::pair<std::string, std::string>> headers;  // lowercased names, in order
};

class SimStats {
 public:
  SimStats();
  ~SimStats();
  SimStats(const SimStats&) = delete;
  SimStats& operator=(const SimStats&) = delete;

  // Counts one vault API request with its outcome (status, kOutcomeReset or kOutcomeHang).
  void record(int outcome, InjectedFault fault);
  // Observes the delay between receiving a vault request and handing its reply over.
  void observe_reply_delay(std::chrono::steady_clock::duration delay);
  // Appends to the request log (drops the oldest beyond kRequestLogSize). Redacts the
  // authorization header here, so no caller can store a credential by mistake.
  void log_request(LoggedRequest request);
  void clear_request_log();

  std::uint64_t requests() const { return requests_.load(std::memory_order_relaxed); }
  std::uint64_t faults_injected() const { return faults_.load(std::memory_order_relaxed); }
  std::uint64_t count_for(int outcome) const;

  nlohmann::json stats_json() const;
  nlohmann::json requests_json() const;
  // Prometheus text exposition format (0.0.4).
  std::string metrics_text() const;

  // "201", "reset", "hang".
  static std::string outcome_label(int outcome);

 private:
  static constexpr int kSlots = 602;
  prometheus::Counter& status_counter(int outcome);

  std::atomic<std::uint64_t> requests_{0};
  std::atomic<std::uint64_t> faults_{0};
  std::array<std::atomic<std::uint64_t>, kSlots> by_outcome_{};

  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>* requests_family_ = nullptr;
  std::array<std::atomic<prometheus::Counter*>, kSlots> status_counters_{};
  std::mutex counter_mutex_;
  std::array<prometheus::Counter*, 5> fault_counters_{};  // by InjectedFault (kNone unused)
  prometheus::Histogram* delay_histogram_ = nullptr;

  mutable std::mutex log_mutex_;
  std::deque<LoggedRequest> log_;
};

}  // namespace tokenizer
