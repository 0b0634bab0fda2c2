// Writers for what clients receive from every adapter that translates: an OpenAI
// chat.completion, its chat.completion.chunk stream and its usage object (docs/providers.md,
// "OpenAI format: responses" and "OpenAI format: streaming").
// Hand-written with the JSON quoting of api/json: streams write one chunk per token.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "switchyard/providers/adapter.hpp"

namespace switchyard::providers {

struct ToolCall {
  std::string id;
  std::string name;
  std::string arguments;  // a JSON text, as OpenAI sends it: a string holding JSON
};

struct Choice {
  std::string content;
  bool has_content = false;  // false: "content": null (a tool-call-only answer)
  std::vector<ToolCall> tool_calls;
  std::string_view finish_reason = "stop";
};

// {"id","object":"chat.completion","created","model","choices":[…],"usage":{…}}; usage is
// omitted when the provider reported none.
std::string completion_json(std::string_view id, const Call& call,
                            const std::vector<Choice>& choices, const Usage& usage);

// {"prompt_tokens",…,"prompt_tokens_details":{"cached_tokens"},"completion_tokens_details":…}
void append_usage(std::string& out, const Usage& usage);

// Writes the chunks of one stream, each a complete SSE event ("data: {…}\n\n").
class ChunkWriter {
 public:
  ChunkWriter(std::string_view id, const Call& call);

  // delta {"role":"assistant","content":""}: the first chunk of a choice.
  void role(std::string& out, int choice = 0) const;
  void content(std::string& out, std::string_view text, int choice = 0) const;
  // The first delta of tool call `index`: id, type, name, and the arguments so far.
  void tool_call(std::string& out, int index, std::string_view id, std::string_view name,
                 std::string_view arguments, int choice = 0) const;
  // Later deltas of tool call `index`: more of its arguments.
  void tool_arguments(std::string& out, int index, std::string_view fragment, int choice = 0) const;
  void finish(std::string& out, std::string_view reason, int choice = 0) const;
  // The include_usage chunk: "choices": [] and the usage.
  void usage(std::string& out, const Usage& usage) const;
  static void done(std::string& out);

 private:
  void open(std::string& out, int choice) const;
  static void close(std::string& out, std::string_view finish_reason);

  std::string prefix_;  // data: {"id":…,"object":…,"created":…,"model":…,
};

}  // namespace switchyard::providers
