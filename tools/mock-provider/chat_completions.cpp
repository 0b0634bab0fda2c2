#include "chat_completions.hpp"

#include "conversation.hpp"
#include "openai_bodies.hpp"
#include "provider_errors.hpp"
#include "scripted_stream.hpp"
#include "wire_text.hpp"

#include <nlohmann/json.hpp>

#include <chrono>

namespace switchyard::mock {
namespace {

using json = nlohmann::ordered_json;

// A tool message's content: a string, or text parts, joined without a separator.
std::string text_of(const json& content) {
  if (content.is_string()) return content.get<std::string>();
  std::string text;
  if (!content.is_array()) return text;
  for (const json& part : content) {
    const json* piece = find_member(part, "text");
    if (piece != nullptr && piece->is_string()) text += piece->get<std::string>();
  }
  return text;
}

// tools: [{"type":"function","function":{"name"}}]; tool_choice: "none" | "auto" | "required"
// | {"type":"function","function":{"name"}}.
ToolOffer read_tool_offer(const json& body) {
  ToolOffer offer;
  if (const json* tools = find_member(body, "tools"); tools != nullptr && tools->is_array()) {
    for (const json& tool : *tools) {
      const json* function = find_member(tool, "function");
      const json* name = find_member(function != nullptr ? *function : tool, "name");
      if (name != nullptr && name->is_string()) offer.declared.push_back(name->get<std::string>());
    }
  }
  const json* choice = find_member(body, "tool_choice");
  if (choice == nullptr) return offer;
  if (choice->is_string() && *choice == "none") offer.choice = ToolOffer::Choice::none;
  const json* function = choice->is_object() ? find_member(*choice, "function") : nullptr;
  const json* name = function != nullptr ? find_member(*function, "name") : nullptr;
  if (name != nullptr && name->is_string()) {
    offer.choice = ToolOffer::Choice::named;
    offer.named.push_back(name->get<std::string>());
  }
  return offer;
}

Conversation read_conversation(const json& body) {
  Conversation conversation{read_tool_offer(body), std::nullopt};
  const json* messages = find_member(body, "messages");
  if (messages != nullptr && messages->is_array() && !messages->empty()) {
    const json& last = messages->back();
    const json* role = find_member(last, "role");
    if (role != nullptr && *role == "tool") {
      const json* content = find_member(last, "content");
      conversation.tool_result = content != nullptr ? text_of(*content) : std::string();
    }
  }
  return conversation;
}

boost::asio::awaitable<ConnectionFate> stream_completion(
    Exchange& exchange, const ResponseScript& script, const CompletionIdentity& identity,
    const Answer& answer, std::string_view finish_reason, TokenUsage usage, bool include_usage,
    std::string_view mock_name) {
  auto head = stream_head(exchange.request(), "text/event-stream");
  bool alive = co_await exchange.start_stream(head);
  if (alive) alive = co_await exchange.send_event(role_event(identity));
  if (alive && script.malformed) alive = co_await exchange.send_event(kMalformedEvent);
  if (!alive) co_return exchange.peer_gone();

  std::vector<StreamUnit> units;
  if (answer.calls_tools()) {
    for (std::size_t i = 0; i < answer.tool_calls.size(); ++i) {
      units.push_back(tool_call_events(identity, answer.tool_calls[i], static_cast<int>(i)));
    }
  } else {
    for (const std::string& piece : split_content(answer.text, script.chunks)) {
      units.push_back({content_event(identity, piece)});
    }
  }
  const std::optional<ConnectionFate> ended =
      co_await send_stream_units(exchange, script, units, openai_stream_error(script, mock_name));
  if (ended) co_return *ended;

  std::vector<std::string> tail{finish_event(identity, finish_reason)};
  if (include_usage) tail.push_back(usage_event(identity, usage));
  if (!script.no_done) tail.emplace_back(kDoneEvent);
  co_return co_await finish_stream(exchange, tail);
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
    ProviderError error{400,
                        "mock " + std::string(mock_name) +
                            ": the request body is not a JSON object; see "
                            "https://platform.openai.com/docs/api-reference/chat/create",
                        std::nullopt};
    co_return co_await exchange.send(json_response(request, 400, openai_error_body(error)));
  }

  const std::uint64_t number = stats.next_completion_number();
  CompletionIdentity identity;
  identity.id = "chatcmpl-mock-" + std::string(mock_name) + "-" + std::to_string(number);
  identity.created = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
  if (const json* model = find_member(body, "model")) identity.model = *model;
  identity.tool_call_id_prefix =
      "call_mock_" + std::string(mock_name) + "_" + std::to_string(number) + "_";

  const Answer answer = decide_answer(read_conversation(body), script, mock_name);
  const std::string finish_reason =
      script.finish_reason.value_or(answer.calls_tools() ? "tool_calls" : "stop");
  const TokenUsage usage = token_usage(request.body(), script);

  if (stream) {
    bool include_usage = false;
    if (const json* options = find_member(body, "stream_options")) {
      include_usage = is_true(*options, "include_usage");
    }
    co_return co_await stream_completion(exchange, script, identity, answer, finish_reason, usage,
                                         include_usage, mock_name);
  }
  if (script.malformed) {
    co_return co_await exchange.send(json_response(request, 200, std::string(kMalformedBody)));
  }
  co_return co_await exchange.send(
      json_response(request, 200, completion_body(identity, answer, finish_reason, usage)));
}

}  // namespace switchyard::mock
