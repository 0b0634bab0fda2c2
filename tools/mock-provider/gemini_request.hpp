// Reading a Gemini GenerateContentRequest (POST .../models/{model}:generateContent and
// :streamGenerateContent): the checks the real API makes before it answers, in its wording,
// and the Conversation the answer depends on. Like Google's JSON parser, both spellings of a
// field are accepted: lowerCamel ("generationConfig") and the proto's snake_case
// ("generation_config").
#pragma once

#include "conversation.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

namespace switchyard::mock {

// The message of the 400 INVALID_ARGUMENT the real API would answer, or nullopt. `body` is the
// parsed body (discarded when it was not JSON).
std::optional<std::string> gemini_request_error(const nlohmann::ordered_json& body);

Conversation read_gemini_conversation(const nlohmann::ordered_json& body);

// generationConfig.candidateCount, 1 when absent. Call after gemini_request_error.
int gemini_candidate_count(const nlohmann::ordered_json& body);

// "generationConfig" -> "generation_config": the proto name Google's errors and parser use.
std::string snake_case(std::string_view camel);

}  // namespace switchyard::mock
