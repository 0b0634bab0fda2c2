// What Anthropic's Messages API sends back, read in OpenAI's terms (docs/providers.md,
// "Anthropic: response", "Anthropic: usage", "Anthropic: errors" and "Finish reasons"): stop
// reasons, token counts, error bodies, and a whole (non-streamed) message rewritten into a
// chat.completion. The stream decoder (anthropic_stream.hpp) reads its events with the same
// pieces.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "provider_errors.hpp"
#include "switchyard/api/json.hpp"
#include "switchyard/providers/adapter.hpp"

namespace switchyard::providers::anthropic {

// end_turn, stop_sequence, pause_turn and anything new → stop; max_tokens and
// model_context_window_exceeded → length; tool_use → tool_calls; refusal → content_filter.
std::string_view finish_reason(std::string_view stop_reason);

// Anthropic's four disjoint counts. OpenAI's prompt_tokens includes the cached ones, so the
// prompt is their sum; message_delta repeats them cumulatively, so later reports overwrite.
struct TokenCounts {
  std::uint64_t input = 0;
  std::uint64_t cache_creation = 0;
  std::uint64_t cache_read = 0;
  std::uint64_t output = 0;

  // Takes the counts present in a validated `usage` object; absent ones keep their value.
  void read(std::string_view usage_raw);
  Usage usage() const;
};

// The HTTP status an error type stands for when no status came with it (an `error` stream
// event, an error body in a 2xx): the statuses Anthropic documents for each type, 500 for types
// it has not documented.
int status_of_error_type(std::string_view type);

// The facts of an error body {"type":"error","error":{"type","message"},"request_id"}; a body of
// another shape (a proxy's HTML page) becomes the message. `status` 0: taken from the type.
ErrorFacts error_facts(int status, std::string_view body);

// Rewrites a 2xx Messages response into an OpenAI chat.completion in place.
Result<void, ProviderError> decode_message(std::string& body, const Call& call, Usage& usage);

// A validated string value's text: a view into `raw` when it has no escapes, else decoded into
// `storage`.
std::string_view text_of(const api::json::Value& value, std::string& storage);
// A validated number as a token count or index; 0 for anything else.
std::uint64_t count_of(const api::json::Value& value);

}  // namespace switchyard::providers::anthropic
