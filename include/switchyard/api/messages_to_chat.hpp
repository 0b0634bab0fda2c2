// Anthropic's Messages API (POST /v1/messages) said in OpenAI's chat completion terms: the request
// the gateway routes, caches and sends to a provider that is not Anthropic when a client comes
// through the Messages door (docs/api.md, "The Messages door"). An Anthropic upstream gets the
// client's own request instead; this translation is for everything else.
#pragma once

#include <string>
#include <string_view>

#include "switchyard/api/error.hpp"
#include "switchyard/result.hpp"

namespace switchyard::api {

struct ChatEquivalent {
  // An OpenAI chat completion request body asking what the Messages request asks.
  std::string body;
  // Empty, or what of the request the chat body cannot say (e.g. "a 'document' content block",
  // "the server tool 'web_search_20250305'"): then only an Anthropic upstream may serve it, and
  // the body is for routing signals and token estimates only.
  std::string left_out;
};

// Translates a Messages request body (valid JSON) into its chat equivalent. A 400
// invalid_request_error whose `param` is the path of the fault (e.g. "messages.1.content.0.id")
// when the request is malformed in a way Anthropic itself refuses.
Result<ChatEquivalent, ApiError> messages_to_chat(std::string_view body);

}  // namespace switchyard::api
