#include "switchyard/providers/adapter.hpp"

#include <array>

#include "adapters.hpp"
#include "provider_errors.hpp"
#include "switchyard/upstream/sse.hpp"

namespace switchyard::providers {

std::unique_ptr<Adapter> make_adapter(const config::Provider& provider) {
  switch (provider.type) {
    case config::ProviderType::anthropic:
      return make_anthropic_adapter(provider);
    case config::ProviderType::gemini:
      return make_gemini_adapter(provider);
    case config::ProviderType::openai:
    case config::ProviderType::azure:
      break;
  }
  return make_openai_adapter(provider);
}

Result<void, ProviderError> Adapter::encode_embeddings(const api::EmbeddingsRequest&,
                                                       const Call& call, std::string&,
                                                       std::string&) const {
  return Unexpected(
      unsupported("Provider '" + call.provider.name + "' does not serve embeddings.", "model"));
}

Result<void, ProviderError> Adapter::decode_embeddings(std::string&, const Call& call,
                                                       Usage&) const {
  return Unexpected(bad_response(call.provider.name, "embeddings are not supported"));
}

ChatStream::State pump(ChatStream& stream, upstream::SseParser& sse, std::string& out,
                       bool upstream_ended) {
  auto state = ChatStream::State::open;
  while (state == ChatStream::State::open) {
    auto event = sse.next();
    if (!event && upstream_ended) event = sse.finish();
    if (!event) break;
    state = stream.on_event(*event, out);
  }
  if (state == ChatStream::State::open && upstream_ended) state = stream.on_end(out);
  return state;
}

bool forwards_header(const config::Provider& provider, std::string_view name) {
  // Credentials belong to the gateway's hop, framing and encoding to each hop itself, the trace
  // context to the gateway's own span
  // (connection-specific fields: RFC 9110 §7.6.1; Trailer announces chunked trailers, and the
  // upstream request is sent with a Content-Length).
  static constexpr std::array<std::string_view, 23> kNever = {
      "authorization", "proxy-authorization", "api-key", "x-api-key", "x-goog-api-key", "cookie",
      "host", "content-length", "content-type", "transfer-encoding", "connection",
      "proxy-connection", "keep-alive", "upgrade", "te", "trailer", "expect", "accept-encoding",
      "accept", "x-request-id", "anthropic-version",
      // set per attempt (trace context)
      "traceparent", "tracestate"};
  for (const auto n : kNever)
    if (name == n) return false;
  // The gateway's own controls (preferred provider, deadline, cache) are for the gateway.
  if (name.starts_with("x-switchyard-")) return false;
  for (const auto& pattern : provider.forward_headers) {
    if (!pattern.empty() && pattern.back() == '*') {
      if (name.starts_with(std::string_view(pattern).substr(0, pattern.size() - 1))) return true;
    } else if (name == pattern) {
      return true;
    }
  }
  return false;
}

}  // namespace switchyard::providers
