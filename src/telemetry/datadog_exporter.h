// DatadogExporter: the SpanExporter that sends finished traces to the Datadog agent, as
// dd-trace-cpp does: chunks are buffered, and a background thread sends everything
// buffered every `flush_interval` (2 s), as soon as the buffer is half full, and once more
// at shutdown (bounded by the drain timeout), as one `PUT /v0.4/traces` (msgpack,
// MsgpackWriter) with Content-Type, Datadog-Meta-Lang(-Version), Datadog-Meta-Tracer-Version,
// X-Datadog-Trace-Count and Content-Length. No retry. The reply's `rate_by_service` goes to
// `on_agent_rates` (the sampler).
//
// export_chunk() encodes the chunk on the finishing thread, while its spans are still in
// that thread's cache (about 1 µs for a request's three spans, no I/O), and appends the
// bytes to one buffer under a short lock: the spans are freed by the thread that allocated
// them, the buffer holds bytes instead of span objects, and a flush is one header write and
// one send. An unreachable or slow agent never slows a request. A full buffer
// (`max_buffered_spans`) drops the incoming chunk and reports it through
// `on_spans_dropped(n)` (called on the finishing thread: keep it cheap, e.g. a counter
// increment). Every send is reported through `on_export` (on the sending thread) as success
// (2xx) or error.
//
// libcurl runs on the sending thread only: one easy handle, set up once and reused, so its
// keep-alive connection to the agent is reused by every flush; proxies disabled; short
// connect and total timeouts. Two payload buffers are swapped, so a flush allocates nothing
// once they have grown. Unit tests construct it with `background_flush = false` and call
// flush_now(), so they need no sleeping.
// Thread-safe. The destructor calls shutdown().
#pragma once

#include <atomic>
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

  void export_chunk(TraceChunk chunk) override;

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
  // Encoded chunks after room for the payload's array header (filled in at send time).
  std::string pending_;
  std::size_t pending_traces_ = 0;
  std::size_t buffered_spans_ = 0;
  // buffered_spans_ and stopped_, readable without the lock: a chunk that cannot fit is
  // dropped before it is encoded (checked again under the lock).
  std::atomic<std::size_t> buffered_spans_hint_{0};
  std::atomic<bool> stopped_hint_{false};
  bool stopping_ = false;
  bool flush_requested_ = false;
  bool stopped_ = false;

  std::mutex send_mutex_;  // one request at a time on the curl handle; guards what follows
  std::string sending_;    // the payload being sent (swapped with pending_)
  std::string reply_;
  std::unique_ptr<Curl> curl_;
  std::mutex shutdown_mutex_;
  std::thread thread_;
};

}  // namespace tokenizer
