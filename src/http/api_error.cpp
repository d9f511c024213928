#include "http/api_error.h"

#include <nlohmann/json.hpp>

namespace tokenizer {
namespace {

struct Entry {
  const char* name;
  int status;
  const char* message;
};

Entry entry(ApiErrorCode code) {
  switch (code) {
    case ApiErrorCode::unauthorized:
      return {"unauthorized", 401, "Missing or invalid client credentials."};
    case ApiErrorCode::malformed_json:
      return {"malformed_json", 400, "The request body is not valid JSON."};
    case ApiErrorCode::invalid_request:
      return {"invalid_request", 400, "The request must contain a payment_method object."};
    case ApiErrorCode::invalid_idempotency_key:
      return {"invalid_idempotency_key", 400,
              "Idempotency-Key must be 1 to 255 printable ASCII characters."};
    case ApiErrorCode::not_found:
      return {"not_found", 404, "No such resource."};
    case ApiErrorCode::method_not_allowed:
      return {"method_not_allowed", 405, "This method is not allowed on this resource."};
    case ApiErrorCode::idempotency_key_in_use:
      return {"idempotency_key_in_use", 409,
              "A request with this Idempotency-Key is still being processed; retry later."};
    case ApiErrorCode::payload_too_large:
      return {"payload_too_large", 413, "The request body is too large."};
    case ApiErrorCode::unsupported_media_type:
      return {"unsupported_media_type", 415, "Content-Type must be application/json."};
    case ApiErrorCode::validation_failed:
      return {"validation_failed", 422, "The payment method is invalid."};
    case ApiErrorCode::card_rejected:
      return {"card_rejected", 422, "The vault rejected the card."};
    case ApiErrorCode::idempotency_key_reused:
      return {"idempotency_key_reused", 422,
              "This Idempotency-Key was already used with a different request."};
    case ApiErrorCode::rate_limited:
      return {"rate_limited", 429, "Too many requests; slow down."};
    case ApiErrorCode::internal_error:
      return {"internal_error", 500, "Internal error."};
    case ApiErrorCode::upstream_error:
      return {"upstream_error", 502, "The vault failed to process the request."};
    case ApiErrorCode::upstream_auth_failed:
      return {"upstream_auth_failed", 502, "The vault refused this service's credentials."};
    case ApiErrorCode::upstream_unavailable:
      return {"upstream_unavailable", 503, "The vault is unavailable; retry later."};
    case ApiErrorCode::overloaded:
      return {"overloaded", 503, "The service is overloaded; retry later."};
    case ApiErrorCode::idempotency_unavailable:
      return {"idempotency_unavailable", 503,
              "Idempotency keys cannot be checked right now; retry later."};
    case ApiErrorCode::shutting_down:
      return {"shutting_down", 503, "The service is shutting down; retry on another instance."};
    case ApiErrorCode::upstream_timeout:
      return {"upstream_timeout", 504, "The vault did not answer in time."};
  }
  return {"internal_error", 500, "Internal error."};
}

}  // namespace

const char* api_error_code_name(ApiErrorCode code) { return entry(code).name; }
int api_error_status(ApiErrorCode code) { return entry(code).status; }
const char* api_error_default_message(ApiErrorCode code) { return entry(code).message; }

ApiResponse make_error(ApiErrorCode code, const std::string& request_id,
                       const std::string& message, const std::vector<FieldErrorBody>& errors) {
  const Entry e = entry(code);
  nlohmann::json body = {
      {"error", message.empty() ? std::string(e.message) : message},
      {"code", e.name},
      {"request_id", request_id},
  };
  if (!errors.empty()) {
    auto& list = body["errors"] = nlohmann::json::array();
    for (const auto& fe : errors) {
      list.push_back({{"field", fe.field}, {"code", fe.code}, {"message", fe.message}});
    }
  }
  ApiResponse r;
  r.status = e.status;
  // `replace`: a stray invalid byte can never make dump() throw.
  r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

}  // namespace tokenizer
