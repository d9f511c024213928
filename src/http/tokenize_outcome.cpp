#include "http/tokenize_outcome.h"

#include <ctime>
#include <limits>

#include "common/json_writer.h"
#include "http/api_error.h"

namespace tokenizer {
namespace {

std::string retry_after_seconds(std::optional<std::chrono::milliseconds> d) {
  long long s = 1;
  if (d) s = std::max<long long>(1, (d->count() + 999) / 1000);
  return std::to_string(s);
}

ApiResponse with_retry_after(ApiResponse r, std::optional<std::chrono::milliseconds> d) {
  r.headers.emplace_back("Retry-After", retry_after_seconds(d));
  return r;
}

std::string vault_field(const std::string& attribute) {
  if (attribute.empty()) return "payment_method";
  if (attribute == "number") return "payment_method.card_number";
  if (attribute == "verification_value") return "payment_method.cvv";
  return "payment_method." + attribute;
}

TokenizeReply error_reply(ApiErrorCode code, Metrics::TokenizationResult result,
                          const std::string& request_id) {
  TokenizeReply r;
  r.response = make_error(code, request_id);
  r.error_code = api_error_code_name(code);
  r.result = result;
  return r;
}

// The 200 body, written directly (a DOM and dump() took ten times as long). The bytes are
// the ones nlohmann::json::dump() wrote before: keys sorted as its std::map kept them.
std::string success_body(const VaultAttempt& attempt, const PaymentMethod& card,
                         const std::string& request_id, std::chrono::system_clock::time_point now) {
  std::string body;
  body.reserve(192 + attempt.token.size() + request_id.size());
  body.append(R"({"card":{"brand":)");
  append_json_string(body, brand_name(card.brand));
  body.append(R"(,"expiry_month":)");
  append_json_int(body, card.month);
  body.append(R"(,"expiry_year":)");
  append_json_int(body, card.year);
  body.append(R"(,"first_six":)");
  append_json_string(body, card.first_six());
  body.append(R"(,"last_four":)");
  append_json_string(body, card.last_four());
  body.append(R"(},"created_at":)");
  append_json_string(body, format_rfc3339(now));
  body.append(R"(,"payment_method_token":)");
  append_json_string(body, attempt.token);
  body.append(R"(,"request_id":)");
  append_json_string(body, request_id);
  body.append(R"(,"status":"success"})");
  return body;
}

}  // namespace

AttemptClass classify_attempt(const VaultAttempt& a) {
  if (a.transport_error && *a.transport_error == TransportError::Kind::cancelled) {
    return AttemptClass::fatal;  // shutting down: stop, never retry
  }
  switch (a.outcome) {
    case VaultOutcome::success: return AttemptClass::success;
    case VaultOutcome::rejected: return AttemptClass::rejected;
    case VaultOutcome::throttled: return AttemptClass::throttled;
    case VaultOutcome::server_error: return AttemptClass::server_error;
    case VaultOutcome::timeout: return AttemptClass::timeout;
    case VaultOutcome::connect_error: return AttemptClass::connect_failed;
    case VaultOutcome::reset:
      return a.request_sent ? AttemptClass::reset_after_send : AttemptClass::reset_before_send;
    case VaultOutcome::auth_failed:
    case VaultOutcome::bad_response:
    case VaultOutcome::tls_error:
      return AttemptClass::fatal;
  }
  return AttemptClass::fatal;
}

Metrics::UpstreamOutcome metrics_outcome(VaultOutcome o) {
  using M = Metrics::UpstreamOutcome;
  switch (o) {
    case VaultOutcome::success: return M::success;
    case VaultOutcome::rejected: return M::rejected;
    case VaultOutcome::auth_failed: return M::auth_failed;
    case VaultOutcome::throttled: return M::throttled;
    case VaultOutcome::server_error: return M::server_error;
    case VaultOutcome::bad_response: return M::bad_response;
    case VaultOutcome::timeout: return M::timeout;
    case VaultOutcome::connect_error: return M::connect_error;
    case VaultOutcome::reset: return M::reset;
    case VaultOutcome::tls_error: return M::tls_error;
  }
  return M::bad_response;
}

std::string format_rfc3339(std::chrono::system_clock::time_point t) {
  // Every 200 body carries one: formatted once per second on each thread (gmtime_r and
  // strftime cost about 1.2 k instructions), not once per reply.
  thread_local std::time_t cached_second = std::numeric_limits<std::time_t>::min();
  thread_local char cached[32] = "";
  const std::time_t tt = std::chrono::system_clock::to_time_t(t);
  if (tt != cached_second) {
    std::tm tm{};
    gmtime_r(&tt, &tm);
    if (std::strftime(cached, sizeof cached, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) cached[0] = '\0';
    cached_second = tt;
  }
  return cached;
}

TokenizeReply map_execution(const ExecutionResult& result, const PaymentMethod& card,
                            const std::string& request_id,
                            std::chrono::system_clock::time_point now) {
  using R = Metrics::TokenizationResult;
  if (result.outcome == ExecutionOutcome::breaker_open) {
    auto r = error_reply(ApiErrorCode::upstream_unavailable, R::upstream_unavailable, request_id);
    r.response = with_retry_after(std::move(r.response), result.retry_after);
    return r;
  }
  const VaultAttempt* last = nullptr;
  if (result.last && result.last->payload) {
    last = static_cast<const VaultAttempt*>(result.last->payload.get());
  }
  if (last == nullptr) {
    return error_reply(ApiErrorCode::upstream_timeout, R::upstream_timeout, request_id);
  }
  switch (last->outcome) {
    case VaultOutcome::success: {
      if (result.outcome != ExecutionOutcome::completed) break;
      TokenizeReply r;
      r.response.status = 200;
      r.response.body = success_body(*last, card, request_id, now);
      r.final_outcome = true;
      return r;
    }
    case VaultOutcome::rejected: {
      std::vector<FieldErrorBody> errors;
      for (const auto& rej : last->rejections) {
        errors.push_back({vault_field(rej.attribute), rej.key.empty() ? "rejected" : rej.key,
                          rej.message.empty() ? "Rejected by the vault." : rej.message});
      }
      TokenizeReply r;
      r.response = make_error(ApiErrorCode::card_rejected, request_id, {}, errors);
      r.error_code = "card_rejected";
      r.result = R::card_rejected;
      r.final_outcome = true;
      return r;
    }
    case VaultOutcome::auth_failed:
      return error_reply(ApiErrorCode::upstream_auth_failed, R::upstream_auth_failed, request_id);
    case VaultOutcome::throttled: {
      auto r = error_reply(ApiErrorCode::upstream_unavailable, R::upstream_unavailable, request_id);
      r.response = with_retry_after(std::move(r.response),
                                    result.retry_after ? result.retry_after : last->retry_after);
      return r;
    }
    case VaultOutcome::connect_error: {
      if (result.outcome == ExecutionOutcome::deadline_exceeded) break;
      auto r = error_reply(ApiErrorCode::upstream_unavailable, R::upstream_unavailable, request_id);
      r.response = with_retry_after(std::move(r.response), std::nullopt);
      return r;
    }
    case VaultOutcome::timeout:
      break;
    case VaultOutcome::reset:
      if (!last->request_sent && result.outcome != ExecutionOutcome::deadline_exceeded) {
        // Like a connect failure: nothing reached the vault, the client may retry shortly.
        auto r =
            error_reply(ApiErrorCode::upstream_unavailable, R::upstream_unavailable, request_id);
        r.response = with_retry_after(std::move(r.response), std::nullopt);
        return r;
      }
      [[fallthrough]];
    case VaultOutcome::server_error:
    case VaultOutcome::bad_response:
    case VaultOutcome::tls_error:
      if (result.outcome == ExecutionOutcome::deadline_exceeded) break;
      return error_reply(ApiErrorCode::upstream_error, R::upstream_error, request_id);
  }
  return error_reply(ApiErrorCode::upstream_timeout, R::upstream_timeout, request_id);
}

}  // namespace tokenizer
