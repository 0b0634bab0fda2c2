// POST .../models/{model}:generateContent and :streamGenerateContent: a Gemini
// GenerateContentResponse (docs/providers.md, "Gemini: response"), as JSON or streamed:
//   ?alt=sse  SSE events "data: <response>\r\n\r\n", one per content chunk (or per functionCall),
//             the last with finishReason and usageMetadata; no [DONE], as Google sends it;
//   else      the same responses as one JSON array, streamed element by element.
// A failure after the head is a raw multi-line JSON error, without "data:". x-mock-blocked
// answers a blocked prompt (no candidates, promptFeedback.blockReason).
#pragma once

#include "exchange.hpp"
#include "mock_stats.hpp"
#include "response_script.hpp"
#include "wire_format.hpp"

#include <boost/asio/awaitable.hpp>

#include <string_view>

namespace switchyard::mock {

// Called once the script's delay and status are dealt with, for either method of `target`.
boost::asio::awaitable<ConnectionFate> serve_gemini_generate(
    Exchange& exchange, const ResponseScript& script, std::string_view mock_name, MockStats& stats,
    const GeminiTarget& target, std::string_view query);

}  // namespace switchyard::mock
