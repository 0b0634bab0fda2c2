#include "openai_bodies.hpp"

#include "wire_text.hpp"

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

// completion_tokens includes the reasoning tokens, as OpenAI counts them; the details appear
// only when a script asks for cached or reasoning tokens, keeping the plain body as it was.
json usage_json(TokenUsage usage) {
  const int completion = usage.completion_tokens + usage.reasoning_tokens;
  json result{{"prompt_tokens", usage.prompt_tokens},
              {"completion_tokens", completion},
              {"total_tokens", usage.prompt_tokens + completion}};
  if (usage.cached_tokens > 0 || usage.reasoning_tokens > 0) {
    result["prompt_tokens_details"] = json{{"cached_tokens", usage.cached_tokens}};
    result["completion_tokens_details"] = json{{"reasoning_tokens", usage.reasoning_tokens}};
  }
  return result;
}

std::string tool_call_id(const CompletionIdentity& identity, int index) {
  return identity.tool_call_id_prefix + std::to_string(index);
}

}  // namespace

std::string completion_body(const CompletionIdentity& identity, const Answer& answer,
                            std::string_view finish_reason, TokenUsage usage) {
  json message{{"role", "assistant"}};
  if (answer.calls_tools()) {
    // A tool-calling turn has no text: content is null, not "" (the OpenAI reference).
    message["content"] = nullptr;
    json calls = json::array();
    for (std::size_t i = 0; i < answer.tool_calls.size(); ++i) {
      const ToolCall& call = answer.tool_calls[i];
      calls.push_back(
          json{{"id", tool_call_id(identity, static_cast<int>(i))},
               {"type", "function"},
               {"function", {{"name", call.name}, {"arguments", call.arguments_text}}}});
    }
    message["tool_calls"] = std::move(calls);
  } else {
    message["content"] = answer.text;
  }
  message["refusal"] = nullptr;
  return dump_json(json{{"id", identity.id},
                        {"object", "chat.completion"},
                        {"created", identity.created},
                        {"model", identity.model},
                        {"choices", json::array({json{{"index", 0},
                                                      {"message", std::move(message)},
                                                      {"logprobs", nullptr},
                                                      {"finish_reason", finish_reason}}})},
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

std::vector<std::string> tool_call_events(const CompletionIdentity& identity, const ToolCall& call,
                                          int index) {
  std::vector<std::string> events;
  json first = chunk_skeleton(identity);
  first["choices"] = choice_delta(
      json{{"tool_calls",
            json::array({json{{"index", index},
                              {"id", tool_call_id(identity, index)},
                              {"type", "function"},
                              {"function", {{"name", call.name}, {"arguments", ""}}}}})}},
      nullptr);
  events.push_back(sse_event(first));
  for (const std::string& fragment : argument_fragments(call)) {
    json more = chunk_skeleton(identity);
    more["choices"] = choice_delta(
        json{{"tool_calls",
              json::array({json{{"index", index}, {"function", {{"arguments", fragment}}}}})}},
        nullptr);
    events.push_back(sse_event(more));
  }
  return events;
}

std::string finish_event(const CompletionIdentity& identity, std::string_view finish_reason) {
  json chunk = chunk_skeleton(identity);
  chunk["choices"] = choice_delta(json::object(), finish_reason);
  return sse_event(chunk);
}

std::string usage_event(const CompletionIdentity& identity, TokenUsage usage) {
  json chunk = chunk_skeleton(identity);
  chunk["choices"] = json::array();
  chunk["usage"] = usage_json(usage);
  return sse_event(chunk);
}

std::string models_body(std::string_view owner) {
  json data = json::array();
  for (std::string_view id : {"mock-small", "mock-large"}) {
    data.push_back(
        json{{"id", id}, {"object", "model"}, {"created", 1700000000}, {"owned_by", owner}});
  }
  return dump_json(json{{"object", "list"}, {"data", std::move(data)}});
}

}  // namespace switchyard::mock
