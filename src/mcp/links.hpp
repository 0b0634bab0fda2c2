// The transports of mcp::ServerLink, made by make_server_link.
#pragma once

#include <memory>

#include "switchyard/mcp/server_link.hpp"

namespace switchyard::mcp {

// A child process the link spawns, initializes and restarts (with backoff) whenever it exits.
std::shared_ptr<ServerLink> make_stdio_link(Executor executor, const config::McpServer& config);
// A Streamable HTTP endpoint: a POST per message, answered as JSON or as an event stream; the
// server's session is initialized again, transparently, when it has expired.
std::shared_ptr<ServerLink> make_http_link(Executor executor, const config::McpServer& config);

}  // namespace switchyard::mcp
