// sock_diag look-ups for the integration tests (see sock_diag.h).
#include "support/sock_diag.h"

#include <arpa/inet.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

namespace tokenizer::testing {

std::optional<ServerSide> server_side(uint16_t server_port, uint16_t client_port) {
  const int nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
  if (nl < 0) return std::nullopt;
  struct {
    nlmsghdr header;
    inet_diag_req_v2 request;
  } query{};
  query.header.nlmsg_len = sizeof query;
  query.header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  query.header.nlmsg_flags = NLM_F_REQUEST;
  query.request.sdiag_family = AF_INET;
  query.request.sdiag_protocol = IPPROTO_TCP;
  query.request.idiag_ext = 1u << (INET_DIAG_INFO - 1);
  query.request.idiag_states = ~0u;
  query.request.id.idiag_sport = htons(server_port);
  query.request.id.idiag_dport = htons(client_port);
  query.request.id.idiag_src[0] = htonl(INADDR_LOOPBACK);
  query.request.id.idiag_dst[0] = htonl(INADDR_LOOPBACK);
  query.request.id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
  query.request.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;

  std::optional<ServerSide> result;
  alignas(nlmsghdr) char reply[8192];
  if (send(nl, &query, sizeof query, 0) == static_cast<ssize_t>(sizeof query)) {
    const ssize_t n = recv(nl, reply, sizeof reply, 0);
    const auto* header = reinterpret_cast<const nlmsghdr*>(reply);
    const auto* message = static_cast<const inet_diag_msg*>(NLMSG_DATA(header));
    // The kernel's look-up falls back to the listening socket once the connection is gone:
    // only the connection itself (its remote port) counts.
    if (n > 0 && NLMSG_OK(header, static_cast<unsigned>(n)) &&
        header->nlmsg_type == SOCK_DIAG_BY_FAMILY && message->id.idiag_dport == htons(client_port)) {
      ServerSide side;
      side.unread = message->idiag_rqueue;
      side.unsent = message->idiag_wqueue;
      bool have_info = false;
      int left = static_cast<int>(header->nlmsg_len - NLMSG_LENGTH(sizeof *message));
      for (auto* attr = reinterpret_cast<rtattr*>(const_cast<inet_diag_msg*>(message) + 1);
           RTA_OK(attr, left); attr = RTA_NEXT(attr, left)) {
        if (attr->rta_type != INET_DIAG_INFO) continue;
        tcp_info info{};
        std::memcpy(&info, RTA_DATA(attr), std::min<size_t>(RTA_PAYLOAD(attr), sizeof info));
        side.bytes_received = info.tcpi_bytes_received;
        have_info = true;
      }
      if (have_info) result = side;
    }
  }
  ::close(nl);
  return result;
}

uint16_t local_port(int fd) {
  sockaddr_in addr{};
  socklen_t len = sizeof addr;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return 0;
  return ntohs(addr.sin_port);
}

}  // namespace tokenizer::testing
