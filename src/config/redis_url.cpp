#include "switchyard/config/redis_url.hpp"

#include <algorithm>
#include <charconv>

namespace switchyard::config {

namespace {

constexpr std::string_view kShape = "redis://[[user]:password@]host[:port][/db]";

bool iequals(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return (x | 0x20) == (y | 0x20);  // ASCII letters only, which is all a scheme holds
  });
}

// The text for a message: everything before the last '@' could be a password, so it goes.
std::string redact_text(std::string_view text) {
  const auto at = text.rfind('@');
  if (at == std::string_view::npos) return std::string(text);
  const auto scheme_end = text.find("://");
  const std::string_view prefix = scheme_end != std::string_view::npos && scheme_end < at
                                      ? text.substr(0, scheme_end + 3)
                                      : std::string_view{};
  return std::string(prefix) + "***" + std::string(text.substr(at));
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// RFC 3986 percent-decoding, so that a password may hold '@', ':' or '/'.
std::optional<std::string> percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size()) return std::nullopt;
    const int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

template <class Int>
std::optional<Int> decimal(std::string_view s) {
  Int n{};
  if (s.empty() || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
  return n;
}

}  // namespace

Result<RedisUrl> RedisUrl::parse(std::string_view text) {
  const auto fail = [&](std::string_view reason) {
    return Unexpected("redis URL '" + redact_text(text) + "': " + std::string(reason));
  };
  const auto scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos) return fail("expected " + std::string(kShape));
  const std::string_view scheme = text.substr(0, scheme_end);
  if (iequals(scheme, "rediss")) {
    return fail(
        "TLS (rediss://) is not supported: Debian 12's hiredis (0.14) has no TLS; use redis:// on "
        "a trusted network or through a TLS tunnel");
  }
  if (!iequals(scheme, "redis"))
    return fail("unsupported scheme '" + std::string(scheme) + "', expected " +
                std::string(kShape));

  RedisUrl url;
  std::string_view rest = text.substr(scheme_end + 3);
  // The last '@': a path never holds one, an unencoded password might.
  if (const auto at = rest.rfind('@'); at != std::string_view::npos) {
    const std::string_view userinfo = rest.substr(0, at);
    rest.remove_prefix(at + 1);
    const auto colon = userinfo.find(':');
    if (colon == std::string_view::npos) {
      return fail(
          "'name@' without ':' is ambiguous: write redis://:PASSWORD@host for a password, "
          "redis://USER:PASSWORD@host for an ACL user");
    }
    auto user = percent_decode(userinfo.substr(0, colon));
    auto password = percent_decode(userinfo.substr(colon + 1));
    if (!user || !password) return fail("bad percent-encoding in the user or password");
    if (!user->empty() && password->empty()) return fail("a user needs a password");
    url.user = std::move(*user);
    url.password = std::move(*password);
  }

  const auto slash = rest.find('/');
  const std::string_view authority = rest.substr(0, slash);
  const std::string_view path =
      slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
  if (rest.find_first_of("?#") != std::string_view::npos)
    return fail("query parameters and fragments are not supported");

  std::string_view host = authority, port;
  if (authority.starts_with('[')) {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return fail("unclosed '[' in the host");
    host = authority.substr(1, close - 1);
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return fail("unexpected text after ']'");
      port = after.substr(1);
      if (port.empty()) return fail("empty port");
    }
  } else if (const auto colon = authority.find(':'); colon != std::string_view::npos) {
    if (authority.find(':', colon + 1) != std::string_view::npos)
      return fail("an IPv6 address needs brackets, as in redis://[::1]:6379");
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
    if (port.empty()) return fail("empty port");
  }
  if (host.empty()) return fail("no host");
  url.host = std::string(host);
  if (!port.empty()) {
    const auto n = decimal<unsigned>(port);
    if (!n || *n == 0 || *n > 65535)
      return fail("bad port '" + std::string(port) + "' (expected 1 to 65535)");
    url.port = static_cast<std::uint16_t>(*n);
  }
  if (!path.empty()) {
    const auto db = decimal<int>(path);
    if (!db) return fail("bad database '" + std::string(path) + "' (expected a number: /0, /1, …)");
    url.db = *db;
  }
  return url;
}

std::string RedisUrl::redacted() const {
  std::string out = "redis://";
  if (!user.empty() || !password.empty()) {
    out += user;
    if (!password.empty()) out += ":***";
    out += '@';
  }
  if (host.find(':') != std::string::npos) {
    out += '[' + host + ']';
  } else {
    out += host;
  }
  out += ':' + std::to_string(port);
  if (db != 0) out += '/' + std::to_string(db);
  return out;
}

}  // namespace switchyard::config
