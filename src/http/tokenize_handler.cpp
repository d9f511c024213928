#include "http/tokenize_handler.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <cctype>

#include "http/api_error.h"
#include "http/tokenize_outcome.h"
#include "idempotency/idempotency_key.h"
#include "tokenization/request_parser.h"

namespace tokenizer {

struct TokenizeHandler::Call {
  explicit Call(std::atomic<int>& counter) : in_flight_counter(counter) { ++counter; }
  ~Call() {
    // The PAN and CVV live here for the duration of the vault call only.
    if (!card.card_number.empty()) OPENSSL_cleanse(card.card_number.data(), card.card_number.size());
    if (!card.cvv.empty()) OPENSSL_cleanse(card.cvv.data(), card.cvv.size());
    --in_flight_counter;
  }
  std::atomic<int>& in_flight_counter;
  ResponderPtr responder;
  std::string request_id;
  std::string method;
  std::string client_id;
  std::chrono::steady_clock::time_point start;
  Span span;
  InFlightGuard in_flight_gauge;
  std::optional<LoadShedder::InFlightToken> shed_token;
  PaymentMethod card;
  std::optional<Reservation> reservation;
  int attempts = 0;
  std::atomic<bool> finished{false};
};

namespace {

bool is_json_content_type(std::optional<std::string_view> value) {
  if (!value) return false;
  std::string v(value->substr(0, value->find(';')));
  v.erase(std::remove_if(v.begin(), v.end(), [](unsigned char c) { return std::isspace(c); }),
          v.end());
  std::transform(v.begin(), v.end(), v.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return v == "application/json";
}

ApiErrorCode parse_failure_code(ParseFailureKind kind) {
  switch (kind) {
    case ParseFailureKind::malformed_json: return ApiErrorCode::malformed_json;
    case ParseFailureKind::invalid_request: return ApiErrorCode::invalid_request;
    case ParseFailureKind::validation_failed: return ApiErrorCode::validation_failed;
  }
  return ApiErrorCode::malformed_json;
}

Metrics::RetryReason retry_reason(std::string_view reason) {
  if (reason == "connect_failed") return Metrics::RetryReason::connect_failed;
  if (reason == "throttled") return Metrics::RetryReason::throttled;
  if (reason == "server_error") return Metrics::RetryReason::server_error;
  if (reason == "timeout") return Metrics::RetryReason::timeout;
  return Metrics::RetryReason::reset;
}

std::string retry_after_header(std::chrono::milliseconds d) {
  return std::to_string(std::max<long long>(1, (d.count() + 999) / 1000));
}

}  // namespace

TokenizeHandler::TokenizeHandler(TokenizeDependencies deps) : d_(std::move(deps)) {}

void TokenizeHandler::finish(const std::shared_ptr<Call>& call, ApiResponse response,
                             const std::string& error_code) {
  if (call->finished.exchange(true)) return;
  const double seconds =
      std::chrono::duration<double>(d_.clock.steady() - call->start).count();
  Span& span = call->span;
  span.set_tag("http.status_code", std::to_string(response.status));
  if (!call->client_id.empty()) span.set_tag("client.id", call->client_id);
  if (response.status >= 500) {
    span.set_error(error_code, "request failed with HTTP " + std::to_string(response.status));
  }
  if (!error_code.empty()) span.set_tag("error.code", error_code);
  const LogCorrelation trace{span.trace_id_low(), span.span_id()};
  span.finish();
  d_.metrics.observe_http_request(call->method, kTokenizeRoute, response.status, seconds);
  if (d_.access_log) {
    d_.logger.log_access(AccessRecord{call->request_id, call->method, kTokenizeRoute,
                                      response.status, seconds * 1000.0, call->attempts,
                                      call->client_id, error_code, trace});
  }
  call->shed_token.reset();
  call->in_flight_gauge.release();
  call->responder->send(std::move(response));
}

void TokenizeHandler::handle(ApiRequest req, ResponderPtr responder) {
  auto call = std::make_shared<Call>(in_flight_);
  call->responder = std::move(responder);
  call->request_id = req.request_id;
  call->method = req.method;
  call->start = d_.clock.steady();
  call->in_flight_gauge = d_.metrics.track_in_flight();
  call->span = d_.tracer.extract_or_start_span(
      SpanOptions{"http.request", std::string("POST ") + kTokenizeRoute, "web", ""},
      [&req](std::string_view name) { return req.header(name); });
  Span& span = call->span;
  span.set_tag("span.kind", "server");
  span.set_tag("component", "pistache");
  span.set_tag("http.method", req.method);
  span.set_tag("http.route", kTokenizeRoute);
  // The URL without its query string (which is never read anyway).
  span.set_tag("http.url", d_.url_scheme + "://" +
                               std::string(req.header("host").value_or("localhost")) +
                               kTokenizeRoute);
  span.set_tag("request_id", req.request_id);
  if (auto ua = req.header("user-agent")) span.set_tag("http.useragent", *ua);

  auto fail = [&](ApiErrorCode code, const std::string& message = {},
                  std::vector<std::pair<std::string, std::string>> headers = {}) {
    ApiResponse r = make_error(code, call->request_id, message);
    r.headers = std::move(headers);
    finish(call, std::move(r), api_error_code_name(code));
  };

  // 1. Size: the body is refused before anything looks at it; the connection is closed so
  //    whatever else the client streams is never parsed as further requests.
  if (req.body.size() > d_.max_body_bytes) {
    ApiResponse r = make_error(ApiErrorCode::payload_too_large, call->request_id,
                               "The request body exceeds " + std::to_string(d_.max_body_bytes) +
                                   " bytes.");
    r.close_connection = true;
    finish(call, std::move(r), "payload_too_large");
    return;
  }

  // 2. Authentication, with failed attempts throttled per source address.
  if (d_.authenticator.enabled()) {
    if (auto wait = d_.auth_failure_limiter.check(req.peer_address)) {
      d_.metrics.count_rate_limited(Metrics::RateLimitKind::auth_failure);
      fail(ApiErrorCode::rate_limited, "Too many failed authentication attempts; slow down.",
           {{"Retry-After", retry_after_header(*wait)}});
      return;
    }
    auto client = d_.authenticator.authenticate(req.header("authorization"));
    if (!client) {
      d_.auth_failure_limiter.try_acquire(req.peer_address);
      fail(ApiErrorCode::unauthorized, {}, {{"WWW-Authenticate", "Basic realm=\"tokenizer\""}});
      return;
    }
    call->client_id = std::move(*client);
  } else {
    call->client_id = "anonymous";
  }
  if (d_.client_limiter != nullptr) {
    if (auto wait = d_.client_limiter->try_acquire(call->client_id)) {
      d_.metrics.count_rate_limited(Metrics::RateLimitKind::client);
      fail(ApiErrorCode::rate_limited, {}, {{"Retry-After", retry_after_header(*wait)}});
      return;
    }
  }

  // 3. Media type, then parse and validate every field.
  if (!is_json_content_type(req.header("content-type"))) {
    fail(ApiErrorCode::unsupported_media_type);
    return;
  }
  {
    Span validate = span.create_child(SpanOptions{"tokenize.validate", "validate", "", ""});
    ParseOutcome parsed = parse_tokenize_request(req.body, d_.clock);
    if (!parsed.ok()) {
      const ParseFailure& f = parsed.failure();
      validate.set_tag("validation.result", parse_failure_kind_name(f.kind));
      validate.finish();
      std::vector<FieldErrorBody> errors;
      for (const auto& e : f.errors) {
        errors.push_back({e.field, e.code, e.message});
        d_.metrics.count_validation_failure(e.field, e.code);
      }
      if (f.kind != ParseFailureKind::validation_failed) {
        d_.metrics.count_validation_failure("body", parse_failure_kind_name(f.kind));
      }
      d_.metrics.count_tokenization("unknown", Metrics::TokenizationResult::validation_failed);
      const ApiErrorCode code = parse_failure_code(f.kind);
      finish(call, make_error(code, call->request_id, f.message, errors),
             api_error_code_name(code));
      return;
    }
    call->card = std::move(parsed).take_payment_method();
    validate.set_tag("card.brand", brand_name(call->card.brand));
  }
  span.set_tag("card.brand", brand_name(call->card.brand));

  std::optional<std::string> idempotency_key;
  if (auto raw = req.header("idempotency-key")) {
    auto key = parse_idempotency_key(*raw);
    if (!key) {
      fail(ApiErrorCode::invalid_idempotency_key);
      return;
    }
    idempotency_key = std::move(*key);
  }

  // 4. Load shedding: beyond the in-flight limit, answer at once without touching the vault.
  call->shed_token = d_.shedder.try_enter();
  if (!call->shed_token) {
    d_.metrics.count_load_shed();
    fail(ApiErrorCode::overloaded, {}, {{"Retry-After", "1"}});
    return;
  }

  // 5. Idempotency: replay a stored outcome, refuse a concurrent or mismatched reuse.
  if (idempotency_key) {
    Span lookup = span.create_child(SpanOptions{"idempotency.lookup", "begin", "", ""});
    auto begun = d_.idempotency.begin(call->client_id, *idempotency_key,
                                      request_fingerprint(call->card, d_.fingerprint_key));
    if (!begun) {
      lookup.set_error("idempotency_unavailable", "idempotency store unreachable");
      lookup.finish();
      d_.metrics.count_idempotency(Metrics::IdempotencyResult::unavailable);
      d_.logger.warn("idempotency store error", {{"request_id", call->request_id},
                                                 {"error", begun.error().message}});
      fail(ApiErrorCode::idempotency_unavailable, {}, {{"Retry-After", "1"}});
      return;
    }
    lookup.set_tag("idempotency.result", begin_kind_name(begun->kind));
    lookup.finish();
    switch (begun->kind) {
      case BeginResult::Kind::started:
        d_.metrics.count_idempotency(Metrics::IdempotencyResult::new_key);
        call->reservation = begun->reservation;
        break;
      case BeginResult::Kind::in_flight:
        d_.metrics.count_idempotency(Metrics::IdempotencyResult::in_flight_conflict);
        fail(ApiErrorCode::idempotency_key_in_use, {}, {{"Retry-After", "1"}});
        return;
      case BeginResult::Kind::mismatch:
        d_.metrics.count_idempotency(Metrics::IdempotencyResult::mismatch);
        fail(ApiErrorCode::idempotency_key_reused);
        return;
      case BeginResult::Kind::replay: {
        d_.metrics.count_idempotency(Metrics::IdempotencyResult::replayed);
        ApiResponse r;
        r.status = begun->response->status;
        r.body = begun->response->body;
        r.headers.emplace_back("Idempotent-Replayed", "true");
        span.set_tag("idempotency.replayed", "true");
        const std::string code = r.status == 200 ? "" : "card_rejected";
        finish(call, std::move(r), code);
        return;
      }
    }
  }

  start_vault_call(call);
}

void TokenizeHandler::start_vault_call(const std::shared_ptr<Call>& call) {
  ExecutionObserver observer;
  observer.on_retry = [this](std::string_view reason, std::chrono::nanoseconds) {
    d_.metrics.count_upstream_retry(retry_reason(reason));
  };
  auto attempt = [this, call](const AttemptContext& ctx, AttemptCallback report) {
    call->attempts = ctx.attempt_number;
    auto client_span = std::make_shared<Span>(call->span.create_child(
        SpanOptions{"vault.request", "POST /v1/payment_methods.json", "http", ""}));
    client_span->set_tag("span.kind", "client");
    client_span->set_tag("component", "libcurl");
    client_span->set_tag("peer.service", "vault");
    client_span->set_tag("out.host", d_.vault_host);
    client_span->set_tag("out.port", std::to_string(d_.vault_port));
    client_span->set_tag("http.method", "POST");
    client_span->set_metric("retry.attempt", ctx.attempt_number);
    if (!ctx.retry_reason.empty()) client_span->set_tag("retry.reason", ctx.retry_reason);
    if (d_.breaker_state) client_span->set_tag("circuit_breaker.state", d_.breaker_state());
    AttemptOptions options;
    options.timeout = ctx.attempt_timeout;
    options.extra_headers.emplace_back("X-Request-Id", call->request_id);
    client_span->inject([&options](std::string_view name, std::string_view value) {
      options.extra_headers.emplace_back(std::string(name), std::string(value));
    });
    const int attempt_number = ctx.attempt_number;
    d_.vault.create_payment_method(
        call->card, options, [this, call, attempt_number, client_span, report](VaultAttempt a) {
          if (a.outcome != VaultOutcome::success && a.outcome != VaultOutcome::rejected) {
            // `detail` is transport/status text only (never request data): it is what tells
            // an operator why, e.g. which certificate check failed.
            d_.logger.log_event(LogLevel::warn, "vault attempt failed",
                                {{"request_id", call->request_id},
                                 {"attempt", attempt_number},
                                 {"outcome", outcome_name(a.outcome)},
                                 {"http_status", a.http_status},
                                 {"detail", a.detail}},
                                LogCorrelation{client_span->trace_id_low(), client_span->span_id()});
          }
          const double secs = std::chrono::duration<double>(a.elapsed).count();
          d_.metrics.observe_upstream_attempt(metrics_outcome(a.outcome), secs);
          if (a.http_status > 0) client_span->set_tag("http.status_code", std::to_string(a.http_status));
          client_span->set_tag("vault.outcome", outcome_name(a.outcome));
          if (a.outcome != VaultOutcome::success && a.outcome != VaultOutcome::rejected) {
            client_span->set_error(outcome_name(a.outcome), "vault attempt failed");
          }
          client_span->finish();
          AttemptReport r;
          r.cls = classify_attempt(a);
          r.retry_after = a.retry_after
                              ? std::optional<std::chrono::milliseconds>(
                                    std::chrono::duration_cast<std::chrono::milliseconds>(*a.retry_after))
                              : std::nullopt;
          r.duration = a.elapsed;
          r.payload = std::make_shared<VaultAttempt>(std::move(a));
          report(std::move(r));
        });
  };
  d_.executor.execute(
      std::move(attempt),
      [this, call](ExecutionResult result) {
        call->attempts = std::max(call->attempts, result.attempts);
        if (result.outcome == ExecutionOutcome::budget_exhausted) {
          d_.metrics.count_retry_budget_exhausted();
        }
        call->span.set_tag("upstream.outcome", execution_outcome_name(result.outcome));
        TokenizeReply reply =
            map_execution(result, call->card, call->request_id, d_.clock.wall());
        d_.metrics.count_tokenization(brand_name(call->card.brand), reply.result);
        if (call->reservation) {
          // Final outcomes are stored before the client hears them, so its retry replays.
          // Transient failures release the key so the client can try again.
          Expected<FinishResult> stored =
              reply.final_outcome
                  ? d_.idempotency.complete(*call->reservation,
                                            StoredResponse{reply.response.status,
                                                           reply.response.body, d_.clock.wall()})
                  : d_.idempotency.abandon(*call->reservation);
          if (!stored) {
            d_.logger.warn("idempotency store error", {{"request_id", call->request_id},
                                                       {"error", stored.error().message}});
          }
        }
        finish(call, std::move(reply.response), reply.error_code);
      },
      std::move(observer));
}

}  // namespace tokenizer
