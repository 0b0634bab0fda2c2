// A Messages API request said as an OpenAI chat completion request, for the Messages door when
// the provider that serves is not Anthropic (switchyard/api/messages_to_chat.hpp).
//
// What becomes of what chat cannot say:
// - What changes the question (documents, server tools, an image chat cannot fetch, content
//   blocks and top-level parameters this code does not know) is dropped from the body, and the
//   first of it met is named in `left_out` (system and messages are read first, then the tools,
//   then the other parameters), so that only an Anthropic upstream serves the request.
// - Hints that only tune how an answer is produced, or that only Anthropic can use, are dropped
//   silently: top_k, service_tier, cache_control, metadata other than user_id, thinking blocks of
//   earlier turns (signed for Anthropic's models: another model can neither check nor use them).
// - A malformed request is a 400 worded as Anthropic's own validation words it,
//   "<path>: <problem>", with the dotted path as `param`.
// No DOM: Claude Code sends requests of 50-200 KB, and parsing one into nlohmann::json to dump
// another cost hundreds of instructions a byte. One pass validates the body with our scanner and
// notes where each of its strings, objects and arrays ends, so that the translation walks it
// again without looking at what it skips, and writes the chat body as text. Strings and
// sub-documents (a tool's schema) are copied as their source bytes: the same values, to any reader
// that takes the last of a key given twice, as the DOM did. A tool_use input becomes the text of
// the `arguments` string, which a model reads as text, so it is written exactly as the DOM's
// compact dump wrote it. A body the DOM could not parse is still refused.

#include "switchyard/api/messages_to_chat.hpp"

#include <array>
#include <charconv>
#include <string>
#include <vector>

#include "messages_body.hpp"
#include "switchyard/api/json.hpp"

namespace switchyard::api {

namespace {

using json::Type;
using messages::append;
using messages::append_number;
using messages::Check;
using messages::Field;
using messages::is_integer;
using messages::Number;
using messages::number_kind;
using messages::same_key;

// Where a fault is, e.g. messages.1.content.0.id: spelt out only when a fault is reported, so
// that walking a valid request builds no strings.
struct Path {
  const Path* parent = nullptr;
  std::string_view name;  // a member's; empty for an element, which has an index
  std::size_t index = 0;

  Path operator/(std::string_view member) const { return {this, member, 0}; }
  Path operator[](std::size_t i) const { return {this, {}, i}; }
  std::string str() const {
    std::string head = parent ? parent->str() + '.' : std::string();
    return head + (name.empty() ? std::to_string(index) : std::string(name));
  }
};

Path top(std::string_view member) {
  return {nullptr, member, 0};
}

// Anthropic's validation wording, "<path>: <problem>"; it converts to any Result.
[[gnu::cold]] Unexpected<ApiError> fault(const Path& path, std::string_view problem) {
  const std::string where = path.str();
  return Unexpected(errors::invalid_request(where + ": " + std::string(problem), where));
}

// Anthropic's words for a member of another type than the one wanted, by json::Type.
constexpr std::array<std::string_view, 6> kWrongType = {"",
                                                        "Input should be a valid boolean",
                                                        "Input should be a valid number",
                                                        "Input should be a valid string",
                                                        "Input should be a valid list",
                                                        "Input should be a valid dictionary"};

// Why a member is not of the type wanted: absent, or of another.
Unexpected<ApiError> wrong(const Field& field, Type type, const Path& path) {
  return fault(path,
               field.present() ? kWrongType[static_cast<std::size_t>(type)] : "Field required");
}

// A required member of the given type; the check inlined, the fault not.
inline Check need(const Field& field, Type type, const Path& path) {
  return field.type == type ? Check{} : wrong(field, type, path);
}

// An optional member: absent, null or of the given type.
Check may(const Field& field, Type type, const Path& path) {
  return field.given() ? need(field, type, path) : Check{};
}

// The members of a content block that the translation reads, whatever its type.
struct Block {
  std::array<Field, 9> members;
  const Field& type() const { return members[0]; }
  const Field& text() const { return members[1]; }
  const Field& source() const { return members[2]; }
  const Field& tool_use_id() const { return members[3]; }
  const Field& content() const { return members[4]; }
  const Field& is_error() const { return members[5]; }
  const Field& id() const { return members[6]; }
  const Field& name() const { return members[7]; }
  const Field& input() const { return members[8]; }
};

class Translator {
 public:
  Translator(const messages::Body& request, std::size_t size_hint) : in_(request) {
    out_.reserve(size_hint + 256);
  }

  Result<ChatEquivalent, ApiError> translate() {
    for (Check (Translator::*step)() :
         {&Translator::model, &Translator::system, &Translator::messages, &Translator::thinking,
          &Translator::max_tokens, &Translator::stop_sequences, &Translator::sampling,
          &Translator::metadata, &Translator::stream, &Translator::tools, &Translator::tool_choice,
          &Translator::output_format}) {
      if (auto checked = (this->*step)(); !checked) return Unexpected(std::move(checked).error());
    }
    // The effort is written after the tools to keep the member order fixed; thinking() ran
    // before max_tokens() because it also decides the name of the token limit.
    if (!reasoning_effort_.empty())
      append(out_, ",\"reasoning_effort\":\"", reasoning_effort_, '"');
    if (response_schema_.present()) {
      // Chat requires a name; Anthropic has none, and one fixed name keeps equal requests equal.
      out_ += R"(,"response_format":{"type":"json_schema","json_schema":{"name":"output",)";
      out_ += R"("schema":)";
      append(out_, response_schema_.raw, "}}");
    }
    out_ += '}';
    unknown_parameters();
    return ChatEquivalent{std::move(out_), std::move(left_out_)};
  }

 private:
  // Names the first thing met that the chat body cannot say.
  void leave_out(std::string_view before, std::string_view name_raw, std::string_view after) {
    if (left_out_.empty()) append(left_out_, before, json::unescape(name_raw), after);
  }

  // A tool_use input as a tool call's `arguments`: the DOM's compact dump of it, as a string.
  void append_arguments(std::string& out, std::string_view input) {
    messages::append_compact_string(out, input, keys_, objects_);
  }

  // Calls visit(block, path) for each content block of an array: an object with a string `type`.
  template <class Visit>
  Check each_block(const Field& blocks, const Path& path, Visit&& visit) {
    return in_.each(blocks, [&](const Field& v, std::size_t j) -> Check {
      if (auto ok = need(v, Type::object, path[j]); !ok) return ok;
      const Block block{in_.members_of(v, "type", "text", "source", "tool_use_id", "content",
                                       "is_error", "id", "name", "input")};
      if (auto ok = need(block.type(), Type::string, path[j] / "type"); !ok) return ok;
      return visit(block, path[j]);
    });
  }

  // Starts the next chat message: {"role":"<role>"
  void open_message(std::string_view role) {
    append(out_, chat_count_++ ? ",{\"role\":\"" : "{\"role\":\"", role, '"');
  }
  void write_message(std::string_view role, std::string_view content_raw) {
    open_message(role);
    append(out_, ",\"content\":", content_raw, '}');
  }

  // The content parts of a system or user message are gathered in parts_ first. One rule for
  // user and system content alike, so that equal questions give equal bytes: a single text part
  // is said as a plain string, anything else as an array of parts.
  void write_parts_message(std::string_view role) {
    open_message(role);
    if (part_count_ == 1 && !first_text_.empty()) {
      append(out_, ",\"content\":", first_text_, '}');
    } else {
      append(out_, ",\"content\":[", parts_, "]}");
    }
    parts_.clear();
    part_count_ = 0;
  }
  const char* next_part() {
    if (part_count_ == 0) first_text_ = {};
    return part_count_++ ? "," : "";
  }

  Check model() {
    const Field& name = in_["model"];
    if (auto ok = need(name, Type::string, top("model")); !ok) return ok;
    append(out_, "{\"model\":", name.raw);
    return {};
  }

  // Opens the chat messages too, the system's first.
  Check system() {
    out_ += ",\"messages\":[";
    const Field& system = in_["system"];
    if (system.type == Type::string && system.raw.size() > 2) write_message("system", system.raw);
    if (system.type == Type::string || !system.given()) return {};
    const Path path = top("system");
    if (system.type != Type::array) return fault(path, "Input should be a valid string or list");
    Check read = each_block(system, path, [&](const Block& block, const Path& at) -> Check {
      if (!block.type().says("text")) return fault(at / "type", "Input should be 'text'");
      return part(block, at);
    });
    if (read && part_count_ > 0) write_parts_message("system");
    return read;
  }

  Check messages() {
    const Field& list = in_["messages"];
    const Path path = top("messages");
    if (auto ok = need(list, Type::array, path); !ok) return ok;
    std::size_t count = 0;
    Check read = in_.each(list, [&](const Field& m, std::size_t i) {
      ++count;
      return message(m, path[i]);
    });
    if (read && count == 0) return fault(path, "List should have at least 1 item");
    out_ += ']';
    return read;
  }

  Check message(const Field& m, const Path& path) {
    if (auto ok = need(m, Type::object, path); !ok) return ok;
    const auto [role, content] = in_.members_of(m, "role", "content");
    if (!role.present()) return fault(path / "role", "Field required");
    if (!role.says("user") && !role.says("assistant"))
      return fault(path / "role", "Input should be 'user' or 'assistant'");
    const bool user = role.says("user");
    const Path at = path / "content";
    if (!content.present()) return fault(at, "Field required");
    if (content.type == Type::string) {
      write_message(user ? "user" : "assistant", content.raw);
      return {};
    }
    if (content.type != Type::array) return fault(at, "Input should be a valid string or list");
    return user ? user_turn(content, at) : assistant_turn(content, at);
  }

  // Tool results become tool messages, first, as Anthropic requires them at the start of the
  // turn; then one user message with what else the turn says, images from tool results
  // included (a tool message carries text only). A turn left with nothing (every block of it
  // left out) stays as an empty user message, so the conversation keeps its turns and the body
  // stays a chat request for the routing signals and estimates.
  Check user_turn(const Field& blocks, const Path& path) {
    const std::size_t before = chat_count_;
    Check read = each_block(blocks, path, [&](const Block& block, const Path& at) {
      return block.type().says("tool_result") ? tool_result(block, at) : part(block, at);
    });
    if (read && part_count_ > 0) write_parts_message("user");
    if (read && chat_count_ == before) write_message("user", "\"\"");
    return read;
  }

  // A block of a user turn or of a tool result as a chat content part, if chat has one for it;
  // the text of a tool result's block joins the tool message's text instead.
  Check part(const Block& block, const Path& path, bool into_tool_text = false) {
    if (block.type().says("image")) return image_part(block, path);
    if (!block.type().says("text")) {
      leave_out("a '", block.type().body(), "' content block");
      return {};
    }
    if (auto ok = need(block.text(), Type::string, path / "text"); !ok) return ok;
    if (into_tool_text) {
      append(tool_text_, tool_text_pieces_++ ? "\\n" : "", block.text().body());
    } else {
      append(parts_, next_part(), R"({"type":"text","text":)", block.text().raw, '}');
      if (part_count_ == 1) first_text_ = block.text().raw;
    }
    return {};
  }

  // An image chat can take: inline base64 as a data URL, or a URL the provider fetches. An
  // uploaded file's id means nothing to another provider.
  Check image_part(const Block& block, const Path& path) {
    const Path source = path / "source";
    if (auto ok = need(block.source(), Type::object, source); !ok) return ok;
    const auto [type, media_type, data, url] =
        in_.members_of(block.source(), "type", "media_type", "data", "url");
    if (auto ok = need(type, Type::string, source / "type"); !ok) return ok;
    const bool inline_data = type.says("base64");
    if (!inline_data && !type.says("url")) {
      leave_out("an image source of type '", type.body(), "'");
      return {};
    }
    if (inline_data) {
      if (auto ok = need(media_type, Type::string, source / "media_type"); !ok) return ok;
      if (auto ok = need(data, Type::string, source / "data"); !ok) return ok;
    } else if (auto ok = need(url, Type::string, source / "url"); !ok) {
      return ok;
    }
    append(parts_, next_part(), R"({"type":"image_url","image_url":{"url":")");
    if (inline_data) append(parts_, "data:", media_type.body(), ";base64,", data.body());
    append(parts_, inline_data ? std::string_view() : url.body(), "\"}}");
    return {};
  }

  // A tool_result block as a tool message: its text blocks joined by newlines, marked when the
  // tool failed (chat has no is_error, so the model is told in words). Its images go to the turn.
  Check tool_result(const Block& block, const Path& path) {
    if (auto ok = need(block.tool_use_id(), Type::string, path / "tool_use_id"); !ok) return ok;
    std::string_view text = block.content().type == Type::string ? block.content().body() : "";
    if (block.content().type == Type::array) {
      tool_text_.clear();
      tool_text_pieces_ = 0;
      Check read = each_block(
          block.content(), path / "content",
          [&](const Block& b, const Path& at) { return part(b, at, /*into_tool_text=*/true); });
      if (!read) return read;
      text = tool_text_;
    } else if (block.content().given() && block.content().type != Type::string) {
      return fault(path / "content", "Input should be a valid string or list");
    }
    if (auto ok = may(block.is_error(), Type::boolean, path / "is_error"); !ok) return ok;
    open_message("tool");
    append(out_, ",\"tool_call_id\":", block.tool_use_id().raw, ",\"content\":\"",
           block.is_error().is_true() ? "Error: " : "", text, "\"}");
    return {};
  }

  Check assistant_turn(const Field& blocks, const Path& path) {
    text_.clear();
    calls_.clear();
    Check read = each_block(blocks, path, [&](const Block& block, const Path& at) -> Check {
      if (block.type().says("tool_use")) return tool_call(block, at);
      if (block.type().says("text")) {
        if (auto ok = need(block.text(), Type::string, at / "text"); !ok) return ok;
        text_ += block.text().body();
      } else if (!block.type().says("thinking") && !block.type().says("redacted_thinking")) {
        leave_out("a '", block.type().body(), "' content block");
      }
      return {};
    });
    if (!read) return read;
    // Chat wants null content beside tool calls, and a string otherwise.
    open_message("assistant");
    if (text_.empty() && !calls_.empty()) {
      out_ += ",\"content\":null";
    } else {
      append(out_, ",\"content\":\"", text_, '"');
    }
    if (!calls_.empty()) append(out_, ",\"tool_calls\":[", calls_, ']');
    out_ += '}';
    return {};
  }

  Check tool_call(const Block& block, const Path& path) {
    if (auto ok = need(block.id(), Type::string, path / "id"); !ok) return ok;
    if (auto ok = need(block.name(), Type::string, path / "name"); !ok) return ok;
    if (auto ok = need(block.input(), Type::object, path / "input"); !ok) return ok;
    append(calls_, calls_.empty() ? "{\"id\":" : ",{\"id\":", block.id().raw,
           R"(,"type":"function","function":{"name":)", block.name().raw, ",\"arguments\":");
    append_arguments(calls_, block.input().raw);
    calls_ += "}}";
    return {};
  }

  // Reasoning models take an effort, not a budget; the thresholds split Anthropic's usual
  // budgets (1024 minimum, a few thousand typical, tens of thousands for hard problems).
  Check thinking() {
    const Field& thinking = in_["thinking"];
    const Path path = top("thinking");
    if (auto ok = may(thinking, Type::object, path); !ok || !thinking.given()) return ok;
    const auto [type, budget] = in_.members_of(thinking, "type", "budget_tokens");
    if (auto ok = need(type, Type::string, path / "type"); !ok) return ok;
    if (type.says("disabled")) return {};
    if (!type.says("enabled")) {
      reasoning_effort_ = "medium";  // adaptive: the model decides; a middle effort says as much
      return {};
    }
    if (!budget.present()) return fault(path / "budget_tokens", "Field required");
    if (!is_integer(budget))
      return fault(path / "budget_tokens", "Input should be a valid integer");
    std::uint64_t tokens = 0;  // a negative budget counts as none
    if (number_kind(budget.raw) == Number::non_negative)
      std::from_chars(budget.raw.data(), budget.raw.data() + budget.raw.size(), tokens);
    reasoning_effort_ = tokens < 4096 ? "low" : tokens < 16384 ? "medium" : "high";
    return {};
  }

  // Reasoning models refuse max_tokens and want max_completion_tokens, which counts the
  // reasoning too — as Anthropic's max_tokens counts the thinking. A count_tokens body has none
  // (parse_messages_request requires it of a message).
  Check max_tokens() {
    const Field& limit = in_["max_tokens"];
    if (!limit.present()) return {};
    if (!is_integer(limit)) return fault(top("max_tokens"), "Input should be a valid integer");
    if (number_kind(limit.raw) == Number::negative || limit.raw == "0")
      return fault(top("max_tokens"), "Input should be greater than or equal to 1");
    append(out_, reasoning_effort_.empty() ? ",\"max_tokens\":" : ",\"max_completion_tokens\":",
           limit.raw);
    return {};
  }

  Check stop_sequences() {
    const Field& stop = in_["stop_sequences"];
    const Path path = top("stop_sequences");
    if (auto ok = may(stop, Type::array, path); !ok || !stop.given()) return ok;
    bool any = false;
    Check read = in_.each(stop, [&](const Field& sequence, std::size_t j) {
      any = true;
      return need(sequence, Type::string, path[j]);
    });
    if (!read || !any) return read;
    append(out_, ",\"stop\":", stop.raw);
    return {};
  }

  Check sampling() {
    for (const std::string_view key : {"temperature", "top_p"}) {
      const Field& value = in_[key];
      if (auto ok = may(value, Type::number, top(key)); !ok) return ok;
      if (!value.given()) continue;
      append(out_, ",\"", key, "\":");
      append_number(out_, value.raw);
    }
    if (const Field& top_k = in_["top_k"]; top_k.given() && !is_integer(top_k))
      return fault(top("top_k"), "Input should be a valid integer");
    return {};
  }

  Check metadata() {
    const Field& metadata = in_["metadata"];
    if (auto ok = may(metadata, Type::object, top("metadata")); !ok || !metadata.given()) return ok;
    const Field user = in_.members_of(metadata, "user_id")[0];
    if (auto ok = may(user, Type::string, top("metadata") / "user_id"); !ok || !user.given())
      return ok;
    append(out_, ",\"user\":", user.raw);
    return {};
  }

  // A Messages stream ends with the usage, so the chat stream is asked to carry it too.
  Check stream() {
    const Field& stream = in_["stream"];
    if (auto ok = may(stream, Type::boolean, top("stream")); !ok || !stream.given()) return ok;
    append(out_, ",\"stream\":", stream.raw);
    if (stream.is_true()) out_ += R"(,"stream_options":{"include_usage":true})";
    return {};
  }

  Check tools() {
    const Field& list = in_["tools"];
    const Path path = top("tools");
    if (auto ok = may(list, Type::array, path); !ok || !list.given()) return ok;
    const std::size_t start = out_.size();
    out_ += ",\"tools\":[";
    Check read =
        in_.each(list, [&](const Field& v, std::size_t j) { return function(v, path[j]); });
    if (!read) return read;
    wrote_tools_ = out_.back() != '[';
    out_ += ']';
    if (!wrote_tools_) out_.resize(start);  // chat refuses an empty array
    return {};
  }

  // A client tool as a chat function.
  Check function(const Field& tool, const Path& path) {
    if (auto ok = need(tool, Type::object, path); !ok) return ok;
    const auto [type, name, schema, description] =
        in_.members_of(tool, "type", "name", "input_schema", "description");
    if (auto ok = may(type, Type::string, path / "type"); !ok) return ok;
    if (type.given() && !type.says("custom")) {
      // Anthropic runs these itself (web search) or defines their schema (bash, editor).
      leave_out("the server tool '", type.body(), "'");
      return {};
    }
    if (auto ok = need(name, Type::string, path / "name"); !ok) return ok;
    if (auto ok = need(schema, Type::object, path / "input_schema"); !ok) return ok;
    if (auto ok = may(description, Type::string, path / "description"); !ok) return ok;
    append(out_, out_.back() == '[' ? "" : ",", R"({"type":"function","function":{"name":)",
           name.raw);
    if (description.given()) append(out_, ",\"description\":", description.raw);
    append(out_, ",\"parameters\":", schema.raw, "}}");
    return {};
  }

  Check tool_choice() {
    const Field& choice = in_["tool_choice"];
    const Path path = top("tool_choice");
    if (auto ok = may(choice, Type::object, path); !ok || !choice.given()) return ok;
    const auto [type, name, serial] =
        in_.members_of(choice, "type", "name", "disable_parallel_tool_use");
    if (auto ok = need(type, Type::string, path / "type"); !ok) return ok;
    const bool named = type.says("tool");
    if (named) {
      if (auto ok = need(name, Type::string, path / "name"); !ok) return ok;
    } else if (!type.says("auto") && !type.says("none") && !type.says("any")) {
      return fault(path / "type", "Input should be 'auto', 'any', 'tool' or 'none'");
    }
    if (auto ok = may(serial, Type::boolean, path / "disable_parallel_tool_use"); !ok) return ok;
    if (!wrote_tools_) return {};  // chat refuses a tool_choice without tools
    out_ += ",\"tool_choice\":";
    if (named) {
      append(out_, R"({"type":"function","function":{"name":)", name.raw, "}}");
    } else {
      out_ += type.says("any") ? std::string_view("\"required\"") : type.raw;
    }
    if (serial.is_true()) out_ += ",\"parallel_tool_calls\":false";
    return {};
  }

  // Structured output: `output_format` (the beta's name) or `output_config.format` (the name
  // since it became generally available). output_config's `effort` is a tuning hint, dropped.
  Check output_format() {
    if (const Field& format = in_["output_format"]; format.given())
      return response_format(format, top("output_format"));
    const Field& config = in_["output_config"];
    const Path path = top("output_config");
    if (auto ok = may(config, Type::object, path); !ok || !config.given()) return ok;
    const Field format = in_.members_of(config, "format")[0];
    return format.given() ? response_format(format, path / "format") : Check{};
  }

  Check response_format(const Field& format, const Path& path) {
    if (auto ok = need(format, Type::object, path); !ok) return ok;
    const auto [type, schema] = in_.members_of(format, "type", "schema");
    if (auto ok = need(type, Type::string, path / "type"); !ok) return ok;
    if (!type.says("json_schema")) return fault(path / "type", "Input should be 'json_schema'");
    if (auto ok = need(schema, Type::object, path / "schema"); !ok) return ok;
    response_schema_ = schema;
    return {};
  }

  // The first unknown member whose (last) value is not null, at the place its key first came:
  // the order and the values the DOM kept.
  void unknown_parameters() {
    const auto& others = in_.others;
    for (std::size_t i = 0; i < others.size() && left_out_.empty(); ++i) {
      bool seen_before = false;
      Field last = others[i].second;
      for (std::size_t j = 0; j < others.size(); ++j) {
        if (j == i || !same_key(others[j].first, others[i].first)) continue;
        seen_before = seen_before || j < i;
        last = others[j].second;
      }
      if (!seen_before && last.given()) leave_out("the '", others[i].first, "' parameter");
    }
  }

  const messages::Body& in_;
  std::string out_;
  std::size_t chat_count_ = 0;  // chat messages written, the system's included
  std::string parts_;           // of the system or user message being read
  std::size_t part_count_ = 0;
  std::string_view first_text_;  // the raw text of its first part, if that is a text part
  std::string tool_text_;        // of the tool message being read
  std::size_t tool_text_pieces_ = 0;
  std::string text_;                    // of the assistant message being read
  std::string calls_;                   // its tool calls
  std::vector<std::string_view> keys_;  // append_arguments()'s scratch
  std::vector<std::size_t> objects_;
  std::string_view reasoning_effort_;
  Field response_schema_;
  bool wrote_tools_ = false;
  std::string left_out_;
};

}  // namespace

Result<ChatEquivalent, ApiError> messages_to_chat(std::string_view body) {
  messages::Body request(body);
  if (const auto invalid = request.read())
    return Unexpected(errors::invalid_json(invalid->what, invalid->offset));
  // What the DOM parser refused left it a body that was not an object.
  if (body[body.find_first_not_of(" \t\r\n")] != '{' || request.refused_by_dom)
    return Unexpected(errors::invalid_request("The request body must be a JSON object."));
  return Translator(request, body.size()).translate();
}

}  // namespace switchyard::api
