// The view of a chat completion request the gateway needs to route it: the few fields it reads,
// as views into the client's body, which is forwarded as is (with `model` rewritten).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <variant>

#include "switchyard/api/error.hpp"

namespace switchyard::api {

class ChatRequest {
 public:
  std::string_view body() const { return body_; }
  // The requested model or route name, escapes decoded.
  std::string_view model() const {
    return model_decoded_.empty() ? model_raw_.substr(1, model_raw_.size() - 2) : model_decoded_;
  }
  // The exact bytes of the "model" value in body(), quotes included: what a rewrite replaces.
  std::string_view model_raw() const { return model_raw_; }
  std::size_t model_offset() const {
    return static_cast<std::size_t>(model_raw_.data() - body_.data());
  }
  bool stream() const { return stream_; }
  bool include_usage() const { return include_usage_; }
  std::size_t message_count() const { return message_count_; }

 private:
  friend std::variant<ChatRequest, ApiError> parse_chat_request(std::string_view body);

  std::string_view body_;
  std::string_view model_raw_;
  std::string model_decoded_;  // only when the name has escapes
  bool stream_ = false;
  bool include_usage_ = false;
  std::size_t message_count_ = 0;
};

// Validates the whole body as JSON and the fields the gateway relies on (OpenAI's own checks and
// messages where they exist). `body` must outlive the result.
std::variant<ChatRequest, ApiError> parse_chat_request(std::string_view body);

}  // namespace switchyard::api
