// The `server:` section: how the gateway listens.
#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <array>
#include <limits>

#include "sections.hpp"

namespace switchyard::config {
namespace {

constexpr std::array<std::string_view, 11> kServerKeys{
    "listen",        "workers",         "max_body",
    "max_header",    "max_connections", "max_connections_per_client",
    "read_timeout",  "idle_timeout",    "write_timeout",
    "drain_timeout", "response_model",
};
constexpr std::array<std::string_view, 2> kResponseModels{"requested", "upstream"};

// Each worker is a thread with its own io_context, acceptor and pools; beyond this a value is a
// typo rather than a plan.
constexpr std::uint64_t kMaxWorkers = 1024;

constexpr std::uint64_t kUnbounded = std::numeric_limits<std::uint64_t>::max();

struct Listen {
  std::string host;
  std::uint16_t port = 0;
};

// "0.0.0.0:8080", "[::]:8080". The host must be an address literal: the acceptor binds it
// directly, and a name would make start-up depend on DNS. Port 0 asks for an ephemeral port.
std::optional<Listen> parse_listen(std::string_view text, std::string& why) {
  const std::string expected =
      "expected host:port such as 0.0.0.0:8080 or [::]:8080, got " + quote(text);
  std::string_view host;
  std::string_view port;
  bool bracketed = false;
  if (!text.empty() && text.front() == '[') {
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      why = expected;
      return std::nullopt;
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
    bracketed = true;
  } else {
    const std::size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      why = expected;
      return std::nullopt;
    }
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      why = "IPv6 addresses must be in brackets, as in [::]:8080";
      return std::nullopt;
    }
  }

  std::uint32_t port_number = 0;
  bool port_ok = !port.empty() && port.size() <= 5;
  for (char c : port) {
    port_ok = port_ok && c >= '0' && c <= '9';
    port_number = port_number * 10 + static_cast<std::uint32_t>(c - '0');
  }
  if (!port_ok || port_number > 65535) {
    why = "port must be 0..65535, got " + quote(port);
    return std::nullopt;
  }

  Listen listen{std::string(host), static_cast<std::uint16_t>(port_number)};
  in6_addr address{};
  const bool host_ok =
      inet_pton(bracketed ? AF_INET6 : AF_INET, listen.host.c_str(), &address) == 1;
  if (!host_ok) {
    why = "host must be an IP address such as 0.0.0.0, 127.0.0.1 or [::], got " + quote(host);
    return std::nullopt;
  }
  return listen;
}

void read_listen(NodeReader& reader, const Entry& entry, Server& server) {
  const auto text = reader.text(entry);
  if (!text) return;
  std::string why;
  const auto listen = parse_listen(*text, why);
  if (!listen) {
    reader.error(entry.value_position(), entry.path + ": " + why);
    return;
  }
  server.host = listen->host;
  server.port = listen->port;
}

}  // namespace

void read_server(NodeReader& reader, const Entry& entry, Server& server) {
  const auto section = reader.section(entry, kServerKeys);
  if (!section) return;
  // A zero read, idle or write timeout would fail every connection; a zero drain is a choice.
  for (const Entry& e : section->entries) {
    if (e.key == "listen") {
      read_listen(reader, e, server);
    } else if (e.key == "workers") {
      assign(server.workers, reader.integer(e, 0, kMaxWorkers));
    } else if (e.key == "max_body") {
      assign(server.max_body, reader.size(e, Zero::rejected));
    } else if (e.key == "max_header") {
      assign(server.max_header, reader.size(e, Zero::rejected));
    } else if (e.key == "max_connections") {
      assign(server.max_connections, reader.integer(e, 1, kUnbounded));
    } else if (e.key == "max_connections_per_client") {
      assign(server.max_connections_per_client, reader.integer(e, 0, kUnbounded));
    } else if (e.key == "read_timeout") {
      assign(server.read_timeout, reader.duration(e, Zero::rejected));
    } else if (e.key == "idle_timeout") {
      assign(server.idle_timeout, reader.duration(e, Zero::rejected));
    } else if (e.key == "write_timeout") {
      assign(server.write_timeout, reader.duration(e, Zero::rejected));
    } else if (e.key == "drain_timeout") {
      assign(server.drain_timeout, reader.duration(e, Zero::allowed));
    } else if (e.key == "response_model") {
      if (const auto which = reader.choice(e, kResponseModels)) {
        server.report_upstream_model = *which == 1;
      }
    }
  }
}

}  // namespace switchyard::config
