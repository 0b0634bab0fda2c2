// The scalar grammars of the config file: durations, sizes, upstream URLs, and the rule that
// decides where plain http is acceptable. Pure functions, so they are tested by table.
#include "switchyard/config/config.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <limits>

namespace switchyard::config {
namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

char to_lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = to_lower(c);
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (to_lower(a[i]) != to_lower(b[i])) return false;
  }
  return true;
}

// A non-negative decimal as written, "12" or "1.25": digits on both sides of the point, no sign,
// no exponent. Kept as text so integer inputs convert without floating-point rounding.
struct Decimal {
  std::string_view whole;
  std::string_view fraction;  // digits after the point, possibly empty
};

// Splits "1.5s" into the number and the unit; nullopt when the number part is malformed.
std::optional<std::pair<Decimal, std::string_view>> split_number(std::string_view text,
                                                                 bool allow_fraction) {
  std::size_t i = 0;
  while (i < text.size() && is_digit(text[i])) ++i;
  if (i == 0) return std::nullopt;
  Decimal number{text.substr(0, i), {}};
  if (i < text.size() && text[i] == '.') {
    if (!allow_fraction) return std::nullopt;
    const std::size_t start = ++i;
    while (i < text.size() && is_digit(text[i])) ++i;
    if (i == start) return std::nullopt;  // "1." is a typo more often than a number
    number.fraction = text.substr(start, i - start);
  }
  return std::pair{number, text.substr(i)};
}

// whole * unit, or nullopt on overflow of `limit`.
std::optional<std::uint64_t> scale_whole(std::string_view digits, std::uint64_t unit,
                                         std::uint64_t limit) {
  std::uint64_t value = 0;
  for (char c : digits) {
    if (__builtin_mul_overflow(value, 10u, &value) ||
        __builtin_add_overflow(value, static_cast<std::uint64_t>(c - '0'), &value)) {
      return std::nullopt;
    }
  }
  if (__builtin_mul_overflow(value, unit, &value) || value > limit) return std::nullopt;
  return value;
}

// The longest duration accepted: about 31 years. Anything longer is a typo, and the bound keeps
// deadline arithmetic (now + duration) far from overflowing a steady_clock time_point.
constexpr std::uint64_t kMaxDurationMs = 1'000'000'000'000ull;

constexpr std::uint64_t kKiB = 1024;

struct SizeUnit {
  std::string_view name;
  std::uint64_t bytes;
};
constexpr std::array<SizeUnit, 9> kSizeUnits{{
    {"b", 1},
    {"kb", 1000},
    {"mb", 1'000'000},
    {"gb", 1'000'000'000},
    {"tb", 1'000'000'000'000},
    {"kib", kKiB},
    {"mib", kKiB* kKiB},
    {"gib", kKiB* kKiB* kKiB},
    {"tib", kKiB* kKiB* kKiB* kKiB},
}};

bool is_ipv4_private_or_local(std::uint32_t address) {
  const auto in = [address](std::uint32_t net, int bits) {
    const std::uint32_t mask = bits == 0 ? 0 : ~std::uint32_t{0} << (32 - bits);
    return (address & mask) == net;
  };
  return in(0x7f000000, 8)       // 127.0.0.0/8 loopback
         || in(0x0a000000, 8)    // 10.0.0.0/8
         || in(0xac100000, 12)   // 172.16.0.0/12
         || in(0xc0a80000, 16)   // 192.168.0.0/16
         || in(0xa9fe0000, 16);  // 169.254.0.0/16 link-local
}

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

// RFC 3986 reg-name restricted to what DNS can carry: letters, digits, '-', '_' and non-empty
// dot-separated labels.
bool is_host_name(std::string_view host) {
  if (host.empty() || host.front() == '.' || host.find("..") != std::string_view::npos) {
    return false;
  }
  for (char c : host) {
    const bool ok = (c >= 'a' && c <= 'z') || is_digit(c) || c == '-' || c == '.' || c == '_';
    if (!ok) return false;
  }
  return true;
}

bool is_ipv6_literal(const std::string& host) {
  in6_addr address{};
  return inet_pton(AF_INET6, host.c_str(), &address) == 1;
}

}  // namespace

std::optional<Millis> parse_duration(std::string_view text) {
  const auto parts = split_number(text, /*allow_fraction=*/true);
  if (!parts) return std::nullopt;
  const auto& [number, unit_text] = *parts;
  std::uint64_t unit_ms = 0;
  if (unit_text == "ms") {
    unit_ms = 1;
  } else if (unit_text.empty() || unit_text == "s") {
    unit_ms = 1000;
  } else if (unit_text == "m") {
    unit_ms = 60'000;
  } else if (unit_text == "h") {
    unit_ms = 3'600'000;
  } else {
    return std::nullopt;
  }
  auto whole = scale_whole(number.whole, unit_ms, kMaxDurationMs);
  if (!whole) return std::nullopt;
  // The fraction is below one unit (at most an hour in ms), so a double holds it exactly enough;
  // round to the nearest millisecond.
  double fraction = 0;
  double place = 0.1;
  for (char c : number.fraction) {
    fraction += (c - '0') * place;
    place /= 10;
  }
  const auto extra =
      static_cast<std::uint64_t>(std::llround(fraction * static_cast<double>(unit_ms)));
  if (*whole + extra > kMaxDurationMs) return std::nullopt;
  return Millis{static_cast<Millis::rep>(*whole + extra)};
}

std::optional<std::size_t> parse_size(std::string_view text) {
  const auto parts = split_number(text, /*allow_fraction=*/false);
  if (!parts) return std::nullopt;
  const auto& [number, unit_text] = *parts;
  std::uint64_t unit = 1;
  if (!unit_text.empty()) {
    unit = 0;
    for (const auto& candidate : kSizeUnits) {
      if (iequals(unit_text, candidate.name)) unit = candidate.bytes;
    }
    if (unit == 0) return std::nullopt;
  }
  const auto bytes = scale_whole(number.whole, unit, std::numeric_limits<std::size_t>::max());
  if (!bytes) return std::nullopt;
  return static_cast<std::size_t>(*bytes);
}

Result<Url> parse_url(std::string_view text) {
  const auto fail = [](std::string reason) { return Unexpected(std::move(reason)); };
  for (char c : text) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      return fail("must not contain spaces or control characters");
    }
  }
  const std::size_t scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos) {
    return fail("expected a URL starting with http:// or https://");
  }
  const std::string scheme = lower(text.substr(0, scheme_end));
  Url url;
  if (scheme == "https") {
    url.tls = true;
  } else if (scheme != "http") {
    return fail("scheme must be http or https, got '" + std::string(text.substr(0, scheme_end)) +
                "'");
  }
  const std::uint16_t default_port = url.tls ? 443 : 80;

  const std::string_view rest = text.substr(scheme_end + 3);
  const std::size_t authority_end = rest.find_first_of("/?#");
  const std::string_view authority = rest.substr(0, authority_end);
  const std::string_view tail =
      authority_end == std::string_view::npos ? std::string_view{} : rest.substr(authority_end);

  // Credentials in a base URL would be logged with it and sent on every request; keys belong in
  // api_key. The reason deliberately does not echo the URL.
  if (authority.find('@') != std::string_view::npos) {
    return fail("user info (user:password@) is not allowed; put credentials in api_key");
  }
  if (tail.find('?') != std::string_view::npos) return fail("a query string is not allowed");
  if (tail.find('#') != std::string_view::npos) return fail("a fragment is not allowed");

  std::string_view host_text;
  std::optional<std::string_view> port_text;
  if (!authority.empty() && authority.front() == '[') {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return fail("unterminated '[' in IPv6 host");
    host_text = authority.substr(1, close - 1);
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return fail("unexpected text after ']'");
      port_text = after.substr(1);
    }
    url.host = lower(host_text);
    if (!is_ipv6_literal(url.host)) return fail("invalid IPv6 address '" + url.host + "'");
  } else {
    const std::size_t colon = authority.find(':');
    host_text = authority.substr(0, colon);
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
      if (port_text->find(':') != std::string_view::npos) {
        return fail("IPv6 addresses must be in brackets, as in http://[::1]:8000");
      }
    }
    url.host = lower(host_text);
    if (url.host.empty()) return fail("missing host");
    if (!is_host_name(url.host)) return fail("invalid host '" + url.host + "'");
  }

  url.port = default_port;
  if (port_text) {
    std::uint32_t port = 0;
    bool ok = !port_text->empty() && port_text->size() <= 5;
    for (char c : *port_text) {
      ok = ok && is_digit(c);
      port = port * 10 + static_cast<std::uint32_t>(c - '0');
    }
    if (!ok || port < 1 || port > 65535) {
      return fail("port must be 1..65535, got '" + std::string(*port_text) + "'");
    }
    url.port = static_cast<std::uint16_t>(port);
  }

  // Paths are joined as base + "/chat/completions", so the base never ends in '/'.
  std::string_view path = tail;
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  url.path = std::string(path);

  // Appended piece by piece: `":" + std::to_string(port)` trips GCC 12's -Wrestrict false
  // positive (GCC bug 105329) at -O3.
  const bool bracketed = url.host.find(':') != std::string::npos;
  if (bracketed) url.authority += '[';
  url.authority += url.host;
  if (bracketed) url.authority += ']';
  if (url.port != default_port) {
    url.authority += ':';
    url.authority += std::to_string(url.port);
  }
  return url;
}

bool is_local_host(std::string_view host_text) {
  std::string host = lower(host_text);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (!host.empty() && host.back() == '.') host.pop_back();  // "localhost." is fully qualified
  if (host.empty()) return false;

  if (host.find(':') != std::string::npos) {
    in6_addr a{};
    if (inet_pton(AF_INET6, host.c_str(), &a) != 1) return false;
    const auto* b = a.s6_addr;
    if (IN6_IS_ADDR_LOOPBACK(&a)) return true;
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return true;  // fe80::/10 link-local
    if ((b[0] & 0xfe) == 0xfc) return true;                  // fc00::/7 unique local
    if (IN6_IS_ADDR_V4MAPPED(&a)) {
      return is_ipv4_private_or_local(std::uint32_t{b[12]} << 24 | std::uint32_t{b[13]} << 16 |
                                      std::uint32_t{b[14]} << 8 | std::uint32_t{b[15]});
    }
    return false;
  }

  // The resolver accepts inet_aton's forms ("127.1", "2130706433", "0x7f000001") as IPv4
  // addresses, so classify them as the address they are; otherwise "134744072" (8.8.8.8) would
  // pass as a single-label name.
  bool numeric = true;
  for (char c : host) {
    numeric = numeric && (is_digit(c) || c == '.' || c == 'x' || (c >= 'a' && c <= 'f'));
  }
  if (in_addr v4{}; numeric && inet_aton(host.c_str(), &v4) == 1) {
    return is_ipv4_private_or_local(ntohl(v4.s_addr));
  }

  return host == "localhost" || host.find('.') == std::string::npos ||
         ends_with(host, ".localhost") || ends_with(host, ".local") || ends_with(host, ".internal");
}

}  // namespace switchyard::config
