// The transports of mcp::ServerLink, made by make_server_link.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "switchyard/mcp/server_link.hpp"
#include "switchyard/upstream/exchange.hpp"

namespace switchyard::mcp {

// Of one JSON answer of an HTTP server, and of one event of its streams.
inline constexpr std::size_t kMaxMessage = 16 * 1024 * 1024;

// An HTTP server as an upstream origin: where to connect and how long to wait, for messages or
// (`listening`) for the server's event stream, which is opened again after an hour, or after
// 5 minutes without a byte: a connection some proxy dropped silently is noticed.
config::Provider origin_of(const config::McpServer& server, bool listening);
// The head of a request to an HTTP server at `target`: a POST of a JSON message of
// `content_length` bytes, or without one the GET of an event stream (or with `method` "DELETE",
// the end of a session); the configured headers (its credentials) and `extra` (whole header
// lines) with it.
std::string request_head(const config::McpServer& server, std::string_view target,
                         std::optional<std::size_t> content_length, std::string_view extra = {},
                         std::string_view method = {});

// How reading an event stream ended: `on_event` said it had what it wanted (stopped), the read
// failed (failure), or the stream ended or broke a rule (why).
struct StreamEnd {
  bool stopped = false;
  upstream::Failure failure;
  std::string why;
};
using EventHandler = std::function<bool(std::string_view name, std::string_view data)>;
// Hands each event with data (its `event:` name and data) to `on_event`, while it returns true.
Awaitable<StreamEnd> read_events(upstream::Exchange& exchange, const EventHandler& on_event);

// A child process the link spawns, initializes and restarts (with backoff) whenever it exits.
std::shared_ptr<ServerLink> make_stdio_link(Executor executor, const config::McpServer& config);
// A Streamable HTTP endpoint: a POST per message, answered as JSON or as an event stream; the
// server's session is initialized again, transparently, when it has expired.
std::shared_ptr<ServerLink> make_http_link(Executor executor, const config::McpServer& config);
// The HTTP+SSE transport of 2024-11-05: one event stream from the server carries all it sends;
// messages are POSTed to the endpoint its first event names.
std::shared_ptr<ServerLink> make_sse_link(Executor executor, const config::McpServer& config);

}  // namespace switchyard::mcp
