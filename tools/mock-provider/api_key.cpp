#include "api_key.hpp"

#include "provider_errors.hpp"
#include "wire_text.hpp"

#include <boost/algorithm/string/predicate.hpp>
#include <nlohmann/json.hpp>

namespace switchyard::mock {
namespace {

using json = nlohmann::ordered_json;

std::optional<std::string_view> header(const boost::beast::http::fields& headers,
                                       std::string_view name) {
  auto it = headers.find(name);
  if (it == headers.end()) return std::nullopt;
  return std::string_view(it->value());
}

std::optional<std::string_view> bearer_token(const boost::beast::http::fields& headers) {
  auto value = header(headers, "authorization");
  constexpr std::string_view kScheme = "Bearer ";
  if (!value || !boost::istarts_with(*value, kScheme)) return std::nullopt;
  return value->substr(kScheme.size());
}

// OpenAI echoes the key it refused with its middle starred out ("sk-abc*****wxyz"), so a person
// reading the error can tell which key was sent without the log leaking it.
std::string masked(std::string_view key) {
  if (key.size() <= 8) return std::string(key.size(), '*');
  return std::string(key.substr(0, 3)) + std::string(key.size() - 7, '*') +
         std::string(key.substr(key.size() - 4));
}

}  // namespace

std::optional<KeyRejection> check_api_key(WireFormat format,
                                          const boost::beast::http::fields& headers,
                                          std::string_view query,
                                          const std::vector<std::string>& keys,
                                          std::string_view request_id) {
  if (keys.empty()) return std::nullopt;
  auto accepted = [&](const auto& presented) {
    if (!presented) return false;
    for (const std::string& key : keys) {
      if (*presented == key) return true;
    }
    return false;
  };
  switch (format) {
    case WireFormat::openai: {
      const auto bearer = bearer_token(headers);
      const auto azure = header(headers, "api-key");
      if (accepted(bearer) || accepted(azure)) return std::nullopt;
      const std::string_view presented = bearer ? *bearer : azure.value_or("");
      const std::string shown = presented.empty() ? "" : ": " + masked(presented);
      ProviderError error{401,
                          "Incorrect API key provided" + shown +
                              ". You can find your API key at "
                              "https://platform.openai.com/account/api-keys.",
                          std::nullopt};
      return KeyRejection{401, openai_error_body(error)};
    }
    case WireFormat::anthropic: {
      if (accepted(header(headers, "x-api-key"))) return std::nullopt;
      ProviderError error{401, "invalid x-api-key", std::nullopt};
      return KeyRejection{401, anthropic_error_body(error, request_id)};
    }
    case WireFormat::gemini: {
      if (accepted(header(headers, "x-goog-api-key"))) return std::nullopt;
      if (accepted(query_value(query, "key"))) return std::nullopt;
      // Gemini refuses a bad key with 400, not 401, and says why only in details[].reason.
      json body{
          {"error",
           {{"code", 400},
            {"message", "API key not valid. Please pass a valid API key."},
            {"status", "INVALID_ARGUMENT"},
            {"details", json::array({json{{"@type", "type.googleapis.com/google.rpc.ErrorInfo"},
                                          {"reason", "API_KEY_INVALID"},
                                          {"domain", "googleapis.com"}}})}}}};
      return KeyRejection{400, dump_json(body)};
    }
  }
  return std::nullopt;
}

}  // namespace switchyard::mock
