#include "switchyard/mcp/protocol.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace switchyard::mcp {

bool is_supported_version(std::string_view version) {
  return std::find(kVersions.begin(), kVersions.end(), version) != kVersions.end();
}

std::string_view negotiate_version(std::string_view requested) {
  return is_supported_version(requested) ? requested : kLatestVersion;
}

namespace {

// A server may answer initialize with an older revision than the gateway offers its clients:
// 2024-11-05 differs in the transport, not in the messages the gateway relays.
bool is_upstream_version(std::string_view version) {
  return is_supported_version(version) || version == "2024-11-05";
}

}  // namespace

std::optional<ServerInfo> read_server_info(std::string_view result) {
  const auto json = nlohmann::json::parse(result, nullptr, false);
  if (!json.is_object()) return std::nullopt;
  const auto version = json.find("protocolVersion");
  const auto capabilities = json.find("capabilities");
  const auto server = json.find("serverInfo");
  if (version == json.end() || !version->is_string() ||
      !is_upstream_version(version->get<std::string>()) || capabilities == json.end() ||
      !capabilities->is_object() || server == json.end() || !server->is_object())
    return std::nullopt;
  ServerInfo info{version->get<std::string>(), capabilities->dump(), server->dump(), {}};
  if (const auto it = json.find("instructions"); it != json.end() && it->is_string())
    info.instructions = it->dump();
  return info;
}

const ListSpec* find_list(std::string_view method) {
  for (const ListSpec& spec : kLists)
    if (spec.method == method) return &spec;
  return nullptr;
}

bool has_capability(const ServerInfo& info, std::string_view name) {
  const auto capabilities = nlohmann::json::parse(info.capabilities, nullptr, false);
  return capabilities.is_object() && capabilities.contains(name);
}

}  // namespace switchyard::mcp
