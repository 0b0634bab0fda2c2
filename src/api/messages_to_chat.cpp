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
// A DOM is fine here: only Messages requests bound for another provider come this way.

#include "switchyard/api/messages_to_chat.hpp"

#include <algorithm>
#include <array>
#include <utility>

#include <nlohmann/json.hpp>

#include "switchyard/api/json.hpp"

namespace switchyard::api {

namespace {

using Json = nlohmann::ordered_json;
using Check = Result<void, ApiError>;

// Top-level members translated or deliberately ignored; any other says something chat cannot.
constexpr std::array<std::string_view, 16> kKnownParameters = {
    "model",    "max_tokens",    "system",        "messages",    "stop_sequences", "temperature",
    "top_p",    "top_k",         "metadata",      "stream",      "tools",          "tool_choice",
    "thinking", "output_format", "output_config", "service_tier"};

// Anthropic's validation wording, "<path>: <problem>"; it converts to any Result.
Unexpected<ApiError> fault(const std::string& path, std::string_view problem) {
  return Unexpected(errors::invalid_request(path + ": " + std::string(problem), path));
}

std::string at(const std::string& path, std::size_t index) {
  return path + "." + std::to_string(index);
}

// A member's path; a top-level member's is its name.
std::string at(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}

// A present, non-null member: Anthropic takes null for an optional field as its absence.
const Json* member(const Json& object, const char* key) {
  const auto it = object.find(key);
  return it == object.end() || it->is_null() ? nullptr : &*it;
}

// object[key], which must be a string; the fault is reported at path.key.
Result<std::string, ApiError> required_string(const Json& object, const char* key,
                                              const std::string& path) {
  const auto it = object.find(key);
  if (it == object.end()) return fault(at(path, key), "Field required");
  if (!it->is_string()) return fault(at(path, key), "Input should be a valid string");
  return it->get<std::string>();
}

// object[key], which must be an object (a tool's input or schema).
Result<const Json*, ApiError> required_object(const Json& object, const char* key,
                                              const std::string& path) {
  const auto it = object.find(key);
  if (it == object.end()) return fault(at(path, key), "Field required");
  if (!it->is_object()) return fault(at(path, key), "Input should be a valid dictionary");
  return &*it;
}

// A content block's type: a block is an object with a string `type`.
Result<std::string, ApiError> block_type(const Json& block, const std::string& path) {
  if (!block.is_object()) return fault(path, "Input should be a valid dictionary");
  return required_string(block, "type", path);
}

// One rule for user and system content alike, so that equal questions give equal bytes: a
// single text part is said as a plain string, anything else as an array of parts.
Json content_of(Json parts) {
  if (parts.size() == 1 && parts[0]["type"] == "text") return parts[0]["text"];
  return parts;
}

class Translator {
 public:
  explicit Translator(const Json& request) : in_(request) {}

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
    if (!reasoning_effort_.empty()) out_["reasoning_effort"] = reasoning_effort_;
    if (!response_format_.is_null()) out_["response_format"] = std::move(response_format_);
    unknown_parameters();
    return ChatEquivalent{out_.dump(-1, ' ', false, Json::error_handler_t::replace),
                          std::move(left_out_)};
  }

 private:
  void leave_out(std::string what) {
    if (left_out_.empty()) left_out_ = std::move(what);
  }

  Check model() {
    auto name = required_string(in_, "model", "");
    if (!name) return Unexpected(std::move(name).error());
    out_["model"] = *name;
    return {};
  }

  Check system() {
    const Json* system = member(in_, "system");
    if (system == nullptr) return {};
    if (system->is_string()) {
      if (!system->get_ref<const std::string&>().empty())
        chat_.push_back(Json{{"role", "system"}, {"content", *system}});
      return {};
    }
    if (!system->is_array()) return fault("system", "Input should be a valid string or list");
    Json parts = Json::array();
    for (std::size_t j = 0; j < system->size(); ++j) {
      const Json& block = (*system)[j];
      const std::string path = at("system", j);
      auto type = block_type(block, path);
      if (!type) return Unexpected(std::move(type).error());
      if (*type != "text") return fault(at(path, "type"), "Input should be 'text'");
      if (auto added = part(block, path, *type, parts); !added) return added;
    }
    if (!parts.empty())
      chat_.push_back(Json{{"role", "system"}, {"content", content_of(std::move(parts))}});
    return {};
  }

  Check messages() {
    const auto list = in_.find("messages");
    if (list == in_.end()) return fault("messages", "Field required");
    if (!list->is_array()) return fault("messages", "Input should be a valid list");
    if (list->empty()) return fault("messages", "List should have at least 1 item");
    for (std::size_t i = 0; i < list->size(); ++i) {
      const Json& m = (*list)[i];
      const std::string path = at("messages", i);
      if (!m.is_object()) return fault(path, "Input should be a valid dictionary");
      const auto role = m.find("role");
      if (role == m.end()) return fault(at(path, "role"), "Field required");
      if (*role != "user" && *role != "assistant")
        return fault(at(path, "role"), "Input should be 'user' or 'assistant'");
      const auto content = m.find("content");
      const std::string content_path = at(path, "content");
      if (content == m.end()) return fault(content_path, "Field required");
      if (content->is_string()) {
        chat_.push_back(Json{{"role", *role}, {"content", *content}});
        continue;
      }
      if (!content->is_array())
        return fault(content_path, "Input should be a valid string or list");
      Check turn = *role == "user" ? user_turn(*content, content_path)
                                   : assistant_turn(*content, content_path);
      if (!turn) return turn;
    }
    out_["messages"] = std::move(chat_);
    return {};
  }

  // Tool results become tool messages, first, as Anthropic requires them at the start of the
  // turn; then one user message with what else the turn says, images from tool results
  // included (a tool message carries text only). A turn left with nothing (every block of it
  // left out) stays as an empty user message, so the conversation keeps its turns and the body
  // stays a chat request for the routing signals and estimates.
  Check user_turn(const Json& blocks, const std::string& path) {
    const std::size_t before = chat_.size();
    Json parts = Json::array();
    for (std::size_t j = 0; j < blocks.size(); ++j) {
      const std::string block_path = at(path, j);
      auto type = block_type(blocks[j], block_path);
      if (!type) return Unexpected(std::move(type).error());
      Check added = *type == "tool_result" ? tool_result(blocks[j], block_path, parts)
                                           : part(blocks[j], block_path, *type, parts);
      if (!added) return added;
    }
    if (!parts.empty()) {
      chat_.push_back(Json{{"role", "user"}, {"content", content_of(std::move(parts))}});
    } else if (chat_.size() == before) {
      chat_.push_back(Json{{"role", "user"}, {"content", ""}});
    }
    return {};
  }

  // A block of a user turn or of a tool result as a chat content part, if chat has one for it.
  Check part(const Json& block, const std::string& path, const std::string& type, Json& parts) {
    if (type == "image") return image_part(block, path, parts);
    if (type != "text") {
      leave_out("a '" + type + "' content block");
      return {};
    }
    auto text = required_string(block, "text", path);
    if (!text) return Unexpected(std::move(text).error());
    parts.push_back(Json{{"type", "text"}, {"text", *text}});
    return {};
  }

  // An image chat can take: inline base64 as a data URL, or a URL the provider fetches. An
  // uploaded file's id means nothing to another provider.
  Check image_part(const Json& block, const std::string& path, Json& parts) {
    const std::string source_path = at(path, "source");
    auto source = required_object(block, "source", path);
    if (!source) return Unexpected(std::move(source).error());
    auto type = required_string(**source, "type", source_path);
    if (!type) return Unexpected(std::move(type).error());
    std::string url;
    if (*type == "base64") {
      auto media_type = required_string(**source, "media_type", source_path);
      if (!media_type) return Unexpected(std::move(media_type).error());
      auto data = required_string(**source, "data", source_path);
      if (!data) return Unexpected(std::move(data).error());
      url = "data:" + *media_type + ";base64," + *data;
    } else if (*type == "url") {
      auto given = required_string(**source, "url", source_path);
      if (!given) return Unexpected(std::move(given).error());
      url = std::move(*given);
    } else {
      leave_out("an image source of type '" + *type + "'");
      return {};
    }
    parts.push_back(Json{{"type", "image_url"}, {"image_url", Json{{"url", std::move(url)}}}});
    return {};
  }

  // A tool_result block as a tool message: its text blocks joined by newlines, marked when the
  // tool failed (chat has no is_error, so the model is told in words). Its images go to `parts`.
  Check tool_result(const Json& block, const std::string& path, Json& parts) {
    auto id = required_string(block, "tool_use_id", path);
    if (!id) return Unexpected(std::move(id).error());
    std::string text;
    const Json* content = member(block, "content");
    if (content && content->is_string()) {
      text = content->get<std::string>();
    } else if (content && content->is_array()) {
      Json own = Json::array();
      for (std::size_t k = 0; k < content->size(); ++k) {
        const std::string inner_path = at(at(path, "content"), k);
        auto type = block_type((*content)[k], inner_path);
        if (!type) return Unexpected(std::move(type).error());
        if (auto added = part((*content)[k], inner_path, *type, own); !added) return added;
      }
      bool first = true;
      for (auto& piece : own) {
        if (piece["type"] != "text") {
          parts.push_back(std::move(piece));
        } else {
          text += (first ? "" : "\n") + piece["text"].get<std::string>();
          first = false;
        }
      }
    } else if (content) {
      return fault(at(path, "content"), "Input should be a valid string or list");
    }
    if (const Json* is_error = member(block, "is_error")) {
      if (!is_error->is_boolean())
        return fault(at(path, "is_error"), "Input should be a valid boolean");
      if (*is_error == true) text = "Error: " + text;
    }
    chat_.push_back(Json{{"role", "tool"}, {"tool_call_id", *id}, {"content", std::move(text)}});
    return {};
  }

  Check assistant_turn(const Json& blocks, const std::string& path) {
    std::string text;
    Json calls = Json::array();
    for (std::size_t j = 0; j < blocks.size(); ++j) {
      const Json& block = blocks[j];
      const std::string block_path = at(path, j);
      auto type = block_type(block, block_path);
      if (!type) return Unexpected(std::move(type).error());
      if (*type == "text") {
        auto piece = required_string(block, "text", block_path);
        if (!piece) return Unexpected(std::move(piece).error());
        text += *piece;
      } else if (*type == "tool_use") {
        if (auto call = tool_call(block, block_path, calls); !call) return call;
      } else if (*type != "thinking" && *type != "redacted_thinking") {
        leave_out("a '" + *type + "' content block");
      }
    }
    // Chat wants null content beside tool calls, and a string otherwise.
    Json message{{"role", "assistant"},
                 {"content", text.empty() && !calls.empty() ? Json(nullptr) : Json(text)}};
    if (!calls.empty()) message["tool_calls"] = std::move(calls);
    chat_.push_back(std::move(message));
    return {};
  }

  static Check tool_call(const Json& block, const std::string& path, Json& calls) {
    auto id = required_string(block, "id", path);
    if (!id) return Unexpected(std::move(id).error());
    auto name = required_string(block, "name", path);
    if (!name) return Unexpected(std::move(name).error());
    auto input = required_object(block, "input", path);
    if (!input) return Unexpected(std::move(input).error());
    calls.push_back(Json{
        {"id", *id},
        {"type", "function"},
        {"function",
         Json{{"name", *name},
              {"arguments", (*input)->dump(-1, ' ', false, Json::error_handler_t::replace)}}}});
    return {};
  }

  // Reasoning models take an effort, not a budget; the thresholds split Anthropic's usual
  // budgets (1024 minimum, a few thousand typical, tens of thousands for hard problems).
  Check thinking() {
    const Json* thinking = member(in_, "thinking");
    if (thinking == nullptr) return {};
    if (!thinking->is_object()) return fault("thinking", "Input should be a valid dictionary");
    auto type = required_string(*thinking, "type", "thinking");
    if (!type) return Unexpected(std::move(type).error());
    if (*type == "disabled") return {};
    if (*type != "enabled") {
      reasoning_effort_ = "medium";  // adaptive: the model decides; a middle effort says as much
      return {};
    }
    const auto budget = thinking->find("budget_tokens");
    if (budget == thinking->end()) return fault("thinking.budget_tokens", "Field required");
    if (!budget->is_number_integer())
      return fault("thinking.budget_tokens", "Input should be a valid integer");
    const double tokens = budget->get<double>();
    reasoning_effort_ = tokens < 4096 ? "low" : tokens < 16384 ? "medium" : "high";
    return {};
  }

  // Reasoning models refuse max_tokens and want max_completion_tokens, which counts the
  // reasoning too — as Anthropic's max_tokens counts the thinking. A count_tokens body has none
  // (parse_messages_request requires it of a message).
  Check max_tokens() {
    const auto limit = in_.find("max_tokens");
    if (limit == in_.end()) return {};
    if (!limit->is_number_integer()) return fault("max_tokens", "Input should be a valid integer");
    if (!limit->is_number_unsigned() || *limit == 0)
      return fault("max_tokens", "Input should be greater than or equal to 1");
    out_[reasoning_effort_.empty() ? "max_tokens" : "max_completion_tokens"] = *limit;
    return {};
  }

  Check stop_sequences() {
    const Json* stop = member(in_, "stop_sequences");
    if (stop == nullptr) return {};
    if (!stop->is_array()) return fault("stop_sequences", "Input should be a valid list");
    for (std::size_t j = 0; j < stop->size(); ++j)
      if (!(*stop)[j].is_string())
        return fault(at("stop_sequences", j), "Input should be a valid string");
    if (!stop->empty()) out_["stop"] = *stop;
    return {};
  }

  Check sampling() {
    for (const char* key : {"temperature", "top_p"}) {
      const Json* value = member(in_, key);
      if (value == nullptr) continue;
      if (!value->is_number()) return fault(key, "Input should be a valid number");
      out_[key] = *value;
    }
    if (const Json* top_k = member(in_, "top_k"); top_k && !top_k->is_number_integer())
      return fault("top_k", "Input should be a valid integer");
    return {};
  }

  Check metadata() {
    const Json* metadata = member(in_, "metadata");
    if (metadata == nullptr) return {};
    if (!metadata->is_object()) return fault("metadata", "Input should be a valid dictionary");
    const Json* user = member(*metadata, "user_id");
    if (user == nullptr) return {};
    if (!user->is_string()) return fault("metadata.user_id", "Input should be a valid string");
    out_["user"] = *user;
    return {};
  }

  // A Messages stream ends with the usage, so the chat stream is asked to carry it too.
  Check stream() {
    const Json* stream = member(in_, "stream");
    if (stream == nullptr) return {};
    if (!stream->is_boolean()) return fault("stream", "Input should be a valid boolean");
    out_["stream"] = *stream;
    if (*stream == true) out_["stream_options"] = Json{{"include_usage", true}};
    return {};
  }

  Check tools() {
    const Json* list = member(in_, "tools");
    if (list == nullptr) return {};
    if (!list->is_array()) return fault("tools", "Input should be a valid list");
    Json tools = Json::array();
    for (std::size_t j = 0; j < list->size(); ++j) {
      const Json& tool = (*list)[j];
      const std::string path = at("tools", j);
      if (!tool.is_object()) return fault(path, "Input should be a valid dictionary");
      if (const Json* type = member(tool, "type")) {
        if (!type->is_string()) return fault(at(path, "type"), "Input should be a valid string");
        if (*type != "custom") {
          // Anthropic runs these itself (web search) or defines their schema (bash, editor).
          leave_out("the server tool '" + type->get<std::string>() + "'");
          continue;
        }
      }
      auto name = required_string(tool, "name", path);
      if (!name) return Unexpected(std::move(name).error());
      auto schema = required_object(tool, "input_schema", path);
      if (!schema) return Unexpected(std::move(schema).error());
      Json function{{"name", *name}};
      if (const Json* description = member(tool, "description")) {
        if (!description->is_string())
          return fault(at(path, "description"), "Input should be a valid string");
        function["description"] = *description;
      }
      function["parameters"] = **schema;
      tools.push_back(Json{{"type", "function"}, {"function", std::move(function)}});
    }
    if (!tools.empty()) out_["tools"] = std::move(tools);  // chat refuses an empty array
    return {};
  }

  Check tool_choice() {
    const Json* choice = member(in_, "tool_choice");
    if (choice == nullptr) return {};
    if (!choice->is_object()) return fault("tool_choice", "Input should be a valid dictionary");
    auto type = required_string(*choice, "type", "tool_choice");
    if (!type) return Unexpected(std::move(type).error());
    Json said;
    if (*type == "auto" || *type == "none") {
      said = *type;
    } else if (*type == "any") {
      said = "required";
    } else if (*type == "tool") {
      auto name = required_string(*choice, "name", "tool_choice");
      if (!name) return Unexpected(std::move(name).error());
      said = Json{{"type", "function"}, {"function", Json{{"name", *name}}}};
    } else {
      return fault("tool_choice.type", "Input should be 'auto', 'any', 'tool' or 'none'");
    }
    const Json* serial = member(*choice, "disable_parallel_tool_use");
    if (serial && !serial->is_boolean())
      return fault("tool_choice.disable_parallel_tool_use", "Input should be a valid boolean");
    if (!out_.contains("tools")) return {};  // chat refuses a tool_choice without tools
    out_["tool_choice"] = std::move(said);
    if (serial && *serial == true) out_["parallel_tool_calls"] = false;
    return {};
  }

  // Structured output: `output_format` (the beta's name) or `output_config.format` (the name
  // since it became generally available). output_config's `effort` is a tuning hint, dropped.
  Check output_format() {
    if (const Json* format = member(in_, "output_format"))
      return response_format(*format, "output_format");
    const Json* config = member(in_, "output_config");
    if (config == nullptr) return {};
    if (!config->is_object()) return fault("output_config", "Input should be a valid dictionary");
    const Json* format = member(*config, "format");
    return format ? response_format(*format, "output_config.format") : Check{};
  }

  Check response_format(const Json& format, const std::string& path) {
    if (!format.is_object()) return fault(path, "Input should be a valid dictionary");
    auto type = required_string(format, "type", path);
    if (!type) return Unexpected(std::move(type).error());
    if (*type != "json_schema") return fault(at(path, "type"), "Input should be 'json_schema'");
    auto schema = required_object(format, "schema", path);
    if (!schema) return Unexpected(std::move(schema).error());
    // Chat requires a name; Anthropic has none, and one fixed name keeps equal requests equal.
    response_format_ = Json{{"type", "json_schema"},
                            {"json_schema", Json{{"name", "output"}, {"schema", **schema}}}};
    return {};
  }

  void unknown_parameters() {
    for (auto it = in_.begin(); it != in_.end(); ++it) {
      if (it->is_null()) continue;
      if (std::find(kKnownParameters.begin(), kKnownParameters.end(), it.key()) ==
          kKnownParameters.end())
        leave_out("the '" + it.key() + "' parameter");
    }
  }

  const Json& in_;
  Json out_ = Json::object();
  Json chat_ = Json::array();  // the chat messages, system first
  std::string reasoning_effort_;
  Json response_format_;
  std::string left_out_;
};

}  // namespace

Result<ChatEquivalent, ApiError> messages_to_chat(std::string_view body) {
  // Validated by our scanner first: it bounds the nesting depth the DOM would recurse into.
  if (auto error = json::validate(body))
    return Unexpected(errors::invalid_json(error->what, error->offset));
  const Json request = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!request.is_object())
    return Unexpected(errors::invalid_request("The request body must be a JSON object."));
  try {
    return Translator(request).translate();
  } catch (const Json::exception& e) {
    // Every access above is checked first; should one slip, the request fails, not the worker.
    return Unexpected(
        errors::invalid_request(std::string("The request could not be translated: ") + e.what()));
  }
}

}  // namespace switchyard::api
