// What a gateway key may reach of the MCP servers: which servers, and which tools by glob over
// their /mcp names (`<server>__<tool>`). A tool a key may not call is neither listed to it nor
// forwarded when it calls it anyway.
#pragma once

#include <string>
#include <string_view>

#include "switchyard/config/config.hpp"

namespace switchyard::mcp {

// `*` matches any run of characters, `?` any one; everything else itself.
bool glob_match(std::string_view pattern, std::string_view text);

// Whether a session of `view` (one server, or "" for /mcp) reaches `server`: at /mcp, every
// server `access` may use.
bool in_view(std::string_view view, const config::McpAccess& access, std::string_view server);

bool may_call_tool(const config::McpAccess& access, std::string_view server, std::string_view tool);
// The answer to a tools/call of a tool the key may not call (never forwarded): -32602.
std::string tool_refusal(std::string_view id, std::string_view tool);

}  // namespace switchyard::mcp
