// POST /v1/embeddings through Gemini's batchEmbedContents: one EmbedContentRequest per input
// string, and the answer written back as OpenAI's embedding list — floats, or base64 of
// little-endian float32 when the client asked for encoding_format base64 (what the OpenAI
// SDKs request by default, then decode).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "switchyard/providers/adapter.hpp"

namespace switchyard::providers::gemini {

// The batchEmbedContents body for the client's body; token-id inputs are unsupported.
Result<void, ProviderError> write_embeddings_body(const api::EmbeddingsRequest& request,
                                                  const config::Model& model, std::string& out);

// A 2xx batchEmbedContents body, rewritten in place into OpenAI's
// {"object":"list","data":[{"object":"embedding","index","embedding"}],"model","usage"}.
Result<void, ProviderError> decode_embeddings_body(std::string& body, const Call& call,
                                                   Usage& usage);

}  // namespace switchyard::providers::gemini
