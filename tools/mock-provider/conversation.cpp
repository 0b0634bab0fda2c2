#include "conversation.hpp"

#include "wire_text.hpp"

namespace switchyard::mock {
namespace {

using json = nlohmann::ordered_json;

constexpr int kArgumentFragments = 2;

const std::vector<std::string>& callable_tools(const ToolOffer& offer) {
  static const std::vector<std::string> kNone;
  // A forced tool the request never declared is still called: the provider would have rejected
  // such a request, and calling it lets a test see what the gateway asked for.
  if (offer.choice == ToolOffer::Choice::none || offer.declared.empty()) return kNone;
  if (offer.choice == ToolOffer::Choice::named && !offer.named.empty()) return offer.named;
  return offer.declared;
}

}  // namespace

Answer decide_answer(const Conversation& conversation, const ResponseScript& script,
                     std::string_view mock_name) {
  Answer answer;
  if (conversation.tool_result) {
    answer.text = "Tool result: " + *conversation.tool_result;
    return answer;
  }
  const std::vector<std::string>& tools = callable_tools(conversation.tools);
  if (tools.empty() || script.tool_calls == 0) {
    answer.text = script.content.value_or("Hello from " + std::string(mock_name) + ".");
    return answer;
  }
  // tool_args was checked to be a JSON object when the directive was applied.
  json arguments = json::parse(script.tool_args, nullptr, /*allow_exceptions=*/false);
  if (!arguments.is_object()) arguments = json::object();
  const std::string arguments_text = dump_json(arguments);
  for (int i = 0; i < script.tool_calls; ++i) {
    answer.tool_calls.push_back(
        ToolCall{tools[static_cast<std::size_t>(i) % tools.size()], arguments, arguments_text});
  }
  return answer;
}

TokenUsage token_usage(std::string_view request_body, const ResponseScript& script) {
  return TokenUsage{static_cast<int>(request_body.size() / 4), script.chunks, script.cached_tokens,
                    script.thoughts_tokens};
}

std::vector<std::string> argument_fragments(const ToolCall& call) {
  return split_content(call.arguments_text, kArgumentFragments);
}

}  // namespace switchyard::mock
