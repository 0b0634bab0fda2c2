// A Messages request relayed to Anthropic as the client sent it (docs/providers.md, "The
// Messages door"): the answer goes back byte for byte but for `model`, which says what the client
// is shown; the usage is read on the way for the record, cost and limits.
#pragma once

#include <string>

#include "anthropic_response.hpp"
#include "anthropic_stream.hpp"
#include "switchyard/providers/adapter.hpp"

namespace switchyard::providers::anthropic {

// A 2xx message with its top-level `model` rewritten in place; `usage` read from it.
Result<void, ProviderError> relay_message(std::string& body, const Call& call, Usage& usage);

// The event stream as it came, message_start's `model` rewritten. Read on the way, no more than
// the relay needs: the usage (message_start's, then message_delta's), an `error` event or a
// malformed one (the stream fails: before anything was said another target may serve), the end.
class RelayedStream final : public ChatStream {
 public:
  explicit RelayedStream(const Call& call) : call_(call) {}

  State on_event(const upstream::SseEvent& event, std::string& out) override;
  State on_end(std::string& out) override;

 private:
  // message_start with its message's `model` rewritten (the rest as it came); its usage read.
  void relay_start(std::string_view data, const api::json::Value& message, std::string& out);

  const Call& call_;
  TokenCounts counts_;
};

}  // namespace switchyard::providers::anthropic
