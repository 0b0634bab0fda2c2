#include "openai_bodies.hpp"

namespace switchyard::mock {
namespace {

using json = nlohmann::ordered_json;

std::string sse_event(const json& payload) {
  return "data: " + dump_json(payload) + "\n\n";
}

json chunk_skeleton(const CompletionIdentity& identity) {
  return json{{"id", identity.id},
              {"object", "chat.completion.chunk"},
              {"created", identity.created},
              {"model", identity.model}};
}

json choice_delta(json delta, json finish_reason) {
  return json::array({json{{"index", 0},
                           {"delta", std::move(delta)},
                           {"logprobs", nullptr},
                           {"finish_reason", std::move(finish_reason)}}});
}

json usage_json(TokenUsage usage) {
  return json{{"prompt_tokens", usage.prompt_tokens},
              {"completion_tokens", usage.completion_tokens},
              {"total_tokens", usage.prompt_tokens + usage.completion_tokens}};
}

bool is_continuation_byte(char c) {
  return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}

}  // namespace

std::string dump_json(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string error_body(int status, std::string_view message) {
  // The pairs OpenAI sends for these statuses; clients (and the gateway's error mapping) key
  // on `type` and `code`, so they have to be right, not just present.
  std::string_view type = "invalid_request_error";
  json code = nullptr;
  if (status == 401) {
    code = "invalid_api_key";
  } else if (status == 404) {
    code = "model_not_found";
  } else if (status == 429) {
    type = "requests";
    code = "rate_limit_exceeded";
  } else if (status >= 500) {
    type = "server_error";
  }
  return dump_json(
      json{{"error", {{"message", message}, {"type", type}, {"param", nullptr}, {"code", code}}}});
}

std::string completion_body(const CompletionIdentity& identity, std::string_view content,
                            TokenUsage usage) {
  json message{{"role", "assistant"}, {"content", content}, {"refusal", nullptr}};
  return dump_json(json{{"id", identity.id},
                        {"object", "chat.completion"},
                        {"created", identity.created},
                        {"model", identity.model},
                        {"choices", json::array({json{{"index", 0},
                                                      {"message", std::move(message)},
                                                      {"logprobs", nullptr},
                                                      {"finish_reason", "stop"}}})},
                        {"usage", usage_json(usage)}});
}

std::string role_event(const CompletionIdentity& identity) {
  json chunk = chunk_skeleton(identity);
  chunk["choices"] = choice_delta(json{{"role", "assistant"}, {"content", ""}}, nullptr);
  return sse_event(chunk);
}

std::string content_event(const CompletionIdentity& identity, std::string_view piece) {
  json chunk = chunk_skeleton(identity);
  chunk["choices"] = choice_delta(json{{"content", piece}}, nullptr);
  return sse_event(chunk);
}

std::string finish_event(const CompletionIdentity& identity) {
  json chunk = chunk_skeleton(identity);
  chunk["choices"] = choice_delta(json::object(), "stop");
  return sse_event(chunk);
}

std::string usage_event(const CompletionIdentity& identity, TokenUsage usage) {
  json chunk = chunk_skeleton(identity);
  chunk["choices"] = json::array();
  chunk["usage"] = usage_json(usage);
  return sse_event(chunk);
}

std::string error_event(std::string_view message) {
  return sse_event(json{
      {"error",
       {{"message", message}, {"type", "server_error"}, {"param", nullptr}, {"code", nullptr}}}});
}

std::string models_body(std::string_view owner) {
  json data = json::array();
  for (std::string_view id : {"mock-small", "mock-large"}) {
    data.push_back(
        json{{"id", id}, {"object", "model"}, {"created", 1700000000}, {"owned_by", owner}});
  }
  return dump_json(json{{"object", "list"}, {"data", std::move(data)}});
}

std::vector<std::string> split_content(std::string_view content, int pieces) {
  std::vector<std::string> result;
  if (pieces <= 0) return result;
  // Byte offset of every code point. The first byte always starts one, so stray continuation
  // bytes at the front of invalid UTF-8 are kept rather than lost.
  std::vector<std::size_t> starts;
  for (std::size_t i = 0; i < content.size(); ++i) {
    if (i == 0 || !is_continuation_byte(content[i])) starts.push_back(i);
  }
  const std::size_t code_points = starts.size();
  auto offset_of = [&](std::size_t code_point) {
    return code_point < code_points ? starts[code_point] : content.size();
  };
  const auto count = static_cast<std::size_t>(pieces);
  result.reserve(count);
  for (std::size_t k = 0; k < count; ++k) {
    std::size_t begin = offset_of(code_points * k / count);
    std::size_t end = offset_of(code_points * (k + 1) / count);
    result.emplace_back(content.substr(begin, end - begin));
  }
  return result;
}

}  // namespace switchyard::mock
