// The view of a chat completion request the gateway needs to route it: the few fields it reads,
// as views into the client's body, which is forwarded as is (with `model` rewritten).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include "switchyard/result.hpp"

#include "switchyard/api/error.hpp"
#include "switchyard/api/model_field.hpp"

namespace switchyard::api {

class ChatRequest : public ModelField {
 public:
  bool stream() const { return stream_; }
  bool include_usage() const { return include_usage_; }
  std::size_t message_count() const { return message_count_; }
  // metadata.preferred_provider, decoded; empty when absent. The gateway's, not the provider's:
  // adapters leave it out of what they send.
  const std::string& preferred_provider() const { return preferred_provider_; }

 private:
  friend Result<ChatRequest, ApiError> parse_chat_request(std::string_view body);

  bool stream_ = false;
  bool include_usage_ = false;
  std::size_t message_count_ = 0;
  std::string preferred_provider_;
};

// Validates the whole body as JSON and the fields the gateway relies on (OpenAI's own checks and
// messages where they exist). `body` must outlive the result.
Result<ChatRequest, ApiError> parse_chat_request(std::string_view body);

}  // namespace switchyard::api
