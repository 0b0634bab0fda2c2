// POST .../v1/messages: an Anthropic Messages answer, as JSON or as Anthropic's SSE stream
// (docs/providers.md, "Anthropic: streaming", and
// platform.claude.com/docs/en/build-with-claude/streaming):
//   event: message_start        the message with empty content and the input usage
//   event: content_block_start  a text block (or, for tool calls, one tool_use block each)
//   event: ping
//   event: content_block_delta  text_delta per chunk (tool calls: input_json_delta fragments)
//   event: content_block_stop
//   event: message_delta        stop_reason and the cumulative output_tokens
//   event: message_stop
// Requests the real API would refuse get its 400 invalid_request_error (anthropic_request.hpp).
#pragma once

#include "exchange.hpp"
#include "mock_stats.hpp"
#include "response_script.hpp"

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace switchyard::mock {

// Called once the script's delay and status are dealt with.
boost::asio::awaitable<ConnectionFate> serve_anthropic_message(Exchange& exchange,
                                                               const ResponseScript& script,
                                                               std::string_view mock_name,
                                                               MockStats& stats);

// POST .../v1/messages/count_tokens: {"input_tokens": n}, n the count a message for the same body
// would report (a quarter of its bytes: deliberately not the gateway's estimate, so a test can tell
// which answered).
boost::asio::awaitable<ConnectionFate> serve_anthropic_count(Exchange& exchange,
                                                             const ResponseScript& script,
                                                             std::string_view mock_name);

// The request-id header and error request_id of one request: "req_mock_<name>_<n>".
std::string anthropic_request_id(std::string_view mock_name, std::uint64_t number);

}  // namespace switchyard::mock
