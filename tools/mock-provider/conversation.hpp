// What switchyard-mock answers, decided once for all three wire formats so a test that sends the
// same conversation as OpenAI, Anthropic and Gemini gets the same answer from each:
//   - the last message is a tool result   -> the text "Tool result: <its text>", so a test can
//     see the result made it through the gateway's translation intact;
//   - the request offers tools (and tool_choice is not none) -> x-mock-tool-calls calls, to the
//     tool tool_choice names, else to the offered tools in turn, with x-mock-tool-args;
//   - otherwise                            -> x-mock-content, or "Hello from <name>.".
// Each format reads its request into a Conversation and renders the Answer in its own shape.
#pragma once

#include "response_script.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace switchyard::mock {

// The tools a request offers and what its tool_choice (Gemini: toolConfig) says about them.
struct ToolOffer {
  enum class Choice { automatic, none, named };
  std::vector<std::string> declared;  // tool names in request order
  Choice choice = Choice::automatic;  // OpenAI auto/required, Anthropic auto/any, Gemini AUTO/ANY
  // With Choice::named, the tools to call in turn: one for OpenAI and Anthropic, Gemini's
  // allowedFunctionNames may list several.
  std::vector<std::string> named;
};

struct Conversation {
  ToolOffer tools;
  // The last message is a tool result (OpenAI role "tool", an Anthropic user turn holding
  // tool_result blocks, a Gemini user turn holding functionResponse parts): its text.
  std::optional<std::string> tool_result;
};

struct ToolCall {
  std::string name;
  nlohmann::ordered_json arguments;  // always an object
  std::string arguments_text;        // the same object as compact JSON
};

struct Answer {
  std::string text;  // when tool_calls is empty
  std::vector<ToolCall> tool_calls;
  bool calls_tools() const { return !tool_calls.empty(); }
};

Answer decide_answer(const Conversation& conversation, const ResponseScript& script,
                     std::string_view mock_name);

// Crude but deterministic numbers, so a test can predict them exactly: a prompt token per 4
// bytes of request body, an output token per content chunk, and the cached and reasoning tokens
// a script asks for. Each format maps them onto its own usage fields.
struct TokenUsage {
  int prompt_tokens = 0;
  int completion_tokens = 0;  // without reasoning_tokens
  int cached_tokens = 0;
  int reasoning_tokens = 0;
};

TokenUsage token_usage(std::string_view request_body, const ResponseScript& script);

// The pieces a stream sends a tool call's argument text in: the providers stream arguments as
// fragments, and a client that only handles whole objects must fail a test.
std::vector<std::string> argument_fragments(const ToolCall& call);

}  // namespace switchyard::mock
