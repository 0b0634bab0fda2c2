// POST .../chat/completions: a JSON completion or an SSE stream, shaped as OpenAI sends them,
// answering text, tool calls or a tool result's echo as conversation.hpp decides, with the
// failures a ResponseScript asks for (malformed JSON, a cut or errored stream, ...).
#pragma once

#include "exchange.hpp"
#include "mock_stats.hpp"
#include "response_script.hpp"

#include <boost/asio/awaitable.hpp>

#include <string_view>

namespace switchyard::mock {

// Called once the script's delay and status are dealt with.
boost::asio::awaitable<ConnectionFate> serve_chat_completion(Exchange& exchange,
                                                             const ResponseScript& script,
                                                             std::string_view mock_name,
                                                             MockStats& stats);

}  // namespace switchyard::mock
