#include "scripted_stream.hpp"

#include <boost/beast/http/field.hpp>

#include <algorithm>
#include <chrono>

namespace switchyard::mock {
namespace {

namespace http = boost::beast::http;

// Where a count directive takes effect; asking for more units than the stream has takes effect
// after the last one rather than never, which is what a test means by it.
int clamp_to_units(int after, std::size_t units) {
  return after < 0 ? -1 : std::min(after, static_cast<int>(units));
}

}  // namespace

http::response<http::empty_body> stream_head(const Request& request,
                                             std::string_view content_type) {
  http::response<http::empty_body> head{http::status::ok, request.version()};
  head.set(http::field::server, "switchyard-mock");
  head.set(http::field::content_type, content_type);
  head.set(http::field::cache_control, "no-cache");
  head.keep_alive(request.keep_alive());
  head.chunked(true);
  return head;
}

boost::asio::awaitable<std::optional<ConnectionFate>> send_stream_units(
    Exchange& exchange, const ResponseScript& script, const std::vector<StreamUnit>& units,
    std::string_view error_event) {
  const int drop_at = clamp_to_units(script.drop_after, units.size());
  const int error_at = clamp_to_units(script.error_event_after, units.size());
  // `alive` threads through every step instead of `if (!co_await ...)`: GCC 12 miscompiles a
  // co_await inside an if/switch condition (the coroutine crashes on resumption), so no
  // co_await in this directory sits in a condition.
  bool alive = true;
  for (int sent = 0; alive; ++sent) {
    if (sent == drop_at) co_return exchange.drop();
    if (sent == error_at) {
      // Providers report a failure after the head in the body, then end it without their end
      // marker; clients must treat that as an error, not as a short answer.
      alive = co_await exchange.send_event(error_event);
      if (!alive) break;
      co_return co_await exchange.end_stream();
    }
    if (sent == static_cast<int>(units.size())) co_return std::nullopt;
    alive = co_await exchange.sleep_watching_peer(std::chrono::milliseconds(script.chunk_delay_ms));
    for (const std::string& event : units[static_cast<std::size_t>(sent)]) {
      if (!alive) break;
      alive = co_await exchange.send_event(event);
    }
  }
  co_return exchange.peer_gone();
}

boost::asio::awaitable<ConnectionFate> finish_stream(Exchange& exchange,
                                                     const std::vector<std::string>& events) {
  bool alive = true;
  for (const std::string& event : events) {
    alive = co_await exchange.send_event(event);
    if (!alive) co_return exchange.peer_gone();
  }
  co_return co_await exchange.end_stream();
}

}  // namespace switchyard::mock
