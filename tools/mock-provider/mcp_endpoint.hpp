// POST .../mcp: a minimal MCP server over Streamable HTTP, the fast upstream bench/mcp.sh puts
// behind the gateway. It answers initialize (with a session id), ping, tools/list (one tool,
// `echo`) and tools/call of `echo` (its `message` back as text), each as one JSON response;
// notifications get 202. Anything else is JSON-RPC's method-not-found.
#pragma once

#include <boost/asio/awaitable.hpp>

#include "exchange.hpp"

namespace switchyard::mock {

bool is_mcp(std::string_view path);
boost::asio::awaitable<ConnectionFate> serve_mcp(Exchange& exchange);

}  // namespace switchyard::mock
