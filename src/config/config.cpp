#include "config/config.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>
#include <thread>

namespace tokenizer {
namespace {

// Options exactly as given (strings where validation needs more than CLI11's type check).
struct RawOptions {
  std::string listen = "0.0.0.0:3000";
  int threads = 0;
  long long max_body_bytes = 16 * 1024;
  long long drain_timeout_ms = 10000;
  std::string tls_cert;
  std::string tls_key;
  std::string basic_auth;
  std::string basic_auth_file;
  bool allow_unauthenticated = false;
  double client_rate_limit = 0;
  int client_rate_burst = 20;
  double auth_failure_rate = 1;
  int auth_failure_burst = 10;
  std::string upstream_url = "https://core.spreedly.com";
  std::string upstream_key;
  std::string upstream_secret;
  std::string upstream_ca_file;
  long long upstream_timeout_ms = 5000;
  long long upstream_attempt_timeout_ms = 2000;
  long long upstream_connect_timeout_ms = 1000;
  int upstream_max_connections = 2048;
  int upstream_threads = 0;
  int retry_max_attempts = 3;
  long long retry_base_ms = 25;
  long long retry_max_delay_ms = 1000;
  int retry_budget_percent = 20;
  int retry_budget_min = 10;
  bool retry_on_server_error = false;
  bool retry_on_timeout = false;
  long long breaker_window_ms = 10000;
  int breaker_min_calls = 20;
  int breaker_failure_rate = 50;
  long long breaker_slow_call_ms = 2000;
  int breaker_slow_call_rate = 80;
  long long breaker_open_ms = 5000;
  int breaker_half_open_probes = 3;
  std::string idempotency_store = "memory";
  long long idempotency_ttl_s = 86400;
  long long idempotency_max_entries = 100000;
  std::string idempotency_secret;
  int max_in_flight = 4096;
  std::string log_level = "info";
  std::string log_format = "json";
  bool access_log = true;
};

std::string env_name(const std::string& flag) {
  std::string out = "TOKENIZER_";
  for (char c : flag.substr(2)) {
    out.push_back(c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  }
  return out;
}

template <typename T>
CLI::Option* opt(CLI::App& app, const std::string& flag, T& value, const std::string& help) {
  return app.add_option(flag, value, help)->envname(env_name(flag))->capture_default_str();
}

CLI::Option* secret(CLI::App& app, const std::string& flag, std::string& value,
                    const std::string& help) {
  // No capture_default_str: --help must never print a secret taken from the environment.
  return app.add_option(flag, value, help)->envname(env_name(flag));
}

CLI::Option* flag(CLI::App& app, const std::string& name, bool& value, const std::string& help) {
  return app.add_flag(name, value, help)->envname(env_name(name));
}

struct Invalid {
  std::string message;
};

void require(bool ok, const std::string& flag, const std::string& why) {
  if (!ok) throw Invalid{"invalid " + flag + ": " + why};
}

void range(long long v, long long lo, long long hi, const std::string& flag) {
  require(v >= lo && v <= hi, flag,
          "must be between " + std::to_string(lo) + " and " + std::to_string(hi) + " (got " +
              std::to_string(v) + ")");
}

bool is_loopback_host(const std::string& host) {
  return host == "localhost" || host == "::1" || host == "[::1]" || host.rfind("127.", 0) == 0;
}

std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

ClientCredential parse_credential(const std::string& entry, const std::string& flag) {
  const auto colon = entry.find(':');
  require(colon != std::string::npos && colon > 0 && colon + 1 < entry.size(), flag,
          "each entry must be user:password or user:<password hash>");
  ClientCredential c;
  c.user = entry.substr(0, colon);
  const std::string rest = entry.substr(colon + 1);
  for (char ch : c.user) {
    require(std::isprint(static_cast<unsigned char>(ch)) != 0, flag,
            "user names must be printable ASCII");
  }
  if (rest.rfind("pbkdf2-sha256$", 0) == 0) {
    c.password_hash = rest;
  } else {
    c.password = rest;
  }
  return c;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  std::istringstream in(s);
  while (std::getline(in, cur, sep)) out.push_back(cur);
  return out;
}

Config finalize(const RawOptions& raw) {
  Config c;
  auto listen = parse_listen_address(raw.listen);
  require(listen.has_value(), "--listen", listen ? "" : listen.error().message);
  c.listen = *listen;

  const int hw = static_cast<int>(std::max(2u, std::thread::hardware_concurrency()));
  c.threads = raw.threads == 0 ? hw : raw.threads;
  range(c.threads, 1, 256, "--threads");
  range(raw.max_body_bytes, 256, 1024 * 1024, "--max-body-bytes");
  c.max_body_bytes = static_cast<std::size_t>(raw.max_body_bytes);
  range(raw.drain_timeout_ms, 0, 600000, "--drain-timeout-ms");
  c.drain_timeout = std::chrono::milliseconds(raw.drain_timeout_ms);
  require(raw.tls_cert.empty() == raw.tls_key.empty(), "--tls-cert",
          "--tls-cert and --tls-key must be given together");
  if (!raw.tls_cert.empty()) {
    require(std::ifstream(raw.tls_cert).good(), "--tls-cert", "file cannot be read");
    require(std::ifstream(raw.tls_key).good(), "--tls-key", "file cannot be read");
    c.tls_cert = raw.tls_cert;
    c.tls_key = raw.tls_key;
  }

  if (!raw.basic_auth.empty()) {
    for (const auto& e : split(raw.basic_auth, ',')) {
      if (trim(e).empty()) continue;
      c.clients.push_back(parse_credential(trim(e), "--basic-auth"));
    }
  }
  if (!raw.basic_auth_file.empty()) {
    std::ifstream in(raw.basic_auth_file);
    require(in.good(), "--basic-auth-file", "file cannot be read");
    std::string line;
    while (std::getline(in, line)) {
      line = trim(line);
      if (line.empty() || line[0] == '#') continue;
      c.clients.push_back(parse_credential(line, "--basic-auth-file"));
    }
  }
  for (std::size_t i = 0; i < c.clients.size(); ++i) {
    for (std::size_t j = i + 1; j < c.clients.size(); ++j) {
      require(c.clients[i].user != c.clients[j].user, "--basic-auth",
              "user '" + c.clients[i].user + "' is listed twice");
    }
  }
  c.allow_unauthenticated = raw.allow_unauthenticated;
  require(!c.clients.empty() || c.allow_unauthenticated, "--basic-auth",
          "no client credentials configured (give --basic-auth or --basic-auth-file, or "
          "--allow-unauthenticated to run without authentication)");
  require(raw.client_rate_limit >= 0 && raw.client_rate_limit <= 1e6, "--client-rate-limit",
          "must be between 0 (off) and 1000000 requests/s");
  c.client_rate_limit = raw.client_rate_limit;
  range(raw.client_rate_burst, 1, 1000000, "--client-rate-burst");
  c.client_rate_burst = raw.client_rate_burst;
  require(raw.auth_failure_rate > 0 && raw.auth_failure_rate <= 1e6, "--auth-failure-rate",
          "must be above 0 and at most 1000000 per second");
  c.auth_failure_rate = raw.auth_failure_rate;
  range(raw.auth_failure_burst, 1, 1000000, "--auth-failure-burst");
  c.auth_failure_burst = raw.auth_failure_burst;

  // Upstream URL: scheme://host[:port][/base], https required except on loopback.
  std::string url = raw.upstream_url;
  while (!url.empty() && url.back() == '/') url.pop_back();
  const auto scheme_end = url.find("://");
  require(scheme_end != std::string::npos, "--upstream-url", "must be an http(s):// URL");
  const std::string scheme = url.substr(0, scheme_end);
  require(scheme == "https" || scheme == "http", "--upstream-url", "scheme must be https or http");
  std::string authority = url.substr(scheme_end + 3);
  authority = authority.substr(0, authority.find('/'));
  require(!authority.empty(), "--upstream-url", "has no host");
  std::string host = authority;
  if (host[0] == '[') {
    host = host.substr(0, host.find(']') + 1);
  } else {
    host = host.substr(0, host.find(':'));
  }
  require(scheme == "https" || is_loopback_host(host), "--upstream-url",
          "plain http is allowed only to a loopback host (card data must travel over TLS)");
  c.upstream_url = url;
  require(!raw.upstream_key.empty(), "--upstream-key", "is required (the vault environment key)");
  require(!raw.upstream_secret.empty(), "--upstream-secret",
          "is required (the vault access secret)");
  c.upstream_key = raw.upstream_key;
  c.upstream_secret = raw.upstream_secret;
  if (!raw.upstream_ca_file.empty()) {
    require(std::ifstream(raw.upstream_ca_file).good(), "--upstream-ca-file",
            "file cannot be read");
    c.upstream_ca_file = raw.upstream_ca_file;
  }
  range(raw.upstream_timeout_ms, 10, 120000, "--upstream-timeout-ms");
  range(raw.upstream_attempt_timeout_ms, 10, 120000, "--upstream-attempt-timeout-ms");
  require(raw.upstream_attempt_timeout_ms <= raw.upstream_timeout_ms,
          "--upstream-attempt-timeout-ms", "must not exceed --upstream-timeout-ms");
  range(raw.upstream_connect_timeout_ms, 1, 60000, "--upstream-connect-timeout-ms");
  c.upstream_timeout = std::chrono::milliseconds(raw.upstream_timeout_ms);
  c.upstream_attempt_timeout = std::chrono::milliseconds(raw.upstream_attempt_timeout_ms);
  c.upstream_connect_timeout = std::chrono::milliseconds(raw.upstream_connect_timeout_ms);
  range(raw.upstream_max_connections, 1, 65536, "--upstream-max-connections");
  c.upstream_max_connections = raw.upstream_max_connections;
  c.upstream_threads = raw.upstream_threads == 0 ? hw : raw.upstream_threads;
  range(c.upstream_threads, 1, 64, "--upstream-threads");
  require(c.upstream_threads <= c.upstream_max_connections, "--upstream-threads",
          "must not exceed --upstream-max-connections");

  range(raw.retry_max_attempts, 1, 10, "--retry-max-attempts");
  range(raw.retry_base_ms, 1, 60000, "--retry-base-ms");
  range(raw.retry_max_delay_ms, 1, 60000, "--retry-max-delay-ms");
  require(raw.retry_base_ms <= raw.retry_max_delay_ms, "--retry-base-ms",
          "must not exceed --retry-max-delay-ms");
  range(raw.retry_budget_percent, 0, 100, "--retry-budget-percent");
  range(raw.retry_budget_min, 0, 100000, "--retry-budget-min");
  c.retry.max_attempts = raw.retry_max_attempts;
  c.retry.base_delay = std::chrono::milliseconds(raw.retry_base_ms);
  c.retry.max_delay = std::chrono::milliseconds(raw.retry_max_delay_ms);
  c.retry.budget_percent = raw.retry_budget_percent;
  c.retry.budget_min_retries = raw.retry_budget_min;
  c.retry.retry_on_server_error = raw.retry_on_server_error;
  c.retry.retry_on_timeout = raw.retry_on_timeout;

  range(raw.breaker_window_ms, 1000, 600000, "--breaker-window-ms");
  range(raw.breaker_min_calls, 1, 100000, "--breaker-min-calls");
  range(raw.breaker_failure_rate, 1, 100, "--breaker-failure-rate");
  range(raw.breaker_slow_call_ms, 1, 120000, "--breaker-slow-call-ms");
  range(raw.breaker_slow_call_rate, 1, 100, "--breaker-slow-call-rate");
  range(raw.breaker_open_ms, 10, 600000, "--breaker-open-ms");
  range(raw.breaker_half_open_probes, 1, 1000, "--breaker-half-open-probes");
  c.breaker.window = std::chrono::milliseconds(raw.breaker_window_ms);
  c.breaker.min_calls = raw.breaker_min_calls;
  c.breaker.failure_rate_percent = raw.breaker_failure_rate;
  c.breaker.slow_call_duration = std::chrono::milliseconds(raw.breaker_slow_call_ms);
  c.breaker.slow_call_rate_percent = raw.breaker_slow_call_rate;
  c.breaker.open_duration = std::chrono::milliseconds(raw.breaker_open_ms);
  c.breaker.half_open_probes = raw.breaker_half_open_probes;

  require(raw.idempotency_store == "memory" || raw.idempotency_store.rfind("redis://", 0) == 0,
          "--idempotency-store", "must be 'memory' or redis://host:port/db");
  c.idempotency_store = raw.idempotency_store;
  range(raw.idempotency_ttl_s, 1, 7 * 86400, "--idempotency-ttl-s");
  c.idempotency_ttl = std::chrono::seconds(raw.idempotency_ttl_s);
  range(raw.idempotency_max_entries, 1, 100000000, "--idempotency-max-entries");
  c.idempotency_max_entries = static_cast<std::size_t>(raw.idempotency_max_entries);
  require(c.idempotency_store == "memory" || raw.idempotency_secret.size() >= 16,
          "--idempotency-secret",
          "a shared secret of at least 16 characters is required with a redis store "
          "(instances must agree on request fingerprints)");
  c.idempotency_secret = raw.idempotency_secret;

  range(raw.max_in_flight, 1, 1000000, "--max-in-flight");
  c.max_in_flight = raw.max_in_flight;

  static const char* kLevels[] = {"debug", "info", "warn", "error"};
  require(std::find(std::begin(kLevels), std::end(kLevels), raw.log_level) != std::end(kLevels),
          "--log-level", "must be one of debug, info, warn, error");
  c.log_level = raw.log_level;
  require(raw.log_format == "json" || raw.log_format == "text", "--log-format",
          "must be json or text");
  c.log_format = raw.log_format == "json" ? LogFormat::json : LogFormat::text;
  c.access_log = raw.access_log;
  return c;
}

}  // namespace

std::string ListenAddress::to_string() const {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

Expected<ListenAddress> parse_listen_address(const std::string& text) {
  const Error bad{"invalid_listen", "must be HOST:PORT or [IPv6]:PORT with port 0-65535"};
  std::string host;
  std::string port;
  if (!text.empty() && text[0] == '[') {
    const auto close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return bad;
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos || text.find(':') != colon) return bad;
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  if (host.empty() || port.empty() || port.size() > 5 ||
      !std::all_of(port.begin(), port.end(), [](char ch) { return ch >= '0' && ch <= '9'; })) {
    return bad;
  }
  const long p = std::stol(port);
  if (p > 65535) return bad;
  return ListenAddress{host, static_cast<std::uint16_t>(p)};
}

ConfigResult parse_config(int argc, const char* const* argv) {
  RawOptions raw;
  CLI::App app{"tokenizer: payment-method tokenization service in front of a card vault.\n"
               "Every flag can also be set with TOKENIZER_<FLAG_IN_UPPER_SNAKE>.",
               "tokenizer"};
  app.get_formatter()->column_width(44);
  // A flag given twice takes its last value, as in most servers' command lines.
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  opt(app, "--listen", raw.listen, "Address to serve on, HOST:PORT");
  opt(app, "--threads", raw.threads, "Server worker threads (0 = one per core, at least 2)");
  opt(app, "--max-body-bytes", raw.max_body_bytes, "Largest accepted request body");
  opt(app, "--drain-timeout-ms", raw.drain_timeout_ms,
      "On SIGTERM, how long in-flight requests may take to finish");
  opt(app, "--tls-cert", raw.tls_cert, "Serve HTTPS with this certificate chain (PEM)");
  opt(app, "--tls-key", raw.tls_key, "Private key for --tls-cert (PEM)");
  secret(app, "--basic-auth", raw.basic_auth,
         "Client credentials user:password[,...] (plain text: demo only)");
  opt(app, "--basic-auth-file", raw.basic_auth_file,
      "File of user:<hash> lines (see `tokenizer-passwd`)");
  flag(app, "--allow-unauthenticated", raw.allow_unauthenticated,
       "Serve without client authentication (never in production)");
  opt(app, "--client-rate-limit", raw.client_rate_limit,
      "Requests/s allowed per authenticated client (0 = off)");
  opt(app, "--client-rate-burst", raw.client_rate_burst, "Burst for --client-rate-limit");
  opt(app, "--auth-failure-rate", raw.auth_failure_rate,
      "Failed authentications/s allowed per source address");
  opt(app, "--auth-failure-burst", raw.auth_failure_burst, "Burst for --auth-failure-rate");
  opt(app, "--upstream-url", raw.upstream_url, "Vault base URL");
  secret(app, "--upstream-key", raw.upstream_key, "Vault environment key");
  secret(app, "--upstream-secret", raw.upstream_secret, "Vault access secret");
  opt(app, "--upstream-ca-file", raw.upstream_ca_file,
      "CA bundle for the vault's certificate (default: system store)");
  opt(app, "--upstream-timeout-ms", raw.upstream_timeout_ms,
      "Overall deadline for the vault call, every attempt and back-off included");
  opt(app, "--upstream-attempt-timeout-ms", raw.upstream_attempt_timeout_ms,
      "Timeout of one vault attempt");
  opt(app, "--upstream-connect-timeout-ms", raw.upstream_connect_timeout_ms,
      "TCP+TLS connect timeout to the vault");
  opt(app, "--upstream-max-connections", raw.upstream_max_connections,
      "Connections kept open to the vault");
  opt(app, "--upstream-threads", raw.upstream_threads,
      "Vault client event-loop threads (0 = one per core, at least 2)");
  opt(app, "--retry-max-attempts", raw.retry_max_attempts, "Vault attempts per request");
  opt(app, "--retry-base-ms", raw.retry_base_ms, "Back-off base (full jitter)");
  opt(app, "--retry-max-delay-ms", raw.retry_max_delay_ms, "Back-off cap");
  opt(app, "--retry-budget-percent", raw.retry_budget_percent,
      "Retries allowed as a share of recent requests");
  opt(app, "--retry-budget-min", raw.retry_budget_min,
      "Retries always allowed per budget window (floor)");
  flag(app, "--retry-on-server-error", raw.retry_on_server_error,
       "Also retry vault 5xx other than 503 (may create duplicates)");
  flag(app, "--retry-on-timeout", raw.retry_on_timeout,
       "Also retry attempts that timed out (may create duplicates)");
  opt(app, "--breaker-window-ms", raw.breaker_window_ms, "Circuit breaker sliding window");
  opt(app, "--breaker-min-calls", raw.breaker_min_calls,
      "Calls in the window before the breaker may open");
  opt(app, "--breaker-failure-rate", raw.breaker_failure_rate, "Failure % that opens it");
  opt(app, "--breaker-slow-call-ms", raw.breaker_slow_call_ms, "A call slower than this is slow");
  opt(app, "--breaker-slow-call-rate", raw.breaker_slow_call_rate, "Slow-call % that opens it");
  opt(app, "--breaker-open-ms", raw.breaker_open_ms, "How long it stays open");
  opt(app, "--breaker-half-open-probes", raw.breaker_half_open_probes,
      "Probe calls allowed when half-open");
  opt(app, "--idempotency-store", raw.idempotency_store, "memory, or redis://host:port/db");
  opt(app, "--idempotency-ttl-s", raw.idempotency_ttl_s, "How long outcomes are replayed");
  opt(app, "--idempotency-max-entries", raw.idempotency_max_entries,
      "Bound of the in-memory store");
  secret(app, "--idempotency-secret", raw.idempotency_secret,
         "HMAC key for request fingerprints (required with redis)");
  opt(app, "--max-in-flight", raw.max_in_flight,
      "Concurrent tokenize requests before shedding with 503");
  opt(app, "--log-level", raw.log_level, "debug, info, warn or error");
  opt(app, "--log-format", raw.log_format, "json or text");
  app.add_option("--access-log", raw.access_log, "Write an access log line per request")
      ->envname(env_name("--access-log"))
      ->capture_default_str();

  ConfigResult result;
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    result.kind = ConfigResult::Kind::help;
    result.message = app.help();
    return result;
  } catch (const CLI::ParseError& e) {
    result.message = e.what();
    return result;
  }
  try {
    result.config = finalize(raw);
    result.kind = ConfigResult::Kind::ok;
  } catch (const Invalid& e) {
    result.message = e.message;
  }
  return result;
}

std::vector<std::pair<std::string, std::string>> describe(const Config& c) {
  auto ms = [](std::chrono::milliseconds d) { return std::to_string(d.count()) + "ms"; };
  std::string users;
  for (const auto& cl : c.clients) {
    if (!users.empty()) users += ",";
    users += cl.user + (cl.password_hash.empty() ? "(plain)" : "(hash)");
  }
  return {
      {"listen", c.listen.to_string()},
      {"threads", std::to_string(c.threads)},
      {"upstream_threads", std::to_string(c.upstream_threads)},
      {"tls", c.tls_cert ? "on" : "off"},
      {"max_body_bytes", std::to_string(c.max_body_bytes)},
      {"clients", users.empty() ? "(none: unauthenticated)" : users},
      {"client_rate_limit", std::to_string(c.client_rate_limit)},
      {"upstream_url", c.upstream_url},
      {"upstream_key", "[redacted]"},
      {"upstream_secret", "[redacted]"},
      {"upstream_timeout", ms(c.upstream_timeout)},
      {"upstream_attempt_timeout", ms(c.upstream_attempt_timeout)},
      {"retry_max_attempts", std::to_string(c.retry.max_attempts)},
      {"retry_budget_percent", std::to_string(c.retry.budget_percent)},
      {"breaker", std::to_string(c.breaker.failure_rate_percent) + "% of >=" +
                      std::to_string(c.breaker.min_calls) + " calls in " + ms(c.breaker.window) +
                      ", open " + ms(c.breaker.open_duration)},
      {"idempotency_store",
       c.idempotency_store.rfind("redis://", 0) == 0 ? "redis" : c.idempotency_store},
      {"max_in_flight", std::to_string(c.max_in_flight)},
      {"drain_timeout", ms(c.drain_timeout)},
      {"log_level", c.log_level},
  };
}

}  // namespace tokenizer
