// ApiError: the service's error vocabulary — one stable machine code per situation, its
// HTTP status, and the JSON body every error carries:
//   {"error": "<human message>", "code": "<stable code>", "request_id": "…",
//    "errors": [{"field", "code", "message"}]   // validation failures only
//   }
// Messages are fixed texts or built from sanitized parts: never a card number, a CVV or
// internal exception text. Codes are part of the API contract; never rename one.
#pragma once

#include <string>
#include <vector>

#include "http/http_types.h"

namespace tokenizer {

enum class ApiErrorCode {
  unauthorized,            // 401
  malformed_json,          // 400
  invalid_request,         // 400
  invalid_idempotency_key, // 400
  not_found,               // 404
  method_not_allowed,      // 405
  idempotency_key_in_use,  // 409
  payload_too_large,       // 413
  unsupported_media_type,  // 415
  validation_failed,       // 422
  card_rejected,           // 422
  idempotency_key_reused,  // 422
  rate_limited,            // 429
  internal_error,          // 500
  upstream_error,          // 502
  upstream_auth_failed,    // 502
  upstream_unavailable,    // 503
  overloaded,              // 503
  idempotency_unavailable, // 503
  shutting_down,           // 503
  upstream_timeout,        // 504
};

struct FieldErrorBody {
  std::string field;
  std::string code;
  std::string message;
};

const char* api_error_code_name(ApiErrorCode code);
int api_error_status(ApiErrorCode code);
// The default human message for a code.
const char* api_error_default_message(ApiErrorCode code);

// Builds the full error response (status, JSON body). `message` empty → default message.
ApiResponse make_error(ApiErrorCode code, const std::string& request_id,
                       const std::string& message = {},
                       const std::vector<FieldErrorBody>& errors = {});

}  // namespace tokenizer
