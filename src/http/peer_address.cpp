// Peer addresses as text. See peer_address.h.
#include "http/peer_address.h"

#include <cstdint>

namespace tokenizer {

std::string ipv4_text(const in_addr& address) {
  const auto* octets = reinterpret_cast<const std::uint8_t*>(&address.s_addr);  // network order
  char text[16];  // "255.255.255.255"
  char* p = text;
  for (int i = 0; i < 4; ++i) {
    if (i > 0) *p++ = '.';
    const unsigned v = octets[i];
    if (v >= 100) *p++ = static_cast<char>('0' + v / 100);
    if (v >= 10) *p++ = static_cast<char>('0' + v / 10 % 10);
    *p++ = static_cast<char>('0' + v % 10);
  }
  return std::string(text, p);
}

}  // namespace tokenizer
