// Metrics: every Prometheus metric family of the service, declared in one place
// (observability/METRICS.md is the catalogue; a unit test keeps the two in agreement).
//
// Usage: the service creates one `Metrics` at start-up and hands a reference to each component
// (HTTP layer, vault client, retry policy, circuit breaker, idempotency, tracer exporter).
// Components call the `observe_*` / `count_*` / `set_*` methods on their hot path; `GET /metrics`
// returns `serialize()` (the Prometheus text exposition, process metrics included).
//
// Cost: label combinations are resolved once and the prometheus-cpp `Counter&`/`Histogram&`
// references cached (fixed label sets in arrays, created on first use or at construction;
// validation labels in a small bounded cache). No call ever does `Family::Add` per request
// (PLATFORM-NOTES: 300+ ns vs 6.5 ns for a cached counter).
//
// Label values are bounded by construction: HTTP methods outside the known set become `other`,
// routes outside the configured templates `unmatched`, statuses outside 100..599 `other`, card
// brands outside the known set `unknown`, validation field/code strings that are not short
// identifiers (or exceed the cache bound) `other`. No request id or card data can become a label.
//
// Series of single-label counters with a fixed value set (outcomes, reasons, results, states)
// exist from construction with value 0, so rate() and absence-based alerts work before the first
// event. Multi-label combinations and histograms appear on first use.
//
// Thread-safety: every method may be called from any thread concurrently. `Metrics` is neither
// copyable nor movable (components keep references to it); it must outlive them.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "telemetry/process_metrics.h"

namespace tokenizer {

// Values of tokenizer_build_info.
struct BuildInfo {
  std::string version;
  std::string commit;
  // The version and git commit this binary was built from (set by CMake at configure time).
  static BuildInfo current();
};

struct MetricsOptions {
  BuildInfo build = BuildInfo::current();
  // Route templates accepted as `route` label values; anything else is `unmatched`.
  std::vector<std::string> routes = {"/api/v1/payment_methods/tokenize", "/healthz", "/readyz",
                                     "/metrics"};
  // Include process_* metrics read from /proc in serialize().
  bool process_metrics = true;
  // Directory standing in for /proc (tests).
  std::string proc_root = "/proc";
};

class Metrics;

// Keeps tokenizer_http_requests_in_flight incremented while alive. Movable (so it can travel
// with an asynchronous request to the thread that completes it), not copyable. A
// default-constructed or moved-from guard does nothing.
class InFlightGuard {
 public:
  InFlightGuard() = default;
  InFlightGuard(InFlightGuard&& other) noexcept;
  InFlightGuard& operator=(InFlightGuard&& other) noexcept;
  InFlightGuard(const InFlightGuard&) = delete;
  InFlightGuard& operator=(const InFlightGuard&) = delete;
  ~InFlightGuard();
  // Decrements now rather than at destruction (idempotent).
  void release();

 private:
  friend class Metrics;
  explicit InFlightGuard(prometheus::Gauge* gauge);
  prometheus::Gauge* gauge_ = nullptr;
};

class Metrics {
 public:
  // Outcome of one vault attempt (tokenizer_upstream_requests_total{outcome}).
  enum class UpstreamOutcome {
    success,        // 201 with a token
    rejected,       // 422: the vault refused the card (a success for the breaker)
    auth_failed,    // 401/402/403: our vault credentials were refused
    throttled,      // 429
    server_error,   // other 5xx (503 included)
    bad_response,   // unparseable or unexpected reply
    timeout,        // attempt or overall deadline reached
    connect_error,  // connection refused / DNS / connect timeout
    reset,          // connection reset or closed before a reply
    tls_error,      // certificate or handshake failure
  };
  static constexpr std::size_t kUpstreamOutcomeCount = 10;

  // Why an attempt was retried (tokenizer_upstream_retries_total{reason}).
  enum class RetryReason { connect_failed, reset, throttled, server_error, timeout };
  static constexpr std::size_t kRetryReasonCount = 5;

  enum class BreakerState { closed, open, half_open };
  static constexpr std::size_t kBreakerStateCount = 3;

  // Final result of a tokenize request (tokenizer_tokenizations_total{brand,result}); the
  // values match the API error codes.
  enum class TokenizationResult {
    success,
    validation_failed,
    card_rejected,
    upstream_error,
    upstream_timeout,
    upstream_auth_failed,
    upstream_unavailable,
  };
  static constexpr std::size_t kTokenizationResultCount = 7;

  // tokenizer_idempotency_requests_total{result}, for requests carrying an Idempotency-Key.
  enum class IdempotencyResult {
    new_key,             // label "new": first use, the vault is called
    replayed,            // stored outcome returned
    in_flight_conflict,  // 409 idempotency_key_in_use
    mismatch,            // 422 idempotency_key_reused
    unavailable,         // store down: 503 idempotency_unavailable
  };
  static constexpr std::size_t kIdempotencyResultCount = 5;

  // tokenizer_rate_limited_total{kind}.
  enum class RateLimitKind {
    client,        // per-client token bucket: 429 rate_limited
    auth_failure,  // failed-authentication limiter per source address
  };
  static constexpr std::size_t kRateLimitKindCount = 2;

  // tokenizer_trace_exports_total{result}: one per payload the trace exporter handles.
  enum class TraceExportResult {
    success,  // the agent answered 2xx
    error,    // transport error or non-2xx answer
    dropped,  // payload discarded without being sent (exporter queue full, shutdown timeout)
  };
  static constexpr std::size_t kTraceExportResultCount = 3;

  static const char* label(UpstreamOutcome v);
  static const char* label(RetryReason v);
  static const char* label(BreakerState v);
  static const char* label(TokenizationResult v);
  static const char* label(IdempotencyResult v);
  static const char* label(RateLimitKind v);
  static const char* label(TraceExportResult v);

  // Known `method` label values (anything else is "other").
  static constexpr std::array<const char*, 7> kHttpMethods = {"GET",   "HEAD",   "POST",   "PUT",
                                                              "PATCH", "DELETE", "OPTIONS"};
  // Known `brand` label values (anything else is "unknown").
  static constexpr std::array<const char*, 7> kCardBrands = {
      "visa", "mastercard", "amex", "discover", "jcb", "diners", "unionpay"};
  // Upper bounds (seconds) of the request-duration histograms: 1 ms ... 10 s.
  static const std::vector<double>& duration_buckets();
  // Maximum distinct {field,code} pairs of tokenizer_validation_failures_total; further pairs
  // are counted as {field="other",code="other"}.
  static constexpr std::size_t kMaxValidationLabelPairs = 128;

  explicit Metrics(MetricsOptions options = {});
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // --- HTTP server (RED) ---
  // One finished request: tokenizer_http_requests_total{method,route,status} and
  // tokenizer_http_request_duration_seconds{method,route}. `route` is the matched template.
  void observe_http_request(std::string_view method, std::string_view route, int status,
                            double seconds);
  // tokenizer_http_requests_in_flight + 1 until the guard is released or destroyed.
  [[nodiscard]] InFlightGuard track_in_flight();

  // --- Vault client and resilience ---
  // One vault attempt: tokenizer_upstream_requests_total{outcome} and
  // tokenizer_upstream_request_duration_seconds{outcome}.
  void observe_upstream_attempt(UpstreamOutcome outcome, double seconds);
  void count_upstream_retry(RetryReason reason);
  void count_retry_budget_exhausted();
  // Sets tokenizer_circuit_breaker_state{state}: 1 for `state`, 0 for the others.
  void set_breaker_state(BreakerState state);
  // tokenizer_circuit_breaker_transitions_total{from,to}; also sets the state gauge to `to`.
  void count_breaker_transition(BreakerState from, BreakerState to);
  void count_load_shed();
  void count_rate_limited(RateLimitKind kind);

  // --- Tokenization ---
  // `brand` is a brand_name() value ("visa", ...); empty or unknown counts as "unknown".
  void count_tokenization(std::string_view brand, TokenizationResult result);
  // One invalid field of a request (e.g. "payment_method.cvv", "invalid_length").
  void count_validation_failure(std::string_view field, std::string_view code);
  void count_idempotency(IdempotencyResult result);

  // --- Telemetry about telemetry ---
  void count_spans_dropped(std::uint64_t n);
  void count_trace_export(TraceExportResult result);
  void count_log_lines_dropped(std::uint64_t n);

  // The Prometheus text exposition format (version 0.0.4) of every family, process metrics
  // included. Thread-safe; about 100 µs for a few hundred series.
  std::string serialize() const;

 private:
  using CounterSlot = std::atomic<prometheus::Counter*>;
  using HistogramSlot = std::atomic<prometheus::Histogram*>;

  static constexpr std::size_t kMethodSlots = kHttpMethods.size() + 1;  // + "other"
  static constexpr std::size_t kStatusSlots = 501;                      // 100..599 + "other"
  static constexpr std::size_t kBrandSlots = kCardBrands.size() + 1;    // + "unknown"

  std::size_t method_index(std::string_view method) const;
  std::size_t route_index(std::string_view route) const;
  static std::size_t status_index(int status);
  static std::size_t brand_index(std::string_view brand);

  prometheus::Counter& counter_slot(CounterSlot& slot, prometheus::Family<prometheus::Counter>& f,
                                    const prometheus::Labels& labels);
  prometheus::Histogram& histogram_slot(HistogramSlot& slot,
                                        prometheus::Family<prometheus::Histogram>& f,
                                        const prometheus::Labels& labels);
  prometheus::Counter& validation_counter(std::string_view field, std::string_view code);

  const MetricsOptions options_;
  std::vector<std::string> route_labels_;  // options_.routes + "unmatched"
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<ProcessCollector> process_collector_;
  std::mutex create_mutex_;  // serialises first-use creation of series

  prometheus::Family<prometheus::Counter>* http_requests_ = nullptr;
  prometheus::Family<prometheus::Histogram>* http_duration_ = nullptr;
  prometheus::Gauge* http_in_flight_ = nullptr;
  std::unique_ptr<CounterSlot[]> http_request_slots_;     // [method][route][status]
  std::unique_ptr<HistogramSlot[]> http_duration_slots_;  // [method][route]

  std::array<prometheus::Counter*, kUpstreamOutcomeCount> upstream_requests_{};
  prometheus::Family<prometheus::Histogram>* upstream_duration_family_ = nullptr;
  std::array<HistogramSlot, kUpstreamOutcomeCount> upstream_duration_{};
  std::array<prometheus::Counter*, kRetryReasonCount> retries_{};
  prometheus::Counter* retry_budget_exhausted_ = nullptr;

  std::mutex breaker_mutex_;  // keeps the three state gauges consistent
  std::array<prometheus::Gauge*, kBreakerStateCount> breaker_state_{};
  prometheus::Family<prometheus::Counter>* breaker_transitions_family_ = nullptr;
  std::array<CounterSlot, kBreakerStateCount * kBreakerStateCount> breaker_transitions_{};

  prometheus::Counter* load_shed_ = nullptr;
  std::array<prometheus::Counter*, kRateLimitKindCount> rate_limited_{};

  prometheus::Family<prometheus::Counter>* tokenizations_family_ = nullptr;
  std::array<CounterSlot, kBrandSlots * kTokenizationResultCount> tokenizations_{};
  prometheus::Family<prometheus::Counter>* validation_family_ = nullptr;
  std::mutex validation_mutex_;
  // Key: field + '\n' + code.
  std::map<std::string, prometheus::Counter*, std::less<>> validation_;
  std::array<prometheus::Counter*, kIdempotencyResultCount> idempotency_{};

  prometheus::Counter* spans_dropped_ = nullptr;
  std::array<prometheus::Counter*, kTraceExportResultCount> trace_exports_{};
  prometheus::Counter* log_lines_dropped_ = nullptr;
};

}  // namespace tokenizer
