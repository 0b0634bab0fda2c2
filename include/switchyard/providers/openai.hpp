// The OpenAI-compatible wire format (OpenAI, DeepSeek, Mistral, Groq, OpenRouter, vLLM, Ollama…).
// Requests are the client's own body with `model` rewritten, so encoding is only the request
// head; responses are relayed as they come, so decoding is only classifying failures.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "switchyard/config/config.hpp"

namespace switchyard::providers::openai {

// What the dispatcher may do after an upstream answered with an error (PROVIDERS.md §5).
enum class ErrorClass {
  retryable,  // 408, 409, 429, 5xx: this target may work later; another may work now
  fall_over,  // the provider, not the request, is the problem (401/403 key, 402 quota, 404 model)
  final,      // the client's request is at fault: relay the error as is
};
ErrorClass classify_status(int status);

// Builds request heads for one provider. The constant part, credentials included, is built once.
class RequestEncoder {
 public:
  explicit RequestEncoder(const config::Provider& provider);

  // Writes the head of a chat completion request to `out` (replacing its contents).
  // `forwarded` holds complete "name: value\r\n" lines of passed-through client headers.
  void chat_head(std::string& out, std::size_t content_length, std::string_view request_id,
                 bool stream, std::string_view forwarded) const;

 private:
  std::string prefix_;
};

// Whether a client header may be passed to this provider: it must match one of the provider's
// forward_headers patterns, and credentials and hop-by-hop headers never pass.
bool forwards_header(const config::Provider& provider, std::string_view lower_name);

}  // namespace switchyard::providers::openai
