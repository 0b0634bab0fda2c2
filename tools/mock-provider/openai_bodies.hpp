// The bodies switchyard-mock sends on OpenAI paths, shaped like OpenAI's so the gateway's OpenAI
// adapter parses them exactly as it parses the real provider's
// (https://platform.openai.com/docs/api-reference). Errors are in provider_errors.hpp.
#pragma once

#include "conversation.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace switchyard::mock {

// What every body of one completion, streamed or not, repeats.
struct CompletionIdentity {
  std::string id;  // chatcmpl-mock-<name>-<n>
  std::int64_t created = 0;
  nlohmann::ordered_json model;     // echoed from the request, whatever it was
  std::string tool_call_id_prefix;  // call_mock_<name>_<n>_, completed by the call's index
};

std::string completion_body(const CompletionIdentity& identity, const Answer& answer,
                            std::string_view finish_reason, TokenUsage usage);

// One SSE event each, "data: ...\n\n", ready to be written as one HTTP chunk.
std::string role_event(const CompletionIdentity& identity);
std::string content_event(const CompletionIdentity& identity, std::string_view piece);
// The OpenAI way to stream a call: a first delta with the id, type, name and empty arguments,
// then deltas appending argument fragments, all under the call's index.
std::vector<std::string> tool_call_events(const CompletionIdentity& identity, const ToolCall& call,
                                          int index);
std::string finish_event(const CompletionIdentity& identity, std::string_view finish_reason);
std::string usage_event(const CompletionIdentity& identity, TokenUsage usage);
inline constexpr std::string_view kMalformedEvent = "data: {not json\n\n";
inline constexpr std::string_view kDoneEvent = "data: [DONE]\n\n";
// Starts like a completion and stops mid-array, so a client's JSON parser must fail on it.
inline constexpr std::string_view kMalformedBody = R"({"id":"chatcmpl-broken","choices":[)";

std::string models_body(std::string_view owner);

}  // namespace switchyard::mock
