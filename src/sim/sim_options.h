// SimOptions: upstream-sim's command line, parsed with CLI11, each flag also read from
// UPSTREAM_SIM_<FLAG> (for example UPSTREAM_SIM_LISTEN), validated once into a SimConfig.
//
//   --listen HOST:PORT      127.0.0.1:8081; port 0 lets the OS choose ([::1]:0 for IPv6)
//   --environment-key KEY   demo-key     (HTTP Basic user the vault API accepts)
//   --access-secret SECRET  demo-secret  (HTTP Basic password)
//   --threads N             2            (Pistache worker threads, 1..64)
//   --tls-cert FILE --tls-key FILE       serve HTTPS (both or neither)
//   --faults JSON           initial fault set, as POST /__sim/faults takes it
//   --hang-cap-ms MS        120000       (how long a hung request is held, 100..600000)
//
// Usage: `auto outcome = parse_sim_command_line(argc, argv);` When `outcome.config` is
// empty, print `outcome.message` (to stdout when exit_code is 0, as for --help; otherwise
// to stderr: one line naming the setting) and exit with `outcome.exit_code` (2 for a bad
// value). Secrets are never part of a message. Pure apart from reading the environment.
#pragma once

#include <optional>
#include <string>

#include "sim/fault_config.h"
#include "sim/sim_engine.h"
#include "sim/sim_server.h"

namespace tokenizer {

struct SimConfig {
  SimServerOptions server;
  SimCredentials credentials;
  FaultConfig faults;
};

struct SimCommandLine {
  std::optional<SimConfig> config;
  int exit_code = 0;
  std::string message;
};

SimCommandLine parse_sim_command_line(int argc, const char* const* argv);

// Splits "HOST:PORT" ("[v6]:PORT" for IPv6); the error names --listen.
struct ListenAddress {
  std::string host;
  std::uint16_t port = 0;
};
Expected<ListenAddress> parse_listen_address(const std::string& text);

}  // namespace tokenizer
