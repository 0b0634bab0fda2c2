// Translates an OpenAI chat completion request into the body of Anthropic's POST /v1/messages
// (docs/providers.md, "Anthropic: request"): system and developer messages become `system`,
// turns are merged into strictly user/assistant content blocks, tool calls and results become
// tool_use / tool_result blocks, and the sampling and tool options are renamed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "switchyard/providers/adapter.hpp"

namespace switchyard::providers::anthropic {

// max_tokens is required by Anthropic; this is asked for when neither the client nor the model's
// configuration names a limit.
inline constexpr std::uint64_t kDefaultMaxTokens = 4096;

// Writes the Messages body for `client_body` (a validated chat request) to `body`. An error for
// a request Anthropic cannot express (falls over) or that is malformed (final).
Result<void, ProviderError> encode_request(std::string_view client_body, const Call& call,
                                           std::string& body);

}  // namespace switchyard::providers::anthropic
