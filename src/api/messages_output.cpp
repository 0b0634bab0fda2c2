// OpenAI chat completions said as Anthropic Messages answers, for clients of the Messages door
// whose answer came from a provider that is not Anthropic, or from the response cache. The
// finish-reason mapping is docs/providers.md's ("Finish reasons") read backwards; the stream
// events are Anthropic's (docs/providers.md, "Anthropic: streaming"; docs/api.md, "The Messages
// door").
//
// Strings are copied from the OpenAI text as their raw JSON (quotes and escapes kept) rather than
// decoded and re-quoted: a validated JSON string body is valid inside another JSON document, and
// the stream path runs once per event.
#include "switchyard/api/messages_output.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <optional>

#include "switchyard/api/json.hpp"

namespace switchyard::api {

namespace {

constexpr std::string_view kOpenAiIdPrefix = "chatcmpl-";

// Appends the parts in order: JSON written piece by piece, without a temporary per piece.
template <class... Parts>
void append(std::string& out, const Parts&... parts) {
  (out += ... += parts);
}

bool is_object_text(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  return first != std::string_view::npos && text[first] == '{';
}

// A string value's raw body between its quotes, escapes kept; empty for any other value. Finish
// reasons and the like are compared in this form: nobody escapes plain ASCII words.
std::string_view body_of(const json::Value& value) {
  if (value.type != json::Type::string) return {};
  return value.raw.substr(1, value.raw.size() - 2);
}

std::uint64_t count_of(const json::Value& value) {
  std::uint64_t n = 0;
  if (value.is_integer()) std::from_chars(value.raw.data(), value.raw.data() + value.raw.size(), n);
  return n;
}

// The values of an object's named members, in the order named: null values for absent members,
// and for all of them when `object` is not an object.
template <class... Names>
std::array<json::Value, sizeof...(Names)> members_of(const json::Value& object, Names... names) {
  std::array<json::Value, sizeof...(Names)> values;
  if (object.type != json::Type::object) return values;
  const std::array<std::string_view, sizeof...(Names)> keys{names...};
  json::for_each_member(object.raw, [&](std::string_view key, const json::Value& v) {
    for (std::size_t i = 0; i < keys.size(); ++i)
      if (json::key_equals(key, keys[i])) values[i] = v;
  });
  return values;
}

// The first element of an array value, or a null value (whose raw text is empty).
json::Value first_element(const json::Value& array) {
  json::Value first;
  if (array.type != json::Type::array) return first;
  json::for_each_element(array.raw, [&first](const json::Value& v) {
    if (first.raw.empty()) first = v;
  });
  return first;
}

// docs/providers.md's "Finish reasons" read backwards. An absent or unknown reason (a provider's
// own word) ends the turn normally, as Anthropic's end_turn is what a client treats as "nothing
// special".
std::string_view stop_reason_of(std::string_view finish_reason) {
  if (finish_reason == "length") return "max_tokens";
  if (finish_reason == "tool_calls" || finish_reason == "function_call") return "tool_use";
  if (finish_reason == "content_filter") return "refusal";
  return "end_turn";
}

// What follows "msg_" in the Anthropic id: the OpenAI id without OpenAI's own prefix, which would
// only repeat that the id is an answer's.
std::string_view id_suffix(const json::Value& openai_id) {
  std::string_view id = body_of(openai_id);
  if (id.starts_with(kOpenAiIdPrefix)) id.remove_prefix(kOpenAiIdPrefix.size());
  return id;
}

std::string_view string_or_empty(const json::Value& value) {
  return value.type == json::Type::string ? value.raw : std::string_view("\"\"");
}

struct TokenCounts {
  std::uint64_t prompt = 0, completion = 0, cached = 0;
};

TokenCounts read_tokens(const json::Value& usage) {
  const auto [prompt, completion, details] =
      members_of(usage, "prompt_tokens", "completion_tokens", "prompt_tokens_details");
  return {count_of(prompt), count_of(completion),
          count_of(members_of(details, "cached_tokens")[0])};
}

// OpenAI's prompt_tokens include the cached ones; Anthropic's counts are disjoint.
std::string usage_json(const TokenCounts& counts) {
  const std::uint64_t cached = std::min(counts.cached, counts.prompt);
  return "{\"input_tokens\":" + std::to_string(counts.prompt - cached) +
         ",\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":" +
         std::to_string(cached) + ",\"output_tokens\":" + std::to_string(counts.completion) + '}';
}

// The members of a completion or a chunk that matter here.
struct Answer {
  json::Value id, model, choices, usage, error;
};

// Nothing when `text` is not a JSON object.
std::optional<Answer> read_answer(std::string_view text) {
  Answer a;
  const auto invalid = json::scan(text, [&a](std::string_view key, const json::Value& v) {
    if (json::key_equals(key, "id")) a.id = v;
    if (json::key_equals(key, "model")) a.model = v;
    if (json::key_equals(key, "choices")) a.choices = v;
    if (json::key_equals(key, "usage")) a.usage = v;
    if (json::key_equals(key, "error")) a.error = v;
  });
  if (invalid || !is_object_text(text)) return std::nullopt;
  return a;
}

// choices[0]: a completion's `message` or a chunk's `delta`, and the finish reason. Only the
// first choice is read: the Messages API has no `n`.
struct Choice {
  json::Value message, finish_reason;
};

std::optional<Choice> read_choice(const json::Value& choices) {
  const json::Value first = first_element(choices);
  if (first.type != json::Type::object) return std::nullopt;
  const auto [message, delta, finish_reason] =
      members_of(first, "message", "delta", "finish_reason");
  return Choice{message.raw.empty() ? delta : message, finish_reason};
}

// Providers name the reasoning `reasoning_content` (DeepSeek) or `reasoning` (OpenRouter).
std::string_view reasoning_of(const json::Value& message) {
  const auto [reasoning_content, reasoning] = members_of(message, "reasoning_content", "reasoning");
  return body_of(reasoning_content).empty() ? body_of(reasoning) : body_of(reasoning_content);
}

// A tool call's (or tool call delta's) index, id, function name and arguments.
std::array<json::Value, 4> tool_call_fields(const json::Value& call) {
  const auto [index, id, function] = members_of(call, "index", "id", "function");
  const auto [name, arguments] = members_of(function, "name", "arguments");
  return {index, id, name, arguments};
}

// Content as a string, or as parts whose text parts are joined (bodies concatenate as they are:
// the join of two valid string bodies is one).
std::string joined_text(const json::Value& content) {
  if (content.type == json::Type::string) return std::string(body_of(content));
  std::string text;
  if (content.type != json::Type::array) return text;
  json::for_each_element(content.raw, [&text](const json::Value& part) {
    const auto [type, part_text] = members_of(part, "type", "text");
    if (body_of(type) == "text") text += body_of(part_text);
  });
  return text;
}

void append_block(std::string& out, std::string_view kind, std::string_view body) {
  append(out, out.back() == '[' ? "{\"type\":\"" : ",{\"type\":\"", kind, "\",\"", kind, "\":\"",
         body, kind == "thinking" ? "\",\"signature\":\"\"}" : "\"}");
}

// A tool call's `arguments` string as the JSON object Anthropic's `input` is. Models do send
// arguments that do not parse; the client must hear so rather than get a tool_use it cannot run.
Result<std::string, std::string> tool_input(const json::Value& arguments, std::string_view name) {
  if (arguments.type == json::Type::null) return std::string("{}");
  if (arguments.type == json::Type::string) {
    std::string text = json::unescape(arguments.raw);
    if (text.find_first_not_of(" \t\r\n") == std::string::npos) return std::string("{}");
    if (!json::validate(text) && is_object_text(text)) return text;
  }
  return Unexpected("the tool call '" + json::unescape(name) +
                    "' has arguments that are not a JSON object");
}

Result<void, std::string> append_tool_use(std::string& out, const json::Value& call) {
  const auto [index, id, name, arguments] = tool_call_fields(call);
  auto input = tool_input(arguments, body_of(name));
  if (!input) return Unexpected(std::move(input.error()));
  append(out, out.back() == '[' ? "{" : ",{", "\"type\":\"tool_use\",\"id\":", string_or_empty(id),
         ",\"name\":", string_or_empty(name), ",\"input\":", *input, '}');
  return {};
}

// A message's content blocks in Anthropic's order: thinking, text, tool uses. True when there
// were tool calls.
Result<bool, std::string> append_content(std::string& out, const json::Value& message) {
  const auto [content, refusal, tool_calls] =
      members_of(message, "content", "refusal", "tool_calls");
  if (!reasoning_of(message).empty()) append_block(out, "thinking", reasoning_of(message));
  const std::string text = joined_text(content);
  if (!text.empty()) append_block(out, "text", text);
  if (!body_of(refusal).empty()) append_block(out, "text", body_of(refusal));
  if (tool_calls.type != json::Type::array) return false;
  bool any = false;
  std::string why;
  json::for_each_element(tool_calls.raw, [&](const json::Value& call) {
    any = true;
    if (!why.empty()) return;
    auto appended = append_tool_use(out, call);
    if (!appended) why = std::move(appended.error());
  });
  if (!why.empty()) return Unexpected(std::move(why));
  return any;
}

// An Anthropic event whose data is `type` and then `rest`: the data's type repeats the event's
// name, as Anthropic's own events do.
template <class... Rest>
void append_event(std::string& out, std::string_view type, const Rest&... rest) {
  append(out, "event: ", type, "\ndata: {\"type\":\"", type, '"', rest..., "}\n\n");
}

// The content_block_ events, which all say which block they are about.
template <class... Rest>
void append_block_event(std::string& out, std::string_view type, int index, const Rest&... rest) {
  append_event(out, type, ",\"index\":", std::to_string(index), rest...);
}

struct SseEvent {
  bool has_data = false;
  bool has_comment = false;
  std::string_view data;
};

// Takes the next event off the front of `rest`: its lines up to a blank line or the end. Several
// data lines are joined with '\n' into `joined`, as the SSE specification has it.
SseEvent next_event(std::string_view& rest, std::string& joined) {
  SseEvent e;
  bool seen_field = false;
  int data_lines = 0;
  while (!rest.empty()) {
    const auto eol = rest.find('\n');
    std::string_view line = rest.substr(0, eol);
    rest = eol == std::string_view::npos ? std::string_view() : rest.substr(eol + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) {
      if (seen_field) break;
      continue;
    }
    seen_field = true;
    if (line.front() == ':') e.has_comment = true;
    if (!line.starts_with("data:")) continue;  // comments, event:, id:, retry:
    line.remove_prefix(5);
    if (line.starts_with(' ')) line.remove_prefix(1);
    e.has_data = true;
    if (++data_lines == 1) {
      e.data = line;
      continue;
    }
    if (data_lines == 2) joined.assign(e.data);
    joined += '\n';
    joined += line;
    e.data = joined;
  }
  return e;
}

// The message of a mid-stream `{"error":{…}}` (docs/providers.md, "Errors in a stream"), or the
// error value itself.
std::string error_message(const json::Value& error) {
  const json::Value message = members_of(error, "message")[0];
  if (body_of(message).empty()) return "the stream reported an error: " + std::string(error.raw);
  return json::unescape(message.raw);
}

}  // namespace

Result<std::string, std::string> completion_to_message(std::string_view completion) {
  const auto answer = read_answer(completion);
  if (!answer) return Unexpected("the completion is not a JSON object");
  const auto choice = read_choice(answer->choices);
  if (!choice) return Unexpected("the completion has no choices");

  std::string out;
  append(out, "{\"id\":\"msg_", id_suffix(answer->id),
         "\",\"type\":\"message\",\"role\":\"assistant\",\"model\":",
         string_or_empty(answer->model), ",\"content\":[");
  const auto tool_use = append_content(out, choice->message);
  if (!tool_use) return Unexpected(tool_use.error());
  append(out, "],\"stop_reason\":\"",
         *tool_use ? "tool_use" : stop_reason_of(body_of(choice->finish_reason)),
         "\",\"stop_sequence\":null,\"usage\":", usage_json(read_tokens(answer->usage)), '}');
  return out;
}

bool MessageEvents::feed(std::string_view sse, std::string& out) {
  while (!sse.empty() && error_.empty() && !done_) {
    const SseEvent e = next_event(sse, data_);
    if (e.has_data) {
      if (!on_data(e.data, out)) return false;
    } else if (e.has_comment && started_) {
      // Keep-alive comments stay keep-alives; before message_start one would break the
      // sequence Anthropic's SDKs expect.
      append_event(out, "ping");
    }
  }
  return error_.empty();
}

bool MessageEvents::on_data(std::string_view data, std::string& out) {
  const auto first = data.find_first_not_of(" \t");
  if (first == std::string_view::npos || data.substr(first) != "[DONE]") return on_chunk(data, out);
  if (!started_) return fail("the stream ended before its first chunk");
  finish(out);
  return true;
}

bool MessageEvents::on_chunk(std::string_view chunk, std::string& out) {
  const auto answer = read_answer(chunk);
  if (!answer) return fail("a stream chunk that is not a JSON object");
  if (answer->error.type != json::Type::null) return fail(error_message(answer->error));
  if (!started_) {
    // Usage is unknown until the end; the SDKs take message_delta's counts over these.
    append_event(
        out, "message_start", ",\"message\":{\"id\":\"msg_", id_suffix(answer->id),
        "\",\"type\":\"message\",\"role\":\"assistant\",\"model\":", string_or_empty(answer->model),
        ",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,"
        "\"usage\":{\"input_tokens\":0,\"output_tokens\":0}}");
    started_ = true;
  }
  // With include_usage the counts come in a chunk of their own, after the finish.
  if (answer->usage.type == json::Type::object) {
    const TokenCounts counts = read_tokens(answer->usage);
    prompt_tokens_ = counts.prompt;
    completion_tokens_ = counts.completion;
    cached_tokens_ = counts.cached;
  }
  const auto choice = read_choice(answer->choices);
  if (!choice) return true;
  if (choice->finish_reason.type == json::Type::string)
    stop_reason_ = stop_reason_of(body_of(choice->finish_reason));
  const auto [content, refusal, tool_calls] =
      members_of(choice->message, "content", "refusal", "tool_calls");
  stream_text(Block::thinking, reasoning_of(choice->message), out);
  stream_text(Block::text, body_of(content), out);
  stream_text(Block::text, body_of(refusal), out);
  if (tool_calls.type == json::Type::array) hold_tool_calls(tool_calls.raw);
  return true;
}

void MessageEvents::stream_text(Block kind, std::string_view text, std::string& out) {
  if (text.empty()) return;
  const bool thinking = kind == Block::thinking;
  if (open_ != kind) {
    close_block(out);
    append_block_event(
        out, "content_block_start", next_index_++,
        thinking ? ",\"content_block\":{\"type\":\"thinking\",\"thinking\":\"\",\"signature\":\"\"}"
                 : ",\"content_block\":{\"type\":\"text\",\"text\":\"\"}");
    open_ = kind;
  }
  append_block_event(out, "content_block_delta", next_index_ - 1,
                     thinking ? ",\"delta\":{\"type\":\"thinking_delta\",\"thinking\":\""
                              : ",\"delta\":{\"type\":\"text_delta\",\"text\":\"",
                     text, "\"}");
}

void MessageEvents::close_block(std::string& out) {
  if (open_ == Block::none) return;
  append_block_event(out, "content_block_stop", next_index_ - 1);
  open_ = Block::none;
}

void MessageEvents::hold_tool_calls(std::string_view tool_calls) {
  std::uint64_t position = 0;
  json::for_each_element(tool_calls, [&](const json::Value& entry) {
    const auto [index, id, name, arguments] = tool_call_fields(entry);
    // `index` is the one field every delta has (docs/providers.md, "OpenAI format: streaming"); its
    // place stands in for it.
    ToolCall& call = tool_call(index.type == json::Type::number ? count_of(index) : position);
    ++position;
    if (call.id.empty()) call.id = body_of(id);
    if (call.name.empty()) call.name = body_of(name);
    call.arguments += body_of(arguments);
  });
}

MessageEvents::ToolCall& MessageEvents::tool_call(std::uint64_t index) {
  const auto at = std::lower_bound(tools_.begin(), tools_.end(), index,
                                   [](const ToolCall& t, std::uint64_t i) { return t.index < i; });
  if (at != tools_.end() && at->index == index) return *at;
  return *tools_.insert(at, ToolCall{index, {}, {}, {}});
}

void MessageEvents::finish(std::string& out) {
  close_block(out);
  for (const ToolCall& call : tools_) {
    const int index = next_index_++;
    append_block_event(out, "content_block_start", index,
                       ",\"content_block\":{\"type\":\"tool_use\",\"id\":\"", call.id,
                       "\",\"name\":\"", call.name, "\",\"input\":{}}");
    if (!call.arguments.empty()) {
      append_block_event(out, "content_block_delta", index,
                         ",\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"",
                         call.arguments, "\"}");
    }
    append_block_event(out, "content_block_stop", index);
  }
  append_event(out, "message_delta", ",\"delta\":{\"stop_reason\":\"",
               tools_.empty() ? stop_reason_ : "tool_use", "\",\"stop_sequence\":null},\"usage\":",
               usage_json({prompt_tokens_, completion_tokens_, cached_tokens_}));
  append_event(out, "message_stop");
  done_ = true;
}

bool MessageEvents::fail(std::string why) {
  error_ = std::move(why);
  return false;
}

}  // namespace switchyard::api
