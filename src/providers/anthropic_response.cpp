#include "anthropic_response.hpp"

#include <charconv>
#include <vector>

#include "openai_output.hpp"

namespace switchyard::providers::anthropic {

namespace json = api::json;

namespace {

bool is_object_text(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  return first != std::string_view::npos && text[first] == '{';
}

// A validated JSON text without the whitespace between tokens: a tool_use `input` becomes
// OpenAI's `arguments` string with its keys and numbers exactly as Anthropic wrote them.
std::string compact(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  bool in_string = false;
  bool escaped = false;
  for (const char c : raw) {
    if (in_string) {
      out += c;
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (json::Cursor::is_ws(c)) continue;
    if (c == '"') in_string = true;
    out += c;
  }
  return out;
}

}  // namespace

std::string_view text_of(const json::Value& value, std::string& storage) {
  if (value.type != json::Type::string) return {};
  const std::string_view inner = value.raw.substr(1, value.raw.size() - 2);
  if (inner.find('\\') == std::string_view::npos) return inner;
  storage = json::unescape(value.raw);
  return storage;
}

std::uint64_t count_of(const json::Value& value) {
  std::uint64_t n = 0;
  if (value.type == json::Type::number)
    std::from_chars(value.raw.data(), value.raw.data() + value.raw.size(), n);
  return n;
}

std::string_view finish_reason(std::string_view stop_reason) {
  if (stop_reason == "max_tokens" || stop_reason == "model_context_window_exceeded")
    return "length";
  if (stop_reason == "tool_use") return "tool_calls";
  if (stop_reason == "refusal") return "content_filter";
  return "stop";
}

void TokenCounts::read(std::string_view usage_raw) {
  json::for_each_member(usage_raw, [this](std::string_view key, const json::Value& v) {
    if (v.type != json::Type::number) return;
    if (json::key_equals(key, "input_tokens")) input = count_of(v);
    if (json::key_equals(key, "cache_creation_input_tokens")) cache_creation = count_of(v);
    if (json::key_equals(key, "cache_read_input_tokens")) cache_read = count_of(v);
    if (json::key_equals(key, "output_tokens")) output = count_of(v);
  });
}

Usage TokenCounts::usage() const {
  Usage u;
  u.reported = true;
  u.prompt = input + cache_creation + cache_read;
  u.completion = output;
  u.cached = cache_read;
  u.total = u.prompt + u.completion;
  return u;
}

int status_of_error_type(std::string_view type) {
  // docs.claude.com/en/api/errors; 402 billing_error per [DD-an].
  if (type == "invalid_request_error") return 400;
  if (type == "authentication_error") return 401;
  if (type == "billing_error") return 402;
  if (type == "permission_error") return 403;
  if (type == "not_found_error") return 404;
  if (type == "request_too_large") return 413;
  if (type == "rate_limit_error") return 429;
  if (type == "timeout_error") return 504;
  if (type == "overloaded_error") return 529;
  return 500;  // api_error and whatever comes next
}

ErrorFacts error_facts(int status, std::string_view body) {
  ErrorFacts facts;
  facts.status = status;
  const auto invalid = json::scan(body, [&facts](std::string_view key, const json::Value& v) {
    if (!json::key_equals(key, "error") || v.type != json::Type::object) return;
    json::for_each_member(v.raw, [&facts](std::string_view k, const json::Value& e) {
      if (e.type != json::Type::string) return;
      if (json::key_equals(k, "type")) facts.type = json::unescape(e.raw);
      if (json::key_equals(k, "message")) facts.message = json::unescape(e.raw);
    });
  });
  if (invalid || facts.message.empty()) facts.message = clip(body);
  if (facts.status == 0) facts.status = status_of_error_type(facts.type);
  return facts;
}

Result<void, ProviderError> decode_message(std::string& body, const Call& call, Usage& usage) {
  const std::string& provider = call.provider.name;
  json::Value id;
  json::Value type;
  json::Value content;
  json::Value stop_reason;
  json::Value usage_raw;
  const auto invalid = json::scan(body, [&](std::string_view key, const json::Value& v) {
    if (json::key_equals(key, "id")) id = v;
    if (json::key_equals(key, "type")) type = v;
    if (json::key_equals(key, "content")) content = v;
    if (json::key_equals(key, "stop_reason")) stop_reason = v;
    if (json::key_equals(key, "usage")) usage_raw = v;
  });
  if (invalid) return Unexpected(bad_json(provider, *invalid));
  if (!is_object_text(body))
    return Unexpected(bad_response(provider, "the response is not a JSON object"));
  std::string storage;
  const std::string_view type_text = text_of(type, storage);
  if (type_text == "error") return Unexpected(classify_error(error_facts(0, body), provider));
  if (type_text != "message") {
    return Unexpected(bad_response(
        provider, "expected a message, got type '" + clip(std::string(type_text), 40) + "'"));
  }
  if (content.type != json::Type::array)
    return Unexpected(bad_response(provider, "the message has no content array"));

  Choice choice;
  bool saw_text = false;
  json::for_each_element(content.raw, [&](const json::Value& block) {
    if (block.type != json::Type::object) return;
    json::Value block_type, text, tool_id, name, input;
    json::for_each_member(block.raw, [&](std::string_view key, const json::Value& v) {
      if (json::key_equals(key, "type")) block_type = v;
      if (json::key_equals(key, "text")) text = v;
      if (json::key_equals(key, "id")) tool_id = v;
      if (json::key_equals(key, "name")) name = v;
      if (json::key_equals(key, "input")) input = v;
    });
    std::string kind_storage;
    std::string text_storage;
    const std::string_view kind = text_of(block_type, kind_storage);
    if (kind == "text") {
      saw_text = true;
      choice.content += text_of(text, text_storage);
    } else if (kind == "tool_use") {
      ToolCall tool;
      tool.id = json::unescape(tool_id.type == json::Type::string ? tool_id.raw : "\"\"");
      tool.name = json::unescape(name.type == json::Type::string ? name.raw : "\"\"");
      tool.arguments = input.raw.empty() ? "{}" : compact(input.raw);
      choice.tool_calls.push_back(std::move(tool));
    }
    // thinking, redacted_thinking and server-tool blocks have no place in an OpenAI message.
  });
  choice.has_content = saw_text || choice.tool_calls.empty();
  std::string reason_storage;
  choice.finish_reason = finish_reason(text_of(stop_reason, reason_storage));

  usage = Usage{};
  if (usage_raw.type == json::Type::object) {
    TokenCounts counts;
    counts.read(usage_raw.raw);
    usage = counts.usage();
  }
  std::string completion_id = "chatcmpl-";
  if (id.type == json::Type::string) {
    completion_id += json::unescape(id.raw);
  } else {
    completion_id += call.request_id;
  }
  body = completion_json(completion_id, call, {choice}, usage);
  return {};
}

}  // namespace switchyard::providers::anthropic
