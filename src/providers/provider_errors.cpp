#include "provider_errors.hpp"

#include <algorithm>
#include <array>

#include "text.hpp"

namespace switchyard::providers {

namespace {

bool any_of(std::string_view value, std::initializer_list<std::string_view> candidates) {
  return std::find(candidates.begin(), candidates.end(), value) != candidates.end();
}

ProviderError make(ErrorClass cls, int status, std::string_view type, std::string message,
                   std::string code, std::string param = {}) {
  ProviderError e;
  e.error_class = cls;
  e.error.status = status;
  e.error.type = type;
  e.error.message = std::move(message);
  e.error.code = std::move(code);
  e.error.param = std::move(param);
  return e;
}

}  // namespace

std::string clip(std::string_view text, std::size_t max) {
  if (text.size() <= max) return std::string(text);
  std::size_t end = max;
  // Back off continuation bytes so the cut falls between UTF-8 sequences.
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return std::string(text.substr(0, end)) + "…";
}

bool says_context_length(std::string_view message) {
  // Each provider's wording (docs/providers.md, "Context length"), lower-cased: OpenAI, DeepSeek
  // and vLLM ("This model's maximum context length is…"), Anthropic ("prompt is too long: N
  // tokens > M maximum"), Gemini ("The input token count (N) exceeds the maximum number of
  // tokens allowed"), Groq, and the variants LiteLLM collected from llama.cpp, Cerebras and
  // others.
  static constexpr std::array<std::string_view, 12> kPhrases{
      "maximum context length",
      "context_length_exceeded",
      "prompt is too long",
      "exceeds the maximum number of tokens",
      "reduce the length of the messages",
      "exceed context limit",
      "maximum context limit",
      "longer than the model's context length",
      "input tokens exceed the configured limit",
      "exceeds the available context size",
      "maximum input length is",
      "context window",
  };
  const std::string text = ascii_lower(message);
  for (const auto phrase : kPhrases)
    if (text.find(phrase) != std::string::npos) return true;
  // Cerebras: "Current length is N while limit is M".
  return text.find("current length is") != std::string::npos &&
         text.find("while limit is") != std::string::npos;
}

ProviderError classify_error(const ErrorFacts& facts, std::string_view provider) {
  const int status = facts.status;
  const std::string_view type = facts.type;
  const std::string_view code = facts.code;
  const std::string from = std::string(provider) + ": ";
  std::string message = from + clip(facts.message);

  // OpenAI's over-long `user` parameter is a plain bad request, not a context problem.
  if (code != "string_above_max_length" &&
      (code == "context_length_exceeded" || says_context_length(facts.message))) {
    auto e = make(ErrorClass::fall_over, 400, "invalid_request_error", std::move(message),
                  "context_length_exceeded", "messages");
    e.context_length = true;
    return e;
  }
  const std::string lowered = ascii_lower(facts.message);
  if (any_of(code, {"content_filter", "content_policy_violation"}) ||
      lowered.find("content management policy") != std::string::npos) {
    return make(ErrorClass::fall_over, 400, "invalid_request_error", std::move(message),
                "content_filter");
  }
  // The gateway's own credentials or account at this provider: another provider may serve it.
  // Gemini answers a bad key with 400 INVALID_ARGUMENT, reason API_KEY_INVALID.
  if (status == 401 || type == "authentication_error" ||
      any_of(code, {"API_KEY_INVALID", "invalid_api_key"})) {
    return make(
        ErrorClass::fall_over, 401, "invalid_request_error",
        from + "the provider rejected the gateway's credentials (" + clip(facts.message) + ")",
        "invalid_api_key");
  }
  if (status == 402 || type == "billing_error" || code == "insufficient_quota") {
    return make(ErrorClass::fall_over, 429, "insufficient_quota", std::move(message),
                "insufficient_quota");
  }
  if (status == 403 || any_of(type, {"permission_error", "PERMISSION_DENIED"})) {
    return make(ErrorClass::fall_over, 403, "invalid_request_error", std::move(message),
                "permission_denied");
  }
  if (status == 404 || any_of(type, {"not_found_error", "NOT_FOUND"}) ||
      code == "model_not_found") {
    return make(ErrorClass::fall_over, 404, "invalid_request_error", std::move(message),
                "model_not_found", "model");
  }
  if (status == 429 || any_of(type, {"rate_limit_error", "RESOURCE_EXHAUSTED"})) {
    return make(ErrorClass::retryable, 429, "rate_limit_exceeded", std::move(message),
                "rate_limit_exceeded");
  }
  // Gemini 499 CANCELLED: the call was cancelled on the way; not the provider's failure, and
  // the documented advice is not to retry.
  if (status == 499 || type == "CANCELLED") {
    return make(ErrorClass::final, 502, "server_error", std::move(message), "upstream_cancelled");
  }
  if (status == 408 || status == 504 || type == "timeout_error" || type == "DEADLINE_EXCEEDED") {
    return make(ErrorClass::retryable, 504, "server_error", std::move(message), "upstream_timeout");
  }
  if (status == 409 || status >= 500 ||
      any_of(type, {"overloaded_error", "api_error", "server_error", "INTERNAL", "UNAVAILABLE"})) {
    const bool overloaded =
        status == 503 || status == 529 || type == "overloaded_error" || type == "UNAVAILABLE";
    return make(ErrorClass::retryable, overloaded ? 503 : 502, "server_error", std::move(message),
                overloaded ? "upstream_overloaded" : "upstream_error");
  }
  // Gemini's FAILED_PRECONDITION is about the account (billing, region), not the request.
  if (type == "FAILED_PRECONDITION") {
    return make(ErrorClass::fall_over, 400, "invalid_request_error", std::move(message),
                "failed_precondition");
  }
  // The client's own mistake, which every provider would refuse: relayed as the answer, with
  // the provider's code and param when it gave them.
  const int client_status = status == 413 || status == 422 ? status : 400;
  return make(ErrorClass::final, client_status, "invalid_request_error", std::move(message),
              std::string(code), facts.param);
}

ProviderError bad_response(std::string_view provider, std::string detail) {
  return make(ErrorClass::retryable, 502, "server_error",
              std::string(provider) + ": " + std::move(detail), "bad_upstream_response");
}

ProviderError bad_json(std::string_view provider, const api::json::ScanError& error) {
  return bad_response(provider, std::string("invalid JSON (") + error.what + " at byte " +
                                    std::to_string(error.offset) + ")");
}

ProviderError unsupported(std::string message, std::string_view param) {
  return make(ErrorClass::fall_over, 400, "invalid_request_error", std::move(message),
              "unsupported_parameter", std::string(param));
}

ProviderError invalid_request(std::string message, std::string_view param) {
  return make(ErrorClass::final, 400, "invalid_request_error", std::move(message), "invalid_value",
              std::string(param));
}

}  // namespace switchyard::providers
