// Classifies what a provider said when it refused a request, whatever its wire format, into the
// class the dispatcher acts on and the OpenAI-shaped error a client sees (docs/providers.md,
// "Error classes").
// Each adapter only extracts the facts from its own error body; the policy lives here, once.
#pragma once

#include <string>
#include <string_view>

#include "switchyard/api/json.hpp"
#include "switchyard/providers/adapter.hpp"

namespace switchyard::providers {

// What an error body said, in the provider's own words.
struct ErrorFacts {
  int status = 0;       // HTTP status (for in-stream errors: the status it stands for)
  std::string message;  // the human-readable message, as sent
  std::string type;     // OpenAI/Anthropic error type, or Gemini's status word
                        // ("overloaded_error", "RESOURCE_EXHAUSTED")
  std::string code;     // OpenAI code or Gemini reason ("context_length_exceeded",
                        // "insufficient_quota", "API_KEY_INVALID")
  std::string param;    // OpenAI's param, when given
};

// The class and client error for `facts`; `provider` names the provider in messages.
ProviderError classify_error(const ErrorFacts& facts, std::string_view provider);

// True for each provider's wording of "the prompt does not fit the context window".
bool says_context_length(std::string_view message);

// A 2xx response or stream event the adapter could not make sense of: retryable, 502.
ProviderError bad_response(std::string_view provider, std::string detail);
// The same for a body that is not JSON: "invalid JSON (<what> at byte <n>)".
ProviderError bad_json(std::string_view provider, const api::json::ScanError& error);
// A request this provider cannot express (n > 1 on Anthropic, audio on Gemini…): another
// provider may, so it falls over; alone, the client gets a 400 naming the parameter.
ProviderError unsupported(std::string message, std::string_view param);
// A client body that is not a chat request any provider would take: final 400.
ProviderError invalid_request(std::string message, std::string_view param = {});

// Shortens `text` for a message (upstream bodies can be megabytes) without splitting UTF-8.
std::string clip(std::string_view text, std::size_t max = 300);

}  // namespace switchyard::providers
