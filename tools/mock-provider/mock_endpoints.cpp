#include "mock_endpoints.hpp"

#include "anthropic_messages.hpp"
#include "api_key.hpp"
#include "chat_completions.hpp"
#include "embeddings.hpp"
#include "gemini_generate.hpp"
#include "mcp_endpoint.hpp"
#include "openai_bodies.hpp"
#include "provider_errors.hpp"
#include "wire_format.hpp"

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
bool is_embeddings(std::string_view path) {
  return path.ends_with("/embeddings");
}
bool is_gemini_generate(const GeminiTarget& target) {
  return target.method == "generateContent" || target.method == "streamGenerateContent";
}
bool is_gemini_embed(const GeminiTarget& target) {
  return target.method == "batchEmbedContents" || target.method == "embedContent";
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
  return openai_error_body(
      ProviderError{400, error_message("malformed HTTP request: " + std::string(reason)), {}});
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
  co_return co_await handle_scripted(request, path, query, channel);
}

boost::asio::awaitable<ConnectionFate> MockEndpoints::handle_scripted(
    const Request& request, std::string_view path, std::string_view query,
    ResponseChannel& channel) const {
  Exchange exchange(request, path, channel, stats_);
  const WireFormat format = wire_format_of(path);
  const std::string request_id = anthropic_request_id(config_.name, exchange.number());
  // Every error below is shaped as the provider the path belongs to would shape it, so the
  // gateway's error mapping for that provider is what a test exercises.
  auto error_response = [&](int status, std::string message, std::optional<std::string> code) {
    Response response = json_response(
        request, status,
        error_body(format, ProviderError{status, std::move(message), std::move(code)}, request_id));
    if (format == WireFormat::anthropic) response.set("request-id", request_id);
    return response;
  };

  ResponseScript script = defaults_.current();
  if (auto error = apply_request_headers(script, request, config_.name)) {
    // Responses are built before the co_await that sends them: GCC 12 destroys some
    // temporaries of a co_await expression twice.
    Response response = error_response(400, error_message(*error), std::nullopt);
    co_return co_await exchange.send(std::move(response));
  }
  if (script.trickle_ms > 0) exchange.trickle(std::chrono::milliseconds(script.trickle_ms));
  // The key is checked before any scripted delay: a real provider refuses a bad key at once.
  if (auto rejection = check_api_key(format, request, query, config_.api_keys, request_id)) {
    Response response = json_response(request, rejection->status, std::move(rejection->body));
    if (format == WireFormat::anthropic) response.set("request-id", request_id);
    co_return co_await exchange.send(std::move(response));
  }

  const bool delayed = delay_applies(exchange.sequence(), script.delay_percent);
  const bool peer_waited = co_await exchange.sleep_watching_peer(
      std::chrono::milliseconds(delayed ? script.delay_ms : 0));
  if (!peer_waited) co_return exchange.peer_gone();
  // A provider that dies before answering: no head, whatever the request (a stream too).
  if (script.drop_before_head) co_return exchange.drop();
  if (script.status != 0) {
    std::string message = script.error_message.value_or(
        error_message("scripted status " + std::to_string(script.status)));
    Response response = error_response(script.status, std::move(message), script.error_code);
    if (!script.retry_after.empty()) response.set(http::field::retry_after, script.retry_after);
    co_return co_await exchange.send(std::move(response));
  }

  const http::verb method = request.method();
  if (method == http::verb::post) {
    if (format == WireFormat::anthropic && path.ends_with("/count_tokens")) {
      co_return co_await serve_anthropic_count(exchange, script, config_.name);
    }
    if (format == WireFormat::anthropic) {
      co_return co_await serve_anthropic_message(exchange, script, config_.name, stats_);
    }
    const std::optional<GeminiTarget> gemini = gemini_target(path);
    if (gemini && is_gemini_generate(*gemini)) {
      co_return co_await serve_gemini_generate(exchange, script, config_.name, stats_, *gemini,
                                               query);
    }
    if (gemini && is_gemini_embed(*gemini)) {
      co_return co_await serve_gemini_embeddings(exchange, script, *gemini);
    }
    if (format == WireFormat::openai && is_chat_completions(path)) {
      co_return co_await serve_chat_completion(exchange, script, config_.name, stats_);
    }
    if (format == WireFormat::openai && is_embeddings(path)) {
      co_return co_await serve_openai_embeddings(exchange, script, config_.name);
    }
    if (is_mcp(path)) co_return co_await serve_mcp(exchange);
  }
  // Only a stream can be cut after some content; for everything else a drop means no answer.
  if (script.drop_after == 0) co_return exchange.drop();
  if (method == http::verb::get && format == WireFormat::openai && is_models(path)) {
    co_return co_await exchange.send(json_response(request, 200, models_body(config_.name)));
  }
  // OpenAI's wording for an unknown route, so clients print the same thing.
  std::string message =
      "Invalid URL (" + std::string(request.method_string()) + " " + std::string(path) + ")";
  Response response = error_response(404, error_message(message), std::nullopt);
  co_return co_await exchange.send(std::move(response));
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
    defaults_.reset();
    response = json_response(request, 204, {});
  } else if (method == http::verb::post && path == "/_mock/defaults") {
    if (auto error = defaults_.apply_json(request.body())) {
      response = json_response(request, 400,
                               openai_error_body(ProviderError{400, error_message(*error), {}}));
    } else {
      response = json_response(request, 204, {});
    }
  } else {
    std::string message =
        "no control endpoint " + std::string(request.method_string()) + " " + std::string(path);
    response = json_response(request, 404,
                             openai_error_body(ProviderError{404, error_message(message), {}}));
  }
  const bool sent = co_await channel.send(response);
  if (!sent) co_return ConnectionFate::cut;
  co_return response.keep_alive() ? ConnectionFate::keep_alive : ConnectionFate::close;
}

}  // namespace switchyard::mock
