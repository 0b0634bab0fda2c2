// The view of a Messages API request (POST /v1/messages) the gateway needs to route it — its
// `model` and `stream`, as views into the client's body, which an Anthropic upstream gets as it
// is (with `model` rewritten) — and, made the first time something asks, its chat equivalent:
// what the cache key, the routing signals, token estimates and every other provider work from.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "switchyard/api/chat_request.hpp"
#include "switchyard/api/error.hpp"
#include "switchyard/api/messages_to_chat.hpp"
#include "switchyard/api/model_field.hpp"
#include "switchyard/result.hpp"

namespace switchyard::api {

// POST /v1/messages, or /v1/messages/count_tokens (which needs no max_tokens).
enum class MessagesBody { message, count_tokens };

class MessagesRequest : public ModelField {
 public:
  bool stream() const { return stream_; }

  // The chat equivalent (messages_to_chat), translated at the first call and kept: nullptr when
  // the request is malformed, and then why in chat_error(). A request is served on one thread,
  // so the lazy translation needs no lock; it is made only when something needs it, so a request
  // an Anthropic upstream serves as it is costs no translation.
  const ChatRequest* chat() const;
  const ApiError& chat_error() const;
  // What the chat equivalent leaves out (empty when it says everything).
  std::string_view left_out() const;

 private:
  friend Result<MessagesRequest, ApiError> parse_messages_request(std::string_view body,
                                                                  MessagesBody kind);

  struct Translation {
    ChatEquivalent equivalent;
    std::optional<ChatRequest> chat;
    ApiError error;
  };
  const Translation& translation() const;

  bool stream_ = false;
  mutable std::unique_ptr<Translation> translation_;
};

// Validates the body as JSON and the fields every Messages request needs (`model`, `messages`,
// `max_tokens` but to count tokens), in Anthropic's words; the rest is the upstream's to judge,
// or the translation's. `body` must outlive the result.
Result<MessagesRequest, ApiError> parse_messages_request(std::string_view body, MessagesBody kind);

}  // namespace switchyard::api
