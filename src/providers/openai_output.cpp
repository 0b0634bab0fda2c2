#include "openai_output.hpp"

#include <charconv>

#include "switchyard/api/json.hpp"

namespace switchyard::providers {

namespace {

namespace json = api::json;

template <class Int>
void append_number(std::string& out, Int n) {
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, n);
  out.append(digits, end);
}

void append_identity(std::string& out, std::string_view id, std::string_view object,
                     const Call& call) {
  out += R"({"id":)";
  json::append_quoted(out, id);
  out += R"(,"object":")";
  out += object;
  out += R"(","created":)";
  append_number(out, call.created);
  out += R"(,"model":)";
  json::append_quoted(out, call.response_model);
}

// "id":…,"type":"function","function":{"name":…,"arguments":…} — the members of a tool call,
// which a stream's first delta prefixes with its index.
void append_tool_call_members(std::string& out, std::string_view id, std::string_view name,
                              std::string_view arguments) {
  out += R"("id":)";
  json::append_quoted(out, id);
  out += R"(,"type":"function","function":{"name":)";
  json::append_quoted(out, name);
  out += R"(,"arguments":)";
  json::append_quoted(out, arguments);
  out += '}';
}

}  // namespace

void append_usage(std::string& out, const Usage& usage) {
  out += R"({"prompt_tokens":)";
  append_number(out, usage.prompt);
  out += R"(,"completion_tokens":)";
  append_number(out, usage.completion);
  out += R"(,"total_tokens":)";
  append_number(out, usage.total);
  out += R"(,"prompt_tokens_details":{"cached_tokens":)";
  append_number(out, usage.cached);
  out += R"(},"completion_tokens_details":{"reasoning_tokens":)";
  append_number(out, usage.reasoning);
  out += "}}";
}

std::string completion_json(std::string_view id, const Call& call,
                            const std::vector<Choice>& choices, const Usage& usage) {
  std::string out;
  out.reserve(256);
  append_identity(out, id, "chat.completion", call);
  out += R"(,"choices":[)";
  for (std::size_t i = 0; i < choices.size(); ++i) {
    const Choice& c = choices[i];
    if (i > 0) out += ',';
    out += R"({"index":)";
    append_number(out, i);
    out += R"(,"message":{"role":"assistant","content":)";
    if (c.has_content) {
      json::append_quoted(out, c.content);
    } else {
      out += "null";
    }
    out += R"(,"refusal":null)";
    if (!c.tool_calls.empty()) {
      out += R"(,"tool_calls":[)";
      for (std::size_t t = 0; t < c.tool_calls.size(); ++t) {
        if (t > 0) out += ',';
        const ToolCall& tool = c.tool_calls[t];
        out += '{';
        append_tool_call_members(out, tool.id, tool.name, tool.arguments);
        out += '}';
      }
      out += ']';
    }
    out += R"(},"logprobs":null,"finish_reason":)";
    json::append_quoted(out, c.finish_reason);
    out += '}';
  }
  out += ']';
  if (usage.reported) {
    out += R"(,"usage":)";
    append_usage(out, usage);
  }
  out += '}';
  return out;
}

ChunkWriter::ChunkWriter(std::string_view id, const Call& call) {
  prefix_ = "data: ";
  append_identity(prefix_, id, "chat.completion.chunk", call);
  prefix_ += ',';
}

void ChunkWriter::open(std::string& out, int choice) const {
  out += prefix_;
  out += R"("choices":[{"index":)";
  append_number(out, choice);
  out += R"(,"delta":)";
}

void ChunkWriter::close(std::string& out, std::string_view finish_reason) {
  out += R"(,"logprobs":null,"finish_reason":)";
  if (finish_reason.empty()) {
    out += "null";
  } else {
    json::append_quoted(out, finish_reason);
  }
  out += "}]}\n\n";
}

void ChunkWriter::role(std::string& out, int choice) const {
  open(out, choice);
  out += R"({"role":"assistant","content":""})";
  close(out, {});
}

void ChunkWriter::content(std::string& out, std::string_view text, int choice) const {
  open(out, choice);
  out += R"({"content":)";
  json::append_quoted(out, text);
  out += '}';
  close(out, {});
}

void ChunkWriter::tool_call(std::string& out, int index, std::string_view id, std::string_view name,
                            std::string_view arguments, int choice) const {
  open(out, choice);
  out += R"({"tool_calls":[{"index":)";
  append_number(out, index);
  out += ',';
  append_tool_call_members(out, id, name, arguments);
  out += "}]}";
  close(out, {});
}

void ChunkWriter::tool_arguments(std::string& out, int index, std::string_view fragment,
                                 int choice) const {
  open(out, choice);
  out += R"({"tool_calls":[{"index":)";
  append_number(out, index);
  out += R"(,"function":{"arguments":)";
  json::append_quoted(out, fragment);
  out += "}}]}";
  close(out, {});
}

void ChunkWriter::finish(std::string& out, std::string_view reason, int choice) const {
  open(out, choice);
  out += "{}";
  close(out, reason);
}

void ChunkWriter::usage(std::string& out, const Usage& usage) const {
  out += prefix_;
  out += R"("choices":[],"usage":)";
  append_usage(out, usage);
  out += "}\n\n";
}

void ChunkWriter::done(std::string& out) {
  out += "data: [DONE]\n\n";
}

}  // namespace switchyard::providers
