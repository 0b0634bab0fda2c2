// The options of a Gemini request that are not its contents: generationConfig (sampling, output
// length, stop sequences, JSON output, thinking) and tools with toolConfig
// (docs/providers.md, "Gemini: request").
#pragma once

#include <optional>

#include "gemini_wire.hpp"
#include "switchyard/config/config.hpp"
#include "switchyard/providers/adapter.hpp"

namespace switchyard::providers::gemini {

// The OpenAI request's options into `config` (generationConfig); an error names the param.
Result<void, ProviderError> generation_config(const Json& request, const config::Model& model,
                                              Json& config);
// tools → functionDeclarations; tool_choice → toolConfig (sent only along with tools), into
// `body`.
Result<void, ProviderError> tools(const Json& request, Json& body);

}  // namespace switchyard::providers::gemini
