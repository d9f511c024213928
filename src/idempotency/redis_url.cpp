#include "idempotency/redis_url.h"

#include <cctype>

namespace tokenizer {
namespace {

Error invalid(const std::string& why) {
  return Error{kInvalidIdempotencyStore, "--idempotency-store: " + why};
}

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (const char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Expected<std::string> percent_decode(std::string_view s, const char* what) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    if (i + 2 >= s.size()) return invalid(std::string("bad percent-encoding in the ") + what);
    const int hi = hex_value(s[i + 1]);
    const int lo = hex_value(s[i + 2]);
    if (hi < 0 || lo < 0) return invalid(std::string("bad percent-encoding in the ") + what);
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

}  // namespace

std::string RedisUrl::redacted() const {
  const bool v6 = host.find(':') != std::string::npos;
  std::string out = "redis://";
  if (!password.empty()) out += username + ":***@";
  out += v6 ? "[" + host + "]" : host;
  out += ":" + std::to_string(port) + "/" + std::to_string(db);
  return out;
}

Expected<RedisUrl> parse_redis_url(std::string_view url) {
  constexpr std::string_view kScheme = "redis://";
  if (url.substr(0, 9) == "rediss://") {
    return invalid("rediss:// (TLS) is not supported by this build's hiredis; use redis://");
  }
  if (url.substr(0, kScheme.size()) != kScheme) {
    return invalid("expected \"memory\" or redis://host[:port][/db]");
  }
  std::string_view rest = url.substr(kScheme.size());
  if (rest.find_first_of("?#") != std::string_view::npos) {
    return invalid("query strings and fragments are not supported in the redis URL");
  }
  RedisUrl out;

  // Path: /db
  std::string_view authority = rest;
  if (const auto slash = rest.find('/'); slash != std::string_view::npos) {
    authority = rest.substr(0, slash);
    const std::string_view db = rest.substr(slash + 1);
    if (!db.empty()) {
      if (!all_digits(db) || db.size() > 7 || std::stol(std::string(db)) > 1000000) {
        return invalid("the redis database must be a number from 0 to 1000000");
      }
      out.db = static_cast<int>(std::stol(std::string(db)));
    }
  }

  // Credentials: the last '@' separates them from the host (passwords may contain '@').
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
    const std::string_view userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
    const auto colon = userinfo.find(':');
    if (colon == std::string_view::npos) {
      return invalid("redis credentials must be written user:password@ or :password@");
    }
    auto user = percent_decode(userinfo.substr(0, colon), "user name");
    if (!user) return user.error();
    auto password = percent_decode(userinfo.substr(colon + 1), "password");
    if (!password) return password.error();
    if (password->empty()) return invalid("the redis password is empty");
    out.username = std::move(user).value();
    out.password = std::move(password).value();
  }

  // Host and port.
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return invalid("unterminated [ in the redis host");
    out.host = std::string(authority.substr(1, close - 1));
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return invalid("unexpected text after the redis host");
      port = after.substr(1);
      if (port.empty()) return invalid("the redis port is empty");
    }
  } else {
    const auto colon = authority.find(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port = authority.substr(colon + 1);
      if (port.empty()) return invalid("the redis port is empty");
    }
    if (out.host.find_first_of("[]") != std::string::npos) {
      return invalid("bad redis host");
    }
  }
  if (out.host.empty()) return invalid("the redis host is empty");
  if (!port.empty()) {
    if (!all_digits(port) || port.size() > 5 || std::stol(std::string(port)) < 1 ||
        std::stol(std::string(port)) > 65535) {
      return invalid("the redis port must be a number from 1 to 65535");
    }
    out.port = static_cast<std::uint16_t>(std::stol(std::string(port)));
  }
  return out;
}

}  // namespace tokenizer
