// OpenAI's chat completion answers said in Anthropic's Messages terms, for a client of the
// Messages door served by a provider that is not Anthropic, or from the response cache: a
// chat.completion becomes a `message`, a chat.completion.chunk stream becomes Anthropic's event
// sequence (docs/api.md, "The Messages door").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "switchyard/result.hpp"

namespace switchyard::api {

// A chat.completion (as the gateway relays it: `model` already the client's) as a Messages API
// `message`. The error says why it cannot be one (not a completion, a tool call whose arguments
// are not a JSON object).
Result<std::string, std::string> completion_to_message(std::string_view completion);

// Re-cuts the gateway's own OpenAI event stream — complete `data: <chunk>\n\n` events, `:`
// comments, and `data: [DONE]` — into Anthropic's: message_start, content_block_start / _delta /
// _stop per block, message_delta with the stop reason and usage, message_stop; a comment becomes
// a ping. Text and reasoning stream as they come; tool calls are held until the finish, then
// written one block each, so block indices are right however a provider interleaves them.
class MessageEvents {
 public:
  // Appends the Anthropic events for the complete OpenAI events in `sse` to `out`. False, with
  // error() saying why, on a chunk that is not one; nothing more is then written.
  bool feed(std::string_view sse, std::string& out);
  // message_stop was written ([DONE] came).
  bool done() const { return done_; }
  const std::string& error() const { return error_; }

 private:
  // Tool calls are held until the finish: providers interleave the deltas of parallel calls by
  // `index`, and an Anthropic block must be whole before the next one starts.
  struct ToolCall {
    std::uint64_t index = 0;
    // JSON string bodies as received, escapes kept: fragments join without being decoded, and a
    // surrogate pair split across two fragments comes out whole.
    std::string id, name, arguments;
  };
  enum class Block { none, text, thinking };

  bool on_data(std::string_view data, std::string& out);
  bool on_chunk(std::string_view chunk, std::string& out);
  void stream_text(Block kind, std::string_view text, std::string& out);
  void close_block(std::string& out);
  void hold_tool_calls(std::string_view tool_calls);
  ToolCall& tool_call(std::uint64_t index);
  void finish(std::string& out);
  bool fail(std::string why);

  bool started_ = false;
  bool done_ = false;
  Block open_ = Block::none;
  int next_index_ = 0;
  std::vector<ToolCall> tools_;  // ordered by index
  std::string_view stop_reason_ = "end_turn";
  std::uint64_t prompt_tokens_ = 0, completion_tokens_ = 0, cached_tokens_ = 0;
  std::string data_;  // an event's data lines joined, when it has several
  std::string error_;
};

}  // namespace switchyard::api
