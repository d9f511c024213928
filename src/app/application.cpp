#include "app/application.h"

#include <thread>

#include "common/clock.h"
#include "common/random.h"
#include "http/basic_auth.h"
#include "http/rate_limiter.h"
#include "http/router.h"
#include "http/server.h"
#include "http/tokenize_handler.h"
#include "idempotency/fingerprint.h"
#include "idempotency/store_factory.h"
#include "resilience/circuit_breaker.h"
#include "resilience/load_shedder.h"
#include "resilience/retry_budget.h"
#include "resilience/retry_executor.h"
#include "resilience/timer_scheduler.h"
#include "telemetry/datadog_exporter.h"
#include "telemetry/datadog_tracer.h"
#include "telemetry/logger.h"
#include "telemetry/metrics.h"
#include "telemetry/tracer_config.h"
#include "upstream/curl_transport.h"
#include "upstream/vault_client.h"

namespace tokenizer {
namespace {

Metrics::BreakerState metrics_state(BreakerState s) {
  switch (s) {
    case BreakerState::closed: return Metrics::BreakerState::closed;
    case BreakerState::open: return Metrics::BreakerState::open;
    case BreakerState::half_open: return Metrics::BreakerState::half_open;
  }
  return Metrics::BreakerState::closed;
}

std::pair<std::string, int> host_port(const std::string& url) {
  const auto scheme_end = url.find("://");
  const bool https = url.compare(0, scheme_end, "https") == 0;
  std::string authority = url.substr(scheme_end + 3);
  authority = authority.substr(0, authority.find('/'));
  std::string host = authority;
  int port = https ? 443 : 80;
  if (!authority.empty() && authority[0] == '[') {
    const auto close = authority.find(']');
    host = authority.substr(1, close - 1);
    if (close + 2 < authority.size()) port = std::stoi(authority.substr(close + 2));
  } else if (const auto colon = authority.find(':'); colon != std::string::npos) {
    host = authority.substr(0, colon);
    port = std::stoi(authority.substr(colon + 1));
  }
  return {host, port};
}

}  // namespace

struct Application::Parts {
  Config config;
  const Clock& clock = SystemClock::instance();
  Random& random = SystemRandom::instance();
  std::unique_ptr<Metrics> metrics;
  std::unique_ptr<Logger> logger;
  std::unique_ptr<Tracer> tracer;
  bool tracing_enabled = false;
  std::unique_ptr<CurlTransport> transport;
  std::unique_ptr<VaultClient> vault;
  std::unique_ptr<CircuitBreaker> breaker;
  std::unique_ptr<RetryBudget> budget;
  std::unique_ptr<TimerScheduler> scheduler;
  std::unique_ptr<RetryExecutor> executor;
  std::unique_ptr<LoadShedder> shedder;
  std::unique_ptr<IdempotencyStore> idempotency;
  std::unique_ptr<FingerprintKey> fingerprint_key;
  std::unique_ptr<Authenticator> authenticator;
  std::unique_ptr<KeyedRateLimiter> client_limiter;
  std::unique_ptr<KeyedRateLimiter> auth_failure_limiter;
  std::unique_ptr<TokenizeHandler> handler;
  std::unique_ptr<Router> router;
  std::unique_ptr<HttpServer> server;
  bool stopped = false;
};

Application::Application(std::unique_ptr<Parts> parts) : p_(std::move(parts)) {}

Application::~Application() { stop(); }

Expected<std::unique_ptr<Application>> Application::create(const Config& config) {
  auto p = std::make_unique<Parts>();
  p->config = config;
  const Config& c = p->config;

  auto tracer_config = finalize_tracer_config(TracerOptions{}, process_environment());
  if (!tracer_config) return Error{"tracer_config", tracer_config.error().message};

  p->metrics = std::make_unique<Metrics>();
  Metrics& metrics = *p->metrics;

  LoggerOptions log_options;
  log_options.min_level = *parse_log_level(c.log_level);
  log_options.format = c.log_format;
  log_options.service = tracer_config->service;
  log_options.env = tracer_config->env;
  log_options.version = tracer_config->version;
  log_options.asynchronous = true;
  log_options.on_dropped = [&metrics](std::uint64_t n) { metrics.count_log_lines_dropped(n); };
  p->logger = std::make_unique<Logger>(log_options, p->clock);
  Logger& logger = *p->logger;

  TracerHooks hooks;
  hooks.on_spans_dropped = [&metrics](std::size_t n) { metrics.count_spans_dropped(n); };
  hooks.on_export = [&metrics](const ExportReport& r) {
    metrics.count_trace_export(r.result == ExportResult::success
                                   ? Metrics::TraceExportResult::success
                                   : Metrics::TraceExportResult::error);
  };
  p->tracing_enabled = tracer_config->enabled;
  p->tracer = make_tracer(*tracer_config, p->clock, p->random, hooks);

  CurlTransportConfig tc;
  tc.connect_timeout = c.upstream_connect_timeout;
  tc.max_total_connections = c.upstream_max_connections;
  tc.max_host_connections = c.upstream_max_connections;
  tc.max_idle_connections = c.upstream_max_connections;
  tc.ca_file = c.upstream_ca_file;
  tc.loops = c.upstream_threads;
  p->transport = std::make_unique<CurlTransport>(tc, p->clock);
  VaultConfig vc{c.upstream_url, c.upstream_key, c.upstream_secret};
  if (auto ok = VaultClient::validate(vc); !ok) return Error{"upstream", ok.error().message};
  p->vault = std::make_unique<VaultClient>(*p->transport, vc, p->clock);

  CircuitBreakerConfig bc;
  bc.window = c.breaker.window;
  bc.min_calls = c.breaker.min_calls;
  bc.failure_rate_percent = c.breaker.failure_rate_percent;
  bc.slow_call_duration = c.breaker.slow_call_duration;
  bc.slow_call_rate_percent = c.breaker.slow_call_rate_percent;
  bc.open_duration = c.breaker.open_duration;
  bc.half_open_probes = c.breaker.half_open_probes;
  metrics.set_breaker_state(Metrics::BreakerState::closed);
  p->breaker = std::make_unique<CircuitBreaker>(
      "vault", bc, p->clock, [&metrics, &logger](BreakerState from, BreakerState to) {
        metrics.set_breaker_state(metrics_state(to));
        metrics.count_breaker_transition(metrics_state(from), metrics_state(to));
        logger.log_event(to == BreakerState::open ? LogLevel::warn : LogLevel::info,
                         "circuit breaker transition",
                         {{"breaker", "vault"},
                          {"from", breaker_state_name(from)},
                          {"to", breaker_state_name(to)}});
      });
  RetryBudgetConfig rbc;
  rbc.percent = c.retry.budget_percent;
  rbc.min_retries = c.retry.budget_min_retries;
  p->budget = std::make_unique<RetryBudget>(rbc, p->clock);
  p->scheduler = std::make_unique<TimerScheduler>(p->clock);
  RetryExecutorConfig ec;
  ec.deadline = c.upstream_timeout;
  ec.attempt_timeout = c.upstream_attempt_timeout;
  RetryPolicyConfig rpc;
  rpc.max_attempts = c.retry.max_attempts;
  rpc.retry_on_server_error = c.retry.retry_on_server_error;
  rpc.retry_on_timeout = c.retry.retry_on_timeout;
  p->executor = std::make_unique<RetryExecutor>(
      ec, RetryPolicy(rpc), Backoff(BackoffConfig{c.retry.base_delay, c.retry.max_delay}),
      *p->breaker, *p->budget, *p->scheduler, p->clock, p->random);
  p->shedder = std::make_unique<LoadShedder>(c.max_in_flight);

  IdempotencyTtls ttls;
  ttls.record_ttl = c.idempotency_ttl;
  // A reservation must outlive the slowest vault call it protects.
  ttls.lock_ttl = std::max<std::chrono::milliseconds>(std::chrono::seconds(60), 2 * c.upstream_timeout);
  auto store = make_idempotency_store(c.idempotency_store, p->clock, ttls,
                                      c.idempotency_max_entries);
  if (!store) return Error{"idempotency_store", store.error().message};
  p->idempotency = std::move(*store);
  auto key = make_fingerprint_key(c.idempotency_secret,
                                  is_shared_idempotency_store(c.idempotency_store));
  if (!key) return Error{"idempotency_secret", key.error().message};
  p->fingerprint_key = std::make_unique<FingerprintKey>(std::move(*key));

  p->authenticator = std::make_unique<Authenticator>(c.clients);
  if (c.client_rate_limit > 0) {
    p->client_limiter =
        std::make_unique<KeyedRateLimiter>(p->clock, c.client_rate_limit, c.client_rate_burst);
  }
  p->auth_failure_limiter =
      std::make_unique<KeyedRateLimiter>(p->clock, c.auth_failure_rate, c.auth_failure_burst);

  const auto [vault_host, vault_port] = host_port(c.upstream_url);
  CircuitBreaker* breaker = p->breaker.get();
  p->handler = std::make_unique<TokenizeHandler>(TokenizeDependencies{
      p->clock, *p->authenticator, p->client_limiter.get(), *p->auth_failure_limiter, *p->vault,
      vault_host, vault_port, *p->executor, *p->shedder, *p->idempotency, *p->fingerprint_key,
      metrics, *p->tracer, logger, [breaker] { return breaker->state_name(); },
      c.max_body_bytes, c.access_log, c.tls_cert ? "https" : "http"});

  Parts* parts = p.get();
  p->router = std::make_unique<Router>(
      *p->handler, metrics, logger,
      [parts] {
        return std::vector<std::pair<std::string, std::string>>{
            {"server", parts->router->lifecycle() == Lifecycle::draining ? "draining" : "ok"},
            {"upstream_circuit_breaker", parts->breaker->state_name()},
            {"idempotency_store",
             is_shared_idempotency_store(parts->config.idempotency_store) ? "redis" : "memory"},
            {"tracing", parts->tracing_enabled ? "enabled" : "disabled"},
            {"in_flight", std::to_string(parts->handler->in_flight())},
        };
      },
      c.access_log);

  HttpServerOptions so;
  so.listen = c.listen;
  so.threads = c.threads;
  // Pistache refuses anything larger before reserving memory; bodies between the API limit
  // and this get our JSON 413 (1 MiB bodies included).
  so.max_request_bytes = std::max<std::size_t>(c.max_body_bytes, 1024 * 1024) + 64 * 1024;
  so.header_timeout = std::max(std::chrono::milliseconds(60000),
                               c.upstream_timeout + std::chrono::milliseconds(10000));
  so.tls_cert = c.tls_cert;
  so.tls_key = c.tls_key;
  Router* router = p->router.get();
  p->server = std::make_unique<HttpServer>(
      so, [router](ApiRequest req, ResponderPtr r) { router->dispatch(std::move(req), std::move(r)); });

  // The start-up configuration, secrets redacted. LogField holds views, so every string
  // below outlives the call.
  const auto described = describe(c);
  const auto tracer_described = tracer_config->describe();
  std::vector<std::string> keys;
  keys.reserve(tracer_described.size());
  std::vector<LogField> fields;
  for (const auto& [k, v] : described) fields.emplace_back(k, v);
  for (const auto& [k, v] : tracer_described) {
    keys.push_back("tracer." + k);
    fields.emplace_back(keys.back(), v);
  }
  logger.log_event(LogLevel::info, "starting", fields);
  if (p->authenticator->has_plaintext_credentials()) {
    logger.warn("plain-text client passwords configured: demo use only; use --basic-auth-file "
                "with password hashes (tokenizer-passwd) in production");
  }
  if (!p->authenticator->enabled()) {
    logger.warn("client authentication is OFF (--allow-unauthenticated)");
  }
  return std::unique_ptr<Application>(new Application(std::move(p)));
}

Expected<Ok> Application::start() {
  auto ok = p_->server->start();
  if (!ok) return ok;
  p_->router->set_lifecycle(Lifecycle::ready);
  p_->logger->info("listening", {{"address", p_->config.listen.host},
                                 {"port", static_cast<int>(p_->server->port())},
                                 {"tls", p_->config.tls_cert.has_value()}});
  return Ok{};
}

std::uint16_t Application::port() const { return p_->server->port(); }

bool Application::drain(std::chrono::milliseconds timeout) {
  p_->router->set_lifecycle(Lifecycle::draining);
  p_->logger->info("draining", {{"in_flight", p_->handler->in_flight()},
                                {"timeout_ms", static_cast<long long>(timeout.count())}});
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (p_->handler->in_flight() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const bool drained = p_->handler->in_flight() == 0;
  // A finished request's reply may still be queued for a Pistache worker: stopping the
  // server now would drop it. Writes take microseconds; one to a client that went away may
  // never report back, hence the bound.
  const auto writes_deadline =
      std::min(deadline, std::chrono::steady_clock::now() + std::chrono::seconds(1));
  while (drained && p_->server->unwritten_replies() > 0 &&
         std::chrono::steady_clock::now() < writes_deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (!drained) {
    p_->logger->warn("drain timeout: requests still in flight are cut",
                     {{"in_flight", p_->handler->in_flight()}});
  }
  return drained;
}

void Application::stop() {
  if (!p_ || p_->stopped) return;
  p_->stopped = true;
  p_->server->shutdown();
  p_->scheduler->shutdown();
  p_->transport->shutdown();
  p_->tracer->shutdown();
  p_->logger->info("stopped");
  p_->logger->flush();
}

}  // namespace tokenizer
