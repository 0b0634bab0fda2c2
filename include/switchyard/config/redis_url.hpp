// Where a Redis server is and how to log in: the `redis://` URL of the configuration, parsed once
// at start-up. The password stays in here; logs and messages use redacted().
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "switchyard/result.hpp"

namespace switchyard::config {

// redis://[[user]:password@]host[:port][/db], as the IANA provisional `redis` scheme and
// redis-cli's -u have it. A user selects the Redis 6 ACL form `AUTH user password`; without one
// it is `AUTH password` (the `default` user). User and password may be percent-encoded.
struct RedisUrl {
  std::string host;  // a name or an address; an IPv6 address without its brackets
  std::uint16_t port = 6379;
  std::string user;
  std::string password;
  int db = 0;

  // The URL, or why ("redis URL 'redis://…': …", the password never in it) when `text` is not
  // a usable URL. `rediss://` is refused: Debian 12's hiredis (0.14) has no TLS.
  static Result<RedisUrl> parse(std::string_view text);
  // The URL with the password replaced by "***", for logs.
  std::string redacted() const;
};

}  // namespace switchyard::config
