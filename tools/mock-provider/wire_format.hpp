// Which provider's wire format a request to switchyard-mock speaks, told from its path alone
// (the way a client picks the provider by base URL): errors, the API-key check and the answer
// are all shaped by it.
//   Anthropic: any path ending in /v1/messages
//   Gemini:    any path .../models/{model}:{method}
//   OpenAI:    everything else (/v1/chat/completions, Azure's /openai/deployments/..., ...)
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace switchyard::mock {

enum class WireFormat { openai, anthropic, gemini };

WireFormat wire_format_of(std::string_view path);

// The two halves of a Gemini path's last segment, "gemini-2.0-flash:generateContent".
struct GeminiTarget {
  std::string model;
  std::string method;
};
std::optional<GeminiTarget> gemini_target(std::string_view path);

// The percent-decoded value of the first `name=` parameter of a query string.
std::optional<std::string> query_value(std::string_view query, std::string_view name);

}  // namespace switchyard::mock
