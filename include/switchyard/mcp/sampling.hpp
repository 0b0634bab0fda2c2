// An MCP server's sampling/createMessage as a chat completion, and the completion's answer as
// the request's result: how a server configured with `sampling: { route }` has its requests for
// an LLM generation served by the gateway's own routes instead of by the client: messages, images
// and audio, tools (the model's tool uses and the server's tool results), and back. What a chat
// completion cannot carry (content the chat API has no part for) is refused, never dropped.
//
// Example:
//   auto body = chat_request_of(params, server.sampling);  // {"model":"fast","messages":[…],…}
//   ... the body served as a chat completion ...
//   auto result = sampling_result_of(response_body);      // {"role":"assistant","content":…}
#pragma once

#include <string>
#include <string_view>

#include "switchyard/config/config.hpp"
#include "switchyard/result.hpp"

namespace switchyard::mcp {

// The chat completion (not streamed) that asks what `params` asks, of the route `sampling`
// picks for the request's model preferences; or why the request is invalid (for -32602).
Result<std::string> chat_request_of(std::string_view params,
                                    const config::McpServer::Sampling& sampling);

// The sampling/createMessage result for a chat completion's response; or why there is none.
Result<std::string> sampling_result_of(std::string_view chat_response);

}  // namespace switchyard::mcp
