// Names for the shared HttpTransport contract (http_transport.h).
#include "upstream/http_transport.h"

namespace tokenizer {

const char* transport_error_kind_name(TransportError::Kind kind) {
  switch (kind) {
    case TransportError::Kind::connect_failed:
      return "connect_failed";
    case TransportError::Kind::reset:
      return "reset";
    case TransportError::Kind::timeout:
      return "timeout";
    case TransportError::Kind::tls:
      return "tls";
    case TransportError::Kind::cancelled:
      return "cancelled";
    case TransportError::Kind::other:
      return "other";
  }
  return "other";
}

}  // namespace tokenizer
