#include "switchyard/api/messages_request.hpp"

#include <array>

#include "request_fields.hpp"
#include "switchyard/api/json.hpp"

namespace switchyard::api {

namespace {

// Anthropic words a missing or mistyped field "<path>: Field required" and the like.
ApiError field_error(std::string_view field, std::string_view problem) {
  return errors::invalid_request(std::string(field) + ": " + std::string(problem), field);
}

}  // namespace

const MessagesRequest::Translation& MessagesRequest::translation() const {
  if (translation_) return *translation_;
  translation_ = std::make_unique<Translation>();
  auto& t = *translation_;
  auto translated = messages_to_chat(body_);
  if (!translated) {
    t.error = std::move(translated).error();
    return t;
  }
  t.equivalent = std::move(*translated);
  auto chat = parse_chat_request(t.equivalent.body);
  if (chat) {
    t.chat.emplace(std::move(*chat));
  } else {
    t.error = std::move(chat).error();
  }
  return t;
}

const ChatRequest* MessagesRequest::chat() const {
  const auto& t = translation();
  return t.chat ? &*t.chat : nullptr;
}

const ApiError& MessagesRequest::chat_error() const {
  return translation().error;
}

std::string_view MessagesRequest::left_out() const {
  return translation().equivalent.left_out;
}

Result<MessagesRequest, ApiError> parse_messages_request(std::string_view body, MessagesBody kind) {
  MessagesRequest r;
  r.body_ = body;
  enum Field { kModel, kMessages, kMaxTokens, kStream, kFieldCount };
  static constexpr std::array<std::string_view, kFieldCount> kNames = {"model", "messages",
                                                                       "max_tokens", "stream"};
  std::array<json::Value, kFieldCount> fields{};
  std::array<bool, kFieldCount> seen{};
  std::string_view duplicate;
  const auto first = body.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos || body[first] != '{') {
    if (auto err = json::validate(body))
      return Unexpected(errors::invalid_json(err->what, err->offset));
    return Unexpected(errors::invalid_request("The request body must be a JSON object."));
  }
  const auto invalid = json::scan(body, [&](std::string_view key, const json::Value& v) {
    int f = 0;
    while (f < kFieldCount && !json::key_equals(key, kNames[f])) ++f;
    if (f == kFieldCount) return;
    if (seen[f]) duplicate = kNames[f];
    seen[f] = true;
    fields[f] = v;
  });
  if (invalid) return Unexpected(errors::invalid_json(invalid->what, invalid->offset));
  // As for chat: upstreams disagree on which duplicate wins.
  if (!duplicate.empty()) return Unexpected(field_error(duplicate, "duplicate key in the body"));
  if (auto bad = read_model(seen[kModel], fields[kModel], r.model_raw_, r.model_decoded_))
    return Unexpected(field_error(
        "model", seen[kModel] ? "Input should be a non-empty string" : "Field required"));
  if (!seen[kMaxTokens] && kind == MessagesBody::message)
    return Unexpected(field_error("max_tokens", "Field required"));
  if (seen[kMaxTokens] &&
      (!fields[kMaxTokens].is_integer() || fields[kMaxTokens].raw.front() == '-'))
    return Unexpected(field_error("max_tokens", "Input should be a positive integer"));
  if (!seen[kMessages]) return Unexpected(field_error("messages", "Field required"));
  if (fields[kMessages].type != json::Type::array)
    return Unexpected(field_error("messages", "Input should be a valid list"));
  if (seen[kStream]) {
    const auto& v = fields[kStream];
    if (v.type != json::Type::boolean && v.type != json::Type::null)
      return Unexpected(field_error("stream", "Input should be a valid boolean"));
    r.stream_ = v.is_true();
  }
  return r;
}

}  // namespace switchyard::api
