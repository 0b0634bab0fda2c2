// Google Gemini's own API (docs/providers.md, "Gemini"): generateContent and
// streamGenerateContent for chat, batchEmbedContents for embeddings, x-goog-api-key for
// credentials. The translation itself lives in gemini_request (OpenAI → Gemini), gemini_response
// and gemini_stream (Gemini → OpenAI) and gemini_embeddings; this file builds paths and heads
// and reads error bodies.
// (Gemini's OpenAI-compatible endpoint, …/v1beta/openai/, is an openai-type provider instead.)
#include "adapters.hpp"
#include "gemini_embeddings.hpp"
#include "gemini_request.hpp"
#include "gemini_response.hpp"
#include "gemini_stream.hpp"
#include "request_head.hpp"
#include "switchyard/api/chat_request.hpp"

namespace switchyard::providers {

namespace {

std::string credentials(const config::Provider& provider) {
  if (provider.api_key.empty()) return {};
  return "x-goog-api-key: " + provider.api_key + "\r\n";
}

// "/<version>/models/" — without the version when the configured base URL already ends in one
// (base_url: https://generativelanguage.googleapis.com/v1beta is how Google's docs spell it).
std::string models_path(const config::Provider& provider) {
  const std::string_view base = provider.base_url.path;
  if (base.ends_with("/v1beta") || base.ends_with("/v1")) return "/models/";
  const std::string& version = provider.api_version.empty() ? "v1beta" : provider.api_version;
  return "/" + version + "/models/";
}

class GeminiAdapter final : public Adapter {
 public:
  explicit GeminiAdapter(const config::Provider& provider)
      : provider_name_(provider.name),
        head_(provider, credentials(provider)),
        models_path_(models_path(provider)) {}

  Result<void, ProviderError> encode_chat(const api::ChatRequest& chat, const Call& call,
                                          std::string& head, std::string& body) const override {
    if (auto e = gemini::write_chat_body(chat.body(), call.model, body); !e)
      return Unexpected(named(std::move(e).error()));
    // Without alt=sse the stream is one JSON array written piece by piece [PK-gg].
    write_head(head, call, call.stream ? ":streamGenerateContent?alt=sse" : ":generateContent",
               body.size());
    return {};
  }

  Result<void, ProviderError> decode_chat(std::string& body, const Call& call,
                                          Usage& usage) const override {
    return gemini::decode_chat_body(body, call, usage);
  }

  std::unique_ptr<ChatStream> chat_stream(const Call& call) const override {
    return std::make_unique<gemini::GenerateStream>(call);
  }

  Result<void, ProviderError> encode_embeddings(const api::EmbeddingsRequest& request,
                                                const Call& call, std::string& head,
                                                std::string& body) const override {
    if (auto e = gemini::write_embeddings_body(request, call.model, body); !e)
      return Unexpected(named(std::move(e).error()));
    write_head(head, call, ":batchEmbedContents", body.size());
    return {};
  }

  Result<void, ProviderError> decode_embeddings(std::string& body, const Call& call,
                                                Usage& usage) const override {
    return gemini::decode_embeddings_body(body, call, usage);
  }

  void encode_probe(std::string_view path, std::string& head) const override {
    head_.write_get(head, path);
  }

  ProviderError decode_error(int status, std::string_view body) const override {
    const gemini::Json doc = gemini::parse(body);
    if (!doc.is_discarded())
      if (auto error = gemini::classify_envelope(doc, status, provider_name_)) return *error;
    // A proxy's HTML page, a bare status line: the text is all there is.
    ErrorFacts facts;
    facts.status = status;
    facts.message = body.empty() ? "HTTP " + std::to_string(status) : clip(body);
    return classify_error(facts, provider_name_);
  }

 private:
  // Refusals say which provider refused, as classify_error's messages do.
  ProviderError named(ProviderError e) const {
    e.error.message = provider_name_ + ": " + e.error.message;
    return e;
  }

  void write_head(std::string& head, const Call& call, std::string_view method,
                  std::size_t content_length) const {
    std::string path = models_path_;
    append_url_encoded(path, gemini::bare_model(call.model.upstream));
    path += method;
    head_.write(head, path, content_length, call);
  }

  std::string provider_name_;
  RequestHead head_;
  std::string models_path_;
};

}  // namespace

std::unique_ptr<Adapter> make_gemini_adapter(const config::Provider& provider) {
  return std::make_unique<GeminiAdapter>(provider);
}

}  // namespace switchyard::providers
