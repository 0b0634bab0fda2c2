#include "switchyard/mcp/sampling.hpp"

#include <nlohmann/json.hpp>

#include "json_fields.hpp"

namespace switchyard::mcp {
namespace {

using Json = nlohmann::json;

// The route the first hint naming a configured model picks; the server's route otherwise. The
// specification has hints match model names as substrings.
const std::string& route_for(const Json& params, const config::McpServer::Sampling& sampling) {
  const auto preferences = params.find("modelPreferences");
  if (preferences == params.end() || !preferences->is_object()) return sampling.route;
  const auto hints = preferences->find("hints");
  if (hints == preferences->end() || !hints->is_array()) return sampling.route;
  for (const Json& hint : *hints) {
    const std::string name = string_member(hint, "name");
    for (const auto& [model, route] : sampling.models)
      if (!name.empty() && name.find(model) != std::string::npos) return route;
  }
  return sampling.route;
}

// Audio as the chat API's input_audio names its format.
std::string audio_format(const std::string& mime_type) {
  if (mime_type == "audio/wav" || mime_type == "audio/x-wav" || mime_type == "audio/wave")
    return "wav";
  if (mime_type == "audio/mpeg" || mime_type == "audio/mp3") return "mp3";
  return {};
}

// One content block as a part of a chat message's content.
Result<Json> part_of(const Json& block) {
  const std::string type = string_member(block, "type");
  if (type == "text") {
    if (!block.contains("text") || !block["text"].is_string())
      return Unexpected("a text block without text");
    return Json{{"type", "text"}, {"text", block["text"]}};
  }
  const std::string data = string_member(block, "data");
  const std::string mime_type = string_member(block, "mimeType");
  if ((type == "image" || type == "audio") && (data.empty() || mime_type.empty()))
    return Unexpected("an " + type + " block without data or mimeType");
  if (type == "image")
    return Json{{"type", "image_url"},
                {"image_url", {{"url", "data:" + mime_type + ";base64," + data}}}};
  if (type == "audio") {
    const std::string format = audio_format(mime_type);
    if (format.empty()) return Unexpected("audio of type " + mime_type + " (only wav and mp3)");
    return Json{{"type", "input_audio"}, {"input_audio", {{"data", data}, {"format", format}}}};
  }
  return Unexpected("content of type '" + type + "'");
}

// A sampling message's content (one block or several) as a chat message's: a plain string when
// it is one text block, which every provider takes.
Result<Json> content_of(const Json& content) {
  if (content.is_object() && string_member(content, "type") == "text" && content.contains("text") &&
      content["text"].is_string())
    return content["text"];
  const Json blocks = content.is_array() ? content : Json::array({content});
  Json parts = Json::array();
  for (const Json& block : blocks) {
    if (!block.is_object()) return Unexpected("content that is not a content block");
    auto part = part_of(block);
    if (!part) return Unexpected(std::move(part).error());
    parts.push_back(std::move(*part));
  }
  if (parts.empty()) return Unexpected("a message without content");
  return parts;
}

// A tool result's content as a tool message's text.
Result<std::string> tool_result_text(const Json& block) {
  const auto content = block.find("content");
  std::string text;
  if (content != block.end() && content->is_array()) {
    for (const Json& part : *content) {
      if (string_member(part, "type") != "text")
        return Unexpected("a tool result with content other than text");
      if (!text.empty()) text += '\n';
      text += string_member(part, "text");
    }
  }
  // The chat API has no flag for a failed tool: the text says so.
  if (block.contains("isError") && block["isError"] == true) text = "Error: " + text;
  return text;
}

// One sampling message as chat messages: an assistant's tool uses become its tool_calls, a user's
// tool results `tool` messages (before the rest of what it says), the rest content parts.
Result<void> append_message(const Json& message, Json& messages) {
  const std::string role = string_member(message, "role");
  if (role != "user" && role != "assistant")
    return Unexpected("a message's role is user or assistant");
  const auto content = message.find("content");
  if (content == message.end()) return Unexpected("a message without content");
  const Json blocks = content->is_array() ? *content : Json::array({*content});
  Json calls = Json::array();
  Json rest = Json::array();
  for (const Json& block : blocks) {
    const std::string type = string_member(block, "type");
    if (type == "tool_use" && role == "assistant") {
      calls.push_back({{"id", string_member(block, "id")},
                       {"type", "function"},
                       {"function",
                        {{"name", string_member(block, "name")},
                         {"arguments", block.value("input", Json::object()).dump()}}}});
    } else if (type == "tool_result" && role == "user") {
      auto text = tool_result_text(block);
      if (!text) return Unexpected(std::move(text).error());
      messages.push_back({{"role", "tool"},
                          {"tool_call_id", string_member(block, "toolUseId")},
                          {"content", std::move(*text)}});
    } else if (type == "tool_use" || type == "tool_result") {
      return Unexpected("a " + type + " block in a " + role + " message");
    } else {
      rest.push_back(block);
    }
  }
  if (rest.empty() && calls.empty()) return {};  // only tool results
  Json chat = {{"role", role}, {"content", nullptr}};
  if (!rest.empty()) {
    auto converted = content_of(rest.size() == 1 ? rest[0] : rest);
    if (!converted) return Unexpected("a route cannot be asked " + std::move(converted).error());
    chat["content"] = std::move(*converted);
  }
  if (!calls.empty()) chat["tool_calls"] = std::move(calls);
  messages.push_back(std::move(chat));
  return {};
}

}  // namespace

Result<std::string> chat_request_of(std::string_view params,
                                    const config::McpServer::Sampling& sampling) {
  const Json request = Json::parse(params.empty() ? "{}" : params, nullptr, false);
  if (!request.is_object()) return Unexpected("sampling/createMessage needs params");
  const auto max_tokens = request.find("maxTokens");
  if (max_tokens == request.end() || !max_tokens->is_number_integer() || *max_tokens <= 0)
    return Unexpected("sampling/createMessage needs maxTokens, a positive integer");
  Json chat = {{"model", route_for(request, sampling)}, {"messages", Json::array()}};
  Json& messages = chat["messages"];
  if (const std::string system = string_member(request, "systemPrompt"); !system.empty())
    messages.push_back({{"role", "system"}, {"content", system}});
  const auto given = request.find("messages");
  if (given == request.end() || !given->is_array() || given->empty())
    return Unexpected("sampling/createMessage needs messages");
  for (const Json& message : *given) {
    if (!message.is_object()) return Unexpected("a message is an object");
    auto appended = append_message(message, messages);
    if (!appended) return Unexpected(std::move(appended).error());
  }
  chat["max_tokens"] = *max_tokens;
  if (const auto tools = request.find("tools"); tools != request.end()) {
    if (!tools->is_array()) return Unexpected("tools is a list");
    Json functions = Json::array();
    for (const Json& tool : *tools) {
      if (!tool.is_object()) return Unexpected("a tool is an object");
      Json function = {{"name", string_member(tool, "name")},
                       {"parameters", tool.value("inputSchema", Json::object())}};
      if (const std::string description = string_member(tool, "description"); !description.empty())
        function["description"] = description;
      functions.push_back({{"type", "function"}, {"function", std::move(function)}});
    }
    chat["tools"] = std::move(functions);
  }
  if (const auto choice = request.find("toolChoice"); choice != request.end()) {
    const std::string mode = string_member(*choice, "mode");
    if (mode != "auto" && mode != "required" && mode != "none")
      return Unexpected("toolChoice.mode is auto, required or none");
    chat["tool_choice"] = mode;
  }
  if (const auto stop = request.find("stopSequences"); stop != request.end()) {
    if (!stop->is_array() ||
        !std::all_of(stop->begin(), stop->end(), [](const Json& s) { return s.is_string(); }))
      return Unexpected("stopSequences is a list of strings");
    if (!stop->empty()) chat["stop"] = *stop;
  }
  if (const auto temperature = request.find("temperature"); temperature != request.end()) {
    if (!temperature->is_number()) return Unexpected("temperature is a number");
    chat["temperature"] = *temperature;
  }
  return chat.dump();
}

Result<std::string> sampling_result_of(std::string_view chat_response) {
  const Json response = Json::parse(chat_response, nullptr, false);
  const auto choices = response.is_object() ? response.find("choices") : response.end();
  if (choices == response.end() || !choices->is_array() || choices->empty() ||
      !(*choices)[0].is_object())
    return Unexpected("the chat completion has no choice");
  const Json& choice = (*choices)[0];
  const auto message = choice.find("message");
  if (message == choice.end() || !message->is_object())
    return Unexpected("the chat completion has no message");
  const auto text = message->find("content");
  const auto calls = message->find("tool_calls");
  const bool has_text = text != message->end() && text->is_string();
  const bool has_calls = calls != message->end() && calls->is_array() && !calls->empty();
  if (!has_text && !has_calls) return Unexpected("the chat completion's message has no text");
  Json content = Json::array();
  if (has_text && (!has_calls || !text->get<std::string>().empty()))
    content.push_back({{"type", "text"}, {"text", *text}});
  if (has_calls) {
    for (const Json& call : *calls) {
      const auto function = call.find("function");
      if (function == call.end() || !function->is_object())
        return Unexpected("a tool call without a function");
      const Json input = Json::parse(string_member(*function, "arguments"), nullptr, false);
      if (!input.is_object()) return Unexpected("a tool call whose arguments are not an object");
      content.push_back({{"type", "tool_use"},
                         {"id", string_member(call, "id")},
                         {"name", string_member(*function, "name")},
                         {"input", input}});
    }
  }
  // The specification names endTurn, stopSequence and maxTokens, and leaves the field open.
  std::string finish = string_member(choice, "finish_reason");
  if (finish == "stop" || finish.empty()) finish = "endTurn";
  if (finish == "length") finish = "maxTokens";
  if (finish == "tool_calls" || (has_calls && finish == "endTurn")) finish = "toolUse";
  const Json result = {
      {"role", "assistant"},
      // One block as itself, which every revision reads; several as a list (2025-11-25).
      {"content", content.size() == 1 ? content[0] : content},
      {"model", string_member(response, "model")},
      {"stopReason", finish},
  };
  return result.dump();
}

}  // namespace switchyard::mcp
