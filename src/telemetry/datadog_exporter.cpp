#include "telemetry/datadog_exporter.h"

#include <curl/curl.h>

#include <algorithm>
#include <cstring>
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

namespace {

// Room kept in front of the encoded chunks for the payload's array header (at most 5 bytes).
constexpr std::size_t kHeaderRoom = 5;
// A payload buffer that grew beyond this (a burst) is released after its send.
constexpr std::size_t kMaxRetainedPayload = 16 * 1024 * 1024;
// A thread's encoding buffer that grew beyond this (a huge trace) is released after use.
constexpr std::size_t kMaxRetainedScratch = 256 * 1024;

}  // namespace

// The easy handle with everything that is the same for every send set once, so its
// connection to the agent (kept alive by libcurl) serves every flush.
struct DatadogExporter::Curl {
  explicit Curl(const DatadogExporterOptions& options) {
    static std::once_flag global_init;
    std::call_once(global_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
    handle = curl_easy_init();
    tracer_version_header = "Datadog-Meta-Tracer-Version: " + options.tracer_version;
    lang_version_header = "Datadog-Meta-Lang-Version: " + std::to_string(__cplusplus);
    for (const char* header : {"Content-Type: application/msgpack", "Datadog-Meta-Lang: cpp",
                               lang_version_header.c_str(), tracer_version_header.c_str(), "Expect:"}) {
      constant_headers = curl_slist_append(constant_headers, header);
    }
    if (handle == nullptr) return;
    curl_easy_setopt(handle, CURLOPT_URL, options.agent.traces_url.c_str());
    if (!options.agent.unix_socket.empty()) {
      curl_easy_setopt(handle, CURLOPT_UNIX_SOCKET_PATH, options.agent.unix_socket.c_str());
    }
    curl_easy_setopt(handle, CURLOPT_PROXY, "");  // never through an http_proxy from the environment
    curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(handle, CURLOPT_CUSTOMREQUEST, "PUT");
    curl_easy_setopt(handle, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options.connect_timeout.count()));
    curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, &collect_reply);
  }
  ~Curl() {
    if (handle != nullptr) curl_easy_cleanup(handle);
    curl_slist_free_all(constant_headers);
  }
  CURL* handle = nullptr;
  std::string tracer_version_header;
  std::string lang_version_header;
  curl_slist* constant_headers = nullptr;
};

DatadogExporter::DatadogExporter(DatadogExporterOptions options, ExporterCallbacks callbacks)
    : options_(std::move(options)),
      callbacks_(std::move(callbacks)),
      pending_(kHeaderRoom, '\0'),
      curl_(std::make_unique<Curl>(options_)) {
  if (options_.background_flush) thread_ = std::thread([this] { run(); });
}

DatadogExporter::~DatadogExporter() { shutdown(); }

void DatadogExporter::export_chunk(TraceChunk chunk) {
  const std::size_t n = chunk.spans.size();
  if (n == 0) return;
  const std::size_t max = options_.max_buffered_spans;
  bool dropped = stopped_hint_.load(std::memory_order_relaxed) ||
                 buffered_spans_hint_.load(std::memory_order_relaxed) + n > max;
  if (!dropped) {
    thread_local std::string scratch;
    scratch.clear();
    MsgpackWriter writer(scratch);
    append_trace_chunk(writer, chunk);
    chunk = TraceChunk();  // the spans die on the thread that made them, outside the lock
    bool wake = false;
    {
      std::lock_guard<std::mutex> lock(buffer_mutex_);
      if (stopped_ || buffered_spans_ + n > max) {
        dropped = true;
      } else {
        pending_.append(scratch);
        ++pending_traces_;
        buffered_spans_ += n;
        buffered_spans_hint_.store(buffered_spans_, std::memory_order_relaxed);
        // Half full: send early rather than drop at the next burst.
        if (!flush_requested_ && buffered_spans_ * 2 >= max) wake = flush_requested_ = true;
      }
    }
    if (wake) wake_.notify_one();
    if (scratch.capacity() > kMaxRetainedScratch) std::string().swap(scratch);
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
    stopped_hint_.store(true, std::memory_order_relaxed);
    lost = buffered_spans_;
    pending_.assign(kHeaderRoom, '\0');
    pending_traces_ = 0;
    buffered_spans_ = 0;
    buffered_spans_hint_.store(0, std::memory_order_relaxed);
  }
  if (lost > 0 && callbacks_.on_spans_dropped) callbacks_.on_spans_dropped(lost);
}

std::optional<ExportReport> DatadogExporter::send(std::chrono::milliseconds total_timeout) {
  std::lock_guard<std::mutex> send_lock(send_mutex_);
  ExportReport report;
  {
    std::lock_guard<std::mutex> lock(buffer_mutex_);
    flush_requested_ = false;
    if (pending_traces_ == 0) return std::nullopt;
    pending_.swap(sending_);
    report.traces = pending_traces_;
    report.spans = buffered_spans_;
    pending_.assign(kHeaderRoom, '\0');  // keeps the capacity of the previous payload
    pending_traces_ = 0;
    buffered_spans_ = 0;
    buffered_spans_hint_.store(0, std::memory_order_relaxed);
  }
  // The array header of the payload goes right before the first chunk.
  char header[5];
  const std::size_t header_size = MsgpackWriter::array_header(static_cast<std::uint32_t>(report.traces), header);
  char* body = sending_.data() + (kHeaderRoom - header_size);
  std::memcpy(body, header, header_size);
  const std::size_t body_size = sending_.size() - (kHeaderRoom - header_size);

  CURL* h = curl_->handle;
  reply_.clear();
  if (h == nullptr) {
    report.error = "curl_easy_init failed";
  } else {
    std::string trace_count = "X-Datadog-Trace-Count: " + std::to_string(report.traces);
    curl_slist headers{trace_count.data(), curl_->constant_headers};  // in front of the fixed ones
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body_size));
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, &headers);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(total_timeout.count()));
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &reply_);
    const CURLcode rc = curl_easy_perform(h);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, nullptr);  // `headers` lives on this stack only
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
  if (sending_.capacity() > kMaxRetainedPayload) std::string().swap(sending_);
  if (report.result == ExportResult::success && callbacks_.on_agent_rates) {
    if (auto rates = parse_agent_rates(reply_)) callbacks_.on_agent_rates(std::move(*rates));
  }
  if (callbacks_.on_export) callbacks_.on_export(report);
  return report;
}

}  // namespace tokenizer
