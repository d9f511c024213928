#include "http/router.h"

#include <nlohmann/json.hpp>

#include "http/api_error.h"

namespace tokenizer {

Router::Router(TokenizeHandler& tokenize, Metrics& metrics, Logger& logger,
               ComponentStates components, bool access_log)
    : tokenize_(tokenize),
      metrics_(metrics),
      logger_(logger),
      components_(std::move(components)),
      access_log_(access_log) {}

void Router::answer_untracked(ApiRequest& request, ResponderPtr& responder, ApiResponse response,
                              const std::string& error_code) {
  // 404/405 and shutting_down are API traffic too (route "unmatched" or the API route).
  const char* route = request.path == kTokenizeRoute ? kTokenizeRoute : "unmatched";
  metrics_.observe_http_request(request.method, route, response.status, 0.0);
  if (access_log_) {
    logger_.log_access(AccessRecord{request.request_id, request.method, route, response.status,
                                    0.0, 0, "", error_code, {}});
  }
  responder->send(std::move(response));
}

void Router::dispatch(ApiRequest request, ResponderPtr responder) {
  const std::string& path = request.path;
  const std::string& method = request.method;
  const bool get = method == "GET" || method == "HEAD";

  if (path == "/healthz" || path == "/readyz" || path == "/metrics") {
    if (!get) {
      ApiResponse r = make_error(ApiErrorCode::method_not_allowed, request.request_id);
      r.headers.emplace_back("Allow", "GET, HEAD");
      responder->send(std::move(r));
      return;
    }
    ApiResponse r;
    if (path == "/healthz") {
      r.body = R"({"status":"ok"})";
    } else if (path == "/readyz") {
      const Lifecycle state = lifecycle();
      nlohmann::json body;
      body["status"] = state == Lifecycle::ready      ? "ready"
                       : state == Lifecycle::starting ? "starting"
                                                      : "draining";
      auto& comps = body["components"] = nlohmann::json::object();
      if (components_) {
        for (const auto& [k, v] : components_()) comps[k] = v;
      }
      r.status = state == Lifecycle::ready ? 200 : 503;
      r.body = body.dump();
    } else {
      r.body = metrics_.serialize();
      r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    }
    responder->send(std::move(r));
    return;
  }

  if (path == kTokenizeRoute) {
    if (method != "POST") {
      ApiResponse r = make_error(ApiErrorCode::method_not_allowed, request.request_id);
      r.headers.emplace_back("Allow", "POST");
      answer_untracked(request, responder, std::move(r), "method_not_allowed");
      return;
    }
    if (lifecycle() == Lifecycle::draining) {
      ApiResponse r = make_error(ApiErrorCode::shutting_down, request.request_id);
      r.close_connection = true;
      r.headers.emplace_back("Retry-After", "1");
      answer_untracked(request, responder, std::move(r), "shutting_down");
      return;
    }
    tokenize_.handle(std::move(request), std::move(responder));
    return;
  }

  answer_untracked(request, responder, make_error(ApiErrorCode::not_found, request.request_id),
                   "not_found");
}

}  // namespace tokenizer
