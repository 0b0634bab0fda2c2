// `keys:` — the gateway's own client keys, each as the SHA-256 of the key (never the key), the
// routes it may use, whether it may use /admin/, and its own spending and rate limits.
#include <array>
#include <cctype>

#include "sections.hpp"

namespace switchyard::config {
namespace {

constexpr std::array<std::string_view, 7> kKeyKeys{"sha256", "routes", "admin", "budget",
                                                   "rpm",    "tpm",    "mcp"};
constexpr std::array<std::string_view, 4> kKeyMcpKeys{"servers", "tools", "rpm", "max_concurrency"};
constexpr std::array<std::string_view, 2> kToolRuleKeys{"allow", "deny"};

bool is_sha256_hex(std::string_view text) {
  if (text.size() != 64) return false;
  for (const char c : text)
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

// `mcp: { servers: [...], tools: { allow: [...], deny: [...] } }`; the servers are those of
// `mcp`, the section already read.
void read_key_mcp(NodeReader& reader, const Entry& entry, const Mcp& mcp, McpAccess& access) {
  const auto section = reader.section(entry, kKeyMcpKeys);
  if (!section) return;
  for (const Entry& e : section->entries) {
    if (e.key == "servers") {
      const auto items = reader.list(e, "a list of MCP server names");
      if (!items) continue;
      for (const Item& item : *items) {
        auto name = reader.text(item);
        if (!name) continue;
        if (!mcp.find_server(*name)) {
          reader.error(item.position, item.path + ": unknown MCP server " + quote(*name));
          continue;
        }
        access.servers.push_back(std::move(*name));
      }
    } else if (e.key == "rpm") {
      assign(access.rpm, reader.integer(e, 0, kMaxRpm));
    } else if (e.key == "max_concurrency") {
      assign(access.max_concurrency, reader.integer(e, 0, kMaxConcurrency));
    } else if (e.key == "tools") {
      const auto tools = reader.section(e, kToolRuleKeys);
      if (!tools) continue;
      for (const Entry& rule : tools->entries) {
        auto patterns = reader.strings(rule, "a list of tool name patterns");
        auto& into = rule.key == "allow" ? access.allow_tools : access.deny_tools;
        into.insert(into.end(), patterns.begin(), patterns.end());
      }
    }
  }
}

}  // namespace

GatewayKey read_key(NodeReader& reader, const Entry& entry, const Declared& models,
                    const Declared& routes, const Mcp& mcp) {
  GatewayKey key;
  key.name = entry.key;
  const auto section = reader.section(entry, kKeyKeys);
  if (!section) return key;
  reader.require(*section, "sha256");
  for (const Entry& e : section->entries) {
    if (e.key == "sha256") {
      auto hex = reader.text(e);
      if (!hex) continue;
      if (!is_sha256_hex(*hex)) {
        reader.error(e.value_position(),
                     e.path +
                         ": expected the 64 hex digits of a SHA-256 (switchyard --hash-key "
                         "prints them), not the key itself");
        continue;
      }
      for (char& c : *hex) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      key.sha256 = std::move(*hex);
    } else if (e.key == "routes") {
      const auto items = reader.list(e, "a list of routes and model aliases");
      if (!items) continue;
      for (const Item& item : *items) {
        const auto name = reader.text(item);
        if (!name) continue;
        if (!routes.has(*name) && !models.has(*name)) {
          reader.error(item.position, item.path + ": unknown route or model " + quote(*name));
          continue;
        }
        key.routes.push_back(*name);
      }
    } else if (e.key == "admin") {
      assign(key.admin, reader.boolean(e));
    } else if (e.key == "budget") {
      // budget: what requests with this key may cost per window; past a cap they are refused.
      read_key_budget(reader, e, key.budget);
    } else if (e.key == "rpm") {
      // rpm: requests per minute (0 = unlimited).
      assign(key.rpm, reader.integer(e, 0, kMaxRpm));
    } else if (e.key == "tpm") {
      // tpm: tokens per minute, estimated prompt plus max_tokens (0 = unlimited).
      assign(key.tpm, reader.integer(e, 0, kMaxTpm));
    } else if (e.key == "mcp") {
      read_key_mcp(reader, e, mcp, key.mcp);
    }
  }
  return key;
}

}  // namespace switchyard::config
