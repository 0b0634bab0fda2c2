#include "anthropic_messages.hpp"

#include "anthropic_request.hpp"
#include "conversation.hpp"
#include "provider_errors.hpp"
#include "scripted_stream.hpp"
#include "wire_text.hpp"

#include <nlohmann/json.hpp>

namespace switchyard::mock {
namespace {

using json = nlohmann::ordered_json;

constexpr std::string_view kRequestIdHeader = "request-id";
// Starts like a message and stops mid-array, so a client's JSON parser must fail on it.
constexpr std::string_view kMalformedBody = R"({"id":"msg_broken","type":"message","content":[)";
constexpr std::string_view kMalformedEvent = "event: content_block_delta\ndata: {not json\n\n";

// What every body of one message, streamed or not, repeats.
struct MessageIdentity {
  std::string id;                  // msg_mock_<name>_<n>
  json model;                      // echoed from the request
  std::string tool_use_id_prefix;  // toolu_mock_<name>_<n>_, completed by the block's index
};

std::string sse_event(std::string_view type, const json& payload) {
  return "event: " + std::string(type) + "\ndata: " + dump_json(payload) + "\n\n";
}

// Anthropic's counts are disjoint: input_tokens excludes what was read from the cache, and
// output_tokens includes any thinking.
json usage_json(TokenUsage usage, int output_tokens) {
  return json{{"input_tokens", usage.prompt_tokens},
              {"output_tokens", output_tokens},
              {"cache_creation_input_tokens", 0},
              {"cache_read_input_tokens", usage.cached_tokens}};
}

int output_tokens(TokenUsage usage) {
  return usage.completion_tokens + usage.reasoning_tokens;
}

json tool_use_block(const MessageIdentity& identity, const ToolCall& call, std::size_t index,
                    json input) {
  return json{{"type", "tool_use"},
              {"id", identity.tool_use_id_prefix + std::to_string(index)},
              {"name", call.name},
              {"input", std::move(input)}};
}

json message_json(const MessageIdentity& identity, json content, json stop_reason, json usage) {
  return json{{"id", identity.id},
              {"type", "message"},
              {"role", "assistant"},
              {"model", identity.model},
              {"content", std::move(content)},
              {"stop_reason", std::move(stop_reason)},
              {"stop_sequence", nullptr},
              {"usage", std::move(usage)}};
}

std::string message_body(const MessageIdentity& identity, const Answer& answer,
                         std::string_view stop_reason, TokenUsage usage) {
  json content = json::array();
  if (answer.calls_tools()) {
    for (std::size_t i = 0; i < answer.tool_calls.size(); ++i) {
      content.push_back(
          tool_use_block(identity, answer.tool_calls[i], i, answer.tool_calls[i].arguments));
    }
  } else {
    content.push_back(json{{"type", "text"}, {"text", answer.text}});
  }
  return dump_json(message_json(identity, std::move(content), stop_reason,
                                usage_json(usage, output_tokens(usage))));
}

std::string block_start(std::size_t index, json block) {
  return sse_event(
      "content_block_start",
      json{{"type", "content_block_start"}, {"index", index}, {"content_block", std::move(block)}});
}

std::string block_delta(std::size_t index, json delta) {
  return sse_event(
      "content_block_delta",
      json{{"type", "content_block_delta"}, {"index", index}, {"delta", std::move(delta)}});
}

std::string block_stop(std::size_t index) {
  return sse_event("content_block_stop", json{{"type", "content_block_stop"}, {"index", index}});
}

// A tool_use block streams with an empty input, then its JSON text as input_json_delta
// fragments, the first one empty as the API sends it.
StreamUnit tool_use_events(const MessageIdentity& identity, const ToolCall& call,
                           std::size_t index) {
  StreamUnit events{block_start(index, tool_use_block(identity, call, index, json::object()))};
  events.push_back(block_delta(index, json{{"type", "input_json_delta"}, {"partial_json", ""}}));
  for (const std::string& fragment : argument_fragments(call)) {
    events.push_back(
        block_delta(index, json{{"type", "input_json_delta"}, {"partial_json", fragment}}));
  }
  events.push_back(block_stop(index));
  return events;
}

boost::asio::awaitable<ConnectionFate> stream_message(
    Exchange& exchange, const ResponseScript& script, const MessageIdentity& identity,
    const Answer& answer, std::string_view stop_reason, TokenUsage usage,
    std::string_view request_id) {
  auto head = stream_head(exchange.request(), "text/event-stream");
  head.set(kRequestIdHeader, request_id);
  json start{{"type", "message_start"},
             {"message", message_json(identity, json::array(), nullptr, usage_json(usage, 0))}};
  std::vector<std::string> prelude{sse_event("message_start", start)};
  // Text goes in block 0, opened before the chunks and closed after them; tool calls are one
  // self-contained block each, so a drop between them leaves no block half open.
  if (!answer.calls_tools()) {
    prelude.push_back(block_start(0, json{{"type", "text"}, {"text", ""}}));
  }
  prelude.push_back(sse_event("ping", json{{"type", "ping"}}));
  if (script.malformed) prelude.emplace_back(kMalformedEvent);

  bool alive = co_await exchange.start_stream(head);
  for (const std::string& event : prelude) {
    if (!alive) break;
    alive = co_await exchange.send_event(event);
  }
  if (!alive) co_return exchange.peer_gone();

  std::vector<StreamUnit> units;
  if (answer.calls_tools()) {
    for (std::size_t i = 0; i < answer.tool_calls.size(); ++i) {
      units.push_back(tool_use_events(identity, answer.tool_calls[i], i));
    }
  } else {
    for (const std::string& piece : split_content(answer.text, script.chunks)) {
      units.push_back({block_delta(0, json{{"type", "text_delta"}, {"text", piece}})});
    }
  }
  const std::optional<ConnectionFate> ended =
      co_await send_stream_units(exchange, script, units, anthropic_stream_error(script));
  if (ended) co_return *ended;

  std::vector<std::string> tail;
  if (!answer.calls_tools()) tail.push_back(block_stop(0));
  tail.push_back(sse_event(
      "message_delta", json{{"type", "message_delta"},
                            {"delta", {{"stop_reason", stop_reason}, {"stop_sequence", nullptr}}},
                            {"usage", {{"output_tokens", output_tokens(usage)}}}}));
  if (!script.no_done) tail.push_back(sse_event("message_stop", json{{"type", "message_stop"}}));
  co_return co_await finish_stream(exchange, tail);
}

}  // namespace

std::string anthropic_request_id(std::string_view mock_name, std::uint64_t number) {
  return "req_mock_" + std::string(mock_name) + "_" + std::to_string(number);
}

boost::asio::awaitable<ConnectionFate> serve_anthropic_count(Exchange& exchange,
                                                             const ResponseScript& script,
                                                             std::string_view mock_name) {
  const Request& request = exchange.request();
  const std::string request_id = anthropic_request_id(mock_name, exchange.number());
  const json body = json::parse(request.body(), nullptr, /*allow_exceptions=*/false);
  std::optional<std::string> problem;
  if (request.find("anthropic-version") == request.end()) {
    problem = "anthropic-version: header is required";
  } else if (!body.is_object() || !body.contains("model") || !body.contains("messages")) {
    problem = "model and messages: Field required";
  }
  Response response =
      problem
          ? json_response(request, 400,
                          anthropic_error_body(
                              ProviderError{400, std::move(*problem), std::nullopt}, request_id))
          : json_response(request, 200,
                          dump_json(json{{"input_tokens",
                                          token_usage(request.body(), script).prompt_tokens}}));
  response.set(kRequestIdHeader, request_id);
  co_return co_await exchange.send(std::move(response));
}

boost::asio::awaitable<ConnectionFate> serve_anthropic_message(Exchange& exchange,
                                                               const ResponseScript& script,
                                                               std::string_view mock_name,
                                                               MockStats& stats) {
  const Request& request = exchange.request();
  const std::string request_id = anthropic_request_id(mock_name, exchange.number());
  const json body = json::parse(request.body(), nullptr, /*allow_exceptions=*/false);
  const bool stream = body.is_object() && is_true(body, "stream");
  if (!stream && script.drop_after == 0) co_return exchange.drop();

  const bool has_version = request.find("anthropic-version") != request.end();
  if (auto problem = anthropic_request_error(body, has_version)) {
    Response response = json_response(
        request, 400,
        anthropic_error_body(ProviderError{400, std::move(*problem), std::nullopt}, request_id));
    response.set(kRequestIdHeader, request_id);
    co_return co_await exchange.send(std::move(response));
  }

  const std::uint64_t number = stats.next_completion_number();
  MessageIdentity identity;
  identity.id = "msg_mock_" + std::string(mock_name) + "_" + std::to_string(number);
  identity.model = body["model"];
  identity.tool_use_id_prefix =
      "toolu_mock_" + std::string(mock_name) + "_" + std::to_string(number) + "_";

  const Answer answer = decide_answer(read_anthropic_conversation(body), script, mock_name);
  const std::string stop_reason =
      script.finish_reason.value_or(answer.calls_tools() ? "tool_use" : "end_turn");
  const TokenUsage usage = token_usage(request.body(), script);

  if (stream) {
    co_return co_await stream_message(exchange, script, identity, answer, stop_reason, usage,
                                      request_id);
  }
  Response response =
      json_response(request, 200,
                    script.malformed ? std::string(kMalformedBody)
                                     : message_body(identity, answer, stop_reason, usage));
  response.set(kRequestIdHeader, request_id);
  co_return co_await exchange.send(std::move(response));
}

}  // namespace switchyard::mock
