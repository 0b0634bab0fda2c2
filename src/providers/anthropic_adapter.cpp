// Anthropic Messages (docs/providers.md, "Anthropic"): POST /v1/messages with x-api-key and
// anthropic-version.
// Unlike OpenAI-compatible upstreams nothing is relayed as it came: the request is rebuilt
// (anthropic_request), responses and errors are read in OpenAI's terms (anthropic_response),
// and the event stream is re-cut into chat.completion chunks (anthropic_stream).
#include "adapters.hpp"
#include "anthropic_passthrough.hpp"
#include "anthropic_request.hpp"
#include "anthropic_response.hpp"
#include "anthropic_stream.hpp"
#include "provider_errors.hpp"
#include "request_head.hpp"
#include "switchyard/api/chat_request.hpp"
#include "switchyard/api/messages_request.hpp"

namespace switchyard::providers {

namespace {

class AnthropicAdapter final : public Adapter {
 public:
  explicit AnthropicAdapter(const config::Provider& provider)
      : provider_(provider),
        version_(provider.api_version.empty() ? "2023-06-01" : provider.api_version),
        head_(provider, credentials(provider) + "anthropic-version: " + version_ + "\r\n"),
        relay_head_(provider, credentials(provider)),
        // A base URL that already names the API version (https://host/v1) gets the rest.
        path_(provider.base_url.path.ends_with("/v1") ? "/messages" : "/v1/messages"),
        count_path_(path_ + "/count_tokens") {}

  Result<void, ProviderError> encode_chat(const api::ChatRequest& chat, const Call& call,
                                          std::string& head, std::string& body) const override {
    std::string encoded;
    if (auto written = anthropic::encode_request(chat.body(), call, encoded); !written)
      return written;
    body = std::move(encoded);
    head_.write(head, path_, body.size(), call);
    return {};
  }

  Result<void, ProviderError> decode_chat(std::string& body, const Call& call,
                                          Usage& usage) const override {
    return anthropic::decode_message(body, call, usage);
  }

  std::unique_ptr<ChatStream> chat_stream(const Call& call) const override {
    return std::make_unique<anthropic::MessageStream>(call);
  }

  // The client's request as it is, but for `model` (the zero-copy path), with its
  // anthropic-version.
  Result<void, ProviderError> encode_messages(const api::MessagesRequest& request, const Call& call,
                                              std::string& head, std::string& body) const override {
    std::string lines = "anthropic-version: ";
    lines += call.anthropic_version.empty() ? std::string_view(version_) : call.anthropic_version;
    lines += "\r\n";
    lines += call.forwarded;
    Call relayed = call;
    relayed.forwarded = lines;
    body.clear();
    relay_head_.write(
        head, call.count_tokens ? count_path_ : path_,
        request.body().size() - request.model_raw().size() + call.quoted_upstream.size(), relayed);
    return {};
  }

  Result<void, ProviderError> decode_messages(std::string& body, const Call& call,
                                              Usage& usage) const override {
    // A count ({"input_tokens": n}) is the answer as it is.
    if (call.count_tokens) return {};
    return anthropic::relay_message(body, call, usage);
  }

  std::unique_ptr<ChatStream> messages_stream(const Call& call) const override {
    return std::make_unique<anthropic::RelayedStream>(call);
  }

  void encode_probe(std::string_view path, std::string& head) const override {
    head_.write_get(head, path);
  }

  ProviderError decode_error(int status, std::string_view body) const override {
    return classify_error(anthropic::error_facts(status, body), provider_.name);
  }

 private:
  static std::string credentials(const config::Provider& p) {
    return p.api_key.empty() ? std::string() : "x-api-key: " + p.api_key + "\r\n";
  }

  const config::Provider& provider_;
  std::string version_;
  RequestHead head_;
  RequestHead relay_head_;  // without anthropic-version: a Messages client's own goes on
  std::string path_;
  std::string count_path_;
};

}  // namespace

std::unique_ptr<Adapter> make_anthropic_adapter(const config::Provider& provider) {
  return std::make_unique<AnthropicAdapter>(provider);
}

}  // namespace switchyard::providers
