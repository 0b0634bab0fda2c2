#include "embeddings.hpp"

#include "gemini_request.hpp"
#include "provider_errors.hpp"
#include "wire_text.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>

namespace switchyard::mock {
namespace {

using json = nlohmann::ordered_json;

// Bounds the work one request can ask for; OpenAI's largest model has 3072 dimensions.
constexpr int kMaxDimensions = 4096;
// OpenAI's limit on inputs per request (docs/providers.md, "OpenAI format: embeddings");
// Gemini's batch limit is lower.
constexpr std::size_t kMaxInputs = 2048;
// OpenAI's answer to an empty string or list, word for word.
constexpr std::string_view kInvalidInput =
    "'$.input' is invalid. Please check the API reference: "
    "https://platform.openai.com/docs/api-reference.";
constexpr std::string_view kMalformedBody = R"({"object":"list","data":[{"embedding":[0.1,)";
constexpr std::array<std::string_view, 5> kEmbedRequestFields = {"model", "content", "taskType",
                                                                 "title", "outputDimensionality"};

std::uint64_t fnv1a(std::string_view text) {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (char c : text) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

// splitmix64: spreads consecutive seeds over the whole range, so neighbouring dimensions differ.
std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Little-endian float32s in base64, which the OpenAI SDKs ask for by default and decode.
std::string base64_floats(const std::vector<double>& values) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string bytes;
  for (double value : values) {
    const auto bits = std::bit_cast<std::uint32_t>(static_cast<float>(value));
    for (int shift = 0; shift < 32; shift += 8) bytes.push_back(static_cast<char>(bits >> shift));
  }
  std::string text;
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    std::uint32_t group = static_cast<unsigned char>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) group |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    if (i + 2 < bytes.size()) group |= static_cast<unsigned char>(bytes[i + 2]);
    text.push_back(kAlphabet[(group >> 18) & 63]);
    text.push_back(kAlphabet[(group >> 12) & 63]);
    text.push_back(i + 1 < bytes.size() ? kAlphabet[(group >> 6) & 63] : '=');
    text.push_back(i + 2 < bytes.size() ? kAlphabet[group & 63] : '=');
  }
  return text;
}

// The texts of OpenAI's four input shapes; token arrays are embedded as their JSON text.
std::optional<std::vector<std::string>> openai_inputs(const json& input) {
  std::vector<std::string> texts;
  if (input.is_string()) {
    texts.push_back(input.get<std::string>());
  } else if (input.is_array() && !input.empty() && input.front().is_number_integer()) {
    texts.push_back(dump_json(input));
  } else if (input.is_array()) {
    for (const json& item : input) {
      if (item.is_string()) {
        texts.push_back(item.get<std::string>());
      } else if (item.is_array() && !item.empty()) {
        texts.push_back(dump_json(item));
      } else {
        return std::nullopt;
      }
    }
  }
  if (texts.empty() || texts.size() > kMaxInputs) return std::nullopt;
  for (const std::string& text : texts) {
    if (text.empty()) return std::nullopt;
  }
  return texts;
}

// The dimensions a request asks for under `key`; nullopt when the value is unusable.
std::optional<int> dimensions_of(const json& object, std::string_view key, std::string_view alias) {
  const json* value = find_member(object, key, alias);
  if (value == nullptr) return kDefaultEmbeddingDimensions;
  if (!value->is_number_integer()) return std::nullopt;
  const long long dimensions = value->get<long long>();
  if (dimensions < 1 || dimensions > kMaxDimensions) return std::nullopt;
  return static_cast<int>(dimensions);
}

// Gemini's Content as embedding input: the text parts, joined without a separator.
std::string content_text(const json& content) {
  std::string text;
  const json* parts = find_member(content, "parts");
  if (parts == nullptr || !parts->is_array()) return text;
  for (const json& part : *parts) {
    const json* piece = find_member(part, "text");
    if (piece != nullptr && piece->is_string()) text += piece->get<std::string>();
  }
  return text;
}

bool is_embed_field(std::string_view key) {
  for (std::string_view field : kEmbedRequestFields) {
    if (key == field || key == snake_case(field)) return true;
  }
  return false;
}

// Why Gemini would refuse one EmbedContentRequest, or nullopt; `where` names it as Google's
// errors do ("requests[2]"), empty for the body of :embedContent itself.
std::optional<std::string> embed_request_error(const json& request, const std::string& where) {
  if (!request.is_object()) {
    return "Invalid value at '" + where +
           "' (type.googleapis.com/google.ai.generativelanguage.v1beta.EmbedContentRequest)";
  }
  for (const auto& [key, value] : request.items()) {
    if (!is_embed_field(key)) {
      const std::string at = where.empty() ? "" : " at '" + where + "'";
      return "Invalid JSON payload received. Unknown name \"" + key + "\"" + at +
             ": Cannot find field.";
    }
  }
  const json* content = find_member(request, "content");
  if (content == nullptr || !content->is_object()) {
    return "* EmbedContentRequest.content: content is not specified\n";
  }
  if (!dimensions_of(request, "outputDimensionality", "output_dimensionality")) {
    return "* EmbedContentRequest.output_dimensionality: must be between 1 and " +
           std::to_string(kMaxDimensions) + "\n";
  }
  return std::nullopt;
}

json gemini_values(const json& request) {
  return json{{"values", embedding_vector(content_text(request["content"]),
                                          *dimensions_of(request, "outputDimensionality",
                                                         "output_dimensionality"))}};
}

}  // namespace

std::vector<double> embedding_vector(std::string_view text, int dimensions) {
  const std::uint64_t seed = fnv1a(text);
  std::vector<double> values(static_cast<std::size_t>(std::max(dimensions, 0)));
  double norm = 0;
  for (std::size_t i = 0; i < values.size(); ++i) {
    // The top 53 bits as a double in [0, 1), spread to [-1, 1).
    const double unit = static_cast<double>(mix(seed + i) >> 11) * 0x1.0p-53;
    values[i] = unit * 2 - 1;
    norm += values[i] * values[i];
  }
  norm = std::sqrt(norm);
  for (double& value : values) {
    value = std::round((norm > 0 ? value / norm : 0) * 1e6) / 1e6;
    if (value == 0) value = 0;  // no "-0.0" in the JSON
  }
  return values;
}

boost::asio::awaitable<ConnectionFate> serve_openai_embeddings(Exchange& exchange,
                                                               const ResponseScript& script,
                                                               std::string_view mock_name) {
  const Request& request = exchange.request();
  if (script.drop_after == 0) co_return exchange.drop();
  const json body = json::parse(request.body(), nullptr, /*allow_exceptions=*/false);
  auto reject = [&](std::string message) {
    return json_response(request, 400,
                         openai_error_body(ProviderError{400, std::move(message), std::nullopt}));
  };
  if (!body.is_object()) {
    co_return co_await exchange.send(reject("mock " + std::string(mock_name) +
                                            ": the request body is not a JSON object; see "
                                            "https://platform.openai.com/docs/api-reference/"
                                            "embeddings/create"));
  }
  const json* input = find_member(body, "input");
  if (input == nullptr) co_return co_await exchange.send(reject("'input' is a required property"));
  const std::optional<std::vector<std::string>> texts = openai_inputs(*input);
  if (!texts) co_return co_await exchange.send(reject(std::string(kInvalidInput)));
  const std::optional<int> dimensions = dimensions_of(body, "dimensions", "dimensions");
  if (!dimensions) {
    co_return co_await exchange.send(
        reject("Invalid value for 'dimensions': must be between 1 and " +
               std::to_string(kMaxDimensions) + "."));
  }
  const json* format = find_member(body, "encoding_format");
  const bool base64 = format != nullptr && *format == "base64";
  if (format != nullptr && !base64 && *format != "float") {
    co_return co_await exchange.send(
        reject("Invalid value for 'encoding_format': must be 'float' or 'base64'."));
  }
  if (script.malformed) {
    co_return co_await exchange.send(json_response(request, 200, std::string(kMalformedBody)));
  }

  json data = json::array();
  int tokens = 0;
  for (std::size_t i = 0; i < texts->size(); ++i) {
    const std::string& text = (*texts)[i];
    // The same crude count as the completions: a token per 4 bytes, at least one per input.
    tokens += static_cast<int>((text.size() + 3) / 4);
    const std::vector<double> vector = embedding_vector(text, *dimensions);
    json embedding = base64 ? json(base64_floats(vector)) : json(vector);
    data.push_back(
        json{{"object", "embedding"}, {"index", i}, {"embedding", std::move(embedding)}});
  }
  const json* model = find_member(body, "model");
  json answer{{"object", "list"},
              {"data", std::move(data)},
              {"model", model != nullptr ? *model : json(nullptr)},
              {"usage", {{"prompt_tokens", tokens}, {"total_tokens", tokens}}}};
  co_return co_await exchange.send(json_response(request, 200, dump_json(answer)));
}

boost::asio::awaitable<ConnectionFate> serve_gemini_embeddings(Exchange& exchange,
                                                               const ResponseScript& script,
                                                               const GeminiTarget& target) {
  const Request& request = exchange.request();
  if (script.drop_after == 0) co_return exchange.drop();
  const json body = json::parse(request.body(), nullptr, /*allow_exceptions=*/false);
  auto reject = [&](std::string message) {
    return json_response(request, 400,
                         gemini_error_body(ProviderError{400, std::move(message), std::nullopt}));
  };
  if (body.is_discarded()) {
    co_return co_await exchange.send(reject("Invalid JSON payload received. Unexpected token."));
  }
  if (!body.is_object()) {
    co_return co_await exchange.send(
        reject("Invalid JSON payload received. Root element must be a message."));
  }

  json answer;
  if (target.method == "embedContent") {
    if (auto problem = embed_request_error(body, "")) {
      co_return co_await exchange.send(reject(std::move(*problem)));
    }
    answer = json{{"embedding", gemini_values(body)}};
  } else {
    for (const auto& [key, value] : body.items()) {
      if (key == "requests") continue;
      co_return co_await exchange.send(reject("Invalid JSON payload received. Unknown name \"" +
                                              key + "\": Cannot find field."));
    }
    const json* requests = find_member(body, "requests");
    if (requests == nullptr || !requests->is_array() || requests->empty()) {
      co_return co_await exchange.send(
          reject("* BatchEmbedContentsRequest.requests: requests is not specified\n"));
    }
    json embeddings = json::array();
    for (std::size_t i = 0; i < requests->size(); ++i) {
      const std::string where = "requests[" + std::to_string(i) + "]";
      if (auto problem = embed_request_error((*requests)[i], where)) {
        co_return co_await exchange.send(reject(std::move(*problem)));
      }
      embeddings.push_back(gemini_values((*requests)[i]));
    }
    answer = json{{"embeddings", std::move(embeddings)}};
  }
  if (script.malformed) {
    co_return co_await exchange.send(json_response(request, 200, R"({"embeddings":[{"values":[)"));
  }
  co_return co_await exchange.send(json_response(request, 200, dump_json(answer)));
}

}  // namespace switchyard::mock
