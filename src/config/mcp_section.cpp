// The `mcp:` section: the MCP servers the gateway federates and how its MCP sessions are signed.
#include <algorithm>
#include <array>

#include "sections.hpp"

namespace switchyard::config {
namespace {

constexpr std::array<std::string_view, 12> kMcpKeys{
    "servers",       "session_secret",  "previous_session_secret",
    "session_ttl",   "allowed_origins", "max_message",
    "list_timeout",  "page_size",       "enabled",
    "ping_interval", "ping_timeout",    "readiness",
};
constexpr std::array<std::string_view, 3> kReadiness{"ignore", "any", "all"};
constexpr std::array<std::string_view, 13> kServerKeys{
    "transport", "command",         "args",     "env", "cwd",   "url", "headers", "ca_file",
    "timeout",   "max_concurrency", "sampling", "rpm", "roots",
};
constexpr std::array<std::string_view, 2> kSamplingKeys{"route", "models"};

constexpr std::array<std::string_view, 3> kTransports{"stdio", "http", "sse"};
// Keys that only one transport reads: naming one for the other is a mistake worth reporting.
constexpr std::array<std::string_view, 4> kStdioOnly{"command", "args", "env", "cwd"};
constexpr std::array<std::string_view, 3> kHttpOnly{"url", "headers", "ca_file"};
constexpr std::size_t kMaxServerName = 32;
constexpr std::uint64_t kMaxPageSize = 10'000;
constexpr std::size_t kMinSecret = 32;

// The name becomes the prefix of the server's tools and prompts at /mcp (`<server>__<tool>`) and
// a path segment (/mcp/<server>): no separator, nothing a URL would escape.
bool valid_server_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxServerName || name.front() == '-') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

bool contains(std::span<const std::string_view> keys, std::string_view key) {
  return std::find(keys.begin(), keys.end(), key) != keys.end();
}

void read_pairs(NodeReader& reader, const Entry& entry,
                std::vector<std::pair<std::string, std::string>>& pairs) {
  const auto section = reader.section(entry, kAnyName);
  if (!section) return;
  for (const Entry& e : section->entries) {
    // Environments and headers carry credentials: never quoted back.
    if (auto value = reader.text(e, /*secret=*/true)) pairs.emplace_back(e.key, std::move(*value));
  }
}

// An HMAC key: shorter than SHA-256's output it is weaker than the MAC (RFC 2104 §3).
std::optional<std::string> read_secret(NodeReader& reader, const Entry& entry) {
  auto secret = reader.text(entry, /*secret=*/true);
  // Empty (an unset `${VAR:-}`) is no secret: the process makes its own.
  if (secret && !secret->empty() && secret->size() < kMinSecret) {
    reader.error(entry.value_position(),
                 entry.path + ": a session secret has at least 32 characters");
    return std::nullopt;
  }
  return secret;
}

// The name of a route or a model alias that a chat completion may name.
std::optional<std::string> read_route_name(NodeReader& reader, const Entry& entry,
                                           const Declared& models, const Declared& routes) {
  auto name = reader.text(entry);
  if (name && !models.has(*name) && !routes.has(*name)) {
    reader.error(entry.value_position(), entry.path + ": no route or model named '" + *name + "'");
    return std::nullopt;
  }
  return name;
}

McpServer::Sampling read_sampling(NodeReader& reader, const Entry& entry, const Declared& models,
                                  const Declared& routes) {
  McpServer::Sampling sampling;
  const auto section = reader.section(entry, kSamplingKeys);
  if (!section || !reader.require(*section, "route")) return sampling;
  for (const Entry& e : section->entries) {
    if (e.key == "route") {
      assign(sampling.route, read_route_name(reader, e, models, routes));
    } else if (e.key == "models") {
      const auto hints = reader.section(e, kAnyName);
      if (!hints) continue;
      for (const Entry& hint : hints->entries) {
        if (auto route = read_route_name(reader, hint, models, routes))
          sampling.models.emplace_back(hint.key, std::move(*route));
      }
    }
  }
  return sampling;
}

// Roots are file:// URIs (MCP's client/roots says so for every version the gateway speaks).
void read_roots(NodeReader& reader, const Entry& entry,
                std::vector<std::pair<std::string, std::string>>& roots) {
  const auto section = reader.section(entry, kAnyName);
  if (!section) return;
  for (const Entry& e : section->entries) {
    auto uri = reader.text(e);
    if (uri && !uri->starts_with("file://")) {
      reader.error(e.value_position(), e.path + ": a root is a file:// URI");
    } else if (uri) {
      roots.emplace_back(e.key, std::move(*uri));
    }
  }
}

McpServer read_server(NodeReader& reader, const Entry& entry, const std::filesystem::path& base_dir,
                      const Declared& models, const Declared& routes) {
  McpServer server;
  server.name = entry.key;
  if (!valid_server_name(entry.key)) {
    reader.error(entry.key_position(),
                 entry.path + ": a server name is 1 to 32 lower-case letters, digits and '-'");
  }
  const auto section = reader.section(entry, kServerKeys);
  if (!section || !reader.require(*section, "transport")) return server;
  const Entry* transport = section->find("transport");
  const auto which = reader.choice(*transport, kTransports);
  if (!which) return server;
  server.transport = McpServer::Transport(*which);
  const bool stdio = server.transport == McpServer::Transport::stdio;
  if (!reader.require(*section, stdio ? "command" : "url")) return server;
  for (const Entry& e : section->entries) {
    if (contains(stdio ? std::span<const std::string_view>(kHttpOnly) : kStdioOnly, e.key)) {
      reader.error(e.key_position(),
                   e.path + ": not used by transport " + std::string(kTransports[*which]));
    } else if (e.key == "command") {
      assign(server.command, reader.text(e));
    } else if (e.key == "args") {
      server.args = reader.strings(e, "a list of arguments");
    } else if (e.key == "env") {
      read_pairs(reader, e, server.env);
    } else if (e.key == "cwd") {
      assign(server.cwd, reader.text(e));
    } else if (e.key == "url") {
      const auto text = reader.text(e);
      if (!text) continue;
      if (auto url = parse_url(*text); !url) {
        reader.error(e.value_position(), e.path + ": " + url.error());
      } else if (!url->tls && !is_local_host(url->host)) {
        // The headers sent to it are credentials.
        reader.error(e.value_position(), e.path + ": plain http to " + url->host +
                                             " would send the server's credentials in the clear "
                                             "(use https)");
      } else {
        server.url = std::move(*url);
      }
    } else if (e.key == "headers") {
      read_pairs(reader, e, server.headers);
    } else if (e.key == "ca_file") {
      assign(server.ca_file, read_file_path(reader, e, base_dir));
    } else if (e.key == "timeout") {
      assign(server.timeout, reader.duration(e, Zero::rejected));
    } else if (e.key == "rpm") {
      assign(server.rpm, reader.integer(e, 0, kMaxRpm));
    } else if (e.key == "max_concurrency") {
      assign(server.max_concurrency, reader.integer(e, 0, kMaxConcurrency));
    } else if (e.key == "sampling") {
      server.sampling = read_sampling(reader, e, models, routes);
    } else if (e.key == "roots") {
      read_roots(reader, e, server.roots);
    }
  }
  return server;
}

}  // namespace

void read_mcp(NodeReader& reader, const Entry& entry, const std::filesystem::path& base_dir,
              const Declared& models, const Declared& routes, Mcp& mcp) {
  mcp.enabled = true;
  const auto section = reader.section(entry, kMcpKeys);
  if (!section) return;
  for (const Entry& e : section->entries) {
    if (e.key == "enabled") {
      assign(mcp.enabled, reader.boolean(e));
    } else if (e.key == "servers") {
      const auto servers = reader.section(e, kAnyName);
      if (!servers) continue;
      for (const Entry& s : servers->entries)
        mcp.servers.push_back(read_server(reader, s, base_dir, models, routes));
    } else if (e.key == "session_secret") {
      assign(mcp.session_secret, read_secret(reader, e));
    } else if (e.key == "previous_session_secret") {
      assign(mcp.previous_session_secret, read_secret(reader, e));
    } else if (e.key == "session_ttl") {
      assign(mcp.session_ttl, reader.duration(e, Zero::rejected));
    } else if (e.key == "allowed_origins") {
      mcp.allowed_origins = reader.strings(e, "a list of origins");
    } else if (e.key == "max_message") {
      assign(mcp.max_message, reader.size(e, Zero::rejected));
    } else if (e.key == "list_timeout") {
      assign(mcp.list_timeout, reader.duration(e, Zero::rejected));
    } else if (e.key == "ping_interval") {
      assign(mcp.ping_interval, reader.duration(e, Zero::allowed));
    } else if (e.key == "ping_timeout") {
      assign(mcp.ping_timeout, reader.duration(e, Zero::rejected));
    } else if (e.key == "readiness") {
      if (const auto which = reader.choice(e, kReadiness)) mcp.readiness = Mcp::Readiness(*which);
    } else if (e.key == "page_size") {
      assign(mcp.page_size, reader.integer(e, 1, kMaxPageSize));
    }
  }
}

}  // namespace switchyard::config
