// DatadogExporter: the SpanExporter that sends finished traces to the Datadog agent, as
// dd-trace-cpp does: chunks are buffered, and a background thread sends everything
// buffered every `flush_interval` (2 s) and once more at shutdown (bounded by the drain
// timeout), as one `PUT /v0.4/traces` (msgpack, MsgpackWriter) with Content-Type,
// Datadog-Meta-Lang(-Version), Datadog-Meta-Tracer-Version, X-Datadog-Trace-Count and
// Content-Length. No retry. The reply's `rate_by_service` goes to `on_agent_rates` (the
// sampler).
//
// The request path only appends to the buffer under a short lock: an unreachable or slow
// agent never slows a request. A full buffer (`max_buffered_spans`) drops the incoming
// chunk and reports it through `on_spans_dropped(n)` (called on the finishing thread: keep
// it cheap, e.g. a counter increment). Every send is reported through `on_export` (on the
// sending thread) as success (2xx) or error.
//
// libcurl runs on the sending thread only (one easy handle, reused; proxies disabled; short
// connect and total timeouts). Unit tests construct it with `background_flush = false`
// and call flush_now(), so they need no sleeping.
// Thread-safe. The destructor calls shutdown().
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "telemetry/sampler.h"
#include "telemetry/span_exporter.h"
#include "telemetry/tracer_config.h"

namespace tokenizer {

enum class ExportResult { success, error };

// "success" / "error" (the `result` label of tokenizer_trace_exports_total).
const char* export_result_name(ExportResult result);

struct ExportReport {
  ExportResult result = ExportResult::error;
  int http_status = 0;  // 0 when no reply came
  std::size_t traces = 0;
  std::size_t spans = 0;
  std::string error;  // diagnostic for logs: curl's or the agent's status; no payload data
};

struct ExporterCallbacks {
  std::function<void(std::size_t spans)> on_spans_dropped;
  std::function<void(const ExportReport&)> on_export;
  std::function<void(AgentRates)> on_agent_rates;
};

struct DatadogExporterOptions {
  AgentEndpoint agent;
  std::chrono::milliseconds flush_interval{2000};
  std::chrono::milliseconds connect_timeout{1000};
  std::chrono::milliseconds request_timeout{2000};
  std::chrono::milliseconds shutdown_timeout{2000};
  std::size_t max_buffered_spans = 10000;
  std::string tracer_version = "1.0.0";
  bool background_flush = true;  // false: only flush_now() and shutdown() send (tests)

  static DatadogExporterOptions from_config(const FinalizedTracerConfig& config);
};

class DatadogExporter final : public SpanExporter {
 public:
  DatadogExporter(DatadogExporterOptions options, ExporterCallbacks callbacks);
  ~DatadogExporter() override;
  DatadogExporter(const DatadogExporter&) = delete;
  DatadogExporter& operator=(const DatadogExporter&) = delete;

  void export_chunk(std::vector<SpanData> chunk) override;

  // Sends everything buffered now, on the calling thread. nullopt when there was nothing.
  std::optional<ExportReport> flush_now();
  // Stops the background thread after a final send bounded by the shutdown timeout.
  // Chunks exported afterwards are dropped (and counted). Idempotent.
  void shutdown();

  std::size_t buffered_spans() const;

 private:
  struct Curl;
  std::optional<ExportReport> send(std::chrono::milliseconds total_timeout);
  void run();

  const DatadogExporterOptions options_;
  const ExporterCallbacks callbacks_;

  mutable std::mutex buffer_mutex_;
  std::condition_variable wake_;
  std::vector<std::vector<SpanData>> buffer_;
  std::size_t buffered_spans_ = 0;
  bool stopping_ = false;
  bool flush_requested_ = false;
  bool stopped_ = false;

  std::mutex send_mutex_;  // one request at a time on the curl handle
  std::unique_ptr<Curl> curl_;
  std::mutex shutdown_mutex_;
  std::thread thread_;
};

}  // namespace tokenizer
