#include "telemetry/metrics.h"

#include <prometheus/text_serializer.h>

#include <string>

#ifndef TOKENIZER_BUILD_VERSION
#define TOKENIZER_BUILD_VERSION "unknown"
#endif
#ifndef TOKENIZER_BUILD_COMMIT
#define TOKENIZER_BUILD_COMMIT "unknown"
#endif

namespace tokenizer {
namespace {

constexpr const char* kUnmatchedRoute = "unmatched";
constexpr const char* kOther = "other";
constexpr std::size_t kMaxLabelLength = 64;

// A validation field/code is kept as a label value only when it looks like an identifier the
// code produced (lowercase letters, digits, '_', '.', '[', ']', '-'), is short, and holds no
// run of more than 4 digits: user-controlled text (an unknown JSON key, a card number) cannot
// become a label.
bool is_safe_identifier(std::string_view s) {
  if (s.empty() || s.size() > kMaxLabelLength) return false;
  int digit_run = 0;
  for (const char c : s) {
    const bool digit = c >= '0' && c <= '9';
    digit_run = digit ? digit_run + 1 : 0;
    if (digit_run > 4) return false;
    const bool ok =
        digit || (c >= 'a' && c <= 'z') || c == '_' || c == '.' || c == '[' || c == ']' || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

BuildInfo BuildInfo::current() {
  return BuildInfo{TOKENIZER_BUILD_VERSION, TOKENIZER_BUILD_COMMIT};
}

// ---- InFlightGuard ----

InFlightGuard::InFlightGuard(prometheus::Gauge* gauge) : gauge_(gauge) {
  if (gauge_ != nullptr) gauge_->Increment();
}
InFlightGuard::InFlightGuard(InFlightGuard&& other) noexcept : gauge_(other.gauge_) {
  other.gauge_ = nullptr;
}
InFlightGuard& InFlightGuard::operator=(InFlightGuard&& other) noexcept {
  if (this != &other) {
    release();
    gauge_ = other.gauge_;
    other.gauge_ = nullptr;
  }
  return *this;
}
InFlightGuard::~InFlightGuard() { release(); }
void InFlightGuard::release() {
  if (gauge_ != nullptr) {
    gauge_->Decrement();
    gauge_ = nullptr;
  }
}

// ---- label names ----

const char* Metrics::label(UpstreamOutcome v) {
  switch (v) {
    case UpstreamOutcome::success: return "success";
    case UpstreamOutcome::rejected: return "rejected";
    case UpstreamOutcome::auth_failed: return "auth_failed";
    case UpstreamOutcome::throttled: return "throttled";
    case UpstreamOutcome::server_error: return "server_error";
    case UpstreamOutcome::bad_response: return "bad_response";
    case UpstreamOutcome::timeout: return "timeout";
    case UpstreamOutcome::connect_error: return "connect_error";
    case UpstreamOutcome::reset: return "reset";
    case UpstreamOutcome::tls_error: return "tls_error";
  }
  return kOther;
}
const char* Metrics::label(RetryReason v) {
  switch (v) {
    case RetryReason::connect_failed: return "connect_failed";
    case RetryReason::reset: return "reset";
    case RetryReason::throttled: return "throttled";
    case RetryReason::server_error: return "server_error";
    case RetryReason::timeout: return "timeout";
  }
  return kOther;
}
const char* Metrics::label(BreakerState v) {
  switch (v) {
    case BreakerState::closed: return "closed";
    case BreakerState::open: return "open";
    case BreakerState::half_open: return "half_open";
  }
  return kOther;
}
const char* Metrics::label(TokenizationResult v) {
  switch (v) {
    case TokenizationResult::success: return "success";
    case TokenizationResult::validation_failed: return "validation_failed";
    case TokenizationResult::card_rejected: return "card_rejected";
    case TokenizationResult::upstream_error: return "upstream_error";
    case TokenizationResult::upstream_timeout: return "upstream_timeout";
    case TokenizationResult::upstream_auth_failed: return "upstream_auth_failed";
    case TokenizationResult::upstream_unavailable: return "upstream_unavailable";
  }
  return kOther;
}
const char* Metrics::label(IdempotencyResult v) {
  switch (v) {
    case IdempotencyResult::new_key: return "new";
    case IdempotencyResult::replayed: return "replayed";
    case IdempotencyResult::in_flight_conflict: return "in_flight_conflict";
    case IdempotencyResult::mismatch: return "mismatch";
    case IdempotencyResult::unavailable: return "unavailable";
  }
  return kOther;
}
const char* Metrics::label(RateLimitKind v) {
  switch (v) {
    case RateLimitKind::client: return "client";
    case RateLimitKind::auth_failure: return "auth_failure";
  }
  return kOther;
}
const char* Metrics::label(TraceExportResult v) {
  switch (v) {
    case TraceExportResult::success: return "success";
    case TraceExportResult::error: return "error";
    case TraceExportResult::dropped: return "dropped";
  }
  return kOther;
}

const std::vector<double>& Metrics::duration_buckets() {
  static const std::vector<double> kBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                               0.25,  0.5,    1.0,   2.5,  5.0,   10.0};
  return kBuckets;
}

// ---- construction ----

Metrics::Metrics(MetricsOptions options)
    : options_(std::move(options)), registry_(std::make_shared<prometheus::Registry>()) {
  using prometheus::BuildCounter;
  using prometheus::BuildGauge;
  using prometheus::BuildHistogram;
  auto& reg = *registry_;

  route_labels_ = options_.routes;
  route_labels_.emplace_back(kUnmatchedRoute);

  if (options_.process_metrics) {
    process_collector_ = std::make_unique<ProcessCollector>(options_.proc_root);
  }

  // HTTP server.
  http_requests_ = &BuildCounter()
                        .Name("tokenizer_http_requests_total")
                        .Help("HTTP requests served, by method, route template and status code.")
                        .Register(reg);
  http_duration_ = &BuildHistogram()
                        .Name("tokenizer_http_request_duration_seconds")
                        .Help(
                            "HTTP request duration in seconds, from request parsed to response "
                            "written, by method and route template.")
                        .Register(reg);
  http_in_flight_ = &BuildGauge()
                         .Name("tokenizer_http_requests_in_flight")
                         .Help("HTTP requests being processed now.")
                         .Register(reg)
                         .Add({});
  const std::size_t routes = route_labels_.size();
  http_request_slots_ = std::make_unique<CounterSlot[]>(kMethodSlots * routes * kStatusSlots);
  http_duration_slots_ = std::make_unique<HistogramSlot[]>(kMethodSlots * routes);
  for (std::size_t i = 0; i < kMethodSlots * routes * kStatusSlots; ++i) {
    http_request_slots_[i].store(nullptr, std::memory_order_relaxed);
  }
  for (std::size_t i = 0; i < kMethodSlots * routes; ++i) {
    http_duration_slots_[i].store(nullptr, std::memory_order_relaxed);
  }

  // Vault client and resilience.
  auto& upstream_requests = BuildCounter()
                                .Name("tokenizer_upstream_requests_total")
                                .Help("Vault request attempts, by outcome.")
                                .Register(reg);
  for (std::size_t i = 0; i < kUpstreamOutcomeCount; ++i) {
    upstream_requests_[i] =
        &upstream_requests.Add({{"outcome", label(static_cast<UpstreamOutcome>(i))}});
    upstream_duration_[i].store(nullptr, std::memory_order_relaxed);
  }
  upstream_duration_family_ = &BuildHistogram()
                                   .Name("tokenizer_upstream_request_duration_seconds")
                                   .Help(
                                       "Duration of one vault request attempt in seconds, by "
                                       "outcome.")
                                   .Register(reg);
  auto& retries = BuildCounter()
                      .Name("tokenizer_upstream_retries_total")
                      .Help("Vault attempts retried, by the reason for retrying.")
                      .Register(reg);
  for (std::size_t i = 0; i < kRetryReasonCount; ++i) {
    retries_[i] = &retries.Add({{"reason", label(static_cast<RetryReason>(i))}});
  }
  retry_budget_exhausted_ = &BuildCounter()
                                 .Name("tokenizer_retry_budget_exhausted_total")
                                 .Help("Retries not attempted because the retry budget was spent.")
                                 .Register(reg)
                                 .Add({});
  auto& breaker_state = BuildGauge()
                            .Name("tokenizer_circuit_breaker_state")
                            .Help(
                                "Vault circuit breaker state: 1 for the current state, 0 for "
                                "the others.")
                            .Register(reg);
  for (std::size_t i = 0; i < kBreakerStateCount; ++i) {
    breaker_state_[i] = &breaker_state.Add({{"state", label(static_cast<BreakerState>(i))}});
  }
  breaker_state_[static_cast<std::size_t>(BreakerState::closed)]->Set(1);
  breaker_transitions_family_ = &BuildCounter()
                                     .Name("tokenizer_circuit_breaker_transitions_total")
                                     .Help("Vault circuit breaker state transitions.")
                                     .Register(reg);
  for (auto& slot : breaker_transitions_) slot.store(nullptr, std::memory_order_relaxed);
  load_shed_ = &BuildCounter()
                    .Name("tokenizer_load_shed_total")
                    .Help(
                        "Tokenize requests refused with 503 overloaded because the in-flight "
                        "limit was reached.")
                    .Register(reg)
                    .Add({});
  auto& rate_limited = BuildCounter()
                           .Name("tokenizer_rate_limited_total")
                           .Help("Requests refused by a rate limiter, by limiter kind.")
                           .Register(reg);
  for (std::size_t i = 0; i < kRateLimitKindCount; ++i) {
    rate_limited_[i] = &rate_limited.Add({{"kind", label(static_cast<RateLimitKind>(i))}});
  }

  // Tokenization.
  tokenizations_family_ = &BuildCounter()
                               .Name("tokenizer_tokenizations_total")
                               .Help("Tokenize requests by card brand and result.")
                               .Register(reg);
  for (auto& slot : tokenizations_) slot.store(nullptr, std::memory_order_relaxed);
  validation_family_ = &BuildCounter()
                            .Name("tokenizer_validation_failures_total")
                            .Help("Invalid request fields, by field and validation code.")
                            .Register(reg);
  auto& idempotency = BuildCounter()
                          .Name("tokenizer_idempotency_requests_total")
                          .Help("Requests carrying an Idempotency-Key, by result.")
                          .Register(reg);
  for (std::size_t i = 0; i < kIdempotencyResultCount; ++i) {
    idempotency_[i] = &idempotency.Add({{"result", label(static_cast<IdempotencyResult>(i))}});
  }

  // Telemetry about telemetry.
  spans_dropped_ = &BuildCounter()
                        .Name("tokenizer_trace_spans_dropped_total")
                        .Help("Spans dropped because the trace buffer was full.")
                        .Register(reg)
                        .Add({});
  auto& trace_exports = BuildCounter()
                            .Name("tokenizer_trace_exports_total")
                            .Help("Trace payloads handled by the exporter, by result.")
                            .Register(reg);
  for (std::size_t i = 0; i < kTraceExportResultCount; ++i) {
    trace_exports_[i] = &trace_exports.Add({{"result", label(static_cast<TraceExportResult>(i))}});
  }
  log_lines_dropped_ = &BuildCounter()
                            .Name("tokenizer_log_lines_dropped_total")
                            .Help("Log lines dropped because the log writer could not keep up.")
                            .Register(reg)
                            .Add({});

  BuildGauge()
      .Name("tokenizer_build_info")
      .Help("Build information; the value is always 1.")
      .Register(reg)
      .Add({{"version", options_.build.version}, {"commit", options_.build.commit}})
      .Set(1);
}

Metrics::~Metrics() = default;

// ---- slot helpers ----

prometheus::Counter& Metrics::counter_slot(CounterSlot& slot,
                                           prometheus::Family<prometheus::Counter>& f,
                                           const prometheus::Labels& labels) {
  std::lock_guard<std::mutex> lock(create_mutex_);
  prometheus::Counter* c = slot.load(std::memory_order_acquire);
  if (c == nullptr) {
    c = &f.Add(labels);
    slot.store(c, std::memory_order_release);
  }
  return *c;
}

prometheus::Histogram& Metrics::histogram_slot(HistogramSlot& slot,
                                               prometheus::Family<prometheus::Histogram>& f,
                                               const prometheus::Labels& labels) {
  std::lock_guard<std::mutex> lock(create_mutex_);
  prometheus::Histogram* h = slot.load(std::memory_order_acquire);
  if (h == nullptr) {
    h = &f.Add(labels, duration_buckets());
    slot.store(h, std::memory_order_release);
  }
  return *h;
}

std::size_t Metrics::method_index(std::string_view method) const {
  for (std::size_t i = 0; i < kHttpMethods.size(); ++i) {
    if (method == kHttpMethods[i]) return i;
  }
  return kHttpMethods.size();
}

std::size_t Metrics::route_index(std::string_view route) const {
  const std::size_t known = route_labels_.size() - 1;
  for (std::size_t i = 0; i < known; ++i) {
    if (route == route_labels_[i]) return i;
  }
  return known;
}

std::size_t Metrics::status_index(int status) {
  if (status >= 100 && status <= 599) return static_cast<std::size_t>(status - 100);
  return kStatusSlots - 1;
}

std::size_t Metrics::brand_index(std::string_view brand) {
  for (std::size_t i = 0; i < kCardBrands.size(); ++i) {
    if (brand == kCardBrands[i]) return i;
  }
  return kCardBrands.size();
}

// ---- HTTP ----

void Metrics::observe_http_request(std::string_view method, std::string_view route, int status,
                                   double seconds) {
  const std::size_t m = method_index(method);
  const std::size_t r = route_index(route);
  const std::size_t s = status_index(status);
  const std::size_t routes = route_labels_.size();
  const char* method_label = m < kHttpMethods.size() ? kHttpMethods[m] : kOther;

  auto& count_slot = http_request_slots_[(m * routes + r) * kStatusSlots + s];
  prometheus::Counter* c = count_slot.load(std::memory_order_acquire);
  if (c == nullptr) {
    const std::string status_label = s < kStatusSlots - 1 ? std::to_string(status) : kOther;
    c = &counter_slot(
        count_slot, *http_requests_,
        {{"method", method_label}, {"route", route_labels_[r]}, {"status", status_label}});
  }
  c->Increment();

  auto& duration_slot = http_duration_slots_[m * routes + r];
  prometheus::Histogram* h = duration_slot.load(std::memory_order_acquire);
  if (h == nullptr) {
    h = &histogram_slot(duration_slot, *http_duration_,
                        {{"method", method_label}, {"route", route_labels_[r]}});
  }
  h->Observe(seconds);
}

InFlightGuard Metrics::track_in_flight() { return InFlightGuard(http_in_flight_); }

// ---- vault client and resilience ----

void Metrics::observe_upstream_attempt(UpstreamOutcome outcome, double seconds) {
  const auto i = static_cast<std::size_t>(outcome);
  if (i >= kUpstreamOutcomeCount) return;
  upstream_requests_[i]->Increment();
  prometheus::Histogram* h = upstream_duration_[i].load(std::memory_order_acquire);
  if (h == nullptr) {
    h = &histogram_slot(upstream_duration_[i], *upstream_duration_family_,
                        {{"outcome", label(outcome)}});
  }
  h->Observe(seconds);
}

void Metrics::count_upstream_retry(RetryReason reason) {
  const auto i = static_cast<std::size_t>(reason);
  if (i < kRetryReasonCount) retries_[i]->Increment();
}

void Metrics::count_retry_budget_exhausted() { retry_budget_exhausted_->Increment(); }

void Metrics::set_breaker_state(BreakerState state) {
  const auto current = static_cast<std::size_t>(state);
  if (current >= kBreakerStateCount) return;
  std::lock_guard<std::mutex> lock(breaker_mutex_);
  for (std::size_t i = 0; i < kBreakerStateCount; ++i) {
    breaker_state_[i]->Set(i == current ? 1 : 0);
  }
}

void Metrics::count_breaker_transition(BreakerState from, BreakerState to) {
  const auto f = static_cast<std::size_t>(from);
  const auto t = static_cast<std::size_t>(to);
  if (f >= kBreakerStateCount || t >= kBreakerStateCount) return;
  auto& slot = breaker_transitions_[f * kBreakerStateCount + t];
  prometheus::Counter* c = slot.load(std::memory_order_acquire);
  if (c == nullptr) {
    c = &counter_slot(slot, *breaker_transitions_family_,
                      {{"from", label(from)}, {"to", label(to)}});
  }
  c->Increment();
  set_breaker_state(to);
}

void Metrics::count_load_shed() { load_shed_->Increment(); }

void Metrics::count_rate_limited(RateLimitKind kind) {
  const auto i = static_cast<std::size_t>(kind);
  if (i < kRateLimitKindCount) rate_limited_[i]->Increment();
}

// ---- tokenization ----

void Metrics::count_tokenization(std::string_view brand, TokenizationResult result) {
  const auto r = static_cast<std::size_t>(result);
  if (r >= kTokenizationResultCount) return;
  const std::size_t b = brand_index(brand);
  auto& slot = tokenizations_[b * kTokenizationResultCount + r];
  prometheus::Counter* c = slot.load(std::memory_order_acquire);
  if (c == nullptr) {
    const char* brand_label = b < kCardBrands.size() ? kCardBrands[b] : "unknown";
    c = &counter_slot(slot, *tokenizations_family_,
                      {{"brand", brand_label}, {"result", label(result)}});
  }
  c->Increment();
}

prometheus::Counter& Metrics::validation_counter(std::string_view field, std::string_view code) {
  if (!is_safe_identifier(field) || !is_safe_identifier(code)) {
    field = kOther;
    code = kOther;
  }
  // Key: field '\n' code (neither can contain '\n').
  thread_local std::string key;
  key.assign(field);
  key.push_back('\n');
  key.append(code);

  std::lock_guard<std::mutex> lock(validation_mutex_);
  auto it = validation_.find(std::string_view(key));
  if (it != validation_.end()) return *it->second;
  if (validation_.size() >= kMaxValidationLabelPairs) {
    field = kOther;
    code = kOther;
    key.assign("other\nother");
    it = validation_.find(std::string_view(key));
    if (it != validation_.end()) return *it->second;
  }
  prometheus::Counter* c =
      &validation_family_->Add({{"field", std::string(field)}, {"code", std::string(code)}});
  validation_.emplace(key, c);
  return *c;
}

void Metrics::count_validation_failure(std::string_view field, std::string_view code) {
  validation_counter(field, code).Increment();
}

void Metrics::count_idempotency(IdempotencyResult result) {
  const auto i = static_cast<std::size_t>(result);
  if (i < kIdempotencyResultCount) idempotency_[i]->Increment();
}

// ---- telemetry about telemetry ----

void Metrics::count_spans_dropped(std::uint64_t n) {
  spans_dropped_->Increment(static_cast<double>(n));
}

void Metrics::count_trace_export(TraceExportResult result) {
  const auto i = static_cast<std::size_t>(result);
  if (i < kTraceExportResultCount) trace_exports_[i]->Increment();
}

void Metrics::count_log_lines_dropped(std::uint64_t n) {
  log_lines_dropped_->Increment(static_cast<double>(n));
}

// ---- exposition ----

std::string Metrics::serialize() const {
  auto families = registry_->Collect();
  if (process_collector_) {
    auto process = process_collector_->Collect();
    families.insert(families.end(), std::make_move_iterator(process.begin()),
                    std::make_move_iterator(process.end()));
  }
  return prometheus::TextSerializer().Serialize(families);
}

}  // namespace tokenizer
