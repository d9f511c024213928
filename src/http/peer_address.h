// Peer addresses as text, for per-address limits (a client that keeps failing to
// authenticate is throttled by its address). IPv4, nearly every peer, is written directly:
// inet_ntop() formats through sprintf, about 1.7 k instructions on every request.
#pragma once

#include <netinet/in.h>

#include <string>

namespace tokenizer {

// Dotted decimal, exactly as inet_ntop(AF_INET, ...) writes it ("192.0.2.1").
std::string ipv4_text(const in_addr& address);

}  // namespace tokenizer
