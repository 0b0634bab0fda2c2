#include "gemini_embeddings.hpp"

#include <bit>
#include <charconv>
#include <cstdint>
#include <vector>

#include "gemini_wire.hpp"
#include "switchyard/api/embeddings_request.hpp"
#include "switchyard/api/json.hpp"

namespace switchyard::providers::gemini {

namespace {

// Base64 (RFC 4648, padded) of each value as a little-endian IEEE-754 float32: what OpenAI
// sends for encoding_format "base64" and its SDKs decode with Float32Array / numpy.
void append_base64_floats(std::string& out, const std::vector<double>& values) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string bytes;
  bytes.reserve(values.size() * 4);
  for (const double value : values) {
    const auto bits = std::bit_cast<std::uint32_t>(static_cast<float>(value));
    for (int shift = 0; shift < 32; shift += 8) bytes += static_cast<char>((bits >> shift) & 0xFF);
  }
  out += '"';
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t n = (static_cast<std::uint8_t>(bytes[i]) << 16) |
                            (static_cast<std::uint8_t>(bytes[i + 1]) << 8) |
                            static_cast<std::uint8_t>(bytes[i + 2]);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += kAlphabet[n & 63];
  }
  if (const std::size_t rest = bytes.size() - i; rest > 0) {
    std::uint32_t n = static_cast<std::uint8_t>(bytes[i]) << 16;
    if (rest == 2) n |= static_cast<std::uint8_t>(bytes[i + 1]) << 8;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += rest == 2 ? kAlphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
  out += '"';
}

// Shortest text that reads back as the same double: the provider's own digits, as an
// OpenAI-compatible passthrough would relay them.
void append_floats(std::string& out, const std::vector<double>& values) {
  out += '[';
  char digits[32];
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ',';
    const auto [end, ec] = std::to_chars(digits, digits + sizeof digits, values[i]);
    out.append(digits, end);
  }
  out += ']';
}

// OpenAI's embedding list. Gemini reports no token counts for embeddings: zeros, as OpenAI's
// schema requires the usage object.
std::string embedding_list_json(const std::vector<std::vector<double>>& embeddings, bool base64,
                                std::string_view model) {
  std::string out = R"({"object":"list","data":[)";
  for (std::size_t i = 0; i < embeddings.size(); ++i) {
    if (i > 0) out += ',';
    out += R"({"object":"embedding","index":)";
    out += std::to_string(i);
    out += R"(,"embedding":)";
    if (base64) {
      append_base64_floats(out, embeddings[i]);
    } else {
      append_floats(out, embeddings[i]);
    }
    out += '}';
  }
  out += R"(],"model":)";
  api::json::append_quoted(out, model);
  out += R"(,"usage":{"prompt_tokens":0,"total_tokens":0}})";
  return out;
}

}  // namespace

Result<void, ProviderError> write_embeddings_body(const api::EmbeddingsRequest& request,
                                                  const config::Model& model, std::string& out) {
  using Input = api::EmbeddingsRequest::Input;
  if (request.input() == Input::tokens || request.input() == Input::token_lists)
    return Unexpected(unsupported("Gemini embeds text, not token ids.", "input"));
  const Json doc = parse(request.body());
  const Json* input = find(doc, "input");
  if (!input || !(input->is_string() || input->is_array()))
    return Unexpected(invalid_request("'input' must be a string or an array of strings.", "input"));
  const Json* dimensions = find(doc, "dimensions");
  if (dimensions && !dimensions->is_number_integer())
    return Unexpected(invalid_request("'dimensions' must be an integer.", "dimensions"));

  const std::string model_name = "models/" + std::string(bare_model(model.upstream));
  Json requests = Json::array();
  auto add = [&](const Json& text) {
    Json one = Json::object();
    one["model"] = model_name;
    one["content"]["parts"] = Json::array({Json{{"text", text}}});
    if (dimensions) one["outputDimensionality"] = *dimensions;
    requests.push_back(std::move(one));
  };
  if (input->is_string()) {
    add(*input);
  } else {
    for (const Json& text : *input) {
      if (!text.is_string())
        return Unexpected(
            invalid_request("'input' must be a string or an array of strings.", "input"));
      add(text);
    }
  }
  Json body = Json::object();
  body["requests"] = std::move(requests);
  out = dump(body);
  return {};
}

Result<void, ProviderError> decode_embeddings_body(std::string& body, const Call& call,
                                                   Usage& usage) {
  const std::string& provider = call.provider.name;
  const Json doc = parse(body);
  if (doc.is_discarded())
    return Unexpected(bad_response(provider, "the response is not JSON: " + clip(body)));
  if (auto error = classify_envelope(doc, 0, provider)) return Unexpected(std::move(*error));
  const Json* list = find(doc, "embeddings");
  if (!list || !list->is_array())
    return Unexpected(bad_response(provider, "the response has no embeddings list: " + clip(body)));
  std::vector<std::vector<double>> embeddings;
  embeddings.reserve(list->size());
  for (const Json& embedding : *list) {
    const Json* values = find(embedding, "values");
    if (!values || !values->is_array())
      return Unexpected(bad_response(provider, "an embedding has no values list"));
    std::vector<double>& out = embeddings.emplace_back();
    out.reserve(values->size());
    for (const Json& value : *values) {
      if (!value.is_number())
        return Unexpected(bad_response(provider, "an embedding value is not a number"));
      out.push_back(value.get<double>());
    }
  }
  usage = Usage{};
  body = embedding_list_json(embeddings, call.embeddings_base64, call.response_model);
  return {};
}

}  // namespace switchyard::providers::gemini
