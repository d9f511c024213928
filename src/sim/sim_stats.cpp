#include "sim/sim_stats.h"

#include <cctype>

#include <prometheus/counter.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

namespace tokenizer {
namespace {

std::string redact_authorization(const std::string& value) {
  const auto space = value.find(' ');
  const std::string scheme = space == std::string::npos ? std::string() : value.substr(0, space);
  bool plausible = !scheme.empty() && scheme.size() <= 16;
  for (char c : scheme) plausible = plausible && std::isalpha(static_cast<unsigned char>(c));
  return plausible ? scheme + " [redacted]" : "[redacted]";
}

}  // namespace

SimStats::SimStats() : registry_(std::make_shared<prometheus::Registry>()) {
  requests_family_ = &prometheus::BuildCounter()
                          .Name("upstream_sim_requests_total")
                          .Help(
                              "Vault API requests received by upstream-sim, by reply status "
                              "(or reset/hang when no reply is sent)")
                          .Register(*registry_);
  auto& faults = prometheus::BuildCounter()
                     .Name("upstream_sim_faults_injected_total")
                     .Help("Vault API requests that received an injected fault, by fault mode")
                     .Register(*registry_);
  fault_counters_[static_cast<int>(InjectedFault::kStatus)] = &faults.Add({{"mode", "status"}});
  fault_counters_[static_cast<int>(InjectedFault::kReset)] = &faults.Add({{"mode", "reset"}});
  fault_counters_[static_cast<int>(InjectedFault::kGarbage)] = &faults.Add({{"mode", "garbage"}});
  fault_counters_[static_cast<int>(InjectedFault::kHang)] = &faults.Add({{"mode", "hang"}});
  auto& delays = prometheus::BuildHistogram()
                     .Name("upstream_sim_reply_delay_seconds")
                     .Help(
                         "Time from receiving a vault API request to handing its reply to the "
                         "server, injected latency included")
                     .Register(*registry_);
  delay_histogram_ = &delays.Add(
      {}, prometheus::Histogram::BucketBoundaries{0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                  0.25, 0.5, 1, 2.5, 5, 10, 30, 60});
  // The statuses a run usually sees, resolved up front.
  for (int status : {201, 400, 401, 402, 404, 405, 422, 500, 503}) status_counter(status);
}

SimStats::~SimStats() = default;

std::string SimStats::outcome_label(int outcome) {
  if (outcome == kOutcomeReset) return "reset";
  if (outcome == kOutcomeHang) return "hang";
  return std::to_string(outcome);
}

prometheus::Counter& SimStats::status_counter(int outcome) {
  auto* cached = status_counters_[outcome].load(std::memory_order_acquire);
  if (cached != nullptr) return *cached;
  std::lock_guard<std::mutex> lock(counter_mutex_);
  cached = status_counters_[outcome].load(std::memory_order_relaxed);
  if (cached == nullptr) {
    cached = &requests_family_->Add({{"status", outcome_label(outcome)}});
    status_counters_[outcome].store(cached, std::memory_order_release);
  }
  return *cached;
}

void SimStats::record(int outcome, InjectedFault fault) {
  if (outcome < 100 || outcome >= kSlots) outcome = 500;
  requests_.fetch_add(1, std::memory_order_relaxed);
  by_outcome_[outcome].fetch_add(1, std::memory_order_relaxed);
  status_counter(outcome).Increment();
  if (fault != InjectedFault::kNone) {
    faults_.fetch_add(1, std::memory_order_relaxed);
    fault_counters_[static_cast<int>(fault)]->Increment();
  }
}

void SimStats::observe_reply_delay(std::chrono::steady_clock::duration delay) {
  delay_histogram_->Observe(std::chrono::duration<double>(delay).count());
}

std::uint64_t SimStats::count_for(int outcome) const {
  if (outcome < 0 || outcome >= kSlots) return 0;
  return by_outcome_[outcome].load(std::memory_order_relaxed);
}

void SimStats::log_request(LoggedRequest request) {
  for (auto& [name, value] : request.headers) {
    if (name == "authorization" || name == "proxy-authorization")
      value = redact_authorization(value);
  }
  std::lock_guard<std::mutex> lock(log_mutex_);
  log_.push_back(std::move(request));
  while (log_.size() > kRequestLogSize) log_.pop_front();
}

void SimStats::clear_request_log() {
  std::lock_guard<std::mutex> lock(log_mutex_);
  log_.clear();
}

nlohmann::json SimStats::stats_json() const {
  nlohmann::json by_status = nlohmann::json::object();
  for (int i = 0; i < kSlots; ++i) {
    const auto n = by_outcome_[i].load(std::memory_order_relaxed);
    if (n > 0) by_status[outcome_label(i)] = n;
  }
  return nlohmann::json{{"requests", requests()},
                        {"by_status", std::move(by_status)},
                        {"faults_injected", faults_injected()}};
}

nlohmann::json SimStats::requests_json() const {
  auto list = nlohmann::json::array();
  std::lock_guard<std::mutex> lock(log_mutex_);
  for (const auto& r : log_) {
    nlohmann::json headers = nlohmann::json::object();
    for (const auto& [name, value] : r.headers) headers[name] = value;
    list.push_back({{"method", r.method}, {"path", r.path}, {"headers", std::move(headers)}});
  }
  return nlohmann::json{{"requests", std::move(list)}};
}

std::string SimStats::metrics_text() const {
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

}  // namespace tokenizer
