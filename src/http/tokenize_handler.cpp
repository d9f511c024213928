#include "http/tokenize_handler.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <cctype>

#include "http/api_error.h"
#include "http/tokenize_outcome.h"
#include "idempotency/idempotency_key.h"
#include "tokenization/request_parser.h"

namespace tokenizer {

// Everything one request keeps between handle() and the reply, and the request's side of
// the retry executor (which holds it until the execution's state is released).
struct TokenizeHandler::Call final : RetryCall {
  explicit Call(TokenizeHandler& h) : handler(h) { ++h.in_flight_; }
  ~Call() override {
    // The PAN and CVV live here for the duration of the vault call only.
    if (!card.card_number.empty()) OPENSSL_cleanse(card.card_number.data(), card.card_number.size());
    if (!card.cvv.empty()) OPENSSL_cleanse(card.cvv.data(), card.cvv.size());
    --handler.in_flight_;
  }

  void start_attempt(const AttemptContext& ctx, AttemptCallback report) override {
    handler.start_attempt(*this, ctx, std::move(report));
  }
  void done(ExecutionResult result) override { handler.complete(*this, std::move(result)); }
  void on_retry(std::string_view reason, std::chrono::nanoseconds) override;

  TokenizeHandler& handler;
  ResponderPtr responder;
  std::string request_id;
  std::string method;
  std::string client_id;
  std::chrono::steady_clock::time_point start;
  Span span;
  // The client span of the vault attempt in progress. Attempts never overlap: the next one
  // starts after the previous one reported, and none after the watchdog ended the call.
  Span attempt_span;
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

// The headers the handler reads, found in one pass (the first of each name, as
// ApiRequest::header() would return).
struct KnownHeaders {
  std::optional<std::string_view> host;
  std::optional<std::string_view> user_agent;
  std::optional<std::string_view> authorization;
  std::optional<std::string_view> content_type;
  std::optional<std::string_view> idempotency_key;
};

KnownHeaders find_known_headers(const ApiRequest& req) {
  KnownHeaders h;
  const auto take = [](std::optional<std::string_view>& slot, const std::string& value) {
    if (!slot) slot = std::string_view(value);
  };
  for (const auto& [name, value] : req.headers) {
    switch (name.size()) {
      case 4:
        if (name == "host") take(h.host, value);
        break;
      case 10:
        if (name == "user-agent") take(h.user_agent, value);
        break;
      case 12:
        if (name == "content-type") take(h.content_type, value);
        break;
      case 13:
        if (name == "authorization") take(h.authorization, value);
        break;
      case 15:
        if (name == "idempotency-key") take(h.idempotency_key, value);
        break;
      default:
        break;
    }
  }
  return h;
}

// Span options are the same for every request: built once.
const SpanOptions& server_span_options() {
  static const SpanOptions options{"http.request", std::string("POST ") + kTokenizeRoute, "web", ""};
  return options;
}
const SpanOptions& validate_span_options() {
  static const SpanOptions options{"tokenize.validate", "validate", "", ""};
  return options;
}
const SpanOptions& idempotency_span_options() {
  static const SpanOptions options{"idempotency.lookup", "begin", "", ""};
  return options;
}
const SpanOptions& vault_span_options() {
  static const SpanOptions options{"vault.request", "POST /v1/payment_methods.json", "http", ""};
  return options;
}

// The vault call's extra headers: X-Request-Id plus what span injection adds (at most six
// with both propagation styles), reserved once.
constexpr std::size_t kVaultExtraHeaders = 8;

}  // namespace

TokenizeHandler::TokenizeHandler(TokenizeDependencies deps)
    : d_(std::move(deps)), vault_port_text_(std::to_string(d_.vault_port)) {}

void TokenizeHandler::Call::on_retry(std::string_view reason, std::chrono::nanoseconds) {
  handler.d_.metrics.count_upstream_retry(retry_reason(reason));
}

void TokenizeHandler::finish(Call& call, ApiResponse response, std::string_view error_code) {
  if (call.finished.exchange(true)) return;
  const double seconds =
      std::chrono::duration<double>(d_.clock.steady() - call.start).count();
  Span& span = call.span;
  if (span.is_recording()) {
    span.set_tag("http.status_code", std::to_string(response.status));
    if (!call.client_id.empty()) span.set_tag("client.id", call.client_id);
    if (response.status >= 500) {
      span.set_error(error_code, "request failed with HTTP " + std::to_string(response.status));
    }
    if (!error_code.empty()) span.set_tag("error.code", error_code);
  }
  const LogCorrelation trace{span.trace_id_low(), span.span_id()};
  span.finish();
  d_.metrics.observe_http_request(call.method, kTokenizeRoute, response.status, seconds);
  if (d_.access_log) {
    d_.logger.log_access(AccessRecord{call.request_id, call.method, kTokenizeRoute,
                                      response.status, seconds * 1000.0, call.attempts,
                                      call.client_id, error_code, trace});
  }
  call.shed_token.reset();
  call.in_flight_gauge.release();
  call.responder->send(std::move(response));
}

void TokenizeHandler::handle(ApiRequest req, ResponderPtr responder) {
  auto call = std::make_shared<Call>(*this);
  call->responder = std::move(responder);
  call->request_id = std::move(req.request_id);
  call->method = std::move(req.method);
  call->start = d_.clock.steady();
  call->in_flight_gauge = d_.metrics.track_in_flight();
  const KnownHeaders headers = find_known_headers(req);
  call->span = d_.tracer.extract_or_start_span(
      server_span_options(), [&req](std::string_view name) { return req.header(name); });
  Span& span = call->span;
  if (span.is_recording()) {
    span.set_tag("span.kind", "server");
    span.set_tag("component", "pistache");
    span.set_tag("http.method", call->method);
    span.set_tag("http.route", kTokenizeRoute);
    // The URL without its query string (which is never read anyway).
    const std::string_view host = headers.host.value_or("localhost");
    std::string url;
    url.reserve(d_.url_scheme.size() + 3 + host.size() + sizeof kTokenizeRoute);
    url.append(d_.url_scheme).append("://").append(host).append(kTokenizeRoute);
    span.set_tag("http.url", url);
    span.set_tag("request_id", call->request_id);
    if (headers.user_agent) span.set_tag("http.useragent", *headers.user_agent);
  }

  auto fail = [&](ApiErrorCode code, const std::string& message = {},
                  std::vector<std::pair<std::string, std::string>> extra_headers = {}) {
    ApiResponse r = make_error(code, call->request_id, message);
    r.headers = std::move(extra_headers);
    finish(*call, std::move(r), api_error_code_name(code));
  };

  // 1. Size: the body is refused before anything looks at it; the connection is closed so
  //    whatever else the client streams is never parsed as further requests.
  if (req.body.size() > d_.max_body_bytes) {
    ApiResponse r = make_error(ApiErrorCode::payload_too_large, call->request_id,
                               "The request body exceeds " + std::to_string(d_.max_body_bytes) +
                                   " bytes.");
    r.close_connection = true;
    finish(*call, std::move(r), "payload_too_large");
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
    auto client = d_.authenticator.authenticate(headers.authorization);
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
  if (!is_json_content_type(headers.content_type)) {
    fail(ApiErrorCode::unsupported_media_type);
    return;
  }
  {
    Span validate = span.create_child(validate_span_options());
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
      finish(*call, make_error(code, call->request_id, f.message, errors),
             api_error_code_name(code));
      return;
    }
    call->card = std::move(parsed).take_payment_method();
    validate.set_tag("card.brand", brand_name(call->card.brand));
  }
  span.set_tag("card.brand", brand_name(call->card.brand));

  std::optional<std::string> idempotency_key;
  if (auto raw = headers.idempotency_key) {
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
    Span lookup = span.create_child(idempotency_span_options());
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
        const std::string_view code = r.status == 200 ? "" : "card_rejected";
        finish(*call, std::move(r), code);
        return;
      }
    }
  }

  d_.executor.execute(std::shared_ptr<RetryCall>(std::move(call)));
}

void TokenizeHandler::start_attempt(Call& call, const AttemptContext& ctx, AttemptCallback report) {
  call.attempts = ctx.attempt_number;
  call.attempt_span = call.span.create_child(vault_span_options());
  Span& client_span = call.attempt_span;
  AttemptOptions options;
  options.timeout = ctx.attempt_timeout;
  if (client_span.is_recording()) {
    client_span.set_tag("span.kind", "client");
    client_span.set_tag("component", "libcurl");
    client_span.set_tag("peer.service", "vault");
    client_span.set_tag("out.host", d_.vault_host);
    client_span.set_tag("out.port", vault_port_text_);
    client_span.set_tag("http.method", "POST");
    client_span.set_metric("retry.attempt", ctx.attempt_number);
    if (!ctx.retry_reason.empty()) client_span.set_tag("retry.reason", ctx.retry_reason);
    if (d_.breaker_state) client_span.set_tag("circuit_breaker.state", d_.breaker_state());
    options.extra_headers.reserve(kVaultExtraHeaders);
  }
  options.extra_headers.emplace_back("X-Request-Id", call.request_id);
  client_span.inject([&options](std::string_view name, std::string_view value) {
    options.extra_headers.emplace_back(std::string(name), std::string(value));
  });
  const int attempt_number = ctx.attempt_number;
  // `report` holds the execution's state, which holds the Call: `c` outlives this callback.
  Call* c = &call;
  d_.vault.create_payment_method(
      call.card, std::move(options),
      [this, c, attempt_number, report = std::move(report)](VaultAttempt a) {
        Span& span = c->attempt_span;
        const bool failed = a.outcome != VaultOutcome::success && a.outcome != VaultOutcome::rejected;
        if (failed) {
          // `detail` is transport/status text only (never request data): it is what tells
          // an operator why, e.g. which certificate check failed.
          d_.logger.log_event(LogLevel::warn, "vault attempt failed",
                              {{"request_id", c->request_id},
                               {"attempt", attempt_number},
                               {"outcome", outcome_name(a.outcome)},
                               {"http_status", a.http_status},
                               {"detail", a.detail}},
                              LogCorrelation{span.trace_id_low(), span.span_id()});
        }
        const double secs = std::chrono::duration<double>(a.elapsed).count();
        d_.metrics.observe_upstream_attempt(metrics_outcome(a.outcome), secs);
        if (span.is_recording()) {
          if (a.http_status > 0) span.set_tag("http.status_code", std::to_string(a.http_status));
          span.set_tag("vault.outcome", outcome_name(a.outcome));
          if (failed) span.set_error(outcome_name(a.outcome), "vault attempt failed");
        }
        span.finish();
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
}

void TokenizeHandler::complete(Call& call, ExecutionResult result) {
  call.attempts = std::max(call.attempts, result.attempts);
  if (result.outcome == ExecutionOutcome::budget_exhausted) {
    d_.metrics.count_retry_budget_exhausted();
  }
  call.span.set_tag("upstream.outcome", execution_outcome_name(result.outcome));
  TokenizeReply reply = map_execution(result, call.card, call.request_id, d_.clock.wall());
  d_.metrics.count_tokenization(brand_name(call.card.brand), reply.result);
  if (call.reservation) {
    // Final outcomes are stored before the client hears them, so its retry replays.
    // Transient failures release the key so the client can try again.
    Expected<FinishResult> stored =
        reply.final_outcome
            ? d_.idempotency.complete(*call.reservation,
                                      StoredResponse{reply.response.status, reply.response.body,
                                                     d_.clock.wall()})
            : d_.idempotency.abandon(*call.reservation);
    if (!stored) {
      d_.logger.warn("idempotency store error", {{"request_id", call.request_id},
                                                 {"error", stored.error().message}});
    }
  }
  finish(call, std::move(reply.response), reply.error_code);
}

}  // namespace tokenizer
