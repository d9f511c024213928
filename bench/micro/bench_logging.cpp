// Micro-benchmark of the access log: formatting one JSON access line (with the card-number
// scrubber on, as in production) into a sink that discards it. The asynchronous writer's
// batching and the write(2) to the log file are not included.
#include <string_view>

#include <benchmark/benchmark.h>

#include "common/clock.h"
#include "telemetry/logger.h"

namespace tokenizer {
namespace {

void BM_Logger_AccessLine(benchmark::State& state) {
  LoggerOptions options;
  options.env = "bench";
  options.version = "1.0.0";
  options.asynchronous = false;
  std::size_t bytes = 0;
  Logger logger(options, SystemClock::instance(),
                [&bytes](std::string_view lines) { bytes += lines.size(); });
  AccessRecord record;
  record.request_id = "0b5f1c0e-6a53-4f7e-9f55-2c3a5d1e8e21";
  record.method = "POST";
  record.route = "/api/v1/payment_methods/tokenize";
  record.status = 200;
  record.duration_ms = 1.234;
  record.upstream_attempts = 1;
  record.client_id = "demo";
  record.trace = LogCorrelation{1311768467294899695ULL, 987654321987654321ULL};
  for (auto _ : state) logger.log_access(record);
  benchmark::DoNotOptimize(bytes);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Logger_AccessLine);

}  // namespace
}  // namespace tokenizer
