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

}  // namespace

Result<std::string> chat_request_of(std::string_view params,
                                    const config::McpServer::Sampling& sampling) {
  const Json request = Json::parse(params.empty() ? "{}" : params, nullptr, false);
  if (!request.is_object()) return Unexpected("sampling/createMessage needs params");
  const auto max_tokens = request.find("maxTokens");
  if (max_tokens == request.end() || !max_tokens->is_number_integer() || *max_tokens <= 0)
    return Unexpected("sampling/createMessage needs maxTokens, a positive integer");
  if (request.contains("tools"))
    return Unexpected("tool use in sampling is not served by the gateway's routes");
  Json chat = {{"model", route_for(request, sampling)}, {"messages", Json::array()}};
  Json& messages = chat["messages"];
  if (const std::string system = string_member(request, "systemPrompt"); !system.empty())
    messages.push_back({{"role", "system"}, {"content", system}});
  const auto given = request.find("messages");
  if (given == request.end() || !given->is_array() || given->empty())
    return Unexpected("sampling/createMessage needs messages");
  for (const Json& message : *given) {
    const std::string role = string_member(message, "role");
    if (role != "user" && role != "assistant")
      return Unexpected("a message's role is user or assistant");
    const auto content = message.find("content");
    if (content == message.end()) return Unexpected("a message without content");
    auto converted = content_of(*content);
    if (!converted) return Unexpected("a route cannot be asked " + std::move(converted).error());
    messages.push_back({{"role", role}, {"content", std::move(*converted)}});
  }
  chat["max_tokens"] = *max_tokens;
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
  if (message == choice.end() || !message->is_object() || !message->contains("content") ||
      !(*message)["content"].is_string())
    return Unexpected("the chat completion's message has no text");
  // The specification names endTurn, stopSequence and maxTokens, and leaves the field open.
  std::string finish = string_member(choice, "finish_reason");
  if (finish == "stop" || finish.empty()) finish = "endTurn";
  if (finish == "length") finish = "maxTokens";
  const Json result = {
      {"role", "assistant"},
      {"content", {{"type", "text"}, {"text", (*message)["content"]}}},
      {"model", string_member(response, "model")},
      {"stopReason", finish},
  };
  return result.dump();
}

}  // namespace switchyard::mcp
