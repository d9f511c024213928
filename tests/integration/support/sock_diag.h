// The kernel's view of the server's end of a loopback TCP connection (sock_diag), for
// tests that must know what the server process has read or left unsent, not guess it
// from time.
#pragma once

#include <cstdint>
#include <optional>

namespace tokenizer::testing {

struct ServerSide {
  uint64_t bytes_received = 0;  // payload bytes the server's kernel has received
  uint32_t unread = 0;          // of which still in its receive queue, not read by the process
  uint32_t unsent = 0;          // bytes the process wrote that are still in its send queue
};

// One sock_diag look-up of the socket 127.0.0.1:server_port <- 127.0.0.1:client_port;
// nullopt when there is no such connection (closed) or the query fails.
std::optional<ServerSide> server_side(uint16_t server_port, uint16_t client_port);

// The local port of a connected socket (0 if getsockname fails).
uint16_t local_port(int fd);

}  // namespace tokenizer::testing
