// Turns Gemini's streamGenerateContent?alt=sse into OpenAI chat.completion.chunk events
// (docs/providers.md, "Gemini: streaming"). Every `data:` event is a whole
// GenerateContentResponse holding only the new parts, and there is no [DONE]: a choice ends with
// its finishReason, the stream with the body. Per candidate: the role chunk when its index is
// first seen, a content chunk per text part, one complete tool-call delta per functionCall
// (Gemini sends them whole), a finish chunk with its finishReason. Errors come as a `data:`
// error envelope or — Gemini's quirk — as raw multi-line JSON without `data:`.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "gemini_response.hpp"
#include "openai_output.hpp"
#include "switchyard/providers/adapter.hpp"

namespace switchyard::providers::gemini {

class GenerateStream final : public ChatStream {
 public:
  explicit GenerateStream(const Call& call);

  State on_event(const upstream::SseEvent& event, std::string& out) override;
  State on_end(std::string& out) override;

 private:
  struct ChoiceState {
    int tool_calls = 0;     // OpenAI numbers a choice's tool calls 0, 1, 2…
    bool finished = false;  // its finish chunk went out
  };

  State on_response(const Json& doc, std::string& out);
  State on_error_text(std::string_view text);
  // The usage chunk when asked for, then [DONE].
  State complete(std::string& out);

  const Call& call_;  // outlives the stream (adapter.hpp)

  std::optional<ChunkWriter> writer_;   // from the first response event on
  std::map<int, ChoiceState> choices_;  // by candidate index, once its role chunk went out
  int calls_ = 0;                       // function calls so far, for synthesized ids
};

}  // namespace switchyard::providers::gemini
