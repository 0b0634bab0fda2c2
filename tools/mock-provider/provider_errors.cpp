#include "provider_errors.hpp"

#include "wire_text.hpp"

#include <nlohmann/json.hpp>

namespace switchyard::mock {
namespace {

using json = nlohmann::ordered_json;

// Anthropic's stream failure is the 529 overload (docs.claude.com/en/api/errors); Gemini's the
// 503 it answers while a model is overloaded.
constexpr int kGeminiStreamErrorStatus = 503;

std::string_view anthropic_error_type(int status) {
  switch (status) {
    case 400:
      return "invalid_request_error";
    case 401:
      return "authentication_error";
    case 402:
      return "billing_error";
    case 403:
      return "permission_error";
    case 404:
      return "not_found_error";
    case 413:
      return "request_too_large";
    case 429:
      return "rate_limit_error";
    case 504:
      return "timeout_error";
    case 529:
      return "overloaded_error";
    default:
      // Anthropic's invalid_request_error covers the other 4xx too (docs/providers.md,
      // "Anthropic: errors").
      return status < 500 ? "invalid_request_error" : "api_error";
  }
}

// The google.rpc.Code each HTTP status stands for (google/rpc/code.proto).
std::string_view gemini_status(int status) {
  switch (status) {
    case 400:
      return "INVALID_ARGUMENT";
    case 401:
      return "UNAUTHENTICATED";
    case 402:
      // Prepaid credit used up (docs/providers.md, "Gemini: errors").
      return "RESOURCE_EXHAUSTED";
    case 403:
      return "PERMISSION_DENIED";
    case 404:
      return "NOT_FOUND";
    case 409:
      return "ABORTED";
    case 412:
      return "FAILED_PRECONDITION";
    case 429:
      return "RESOURCE_EXHAUSTED";
    case 499:
      return "CANCELLED";
    case 500:
      return "INTERNAL";
    case 501:
      return "UNIMPLEMENTED";
    case 502:
    case 503:
      return "UNAVAILABLE";
    case 504:
      return "DEADLINE_EXCEEDED";
    default:
      return "UNKNOWN";
  }
}

json gemini_error_json(const ProviderError& error) {
  return json{{"error",
               {{"code", error.status},
                {"message", error.message},
                {"status", error.code.value_or(std::string(gemini_status(error.status)))}}}};
}

}  // namespace

std::string openai_error_body(const ProviderError& error) {
  // The pairs OpenAI sends for these statuses; clients (and the gateway's error mapping) key
  // on `type` and `code`, so they have to be right, not just present.
  std::string_view type = "invalid_request_error";
  json code = nullptr;
  if (error.status == 401) {
    code = "invalid_api_key";
  } else if (error.status == 404) {
    code = "model_not_found";
  } else if (error.status == 429) {
    type = "requests";
    code = "rate_limit_exceeded";
  } else if (error.status >= 500) {
    type = "server_error";
  }
  if (error.code) code = *error.code;
  return dump_json(json{{"error",
                         {{"message", error.message},
                          {"type", type},
                          {"param", nullptr},
                          {"code", std::move(code)}}}});
}

std::string anthropic_error_body(const ProviderError& error, std::string_view request_id) {
  return dump_json(
      json{{"type", "error"},
           {"error",
            {{"type", error.code.value_or(std::string(anthropic_error_type(error.status)))},
             {"message", error.message}}},
           {"request_id", request_id}});
}

std::string gemini_error_body(const ProviderError& error) {
  return dump_json(gemini_error_json(error));
}

std::string error_body(WireFormat format, const ProviderError& error, std::string_view request_id) {
  switch (format) {
    case WireFormat::anthropic:
      return anthropic_error_body(error, request_id);
    case WireFormat::gemini:
      return gemini_error_body(error);
    case WireFormat::openai:
      break;
  }
  return openai_error_body(error);
}

std::string openai_stream_error(const ResponseScript& script, std::string_view mock_name) {
  json code = nullptr;
  if (script.error_code) code = *script.error_code;
  const std::string message =
      script.error_message.value_or("mock " + std::string(mock_name) + ": scripted stream error");
  return "data: " +
         dump_json(json{{"error",
                         {{"message", message},
                          {"type", "server_error"},
                          {"param", nullptr},
                          {"code", std::move(code)}}}}) +
         "\n\n";
}

std::string anthropic_stream_error(const ResponseScript& script) {
  json payload{{"type", "error"},
               {"error",
                {{"type", script.error_code.value_or("overloaded_error")},
                 {"message", script.error_message.value_or("Overloaded")}}}};
  return "event: error\ndata: " + dump_json(payload) + "\n\n";
}

std::string gemini_stream_error(const ResponseScript& script) {
  ProviderError error{kGeminiStreamErrorStatus,
                      script.error_message.value_or("The model is overloaded."), script.error_code};
  // Pretty-printed with two-space indents and no "data:" prefix: what Google's front end writes
  // into a started stream, which an SSE parser that only knows data: lines must still survive.
  return gemini_error_json(error).dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace switchyard::mock
