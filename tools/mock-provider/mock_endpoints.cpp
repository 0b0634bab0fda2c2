#include "mock_endpoints.hpp"

#include "chat_completions.hpp"
#include "openai_bodies.hpp"

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>

#include <algorithm>
#include <charconv>
#include <chrono>

namespace switchyard::mock {
namespace {

namespace http = boost::beast::http;

constexpr std::string_view kControlPrefix = "/_mock/";
constexpr std::size_t kDefaultLogLimit = 50;
constexpr std::size_t kMaxLogLimit = 500;

// Any prefix is accepted ("/v1/chat/completions", "/openai/v1/chat/completions", ...) because
// gateway configurations put the provider's base URL in front of the OpenAI path.
bool is_chat_completions(std::string_view path) {
  return path.ends_with("/chat/completions");
}
bool is_models(std::string_view path) {
  return path == "/models" || path.ends_with("/v1/models");
}

std::size_t log_limit(std::string_view query) {
  while (!query.empty()) {
    std::string_view pair = query.substr(0, query.find('&'));
    query.remove_prefix(std::min(query.size(), pair.size() + 1));
    if (!pair.starts_with("limit=")) continue;
    pair.remove_prefix(6);
    std::size_t limit = 0;
    auto [end, ec] = std::from_chars(pair.data(), pair.data() + pair.size(), limit);
    if (ec != std::errc{} || end != pair.data() + pair.size()) return kDefaultLogLimit;
    return std::min(limit, kMaxLogLimit);
  }
  return kDefaultLogLimit;
}

}  // namespace

std::string MockEndpoints::error_message(std::string_view what) const {
  return "mock " + config_.name + ": " + std::string(what);
}

std::string MockEndpoints::malformed_http_body(std::string_view reason) const {
  return error_body(400, error_message("malformed HTTP request: " + std::string(reason)));
}

boost::asio::awaitable<ConnectionFate> MockEndpoints::handle(const Request& request,
                                                             ResponseChannel& channel) const {
  std::string_view target = request.target();
  const std::size_t query_start = std::min(target.find('?'), target.size());
  std::string_view path = target.substr(0, query_start);
  std::string_view query = target.substr(std::min(query_start + 1, target.size()));
  if (path.starts_with(kControlPrefix)) {
    co_return co_await handle_control(request, path, query, channel);
  }
  co_return co_await handle_scripted(request, path, channel);
}

boost::asio::awaitable<ConnectionFate> MockEndpoints::handle_scripted(
    const Request& request, std::string_view path, ResponseChannel& channel) const {
  Exchange exchange(request, path, channel, stats_);
  ResponseScript script = config_.defaults;
  if (auto error = apply_request_headers(script, request, config_.name)) {
    co_return co_await exchange.send(
        json_response(request, 400, error_body(400, error_message(*error))));
  }

  const bool peer_waited =
      co_await exchange.sleep_watching_peer(std::chrono::milliseconds(script.delay_ms));
  if (!peer_waited) co_return exchange.peer_gone();
  if (script.status != 0) {
    Response response = json_response(
        request, script.status,
        error_body(script.status,
                   error_message("scripted status " + std::to_string(script.status))));
    if (!script.retry_after.empty()) response.set(http::field::retry_after, script.retry_after);
    co_return co_await exchange.send(std::move(response));
  }

  const http::verb method = request.method();
  if (method == http::verb::post && is_chat_completions(path)) {
    co_return co_await serve_chat_completion(exchange, script, config_.name, stats_);
  }
  // Only a stream can be cut after some content; for everything else a drop means no answer.
  if (script.drop_after == 0) co_return exchange.drop();
  if (method == http::verb::get && is_models(path)) {
    co_return co_await exchange.send(json_response(request, 200, models_body(config_.name)));
  }
  // OpenAI's wording for an unknown route, so clients print the same thing.
  std::string message =
      "Invalid URL (" + std::string(request.method_string()) + " " + std::string(path) + ")";
  co_return co_await exchange.send(
      json_response(request, 404, error_body(404, error_message(message))));
}

boost::asio::awaitable<ConnectionFate> MockEndpoints::handle_control(
    const Request& request, std::string_view path, std::string_view query,
    ResponseChannel& channel) const {
  const http::verb method = request.method();
  Response response;
  if (method == http::verb::get && path == "/_mock/stats") {
    response = json_response(request, 200, stats_.stats_json(config_.name));
  } else if (method == http::verb::get && path == "/_mock/requests") {
    response = json_response(request, 200, stats_.requests_json(log_limit(query)));
  } else if (method == http::verb::post && path == "/_mock/reset") {
    stats_.reset();
    response = json_response(request, 204, {});
  } else {
    std::string message =
        "no control endpoint " + std::string(request.method_string()) + " " + std::string(path);
    response = json_response(request, 404, error_body(404, error_message(message)));
  }
  const bool sent = co_await channel.send(response);
  if (!sent) co_return ConnectionFate::cut;
  co_return response.keep_alive() ? ConnectionFate::keep_alive : ConnectionFate::close;
}

}  // namespace switchyard::mock
