// The view of a POST /v1/embeddings request the gateway needs to route it: `model` (what a
// rewrite replaces) and the shape of `input`, checked as OpenAI checks it. The body is forwarded
// as is to OpenAI-compatible upstreams and translated for the others.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include "switchyard/result.hpp"

#include "switchyard/api/error.hpp"
#include "switchyard/api/model_field.hpp"

namespace switchyard::api {

class EmbeddingsRequest : public ModelField {
 public:
  enum class Input { text, texts, tokens, token_lists };
  // What `input` holds: one string, strings, token ids, or lists of token ids.
  Input input() const { return input_; }
  std::size_t input_count() const { return input_count_; }
  bool base64() const { return base64_; }  // encoding_format: "base64"

 private:
  friend Result<EmbeddingsRequest, ApiError> parse_embeddings_request(std::string_view);

  Input input_ = Input::text;
  std::size_t input_count_ = 0;
  bool base64_ = false;
};

// Validates the body as JSON and `model`, `input`, `encoding_format` and `dimensions` as OpenAI
// does. `body` must outlive the result.
Result<EmbeddingsRequest, ApiError> parse_embeddings_request(std::string_view body);

}  // namespace switchyard::api
