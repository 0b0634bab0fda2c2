// What the two HTTP transports (Streamable HTTP, and HTTP+SSE of 2024-11-05) share: the server as
// an upstream origin, and the heads of the requests sent to it.
#include "links.hpp"

#include "switchyard/upstream/sse.hpp"

namespace switchyard::mcp {
namespace {

constexpr Millis kListenFor{3'600'000};
constexpr Millis kListenIdle{300'000};

}  // namespace

config::Provider origin_of(const config::McpServer& server, bool listening) {
  config::Provider provider;
  provider.name = "mcp:" + server.name;
  provider.base_url = server.url;
  provider.ca_file = server.ca_file;
  provider.timeouts.first_byte = server.timeout;
  provider.timeouts.idle = listening ? kListenIdle : server.timeout;
  provider.timeouts.total = listening ? kListenFor : server.timeout;
  return provider;
}

std::string request_head(const config::McpServer& server, std::string_view target,
                         std::optional<std::size_t> content_length, std::string_view extra,
                         std::string_view method) {
  std::string out(method.empty() ? (content_length ? "POST" : "GET") : method);
  out += ' ';
  out += target;
  out += " HTTP/1.1\r\nHost: " + server.url.authority + "\r\n";
  if (content_length) {
    out +=
        "Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\n"
        "Content-Length: " +
        std::to_string(*content_length) + "\r\n";
  } else if (method.empty()) {
    out += "Accept: text/event-stream\r\n";
  }
  for (const auto& [field, value] : server.headers) out += field + ": " + value + "\r\n";
  out += extra;
  return out + "\r\n";
}

Awaitable<StreamEnd> read_events(upstream::Exchange& exchange, const EventHandler& on_event) {
  upstream::SseParser parser(kMaxMessage);
  for (;;) {
    std::size_t n = 0;
    StreamEnd end;
    end.failure = co_await exchange.read_some(parser, &n);
    if (end.failure) co_return end;
    while (auto event = n == 0 ? parser.finish() : parser.next()) {
      if (event->has_data && !on_event(event->name, event->data)) {
        end.stopped = true;
        co_return end;
      }
      if (n == 0) break;
    }
    if (n == 0) {
      end.why = "ended its stream";
      co_return end;
    }
    if (parser.overflowed()) {
      end.why = "sent an event past the size limit";
      co_return end;
    }
    parser.discard_consumed();
  }
}

}  // namespace switchyard::mcp
