// The bodies switchyard-mock sends, shaped like OpenAI's so the gateway's OpenAI adapter parses
// them exactly as it parses the real provider's (https://platform.openai.com/docs/api-reference).
#pragma once

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
  nlohmann::ordered_json model;  // echoed from the request, whatever it was
};

struct TokenUsage {
  int prompt_tokens = 0;
  int completion_tokens = 0;
};

// Serialises without ever throwing: request bodies and x-mock-content are client bytes and may
// not be UTF-8, which nlohmann's default dump() rejects with an exception.
std::string dump_json(const nlohmann::ordered_json& value);

// {"error":{...}} with the type and code OpenAI uses for `status`.
std::string error_body(int status, std::string_view message);

std::string completion_body(const CompletionIdentity& identity, std::string_view content,
                            TokenUsage usage);

// One SSE event each, "data: ...\n\n", ready to be written as one HTTP chunk.
std::string role_event(const CompletionIdentity& identity);
std::string content_event(const CompletionIdentity& identity, std::string_view piece);
std::string finish_event(const CompletionIdentity& identity);
std::string usage_event(const CompletionIdentity& identity, TokenUsage usage);
std::string error_event(std::string_view message);
inline constexpr std::string_view kMalformedEvent = "data: {not json\n\n";
inline constexpr std::string_view kDoneEvent = "data: [DONE]\n\n";
// Starts like a completion and stops mid-array, so a client's JSON parser must fail on it.
inline constexpr std::string_view kMalformedBody = R"({"id":"chatcmpl-broken","choices":[)";

std::string models_body(std::string_view owner);

// Splits `content` into `pieces` parts of nearly equal length, cutting only between UTF-8 code
// points so every piece is valid JSON string content on its own.
std::vector<std::string> split_content(std::string_view content, int pieces);

}  // namespace switchyard::mock
