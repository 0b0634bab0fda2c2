// The error bodies of the three wire formats, each shaped exactly as its provider sends it,
// because the gateway's error mapping keys on these fields (OpenAI's type and code, Anthropic's
// error type, Gemini's status), not only on the HTTP status:
//   OpenAI     {"error":{"message","type","param","code"}}
//   Anthropic  {"type":"error","error":{"type","message"},"request_id"}
//   Gemini     {"error":{"code","message","status"}}
// Also the errors a stream reports after its head, in each format's way.
#pragma once

#include "response_script.hpp"
#include "wire_format.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace switchyard::mock {

struct ProviderError {
  int status = 500;
  std::string message;
  // Overrides the OpenAI code / Anthropic error type / Gemini status derived from `status`.
  std::optional<std::string> code;
};

std::string openai_error_body(const ProviderError& error);
std::string anthropic_error_body(const ProviderError& error, std::string_view request_id);
std::string gemini_error_body(const ProviderError& error);
std::string error_body(WireFormat format, const ProviderError& error, std::string_view request_id);

// What each provider sends when a stream fails after its head, with x-mock-error-message and
// x-mock-error-code applied. Ready to be written as one HTTP chunk.
//   OpenAI:    data: {"error":{... "type":"server_error" ...}}
//   Anthropic: event: error / data: {"type":"error","error":{"type":"overloaded_error",...}}
//   Gemini:    a raw multi-line JSON error without "data:", as Google's servers write it
std::string openai_stream_error(const ResponseScript& script, std::string_view mock_name);
std::string anthropic_stream_error(const ResponseScript& script);
std::string gemini_stream_error(const ResponseScript& script);

}  // namespace switchyard::mock
