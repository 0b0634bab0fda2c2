// Reading an Anthropic Messages request (POST /v1/messages): the checks the real API makes
// before it answers, with its own wording, so a gateway that translates OpenAI requests badly
// fails a test the way it would fail in production; and the Conversation the answer depends on.
// Wording from the API's pydantic-style messages and docs/providers.md, "Anthropic: errors".
#pragma once

#include "conversation.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

namespace switchyard::mock {

// The message of the 400 invalid_request_error the real API would answer, or nullopt.
// `body` is the parsed body (discarded when it was not JSON).
std::optional<std::string> anthropic_request_error(const nlohmann::ordered_json& body,
                                                   bool has_version_header);

Conversation read_anthropic_conversation(const nlohmann::ordered_json& body);

}  // namespace switchyard::mock
