// An MCP server's sampling/createMessage served by one of the gateway's routes (the server's
// `sampling: { route }`): the request becomes a chat completion that the gateway makes of
// itself with the key of the client request the server is serving, so that it is routed,
// limited, cached, costed to that key, logged and traced (as a child of the MCP request's span)
// like any other; its answer becomes the sampling result.
#pragma once

#include <string_view>

#include "switchyard/config/config.hpp"
#include "switchyard/handlers/services.hpp"
#include "switchyard/mcp/relay.hpp"
#include "switchyard/request/context.hpp"

namespace switchyard::handlers {

// The server's answer to a sampling request with `params`, made while serving `request`.
Awaitable<mcp::Reply> sample_by_route(const Services& services, const request::Context& request,
                                      const config::McpServer::Sampling& sampling,
                                      std::string_view params);

}  // namespace switchyard::handlers
