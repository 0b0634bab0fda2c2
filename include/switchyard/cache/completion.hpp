// What the response cache stores and what it gives back. A cached answer is one OpenAI
// `chat.completion` JSON object whatever the stream flag of the request that filled it: a
// streamed answer is assembled from its chunks before it is stored, and a streaming request that
// hits is answered by replaying the completion as chunks. Only plain answers are stored: no tool
// calls (the client acts on them), nothing cut short (every choice finished), nothing that came
// with an error. Off the hot path: this runs when a miss is stored or a streamed hit is sent.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace switchyard::cache {

// Whether a chat.completion body may be stored (its 2xx status is the caller's business): a JSON
// object that is not an error and whose `object`, if present, is "chat.completion", with a
// non-empty `choices` array where every choice has a `message` object without tool_calls,
// function_call or audio (an id that expires), and a finish_reason that is not tool_calls or
// function_call.
bool storable_completion(std::string_view body);

// Rebuilds a chat.completion from the `data:` payloads of an OpenAI stream, fed in order.
class StreamAssembler {
 public:
  StreamAssembler();
  ~StreamAssembler();
  StreamAssembler(StreamAssembler&&) noexcept;
  StreamAssembler& operator=(StreamAssembler&&) noexcept;

  // One SSE data payload: a chat.completion.chunk object, or "[DONE]".
  void add(std::string_view data);

  // The chat.completion: id, object "chat.completion", created, model, service_tier and
  // system_fingerprint when the chunks had them, choices ordered by index — each {index,
  // message, logprobs, finish_reason} — and usage when a chunk carried one (the last wins). The
  // message is role ("assistant" unless a delta said otherwise), content (null unless some delta
  // carried a string, "" included), then every other string field of the deltas concatenated in
  // first-seen order (refusal; reasoning_content of DeepSeek-style providers). logprobs is null,
  // or the chunks' logprobs.content and .refusal arrays concatenated.
  // nullopt when the stream is not storable: no [DONE] (or data after it), no choices, a choice
  // without finish_reason, a finish_reason of tool_calls or function_call, a delta with a
  // non-empty tool_calls or function_call or another non-text field (audio), an error event, or
  // a payload that is not a JSON object.
  std::optional<std::string> completion() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// The SSE body a streaming client gets for a cached completion: for each choice in turn a chunk
// with delta {role, content: ""} (content null when the message's is), a chunk with the rest of
// the message (content and any other non-null message field, refusal included) and the choice's
// logprobs — left out when there is nothing to carry — and a chunk with an empty delta and the
// finish_reason; then, when `include_usage` and the completion has usage, a chunk with
// "choices":[] and the usage; then "data: [DONE]". Each event is "data: <chunk>\n\n". Chunks carry
// id, object "chat.completion.chunk", created, model, service_tier and system_fingerprint when
// the completion has them, and — when include_usage — "usage": null before the usage chunk, as
// OpenAI sends them. Fed back through StreamAssembler this gives the completion back. Empty when
// `completion` is not a JSON object with a choices array.
std::string replay_as_sse(std::string_view completion, bool include_usage);

}  // namespace switchyard::cache
