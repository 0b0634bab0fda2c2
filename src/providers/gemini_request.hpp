// Translates an OpenAI chat completion request into the body of Gemini's generateContent
// (docs/providers.md, "Gemini: request").
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "switchyard/providers/adapter.hpp"

namespace switchyard::providers::gemini {

// Writes the Gemini body for the OpenAI body `openai` to `out`. An error when the client's
// body holds a shape no provider would take (invalid_request) or one Gemini cannot express
// (unsupported: another provider may).
Result<void, ProviderError> write_chat_body(std::string_view openai, const config::Model& model,
                                            std::string& out);

}  // namespace switchyard::providers::gemini
