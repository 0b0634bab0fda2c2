#include "switchyard/api/embeddings_request.hpp"

#include "request_fields.hpp"
#include "switchyard/api/json.hpp"

namespace switchyard::api {

namespace {

// OpenAI's limit on inputs per request (docs/providers.md, "OpenAI format: embeddings").
constexpr std::size_t kMaxInputs = 2048;

ApiError invalid_input(std::string why) {
  return errors::invalid_request("Invalid 'input': " + std::move(why), "input", "invalid_value");
}

}  // namespace

Result<EmbeddingsRequest, ApiError> parse_embeddings_request(std::string_view body) {
  EmbeddingsRequest r;
  r.body_ = body;
  json::Value model, input, format, dimensions;
  bool has_model = false, has_input = false, duplicate_model = false;
  const auto invalid = json::scan(body, [&](std::string_view key, const json::Value& v) {
    if (json::key_equals(key, "model")) {
      duplicate_model = has_model;
      has_model = true;
      model = v;
    } else if (json::key_equals(key, "input")) {
      has_input = true;
      input = v;
    } else if (json::key_equals(key, "encoding_format")) {
      format = v;
    } else if (json::key_equals(key, "dimensions")) {
      dimensions = v;
    }
  });
  if (invalid) return Unexpected(errors::invalid_json(invalid->what, invalid->offset));
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos ||
      body[body.find_first_not_of(" \t\r\n")] != '{')
    return Unexpected(errors::invalid_request("The request body must be a JSON object."));
  if (duplicate_model)
    return Unexpected(
        errors::invalid_request("Duplicate key 'model' in the body.", "model", "duplicate_key"));
  if (auto bad = read_model(has_model, model, r.model_raw_, r.model_decoded_))
    return Unexpected(std::move(*bad));

  if (!has_input || input.type == json::Type::null)
    return Unexpected(errors::invalid_request("Missing required parameter: 'input'.", "input",
                                              "missing_required_parameter"));
  if (input.type == json::Type::string) {
    if (input.raw.size() == 2) return Unexpected(invalid_input("empty string."));
    r.input_ = EmbeddingsRequest::Input::text;
    r.input_count_ = 1;
  } else if (input.type == json::Type::array) {
    // All elements of one kind: strings, token ids, or non-empty lists of token ids.
    std::optional<ApiError> bad;
    std::size_t strings = 0, integers = 0, lists = 0;
    json::for_each_element(input.raw, [&](const json::Value& e) {
      if (bad) return;
      if (e.type == json::Type::string) {
        ++strings;
        if (e.raw.size() == 2)
          bad = invalid_input("empty string at index " + std::to_string(r.input_count_) + ".");
      } else if (e.is_integer()) {
        ++integers;
      } else if (e.type == json::Type::array) {
        ++lists;
        bool tokens = e.raw.find_first_not_of("[ \t\r\n]") != std::string_view::npos;
        json::for_each_element(e.raw,
                               [&](const json::Value& t) { tokens = tokens && t.is_integer(); });
        if (!tokens)
          bad = invalid_input("expected a non-empty list of token ids at index " +
                              std::to_string(r.input_count_) + ".");
      } else {
        bad = invalid_input("expected a string, a token id or a list of token ids at index " +
                            std::to_string(r.input_count_) + ".");
      }
      ++r.input_count_;
    });
    if (bad) return Unexpected(std::move(*bad));
    if (r.input_count_ == 0) return Unexpected(invalid_input("empty array."));
    if (r.input_count_ > kMaxInputs)
      return Unexpected(
          invalid_input("at most " + std::to_string(kMaxInputs) + " inputs per request."));
    if (strings != r.input_count_ && integers != r.input_count_ && lists != r.input_count_)
      return Unexpected(invalid_input(
          "the elements must all be strings, all token ids, or all lists of token ids."));
    r.input_ = strings    ? EmbeddingsRequest::Input::texts
               : integers ? EmbeddingsRequest::Input::tokens
                          : EmbeddingsRequest::Input::token_lists;
    // A flat list of token ids is one input.
    if (integers) r.input_count_ = 1;
  } else {
    return Unexpected(wrong_type("input", "a string or an array", input.type));
  }

  if (format.type == json::Type::string) {
    if (format.raw == "\"base64\"") {
      r.base64_ = true;
    } else if (format.raw != "\"float\"") {
      return Unexpected(errors::invalid_request(
          "Invalid value for 'encoding_format': expected 'float' or 'base64'.", "encoding_format",
          "invalid_value"));
    }
  } else if (format.type != json::Type::null) {
    return Unexpected(wrong_type("encoding_format", "a string", format.type));
  }
  if (dimensions.type != json::Type::null &&
      (!dimensions.is_integer() || dimensions.raw.front() == '-' || dimensions.raw == "0"))
    return Unexpected(
        errors::invalid_request("Invalid value for 'dimensions': expected a positive integer.",
                                "dimensions", "invalid_value"));
  return r;
}

}  // namespace switchyard::api
