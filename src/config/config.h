// Config: every setting of the `tokenizer` service, parsed once at start-up and validated.
//
// `parse_config(argc, argv)` reads flags with CLI11; each flag also reads the environment
// variable TOKENIZER_<FLAG_IN_UPPER_SNAKE> (e.g. --upstream-timeout-ms ←
// TOKENIZER_UPSTREAM_TIMEOUT_MS). It returns a `Config` only when every value is valid;
// otherwise one line naming the setting (main prints it and exits with status 2).
// `Config` is a plain value: components receive the parts they need by const reference.
// `describe(config)` renders it for the start-up log with every secret redacted.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/expected.h"

namespace tokenizer {

struct ListenAddress {
  std::string host;  // numeric IPv4/IPv6 or "localhost"
  std::uint16_t port = 0;
  std::string to_string() const;
};

struct ClientCredential {
  std::string user;
  // Exactly one of the two is set: a plain-text password (demo only, warned about at
  // start-up) or a password hash line in the format of http/password_hash.h.
  std::string password;
  std::string password_hash;
};

enum class LogFormat { json, text };

struct RetryConfig {
  int max_attempts = 3;
  std::chrono::milliseconds base_delay{25};
  std::chrono::milliseconds max_delay{1000};
  int budget_percent = 20;
  int budget_min_retries = 10;  // floor per budget window, so low traffic can still retry
  bool retry_on_server_error = false;
  bool retry_on_timeout = false;
};

struct BreakerConfig {
  std::chrono::milliseconds window{10000};
  int min_calls = 20;
  int failure_rate_percent = 50;
  std::chrono::milliseconds slow_call_duration{2000};
  int slow_call_rate_percent = 80;
  std::chrono::milliseconds open_duration{5000};
  int half_open_probes = 3;
};

struct Config {
  ListenAddress listen;
  int threads = 2;
  std::size_t max_body_bytes = 16 * 1024;
  std::chrono::milliseconds drain_timeout{10000};
  std::optional<std::string> tls_cert;  // serve HTTPS when both are set
  std::optional<std::string> tls_key;

  // Clients of this service (HTTP Basic).
  std::vector<ClientCredential> clients;
  bool allow_unauthenticated = false;
  double client_rate_limit = 0;  // requests/s per client; 0 = off
  int client_rate_burst = 20;
  double auth_failure_rate = 1;  // failed authentications/s per source address
  int auth_failure_burst = 10;

  // The vault.
  std::string upstream_url;  // scheme://host[:port], no trailing slash
  std::string upstream_key;
  std::string upstream_secret;
  std::optional<std::string> upstream_ca_file;
  std::chrono::milliseconds upstream_timeout{5000};          // overall, every attempt included
  std::chrono::milliseconds upstream_attempt_timeout{2000};  // per attempt
  std::chrono::milliseconds upstream_connect_timeout{1000};
  int upstream_max_connections = 2048;
  // Event-loop threads of the vault client (each with its share of the connections).
  int upstream_threads = 2;

  RetryConfig retry;
  BreakerConfig breaker;

  // Idempotency keys.
  std::string idempotency_store = "memory";  // "memory" or redis://host:port/db
  std::chrono::seconds idempotency_ttl{86400};
  std::size_t idempotency_max_entries = 100000;
  std::string idempotency_secret;  // HMAC key for request fingerprints (shared across instances)

  // Load shedding.
  int max_in_flight = 4096;

  // Telemetry.
  std::string log_level = "info";
  LogFormat log_format = LogFormat::json;
  bool access_log = true;
};

struct ConfigResult {
  enum class Kind { ok, help, error };
  Kind kind = Kind::error;
  Config config;        // when ok
  std::string message;  // help text, or the one-line error
};

ConfigResult parse_config(int argc, const char* const* argv);

// One line per setting, secrets redacted, for the start-up log (as JSON object fields).
std::vector<std::pair<std::string, std::string>> describe(const Config& config);

// Parses "HOST:PORT", "[v6]:PORT" (port 0..65535).
Expected<ListenAddress> parse_listen_address(const std::string& text);

}  // namespace tokenizer
