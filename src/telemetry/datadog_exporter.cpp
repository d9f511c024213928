#include "telemetry/datadog_exporter.h"

#include <curl/curl.h>

#include <algorithm>
#include <mutex>
#include <utility>

#include <nlohmann/json.hpp>

#include "telemetry/msgpack_encoder.h"

namespace tokenizer {
namespace {

constexpr std::size_t kMaxReplyBytes = 64 * 1024;

std::size_t collect_reply(char* data, std::size_t size, std::size_t count, void* user) {
  auto* reply = static_cast<std::string*>(user);
  const std::size_t n = size * count;
  if (reply->size() < kMaxReplyBytes) reply->append(data, std::min(n, kMaxReplyBytes - reply->size()));
  return n;
}

// `rate_by_service` of an intake reply; nullopt when the reply has none.
std::optional<AgentRates> parse_agent_rates(const std::string& body) {
  const auto json = nlohmann::json::parse(body, nullptr, false);
  if (json.is_discarded() || !json.is_object()) return std::nullopt;
  const auto it = json.find("rate_by_service");
  if (it == json.end() || !it->is_object()) return std::nullopt;
  AgentRates rates;
  for (const auto& [key, value] : it->items()) {
    if (!value.is_number()) continue;
    const double rate = value.get<double>();
    if (rate >= 0.0 && rate <= 1.0) rates.emplace(key, rate);
  }
  return rates;
}

}  // namespace

const char* export_result_name(ExportResult result) {
  return result == ExportResult::success ? "success" : "error";
}

DatadogExporterOptions DatadogExporterOptions::from_config(const FinalizedTracerConfig& config) {
  DatadogExporterOptions o;
  o.agent = config.agent;
  o.flush_interval = config.flush_interval;
  o.connect_timeout = config.connect_timeout;
  o.request_timeout = config.request_timeout;
  o.shutdown_timeout = config.shutdown_timeout;
  o.max_buffered_spans = config.max_buffered_spans;
  o.tracer_version = config.tracer_version;
  return o;
}

struct DatadogExporter::Curl {
  Curl() {
    static std::once_flag global_init;
    std::call_once(global_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
    handle = curl_easy_init();
  }
  ~Curl() {
    if (handle != nullptr) curl_easy_cleanup(handle);
  }
  CURL* handle = nullptr;
};

DatadogExporter::DatadogExporter(DatadogExporterOptions options, ExporterCallbacks callbacks)
    : options_(std::move(options)), callbacks_(std::move(callbacks)), curl_(std::make_unique<Curl>()) {
  if (options_.background_flush) thread_ = std::thread([this] { run(); });
}

DatadogExporter::~DatadogExporter() { shutdown(); }

void DatadogExporter::export_chunk(std::vector<SpanData> chunk) {
  const std::size_t n = chunk.size();
  if (n == 0) return;
  bool dropped = false;
  {
    std::lock_guard<std::mutex> lock(buffer_mutex_);
    if (stopped_ || buffered_spans_ + n > options_.max_buffered_spans) {
      dropped = true;
    } else {
      buffer_.push_back(std::move(chunk));
      buffered_spans_ += n;
      // Half full: send early rather than drop at the next burst.
      if (buffered_spans_ * 2 >= options_.max_buffered_spans) {
        flush_requested_ = true;
        wake_.notify_one();
      }
    }
  }
  if (dropped && callbacks_.on_spans_dropped) callbacks_.on_spans_dropped(n);
}

std::size_t DatadogExporter::buffered_spans() const {
  std::lock_guard<std::mutex> lock(buffer_mutex_);
  return buffered_spans_;
}

std::optional<ExportReport> DatadogExporter::flush_now() { return send(options_.request_timeout); }

void DatadogExporter::run() {
  std::unique_lock<std::mutex> lock(buffer_mutex_);
  while (!stopping_) {
    wake_.wait_for(lock, options_.flush_interval, [this] { return stopping_ || flush_requested_; });
    if (stopping_) break;
    flush_requested_ = false;
    lock.unlock();
    send(options_.request_timeout);
    lock.lock();
  }
}

void DatadogExporter::shutdown() {
  std::lock_guard<std::mutex> shutdown_lock(shutdown_mutex_);
  {
    std::lock_guard<std::mutex> lock(buffer_mutex_);
    if (stopped_) return;
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  // The drain: one last send, bounded by the shutdown timeout.
  if (options_.shutdown_timeout.count() > 0) send(std::min(options_.request_timeout, options_.shutdown_timeout));
  std::size_t lost = 0;
  {
    std::lock_guard<std::mutex> lock(buffer_mutex_);
    stopped_ = true;
    lost = buffered_spans_;
    buffer_.clear();
    buffered_spans_ = 0;
  }
  if (lost > 0 && callbacks_.on_spans_dropped) callbacks_.on_spans_dropped(lost);
}

std::optional<ExportReport> DatadogExporter::send(std::chrono::milliseconds total_timeout) {
  std::lock_guard<std::mutex> send_lock(send_mutex_);
  std::vector<std::vector<SpanData>> chunks;
  ExportReport report;
  {
    std::lock_guard<std::mutex> lock(buffer_mutex_);
    chunks.swap(buffer_);
    report.spans = buffered_spans_;
    buffered_spans_ = 0;
  }
  if (chunks.empty()) return std::nullopt;
  report.traces = chunks.size();
  const std::string body = encode_trace_chunks(chunks);
  chunks = {};  // free the spans before the (slow) network part

  CURL* h = curl_->handle;
  std::string reply;
  if (h == nullptr) {
    report.error = "curl_easy_init failed";
  } else {
    curl_slist* headers = nullptr;
    const std::string trace_count = "X-Datadog-Trace-Count: " + std::to_string(report.traces);
    const std::string tracer_version = "Datadog-Meta-Tracer-Version: " + options_.tracer_version;
    const std::string lang_version = "Datadog-Meta-Lang-Version: " + std::to_string(__cplusplus);
    for (const char* header : {"Content-Type: application/msgpack", "Datadog-Meta-Lang: cpp",
                               lang_version.c_str(), tracer_version.c_str(), trace_count.c_str(), "Expect:"}) {
      headers = curl_slist_append(headers, header);
    }
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_URL, options_.agent.traces_url.c_str());
    if (!options_.agent.unix_socket.empty()) {
      curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, options_.agent.unix_socket.c_str());
    }
    curl_easy_setopt(h, CURLOPT_PROXY, "");  // never through an http_proxy from the environment
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "PUT");
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout.count()));
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(total_timeout.count()));
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &collect_reply);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &reply);
    const CURLcode rc = curl_easy_perform(h);
    curl_slist_free_all(headers);
    if (rc != CURLE_OK) {
      report.error = curl_easy_strerror(rc);
    } else {
      long status = 0;
      curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
      report.http_status = static_cast<int>(status);
      if (status >= 200 && status < 300) {
        report.result = ExportResult::success;
      } else {
        report.error = "agent replied HTTP " + std::to_string(status);
      }
    }
  }
  if (report.result == ExportResult::success && callbacks_.on_agent_rates) {
    if (auto rates = parse_agent_rates(reply)) callbacks_.on_agent_rates(std::move(*rates));
  }
  if (callbacks_.on_export) callbacks_.on_export(report);
  return report;
}

}  // namespace tokenizer
