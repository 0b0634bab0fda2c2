// What the MCP front door's handlers share of Streamable HTTP: the media types and headers it
// names, reading Accept, and refusing a request in the specification's shape.
#pragma once

#include <boost/beast/core/string.hpp>
#include <string_view>

#include "switchyard/api/jsonrpc.hpp"
#include "switchyard/request/context.hpp"

namespace switchyard::handlers::mcp_transport {

inline constexpr std::string_view kJson = "application/json";
inline constexpr std::string_view kEventStream = "text/event-stream";
inline constexpr std::string_view kSessionHeader = "Mcp-Session-Id";

// Whether the Accept header lists `type` (parameters such as q= aside).
inline bool accepts(std::string_view accept, std::string_view type) {
  const auto trim = [](std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
  };
  while (!accept.empty()) {
    const auto comma = accept.find(',');
    std::string_view range = accept.substr(0, comma);
    range = trim(range.substr(0, range.find(';')));
    if (beast::iequals(range, type)) return true;
    if (comma == std::string_view::npos) break;
    accept.remove_prefix(comma + 1);
  }
  return false;
}

// A refusal of the transport: an HTTP error whose body is a JSON-RPC error without an id (the
// specification's shape for it), or with the id when the message could be read.
inline Awaitable<void> refuse(request::ResponseSink& sink, int status, int code,
                              std::string_view message, std::string_view id = {}) {
  co_await sink.send(status, kJson, api::jsonrpc::error_response(id, code, message));
}

}  // namespace switchyard::handlers::mcp_transport
