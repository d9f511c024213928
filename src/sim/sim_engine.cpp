#include "sim/sim_engine.h"

#include <cctype>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <nlohmann/json.hpp>

#include "sim/test_cards.h"
#include "sim/vault_request.h"

namespace tokenizer {
namespace {

using nlohmann::json;

constexpr std::string_view kVaultPrefix = "/v1/";
constexpr std::string_view kCreatePath = "/v1/payment_methods.json";

// Header values come from the wire and may hold invalid UTF-8: never let dump() throw.
std::string dump(const json& doc) {
  return doc.dump(-1, ' ', false, json::error_handler_t::replace);
}

SimReply json_reply(int status, std::string body) {
  SimReply reply;
  reply.status = status;
  reply.body = std::move(body);
  return reply;
}

SimReply method_not_allowed(const char* allow) {
  SimReply reply =
      json_reply(405, VaultReplyBuilder::error("errors.method_not_allowed", "Method not allowed"));
  reply.headers.emplace_back("Allow", allow);
  return reply;
}

SimReply not_found() {
  return json_reply(
      404, VaultReplyBuilder::error("errors.not_found", "Unable to find the specified resource."));
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  }
  return true;
}

// Standard base64 (with padding) to bytes; false on malformed input.
bool decode_base64(std::string_view in, std::string& out) {
  if (in.empty() || in.size() % 4 != 0 || in.size() > 4096) return false;
  out.assign(in.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(in.data()),
                                static_cast<int>(in.size()));
  if (n < 0) return false;
  std::size_t len = static_cast<std::size_t>(n);
  if (in[in.size() - 1] == '=') --len;
  if (in[in.size() - 2] == '=') --len;
  out.resize(len);
  return true;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace

const std::string* SimRequest::header(std::string_view lowercase_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lowercase_name) return &value;
  }
  return nullptr;
}

SimEngine::SimEngine(SimCredentials credentials, const Clock& clock, Random& random,
                     FaultConfig faults)
    : credentials_(std::move(credentials)), clock_(clock), random_(random), faults_(faults) {}

void SimEngine::set_faults(const FaultConfig& faults) {
  std::lock_guard<std::mutex> lock(faults_mutex_);
  faults_ = faults;
}

FaultConfig SimEngine::faults() const {
  std::lock_guard<std::mutex> lock(faults_mutex_);
  return faults_;
}

bool SimEngine::draw_fault(double error_rate) {
  if (error_rate >= 1.0) return true;
  if (error_rate <= 0.0) return false;
  std::lock_guard<std::mutex> lock(random_mutex_);
  return random_.next_unit() < error_rate;
}

bool SimEngine::authorized(const SimRequest& request) const {
  const std::string* value = request.header("authorization");
  if (value == nullptr) return false;
  std::string_view v = *value;
  const auto space = v.find(' ');
  if (space == std::string_view::npos || !iequals(v.substr(0, space), "basic")) return false;
  v.remove_prefix(space);
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
  std::string decoded;
  if (!decode_base64(v, decoded)) return false;
  const std::string expected = credentials_.environment_key + ":" + credentials_.access_secret;
  const bool ok = constant_time_equal(decoded, expected);
  OPENSSL_cleanse(decoded.data(), decoded.size());
  return ok;
}

Plan SimEngine::handle(const SimRequest& request) {
  const std::string_view path = request.path;
  if (path.substr(0, kVaultPrefix.size()) == kVaultPrefix) return handle_vault(request);

  Plan plan;
  const std::string& method = request.method;
  if (path == "/__sim/faults") return handle_faults(request);
  if (path == "/__sim/stats") {
    plan.reply =
        method == "GET" ? json_reply(200, dump(stats_.stats_json())) : method_not_allowed("GET");
  } else if (path == "/__sim/requests") {
    if (method == "GET") {
      plan.reply = json_reply(200, dump(stats_.requests_json()));
    } else if (method == "DELETE") {
      stats_.clear_request_log();
      plan.reply = json_reply(200, dump(stats_.requests_json()));
    } else {
      plan.reply = method_not_allowed("GET, DELETE");
    }
  } else if (path == "/__sim/cards") {
    plan.reply =
        method == "GET" ? json_reply(200, dump(test_cards_json())) : method_not_allowed("GET");
  } else if (path == "/metrics") {
    if (method == "GET") {
      plan.reply.status = 200;
      plan.reply.content_type = "text/plain; version=0.0.4";
      plan.reply.body = stats_.metrics_text();
    } else {
      plan.reply = method_not_allowed("GET");
    }
  } else if (path == "/healthz") {
    plan.reply =
        method == "GET" ? json_reply(200, R"({"status":"ok"})") : method_not_allowed("GET");
  } else {
    plan.reply = not_found();
  }
  return plan;
}

Plan SimEngine::handle_faults(const SimRequest& request) {
  Plan plan;
  if (request.method == "GET") {
    plan.reply = json_reply(200, dump(fault_config_to_json(faults())));
  } else if (request.method == "POST" || request.method == "PUT") {
    auto parsed = parse_fault_config(request.body);
    if (!parsed) {
      plan.reply = json_reply(
          400, VaultReplyBuilder::error("errors.invalid_faults", parsed.error().message));
    } else {
      set_faults(*parsed);
      plan.reply = json_reply(200, dump(fault_config_to_json(*parsed)));
    }
  } else if (request.method == "DELETE") {
    set_faults(FaultConfig{});
    plan.reply = json_reply(200, dump(fault_config_to_json(FaultConfig{})));
  } else {
    plan.reply = method_not_allowed("GET, POST, DELETE");
  }
  return plan;
}

Plan SimEngine::handle_vault(const SimRequest& request) {
  LoggedRequest logged{request.method, request.path, request.headers};
  stats_.log_request(std::move(logged));

  const FaultConfig faults = this->faults();
  Plan plan;
  plan.vault_api = true;
  plan.delay = faults.latency;

  // 1. Injected faults come first: a broken vault (or what stands in front of it) answers
  //    before it looks at credentials or the card.
  if (faults.injects_errors() && draw_fault(faults.error_rate)) {
    if (faults.status) {
      plan.reply = json_reply(*faults.status, VaultReplyBuilder::injected_error(*faults.status));
      if (faults.retry_after_seconds) {
        plan.reply.headers.emplace_back("Retry-After", std::to_string(*faults.retry_after_seconds));
      }
      stats_.record(*faults.status, InjectedFault::kStatus);
      return plan;
    }
    switch (faults.mode) {
      case FaultMode::kReset:
        plan.action = PlanAction::kReset;
        stats_.record(kOutcomeReset, InjectedFault::kReset);
        return plan;
      case FaultMode::kGarbage:
        plan.reply.status = 201;
        plan.reply.body = VaultReplyBuilder::garbage();
        stats_.record(201, InjectedFault::kGarbage);
        return plan;
      case FaultMode::kHang:
        plan.action = PlanAction::kHang;
        plan.delay = std::chrono::milliseconds(0);
        stats_.record(kOutcomeHang, InjectedFault::kHang);
        return plan;
      case FaultMode::kNone:
        break;
    }
  }

  // 2. The vault's own answers.
  const auto finish = [&](SimReply reply) {
    stats_.record(reply.status, InjectedFault::kNone);
    plan.reply = std::move(reply);
    return std::move(plan);
  };
  if (request.path != kCreatePath) return finish(not_found());
  if (request.method != "POST") return finish(method_not_allowed("POST"));
  if (!authorized(request)) {
    SimReply reply = json_reply(
        401, VaultReplyBuilder::error("errors.access_denied",
                                      "Unable to authenticate using the given environment_key and "
                                      "access_token.  Please check your credentials."));
    reply.headers.emplace_back("WWW-Authenticate", "Basic realm=\"upstream-sim\"");
    return finish(std::move(reply));
  }
  auto check = check_vault_request(request.body, clock_.wall());
  if (!check) {
    return finish(json_reply(400, VaultReplyBuilder::error("errors.invalid_json",
                                                           "The request body is not valid JSON.")));
  }
  if (!check->errors.empty())
    return finish(json_reply(422, VaultReplyBuilder::field_errors(check->errors)));

  if (const TestCard* card = find_test_card(check->card.number)) {
    if (card->hang) {
      plan.action = PlanAction::kHang;
      plan.delay = std::chrono::milliseconds(0);
      stats_.record(kOutcomeHang, InjectedFault::kNone);
      return plan;
    }
    plan.delay += card->extra_delay;
    if (!card->error_key.empty()) {
      SimReply reply;
      reply.status = card->status;
      reply.body = VaultReplyBuilder::field_errors(
          {FieldError{card->status == 422 ? "number" : "", std::string(card->error_key),
                      std::string(card->message)}});
      if (card->retry_after_seconds > 0) {
        reply.headers.emplace_back("Retry-After", std::to_string(card->retry_after_seconds));
      }
      return finish(std::move(reply));
    }
  }
  return finish(json_reply(201, replies_.success(check->card, clock_.wall())));
}

}  // namespace tokenizer
