// What every provider but Anthropic does with a Messages request (docs/providers.md, "The
// Messages door"): it serves the request's chat equivalent like any chat completion, and its
// answers — already OpenAI's shape, whatever the provider's — are said again in Anthropic's.
#include "provider_errors.hpp"
#include "switchyard/api/messages_output.hpp"
#include "switchyard/api/messages_request.hpp"
#include "switchyard/providers/adapter.hpp"

namespace switchyard::providers {

namespace {

// The provider's own chat stream, its OpenAI events re-cut into Anthropic's as they come; what
// it says of itself (said something, usage, failure) is the inner stream's.
class TranslatedStream final : public ChatStream {
 public:
  TranslatedStream(std::unique_ptr<ChatStream> inner, const Call& call)
      : inner_(std::move(inner)), call_(call) {}

  State on_event(const upstream::SseEvent& event, std::string& out) override {
    return relay(inner_->on_event(event, chunks_), out);
  }
  State on_end(std::string& out) override { return relay(inner_->on_end(chunks_), out); }

 private:
  State relay(State state, std::string& out) {
    said_something_ = inner_->said_something();
    usage_ = inner_->usage();
    if (state == State::failed) return fail(inner_->error());
    const bool fed = events_.feed(chunks_, out);
    chunks_.clear();
    if (!fed) return fail(bad_response(call_.provider.name, events_.error()));
    return state;
  }

  std::unique_ptr<ChatStream> inner_;
  const Call& call_;
  api::MessageEvents events_;
  std::string chunks_;  // the inner stream's output for the current event
};

}  // namespace

Result<void, ProviderError> Adapter::encode_messages(const api::MessagesRequest& request,
                                                     const Call& call, std::string& head,
                                                     std::string& body) const {
  const api::ChatRequest* chat = request.chat();
  if (!request.left_out().empty()) {
    return Unexpected(unsupported("Provider '" + call.provider.name + "' cannot take " +
                                      std::string(request.left_out()) +
                                      " (only an Anthropic provider can).",
                                  "messages"));
  }
  if (!chat) {
    const auto& e = request.chat_error();
    return Unexpected(invalid_request(e.message, e.param));
  }
  auto encoded = encode_chat(*chat, call, head, body);
  if (!encoded || !body.empty()) return encoded;
  // The zero-copy path: the chat equivalent's bytes with `model` replaced, which the head's
  // Content-Length already counts.
  const std::string_view client = chat->body();
  const std::size_t at = chat->model_offset();
  body.assign(client.substr(0, at));
  body += call.quoted_upstream;
  body += client.substr(at + chat->model_raw().size());
  return {};
}

Result<void, ProviderError> Adapter::decode_messages(std::string& body, const Call& call,
                                                     Usage& usage) const {
  auto decoded = decode_chat(body, call, usage);
  if (!decoded) return decoded;
  auto message = api::completion_to_message(body);
  if (!message) return Unexpected(bad_response(call.provider.name, message.error()));
  body = std::move(*message);
  return {};
}

std::unique_ptr<ChatStream> Adapter::messages_stream(const Call& call) const {
  return std::make_unique<TranslatedStream>(chat_stream(call), call);
}

}  // namespace switchyard::providers
