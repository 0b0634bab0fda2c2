// The part of a streamed answer a ResponseScript shapes, shared by the three wire formats: the
// content goes out as units (one text chunk, or one tool call with all its events), each after
// x-mock-chunk-delay-ms, and x-mock-drop-after / x-mock-error-event-after count those units.
// Each format builds its own events; only the pacing and the failures live here.
#pragma once

#include "exchange.hpp"
#include "response_script.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/empty_body.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace switchyard::mock {

// The head of a streamed 200: chunked, so each event reaches the client as it is written.
boost::beast::http::response<boost::beast::http::empty_body> stream_head(
    const Request& request, std::string_view content_type);

// The events (each one HTTP chunk) that one content chunk or one tool call is sent as.
using StreamUnit = std::vector<std::string>;

// Sends `units` as the script paces them. Returns nullopt when all were sent and the caller
// goes on to end the stream its format's way; otherwise how the response has already ended:
// cut (x-mock-drop-after, or the peer went away) or closed after `error_event`
// (x-mock-error-event-after; the body then ends without the format's end marker).
boost::asio::awaitable<std::optional<ConnectionFate>> send_stream_units(
    Exchange& exchange, const ResponseScript& script, const std::vector<StreamUnit>& units,
    std::string_view error_event);

// Sends `events` in order, then ends the body.
boost::asio::awaitable<ConnectionFate> finish_stream(Exchange& exchange,
                                                     const std::vector<std::string>& events);

}  // namespace switchyard::mock
