// What Switchyard knows of the Model Context Protocol itself: the revisions it speaks, how a
// version is agreed, and reading what a server says of itself when initialized.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace switchyard::mcp {

// What a server said of itself in its initialize result, as raw JSON.
struct ServerInfo {
  std::string protocol_version;
  std::string capabilities;  // object
  std::string server_info;   // object: name, version, ...
  std::string instructions;  // a JSON string, or empty
};

// The lists a server keeps, each fetched whole (every page) and kept until it changes.
enum class ListKind { tools, prompts, resources, resource_templates };
inline constexpr std::size_t kListKinds = 4;

struct ListSpec {
  ListKind kind;
  std::string_view method;      // "tools/list"
  std::string_view field;       // of the result: the items ("tools")
  std::string_view capability;  // a server offers the list only with this capability
  bool prefixed;                // at /mcp, items are named `<server>__<name>`
};
inline constexpr std::array<ListSpec, kListKinds> kLists{{
    {ListKind::tools, "tools/list", "tools", "tools", true},
    {ListKind::prompts, "prompts/list", "prompts", "prompts", true},
    {ListKind::resources, "resources/list", "resources", "resources", false},
    {ListKind::resource_templates, "resources/templates/list", "resourceTemplates", "resources",
     false},
}};
inline const ListSpec& list_spec(ListKind kind) {
  return kLists[std::size_t(kind)];
}
// The list a method asks for ("tools/list"), or nullptr.
const ListSpec* find_list(std::string_view method);

// Newest first. 2025-03-26 is also what a request without MCP-Protocol-Version is taken to
// speak.
inline constexpr std::array<std::string_view, 3> kVersions{"2025-11-25", "2025-06-18",
                                                           "2025-03-26"};
inline constexpr std::string_view kLatestVersion = kVersions.front();
inline constexpr std::string_view kAssumedVersion = kVersions.back();

bool is_supported_version(std::string_view version);
// The version to answer a client's initialize with: the one it asked for when spoken here, else
// the newest (the client then decides whether it can go on).
std::string_view negotiate_version(std::string_view requested);

// The initialize result of a server (raw JSON), or nullopt when it is not one: no
// protocolVersion this gateway speaks (2024-11-05 included, for servers), or
// capabilities/serverInfo missing.
std::optional<ServerInfo> read_server_info(std::string_view result);
// Whether the server's capabilities object has `name` (tools, prompts, resources, logging,
// completions).
bool has_capability(const ServerInfo& info, std::string_view name);

}  // namespace switchyard::mcp
