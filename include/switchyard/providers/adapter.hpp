// The translation layer between the OpenAI wire format clients speak and each provider's own
// (docs/providers.md). An Adapter is pure — bytes in, bytes out, no I/O, no clock, no
// randomness — so the dispatcher does the talking and golden tests need no sockets.
// One Adapter per configured provider, built once and shared read-only by all workers.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "switchyard/api/error.hpp"
#include "switchyard/config/config.hpp"

namespace switchyard::api {
class ChatRequest;
class EmbeddingsRequest;
class MessagesRequest;
}  // namespace switchyard::api
namespace switchyard::upstream {
struct SseEvent;
class SseParser;
}  // namespace switchyard::upstream

namespace switchyard::providers {

// What the dispatcher may do after a target failed (docs/providers.md, "Error classes").
enum class ErrorClass {
  retryable,  // 408, 409, 429, 5xx, 529, timeouts, resets: this target may work later
  fall_over,  // this provider cannot serve it, another may: context length, content policy,
              // model not found here, the gateway's key or quota
  final,      // the client's request is at fault: every provider would refuse it
};

struct ProviderError {
  ErrorClass error_class = ErrorClass::retryable;
  // What the client sees if this is the answer: always OpenAI-shaped, never holding a key.
  api::ApiError error;
  // The prompt does not fit this model's window: a target with a larger one may take it.
  bool context_length = false;
};

// Token counts as the provider reported them, in OpenAI's terms.
struct Usage {
  bool reported = false;
  std::uint64_t prompt = 0;      // prompt_tokens (cached ones included)
  std::uint64_t completion = 0;  // completion_tokens (reasoning ones included)
  std::uint64_t cached = 0;      // prompt_tokens_details.cached_tokens
  std::uint64_t reasoning = 0;   // completion_tokens_details.reasoning_tokens
  std::uint64_t total = 0;
};

// What an adapter knows of one call besides the client's body.
struct Call {
  const config::Provider& provider;
  const config::Model& model;
  std::string_view quoted_upstream;  // model.upstream as a JSON string literal
  std::string_view request_id;       // sent upstream; seeds ids the adapter synthesizes
  std::string_view forwarded;        // complete "name: value\r\n" client header lines to pass on
  std::string_view response_model;   // the `model` every response and chunk reports
  std::int64_t created = 0;          // unix seconds, for responses the adapter writes itself
  bool stream = false;
  bool include_usage = false;      // the client asked for the usage chunk
  bool embeddings_base64 = false;  // embeddings: the client asked for encoding_format base64
  // A Messages request's anthropic-version as the client sent it (empty when it did not): an
  // Anthropic upstream gets it unchanged (and its anthropic-beta lines, in `forwarded`).
  std::string_view anthropic_version;
  bool count_tokens = false;  // POST /v1/messages/count_tokens, Anthropic's only
};

// Turns one upstream chat stream into the client's stream. Fed every upstream event (SSE, or a raw
// line group for providers that break out of SSE); appends complete SSE events for the client to
// the output — for an OpenAI client chat.completion.chunk data, the usage chunk when asked for,
// exactly one `data: [DONE]`; for a Messages client Anthropic's events through message_stop.
class ChatStream {
 public:
  enum class State { open, done, failed };
  virtual ~ChatStream() = default;

  virtual State on_event(const upstream::SseEvent& event, std::string& out) = 0;
  // The upstream body ended: completes the client's stream, or fails if it ended early.
  virtual State on_end(std::string& out) = 0;

  // Whether the output so far says anything — a token, a tool call, a finish reason, usage.
  // Until it does, the dispatcher holds the output back and may still switch targets.
  bool said_something() const { return said_something_; }
  // Why the stream failed (an upstream error event, a malformed event, an early end).
  const ProviderError& error() const { return error_; }
  const Usage& usage() const { return usage_; }

 protected:
  State fail(ProviderError error) {
    error_ = std::move(error);
    return State::failed;
  }

  bool said_something_ = false;
  ProviderError error_;
  Usage usage_;
};

class Adapter {
 public:
  virtual ~Adapter() = default;

  // Writes the upstream request: the head (request line and headers through the blank line,
  // Content-Length included) to `head`, the body to `body` — or leaves `body` empty when the
  // client's body goes as it is with only its `model` value replaced by call.quoted_upstream
  // (the zero-copy path of OpenAI-compatible upstreams). An error when this provider cannot
  // take the request (a feature it lacks, a shape it cannot express).
  virtual Result<void, ProviderError> encode_chat(const api::ChatRequest& chat, const Call& call,
                                                  std::string& head, std::string& body) const = 0;
  // A 2xx response body, rewritten in place into an OpenAI chat.completion.
  virtual Result<void, ProviderError> decode_chat(std::string& body, const Call& call,
                                                  Usage& usage) const = 0;
  // The stream may keep `call`: the caller keeps it alive as long as the stream.
  virtual std::unique_ptr<ChatStream> chat_stream(const Call& call) const = 0;

  // The same for POST /v1/embeddings. By default a provider has none.
  virtual Result<void, ProviderError> encode_embeddings(const api::EmbeddingsRequest& request,
                                                        const Call& call, std::string& head,
                                                        std::string& body) const;
  virtual Result<void, ProviderError> decode_embeddings(std::string& body, const Call& call,
                                                        Usage& usage) const;

  // POST /v1/messages (docs/providers.md, "The Messages door"). By default the request's chat
  // equivalent is encoded as encode_chat encodes it and the answers are said again in
  // Anthropic's terms (api/messages_output); a request whose equivalent leaves something out
  // falls over to a provider that takes it whole. The Anthropic adapter relays the client's own
  // request and answers instead.
  virtual Result<void, ProviderError> encode_messages(const api::MessagesRequest& request,
                                                      const Call& call, std::string& head,
                                                      std::string& body) const;
  virtual Result<void, ProviderError> decode_messages(std::string& body, const Call& call,
                                                      Usage& usage) const;
  virtual std::unique_ptr<ChatStream> messages_stream(const Call& call) const;

  // A non-2xx response, classified and in OpenAI's shape.
  virtual ProviderError decode_error(int status, std::string_view body) const = 0;

  // The head of a health-check probe: GET <base path><path> with the provider's credentials.
  virtual void encode_probe(std::string_view path, std::string& head) const = 0;
};

// The adapter for a provider's type.
std::unique_ptr<Adapter> make_adapter(const config::Provider& provider);

// Hands every complete event buffered in `sse` to `stream`, appending the client's bytes to
// `out`, until the stream is done or failed; with `upstream_ended`, also the final event that
// lacks its blank line and then the end itself. Returns the stream's state.
ChatStream::State pump(ChatStream& stream, upstream::SseParser& sse, std::string& out,
                       bool upstream_ended);

// An Anthropic answer — a message, or its event stream — as what it says in OpenAI's shape: the
// chat.completion, or the chat.completion.chunk events (the response cache keeps every answer in
// OpenAI's shape, whichever door it came through).
Result<std::string, ProviderError> anthropic_as_openai(std::string_view answer, bool stream,
                                                       const Call& call);

// Whether a client header may be passed to this provider: it must match one of the provider's
// forward_headers patterns, and credentials and hop-by-hop headers never pass.
bool forwards_header(const config::Provider& provider, std::string_view lower_name);

}  // namespace switchyard::providers
