#include "chat_completions.hpp"

#include "openai_bodies.hpp"

#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/field.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>

namespace switchyard::mock {
namespace {

namespace http = boost::beast::http;
using json = nlohmann::ordered_json;

bool is_true(const json& object, std::string_view key) {
  auto it = object.find(key);
  return it != object.end() && it->is_boolean() && it->get<bool>();
}

// Where a count directive takes effect; asking for more content chunks than the stream has
// takes effect after the last one rather than never, which is what a test means by it.
int clamp_to_chunks(int after, int chunks) {
  return after < 0 ? -1 : std::min(after, chunks);
}

boost::asio::awaitable<ConnectionFate> stream_completion(
    Exchange& exchange, const ResponseScript& script, const CompletionIdentity& identity,
    std::string_view content, TokenUsage usage, bool include_usage, std::string_view mock_name) {
  const Request& request = exchange.request();
  http::response<http::empty_body> head{http::status::ok, request.version()};
  head.set(http::field::server, "switchyard-mock");
  head.set(http::field::content_type, "text/event-stream");
  head.set(http::field::cache_control, "no-cache");
  head.keep_alive(request.keep_alive());
  head.chunked(true);
  // `alive` threads through every step instead of `if (!co_await ...)`: GCC 12 miscompiles a
  // co_await inside an if/switch condition (the coroutine crashes on resumption), so no
  // co_await in this directory sits in a condition.
  bool alive = co_await exchange.start_stream(head);
  if (alive) alive = co_await exchange.send_event(role_event(identity));
  if (alive && script.malformed) alive = co_await exchange.send_event(kMalformedEvent);

  const std::vector<std::string> pieces = split_content(content, script.chunks);
  const int drop_at = clamp_to_chunks(script.drop_after, script.chunks);
  const int error_at = clamp_to_chunks(script.error_event_after, script.chunks);
  for (int sent = 0; alive; ++sent) {
    if (sent == drop_at) co_return exchange.drop();
    if (sent == error_at) {
      // OpenAI reports a failure after the head as an error event, then ends the body without
      // [DONE]; clients must treat that as an error, not as a short answer.
      const std::string message = "mock " + std::string(mock_name) + ": scripted stream error";
      alive = co_await exchange.send_event(error_event(message));
      if (!alive) break;
      co_return co_await exchange.end_stream();
    }
    if (sent == script.chunks) break;
    alive = co_await exchange.sleep_watching_peer(std::chrono::milliseconds(script.chunk_delay_ms));
    if (alive) {
      alive = co_await exchange.send_event(
          content_event(identity, pieces[static_cast<std::size_t>(sent)]));
    }
  }

  if (alive) alive = co_await exchange.send_event(finish_event(identity));
  if (alive && include_usage) alive = co_await exchange.send_event(usage_event(identity, usage));
  if (alive && !script.no_done) alive = co_await exchange.send_event(kDoneEvent);
  if (!alive) co_return exchange.peer_gone();
  co_return co_await exchange.end_stream();
}

}  // namespace

boost::asio::awaitable<ConnectionFate> serve_chat_completion(Exchange& exchange,
                                                             const ResponseScript& script,
                                                             std::string_view mock_name,
                                                             MockStats& stats) {
  const Request& request = exchange.request();
  const json body = json::parse(request.body(), nullptr, /*allow_exceptions=*/false);
  const bool valid = body.is_object();
  const bool stream = valid && is_true(body, "stream");
  if (!stream && script.drop_after == 0) co_return exchange.drop();
  if (!valid) {
    std::string message = "mock " + std::string(mock_name) +
                          ": the request body is not a JSON object; see "
                          "https://platform.openai.com/docs/api-reference/chat/create";
    co_return co_await exchange.send(json_response(request, 400, error_body(400, message)));
  }

  CompletionIdentity identity;
  identity.id = "chatcmpl-mock-" + std::string(mock_name) + "-" +
                std::to_string(stats.next_completion_number());
  identity.created = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
  if (auto model = body.find("model"); model != body.end()) identity.model = *model;
  const std::string content = script.content.value_or("Hello from " + std::string(mock_name) + ".");
  // A crude but deterministic token count, so tests can predict usage exactly.
  const TokenUsage usage{static_cast<int>(request.body().size() / 4), script.chunks};

  if (stream) {
    bool include_usage = false;
    if (auto options = body.find("stream_options"); options != body.end() && options->is_object()) {
      include_usage = is_true(*options, "include_usage");
    }
    co_return co_await stream_completion(exchange, script, identity, content, usage, include_usage,
                                         mock_name);
  }
  if (script.malformed) {
    co_return co_await exchange.send(json_response(request, 200, std::string(kMalformedBody)));
  }
  co_return co_await exchange.send(
      json_response(request, 200, completion_body(identity, content, usage)));
}

}  // namespace switchyard::mock
