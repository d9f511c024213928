// Micro-benchmark of one whole tokenize request on the server side: what a Pistache worker
// does after copy_request (request id, responder, Router::dispatch → TokenizeHandler::handle:
// auth, parse and validate, idempotency, rate limits, metrics, spans → RetryExecutor →
// VaultClient → transport) plus the completion a curl loop thread runs (vault reply mapping,
// retry executor, reply, metrics, span finish, access line), with a transport that answers
// the simulator's canned 201.
//
// The objects are built as src/app/application.cpp builds them from a default Config with
// `--basic-auth demo:demo-password` (what bench/run starts), except:
// - the transport: BenchTransport below, not CurlTransport. It queues each vault request and
//   the loop completes it right after dispatch() returns (so the handler's stack has unwound,
//   as with the real curl thread), on the same thread, with a copy of the canned 201.
//   (tests/fakes/fake_transport.h records every request forever: fine for tests, not for
//   millions of iterations.)
// - telemetry: /telemetry:1 is the production composition (DatadogTracer with the real
//   DatadogExporter encoding every chunk, access log on, the asynchronous Logger writing to a
//   sink that discards); the exporter never flushes by itself: the loop empties it every
//   1,024 requests with timing paused, towards a closed port (never a running agent).
//   /telemetry:0 is the "tracing + access log off" row: NullTracer, no access log.
//   Metrics are on in both, as in the service.
//
// Reported: CPU time per request, and `allocs` / `alloc_bytes` per request: operator new
// calls on the benchmark thread, counted by the replacement operator new below. That
// replacement is global to tokenizer-microbench; it adds a thread-local increment (well under
// a nanosecond) to every allocation of every benchmark in the binary. malloc calls from C
// libraries (OpenSSL, libcurl) are not counted.
//
//   build-bench/bin/tokenizer-microbench --benchmark_filter=BM_TokenizeRequest
//   valgrind --tool=callgrind build-bench/bin/tokenizer-microbench
//     --benchmark_filter='BM_TokenizeRequest/telemetry:0' --benchmark_min_time=0.2
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <memory>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include <benchmark/benchmark.h>

#include "common/clock.h"
#include "common/random.h"
#include "config/config.h"
#include "http/basic_auth.h"
#include "http/http_types.h"
#include "http/rate_limiter.h"
#include "http/request_id.h"
#include "http/router.h"
#include "http/tokenize_handler.h"
#include "idempotency/fingerprint.h"
#include "idempotency/store_factory.h"
#include "resilience/circuit_breaker.h"
#include "resilience/load_shedder.h"
#include "resilience/retry_budget.h"
#include "resilience/retry_executor.h"
#include "resilience/timer_scheduler.h"
#include "sample_payloads.h"
#include "telemetry/datadog_exporter.h"
#include "telemetry/datadog_tracer.h"
#include "telemetry/logger.h"
#include "telemetry/metrics.h"
#include "telemetry/tracer_config.h"
#include "upstream/http_transport.h"
#include "upstream/vault_client.h"

// --- allocation counting ------------------------------------------------------------------

namespace {
thread_local std::uint64_t t_allocations = 0;
thread_local std::uint64_t t_allocated_bytes = 0;
}  // namespace

// Not inlined: GCC would otherwise see free() paired with operator new (-Wmismatched-new-delete).
__attribute__((noinline)) void* operator new(std::size_t size) {
  ++t_allocations;
  t_allocated_bytes += size;
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
__attribute__((noinline)) void operator delete(void* p) noexcept { std::free(p); }
__attribute__((noinline)) void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace tokenizer {
namespace {

struct AllocSnapshot {
  std::uint64_t count = t_allocations;
  std::uint64_t bytes = t_allocated_bytes;
};

// --- the pieces application.cpp would build -------------------------------------------------

// Queues each request; complete_all() answers every queued one with the canned reply.
class BenchTransport final : public HttpTransport {
 public:
  explicit BenchTransport(HttpResult canned) : canned_(std::move(canned)) {}
  void send(HttpRequest request, Callback done) override {
    benchmark::DoNotOptimize(request.body.data());
    queue_.push_back(std::move(done));
  }
  void complete_all() {
    while (!queue_.empty()) {
      Callback done = std::move(queue_.front());
      queue_.pop_front();
      done(canned_);  // a copy, as the real transport builds a fresh result per transfer
    }
  }
  void shutdown() override {}

 private:
  HttpResult canned_;
  std::deque<Callback> queue_;
};

class BenchResponder final : public Responder {
 public:
  explicit BenchResponder(int& last_status) : last_status_(last_status) {}
  void send(ApiResponse response) override {
    if (sent_) return;
    sent_ = true;
    last_status_ = response.status;
    benchmark::DoNotOptimize(response.body.data());
  }

 private:
  int& last_status_;
  bool sent_ = false;
};

HttpResult canned_vault_reply() {
  HttpResult r;
  HttpResponse response;
  response.status = 201;
  response.headers = {{"content-type", "application/json; charset=utf-8"},
                      {"content-length", std::to_string(sizeof bench::kVaultCreatedReply - 1)}};
  response.body = bench::kVaultCreatedReply;
  r.response = std::move(response);
  r.elapsed = std::chrono::microseconds(250);
  return r;
}

const char* kBody =
    R"({"payment_method":{"card_number":"4111111111111111","month":"12","year":"2031",)"
    R"("first_name":"Ada","last_name":"Lovelace","cvv":"123","email":"ada@example.com"}})";

// What copy_request() hands the router for one of wrk's requests (bench/tokenize.lua).
ApiRequest wrk_request() {
  ApiRequest r;
  r.method = "POST";
  r.path = kTokenizeRoute;
  r.headers = {{"host", "127.0.0.1:8080"},
               {"content-length", std::to_string(std::string(kBody).size())},
               {"content-type", "application/json"},
               {"authorization", "Basic ZGVtbzpkZW1vLXBhc3N3b3Jk"}};  // demo:demo-password
  r.body = kBody;
  r.peer_address = "127.0.0.1";
  return r;
}

// The service's objects, wired as in Application::create.
struct Service {
  explicit Service(bool telemetry) {
    const EnvLookup no_environment = [](std::string_view) { return std::optional<std::string>(); };
    TracerOptions tracer_options;
    tracer_options.enabled = telemetry;
    tracer_options.agent_url = "http://127.0.0.1:1";  // never a running agent
    auto tracer_config = finalize_tracer_config(tracer_options, no_environment);
    if (!tracer_config) std::abort();
    config.clients = {ClientCredential{"demo", "demo-password", ""}};
    config.access_log = telemetry;
    const Config& c = config;

    LoggerOptions log_options;
    log_options.min_level = *parse_log_level(c.log_level);
    log_options.format = c.log_format;
    log_options.service = tracer_config->service;
    log_options.asynchronous = true;
    logger = std::make_unique<Logger>(log_options, clock,
                                      [](std::string_view lines) { benchmark::DoNotOptimize(lines.data()); });

    if (telemetry) {
      auto sampler = std::make_shared<TraceSampler>(tracer_config->sampling_rules,
                                                    tracer_config->rate_limit, clock);
      auto options = DatadogExporterOptions::from_config(*tracer_config);
      options.background_flush = false;
      options.shutdown_timeout = std::chrono::milliseconds(0);
      options.max_buffered_spans = 1u << 20;
      exporter = std::make_shared<DatadogExporter>(options, ExporterCallbacks{});
      tracer = std::make_unique<DatadogTracer>(*tracer_config, clock, random, exporter, sampler);
    } else {
      tracer = std::make_unique<NullTracer>();
    }

    transport = std::make_unique<BenchTransport>(canned_vault_reply());
    vault = std::make_unique<VaultClient>(
        *transport, VaultConfig{"http://127.0.0.1:8081", "bench-key", "bench-secret"}, clock);
    CircuitBreakerConfig bc;
    bc.window = c.breaker.window;
    bc.min_calls = c.breaker.min_calls;
    bc.failure_rate_percent = c.breaker.failure_rate_percent;
    bc.slow_call_duration = c.breaker.slow_call_duration;
    bc.slow_call_rate_percent = c.breaker.slow_call_rate_percent;
    bc.open_duration = c.breaker.open_duration;
    bc.half_open_probes = c.breaker.half_open_probes;
    breaker = std::make_unique<CircuitBreaker>("vault", bc, clock);
    RetryBudgetConfig rbc;
    rbc.percent = c.retry.budget_percent;
    rbc.min_retries = c.retry.budget_min_retries;
    budget = std::make_unique<RetryBudget>(rbc, clock);
    scheduler = std::make_unique<TimerScheduler>(clock);
    RetryExecutorConfig ec;
    ec.deadline = c.upstream_timeout;
    ec.attempt_timeout = c.upstream_attempt_timeout;
    RetryPolicyConfig rpc;
    rpc.max_attempts = c.retry.max_attempts;
    rpc.retry_on_server_error = c.retry.retry_on_server_error;
    rpc.retry_on_timeout = c.retry.retry_on_timeout;
    executor = std::make_unique<RetryExecutor>(
        ec, RetryPolicy(rpc), Backoff(BackoffConfig{c.retry.base_delay, c.retry.max_delay}),
        *breaker, *budget, *scheduler, clock, random);
    shedder = std::make_unique<LoadShedder>(c.max_in_flight);
    IdempotencyTtls ttls;
    ttls.record_ttl = c.idempotency_ttl;
    ttls.lock_ttl = std::max<std::chrono::milliseconds>(std::chrono::seconds(60), 2 * c.upstream_timeout);
    auto store = make_idempotency_store(c.idempotency_store, clock, ttls, c.idempotency_max_entries);
    if (!store) std::abort();
    idempotency = std::move(*store);
    fingerprint_key = std::make_unique<FingerprintKey>(std::move(
        *make_fingerprint_key(c.idempotency_secret, is_shared_idempotency_store(c.idempotency_store))));
    authenticator = std::make_unique<Authenticator>(c.clients);
    auth_failure_limiter =
        std::make_unique<KeyedRateLimiter>(clock, c.auth_failure_rate, c.auth_failure_burst);
    CircuitBreaker* b = breaker.get();
    handler = std::make_unique<TokenizeHandler>(TokenizeDependencies{
        clock, *authenticator, nullptr, *auth_failure_limiter, *vault, "127.0.0.1", 8081,
        *executor, *shedder, *idempotency, *fingerprint_key, metrics, *tracer, *logger,
        [b] { return b->state_name(); }, c.max_body_bytes, c.access_log, "http"});
    router = std::make_unique<Router>(
        *handler, metrics, *logger,
        [] { return std::vector<std::pair<std::string, std::string>>{}; }, c.access_log);
    router->set_lifecycle(Lifecycle::ready);
  }

  ~Service() {
    scheduler->shutdown();
    tracer->shutdown();
    logger->flush();
  }

  Config config;
  const Clock& clock = SystemClock::instance();
  Random& random = SystemRandom::instance();
  Metrics metrics{[] {
    MetricsOptions o;
    o.process_metrics = false;
    return o;
  }()};
  std::unique_ptr<Logger> logger;
  std::shared_ptr<DatadogExporter> exporter;
  std::unique_ptr<Tracer> tracer;
  std::unique_ptr<BenchTransport> transport;
  std::unique_ptr<VaultClient> vault;
  std::unique_ptr<CircuitBreaker> breaker;
  std::unique_ptr<RetryBudget> budget;
  std::unique_ptr<TimerScheduler> scheduler;
  std::unique_ptr<RetryExecutor> executor;
  std::unique_ptr<LoadShedder> shedder;
  std::unique_ptr<IdempotencyStore> idempotency;
  std::unique_ptr<FingerprintKey> fingerprint_key;
  std::unique_ptr<Authenticator> authenticator;
  std::unique_ptr<KeyedRateLimiter> auth_failure_limiter;
  std::unique_ptr<TokenizeHandler> handler;
  std::unique_ptr<Router> router;
};

// One request as Handler::onRequest (server.cpp) runs it after copy_request(), then the
// vault's completion. `prototype` stands in for copy_request's output (copied, so its
// allocations are part of each request, as copy_request's are).
int one_request(Service& s, const ApiRequest& prototype, int& status) {
  ApiRequest api = prototype;
  api.request_id = choose_request_id(api.header("x-request-id"));
  auto responder = std::make_shared<BenchResponder>(status);
  s.router->dispatch(std::move(api), std::move(responder));
  s.transport->complete_all();
  return status;
}

// `prepare` adjusts the prototype before each request; it is timed, so it must be cheap and
// allocation-free.
template <typename Prepare>
void run(benchmark::State& state, Service& s, ApiRequest& prototype, Prepare prepare) {
  int status = 0;
  // Warm up: the verified-credential cache, metric series, the breaker window.
  for (int i = 0; i < 64; ++i) {
    prepare(prototype);
    one_request(s, prototype, status);
  }
  std::uint64_t iteration = 0;
  std::uint64_t paused_allocations = 0;
  std::uint64_t paused_bytes = 0;
  const AllocSnapshot start;
  for (auto _ : state) {
    prepare(prototype);
    if (one_request(s, prototype, status) != 200) {
      state.SkipWithError("a tokenize request did not answer 200");
      break;
    }
    if (s.exporter && (++iteration & 1023) == 0) {
      state.PauseTiming();
      const AllocSnapshot before;
      s.exporter->flush_now();
      const AllocSnapshot after;
      paused_allocations += after.count - before.count;
      paused_bytes += after.bytes - before.bytes;
      state.ResumeTiming();
    }
  }
  const AllocSnapshot end;
  const double n = static_cast<double>(state.iterations());
  state.counters["allocs"] = static_cast<double>(end.count - start.count - paused_allocations) / n;
  state.counters["alloc_bytes"] = static_cast<double>(end.bytes - start.bytes - paused_bytes) / n;
  state.SetItemsProcessed(state.iterations());
}

void BM_TokenizeRequest(benchmark::State& state) {
  Service service(state.range(0) != 0);
  ApiRequest prototype = wrk_request();
  run(state, service, prototype, [](ApiRequest&) {});
}
BENCHMARK(BM_TokenizeRequest)->ArgName("telemetry")->Arg(0)->Arg(1);

// The same with an Idempotency-Key (a fresh key per request, so every one reaches the vault)
// and a client-supplied X-Request-Id.
void BM_TokenizeRequest_IdempotencyKey(benchmark::State& state) {
  Service service(state.range(0) != 0);
  ApiRequest prototype = wrk_request();
  prototype.headers.emplace_back("idempotency-key", "bench-key-0000000000");
  prototype.headers.emplace_back("x-request-id", "bench-client-request-0001");
  const std::size_t key_index = prototype.headers.size() - 2;
  run(state, service, prototype, [key_index](ApiRequest& r) {
    std::string& key = r.headers[key_index].second;
    for (std::size_t i = key.size(); i-- > 0 && key[i] >= '0' && key[i] <= '9';) {
      if (key[i] != '9') {
        ++key[i];
        break;
      }
      key[i] = '0';
    }
  });
}
BENCHMARK(BM_TokenizeRequest_IdempotencyKey)->ArgName("telemetry")->Arg(0)->Arg(1);

}  // namespace
}  // namespace tokenizer
