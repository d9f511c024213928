// ApiRequest / ApiResponse / Responder: the HTTP layer's own request and reply types.
//
// The Pistache adapter (server.h) copies everything a handler needs out of Pistache's
// request into an ApiRequest before the handler runs (a Pistache request must not be
// used after onRequest returns), and hands the handler a Responder that may be called
// once, from any thread, possibly long after the handler returned. Handlers therefore
// never see Pistache types and are unit-tested with tests/fakes/fake_responder.h.
#pragma once

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tokenizer {

struct ApiRequest {
  std::string method;  // upper case
  std::string path;    // without query string
  std::string query;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
  std::string peer_address;  // client IP, for per-address limits
  std::string request_id;    // set by the server before dispatch

  // First header with this lower-case name.
  std::optional<std::string_view> header(std::string_view lower_name) const {
    for (const auto& [k, v] : headers) {
      if (k == lower_name) return std::string_view(v);
    }
    return std::nullopt;
  }
};

struct ApiResponse {
  int status = 200;
  std::string body;
  std::string content_type;  // empty = application/json
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers
  bool close_connection = false;  // ask the client to reconnect (e.g. after a 413)
};

class Responder {
 public:
  virtual ~Responder() = default;
  // Sends the reply. Call exactly once; later calls are ignored. Thread-safe.
  virtual void send(ApiResponse response) = 0;
};

using ResponderPtr = std::shared_ptr<Responder>;

}  // namespace tokenizer
