#include "switchyard/mcp/access.hpp"

#include <algorithm>

#include "switchyard/api/json.hpp"
#include "switchyard/api/jsonrpc.hpp"
#include "switchyard/mcp/federation.hpp"

namespace switchyard::mcp {

bool glob_match(std::string_view pattern, std::string_view text) {
  // Iterative, with one backtrack point: the last `*` seen and where in the text it stood.
  std::size_t p = 0, t = 0, star = std::string_view::npos, resume = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

std::string tool_refusal(std::string_view id, std::string_view tool) {
  std::string message = "Invalid params: tool ";
  api::json::append_quoted(message, tool);
  message += " is not allowed for this key";
  return api::jsonrpc::error_response(id, api::jsonrpc::kInvalidParams, message);
}

bool in_view(std::string_view view, const config::McpAccess& access, std::string_view server) {
  return view.empty() ? access.may_use_server(server) : view == server;
}

bool may_call_tool(const config::McpAccess& access, std::string_view server,
                   std::string_view tool) {
  if (!access.may_use_server(server)) return false;
  const std::string name = prefixed_name(server, tool);
  auto matches = [&name](const std::string& pattern) { return glob_match(pattern, name); };
  if (!access.allow_tools.empty() &&
      std::none_of(access.allow_tools.begin(), access.allow_tools.end(), matches))
    return false;
  return std::none_of(access.deny_tools.begin(), access.deny_tools.end(), matches);
}

}  // namespace switchyard::mcp
