// Turns Anthropic's Messages event stream into OpenAI chat.completion.chunk events, following the
// event table of docs/providers.md, "Anthropic: streaming": message_start → the role chunk, text
// and input_json deltas → content and tool-call argument chunks, message_delta → the finish
// chunk, message_stop → the usage chunk (when asked for) and [DONE]; an `error` event fails the
// stream.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "anthropic_response.hpp"
#include "openai_output.hpp"
#include "switchyard/providers/adapter.hpp"

namespace switchyard::providers::anthropic {

class MessageStream final : public ChatStream {
 public:
  explicit MessageStream(const Call& call);

  State on_event(const upstream::SseEvent& event, std::string& out) override;
  State on_end(std::string& out) override;

 private:
  struct Event;  // the members of one event's data that any event type reads

  State message_start(const Event& e, std::string& out);
  State block_start(const Event& e, std::string& out);
  State block_delta(const Event& e, std::string& out);
  State message_delta(const Event& e, std::string& out);
  State message_stop(std::string& out);
  void ping(std::string& out) const;
  // The OpenAI tool-call index of content block `block`, if it is a tool_use block.
  std::optional<int> tool_index(std::uint64_t block) const;

  const Call& call_;  // outlives the stream (adapter.hpp)

  std::optional<ChunkWriter> writer_;  // from message_start on
  // Anthropic numbers content blocks (thinking and text included); OpenAI numbers tool calls
  // 0, 1, 2… — block index → tool-call index, for the tool_use blocks seen so far.
  std::vector<std::pair<std::uint64_t, int>> tool_blocks_;
  bool finished_ = false;  // the finish chunk went out
  TokenCounts counts_;
  std::string scratch_;  // decoded strings of the current event
};

}  // namespace switchyard::providers::anthropic
