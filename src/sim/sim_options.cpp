#include "sim/sim_options.h"

#include <CLI/CLI.hpp>

namespace tokenizer {

Expected<ListenAddress> parse_listen_address(const std::string& text) {
  const Error bad{"invalid_listen", "--listen: expected HOST:PORT (for example 127.0.0.1:8081)"};
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 >= text.size()) return bad;
  std::string host = text.substr(0, colon);
  const std::string port_text = text.substr(colon + 1);
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') return bad;
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string::npos) {
    return bad;  // an IPv6 address needs brackets
  }
  if (port_text.size() > 5) return bad;
  unsigned long port = 0;
  for (char c : port_text) {
    if (c < '0' || c > '9') return bad;
    port = port * 10 + static_cast<unsigned long>(c - '0');
  }
  if (port > 65535) return Error{"invalid_listen", "--listen: the port must be 0..65535"};
  return ListenAddress{host, static_cast<std::uint16_t>(port)};
}

SimCommandLine parse_sim_command_line(int argc, const char* const* argv) {
  std::string listen = "127.0.0.1:8081";
  std::string environment_key = "demo-key";
  std::string access_secret = "demo-secret";
  int threads = 2;
  std::string tls_cert;
  std::string tls_key;
  std::string faults;
  long hang_cap_ms = 120000;

  CLI::App app{"upstream-sim: a local Spreedly-style vault with run-time fault injection"};
  app.option_defaults()->always_capture_default();
  app.add_option("--listen", listen, "HOST:PORT to listen on (port 0: any free port)")
      ->envname("UPSTREAM_SIM_LISTEN");
  app.add_option("--environment-key", environment_key, "HTTP Basic user the vault API accepts")
      ->envname("UPSTREAM_SIM_ENVIRONMENT_KEY");
  // Not captured as a default so --help never prints a secret.
  app.add_option("--access-secret", access_secret, "HTTP Basic password the vault API accepts")
      ->envname("UPSTREAM_SIM_ACCESS_SECRET")
      ->capture_default_str()
      ->default_str("");
  app.add_option("--threads", threads, "Server worker threads")->envname("UPSTREAM_SIM_THREADS");
  app.add_option("--tls-cert", tls_cert, "PEM certificate (chain): serve HTTPS (needs --tls-key)")
      ->envname("UPSTREAM_SIM_TLS_CERT");
  app.add_option("--tls-key", tls_key, "PEM private key for --tls-cert")
      ->envname("UPSTREAM_SIM_TLS_KEY");
  app.add_option("--faults", faults, "Initial fault set, JSON as POST /__sim/faults takes it")
      ->envname("UPSTREAM_SIM_FAULTS");
  app.add_option("--hang-cap-ms", hang_cap_ms, "How long a hung request is held before a reset")
      ->envname("UPSTREAM_SIM_HANG_CAP_MS");

  SimCommandLine out;
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    out.exit_code = 0;
    out.message = app.help();
    return out;
  } catch (const CLI::ParseError& e) {
    out.exit_code = 2;
    out.message = std::string("upstream-sim: ") + e.what();
    return out;
  }

  const auto fail = [&out](const std::string& message) {
    out.exit_code = 2;
    out.message = "upstream-sim: " + message;
    return out;
  };
  SimConfig config;
  auto address = parse_listen_address(listen);
  if (!address) return fail(address.error().message);
  config.server.host = address->host;
  config.server.port = address->port;
  if (threads < 1 || threads > 64) return fail("--threads: must be between 1 and 64");
  config.server.threads = threads;
  if (tls_cert.empty() != tls_key.empty()) return fail("--tls-cert and --tls-key go together");
  config.server.tls_cert = tls_cert;
  config.server.tls_key = tls_key;
  if (hang_cap_ms < 100 || hang_cap_ms > 600000)
    return fail("--hang-cap-ms: must be between 100 and 600000");
  config.server.hang_cap = std::chrono::milliseconds(hang_cap_ms);
  if (environment_key.empty()) return fail("--environment-key: must not be empty");
  if (access_secret.empty()) return fail("--access-secret: must not be empty");
  config.credentials = SimCredentials{environment_key, access_secret};
  if (!faults.empty()) {
    auto parsed = parse_fault_config(faults);
    if (!parsed) return fail("--faults: " + parsed.error().message);
    config.faults = *parsed;
  }
  out.config = std::move(config);
  return out;
}

}  // namespace tokenizer
