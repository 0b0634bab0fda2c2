// A Messages request relayed to Anthropic as the client sent it (docs/providers.md, "The
// Messages door"): the answer goes back byte for byte but for `model`, which says what the client
// is shown; the usage is read on the way for the record, cost and limits.
#pragma once

#include <string>

#include "anthropic_stream.hpp"
#include "switchyard/providers/adapter.hpp"

namespace switchyard::providers::anthropic {

// A 2xx message with its top-level `model` rewritten in place; `usage` read from it.
Result<void, ProviderError> relay_message(std::string& body, const Call& call, Usage& usage);

// The event stream as it came, message_start's `model` rewritten. The OpenAI decoder runs beside
// it, unseen, for what it learns: usage, an `error` event, a malformed event, the end.
class RelayedStream final : public ChatStream {
 public:
  explicit RelayedStream(const Call& call) : call_(call), reader_(call) {}

  State on_event(const upstream::SseEvent& event, std::string& out) override;
  State on_end(std::string& out) override;

 private:
  // message_start with its message's `model` rewritten (the rest as it came).
  void relay_start(std::string_view data, std::string& out) const;

  const Call& call_;
  MessageStream reader_;
  std::string unseen_;  // the decoder's output, dropped
};

}  // namespace switchyard::providers::anthropic
