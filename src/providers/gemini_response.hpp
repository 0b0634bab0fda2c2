// Reads Gemini's GenerateContentResponse — a whole answer, or one stream event holding only the
// new parts — into what an OpenAI chat.completion and its chunks are written from, and maps
// Gemini's finish reasons and usage to OpenAI's (docs/providers.md, "Gemini: response",
// "Gemini: usage" and "Finish reasons").
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gemini_wire.hpp"
#include "openai_output.hpp"

namespace switchyard::providers::gemini {

struct Part {
  bool is_call = false;
  std::string text;  // a text part; thought parts are dropped when read
  ToolCall call;     // a functionCall: id empty when Gemini gave none, arguments compact JSON
};

struct Candidate {
  int index = 0;
  std::vector<Part> parts;
  std::string finish;     // Gemini's finishReason, empty when absent
  bool has_call = false;  // a functionCall part is among `parts`
};

struct Response {
  std::string id;  // responseId, empty when absent
  std::vector<Candidate> candidates;
  std::string block_reason;  // promptFeedback.blockReason: the prompt itself was refused
  Usage usage;               // .reported when usageMetadata was present
};

// Reads `doc` into `out`; false, with `detail` saying why, when it is no GenerateContentResponse.
bool read_response(const Json& doc, Response& out, std::string& detail);

// OpenAI's finish_reason for a candidate's finishReason; any functionCall makes it tool_calls
// (Gemini has no reason of its own for that: GW).
std::string_view finish_reason(std::string_view gemini, bool has_call);

// The id of the n-th function call of a response (from 0) that Gemini sent without one (GW):
// unique per request, and the same on every replay of the fixture.
std::string synthesized_call_id(std::string_view request_id, int n);

// A 2xx generateContent body, rewritten in place into an OpenAI chat.completion.
Result<void, ProviderError> decode_chat_body(std::string& body, const Call& call, Usage& usage);

}  // namespace switchyard::providers::gemini
