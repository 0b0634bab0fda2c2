#include "gemini_request.hpp"

#include "wire_text.hpp"

#include <array>
#include <cctype>
#include <string_view>

namespace switchyard::mock {
namespace {

using json = nlohmann::ordered_json;

constexpr std::array<std::string_view, 7> kRequestFields = {
    "contents",   "systemInstruction", "generationConfig", "tools",
    "toolConfig", "safetySettings",    "cachedContent"};

constexpr std::array<std::string_view, 15> kGenerationConfigFields = {"temperature",
                                                                      "topP",
                                                                      "topK",
                                                                      "maxOutputTokens",
                                                                      "stopSequences",
                                                                      "candidateCount",
                                                                      "seed",
                                                                      "presencePenalty",
                                                                      "frequencyPenalty",
                                                                      "responseMimeType",
                                                                      "responseSchema",
                                                                      "responseJsonSchema",
                                                                      "thinkingConfig",
                                                                      "responseLogprobs",
                                                                      "logprobs"};

// The API allows 1 to 8 candidates (ai.google.dev GenerationConfig.candidateCount).
constexpr int kMaxCandidates = 8;

template <std::size_t N>
bool is_field(std::string_view key, const std::array<std::string_view, N>& fields) {
  for (std::string_view field : fields) {
    if (key == field || key == snake_case(field)) return true;
  }
  return false;
}

std::optional<std::string> unknown_field(const json& object,
                                         const std::array<std::string_view, 15>& fields,
                                         std::string_view at) {
  for (const auto& [key, value] : object.items()) {
    if (is_field(key, fields)) continue;
    return "Invalid JSON payload received. Unknown name \"" + key + "\" at '" + std::string(at) +
           "': Cannot find field.";
  }
  return std::nullopt;
}

std::optional<std::string> content_error(const json& content, std::size_t index) {
  const std::string where = "GenerateContentRequest.contents[" + std::to_string(index) + "]";
  if (!content.is_object()) {
    return "Invalid value at 'contents[" + std::to_string(index) +
           "]' (type.googleapis.com/google.ai.generativelanguage.v1beta.Content)";
  }
  // A missing role means "user"; any other than the two gets this exact message.
  if (const json* role = find_member(content, "role")) {
    if (*role != "user" && *role != "model") return "Please use a valid role: user, model.";
  }
  const json* parts = find_member(content, "parts");
  if (parts == nullptr || !parts->is_array()) return std::nullopt;
  for (std::size_t p = 0; p < parts->size(); ++p) {
    const json* response = find_member((*parts)[p], "functionResponse", "function_response");
    if (response == nullptr) continue;
    const json* name = find_member(*response, "name");
    if (name == nullptr || !name->is_string() || name->get<std::string>().empty()) {
      return "* " + where + ".parts[" + std::to_string(p) +
             "].function_response.name: Name cannot be empty.\n";
    }
  }
  return std::nullopt;
}

std::vector<std::string> string_list(const json* list) {
  std::vector<std::string> strings;
  if (list == nullptr || !list->is_array()) return strings;
  for (const json& item : *list) {
    if (item.is_string()) strings.push_back(item.get<std::string>());
  }
  return strings;
}

ToolOffer read_tool_offer(const json& body) {
  ToolOffer offer;
  if (const json* tools = find_member(body, "tools"); tools != nullptr && tools->is_array()) {
    for (const json& tool : *tools) {
      const json* declarations = find_member(tool, "functionDeclarations", "function_declarations");
      if (declarations == nullptr || !declarations->is_array()) continue;
      for (const json& declaration : *declarations) {
        const json* name = find_member(declaration, "name");
        if (name != nullptr && name->is_string())
          offer.declared.push_back(name->get<std::string>());
      }
    }
  }
  const json* config = find_member(body, "toolConfig", "tool_config");
  const json* calling =
      config != nullptr ? find_member(*config, "functionCallingConfig", "function_calling_config")
                        : nullptr;
  if (calling == nullptr) return offer;
  const json* mode = find_member(*calling, "mode");
  if (mode != nullptr && *mode == "NONE") {
    offer.choice = ToolOffer::Choice::none;
    return offer;
  }
  // allowedFunctionNames narrows the choice only in the modes that force a call.
  if (mode != nullptr && (*mode == "ANY" || *mode == "VALIDATED")) {
    offer.named =
        string_list(find_member(*calling, "allowedFunctionNames", "allowed_function_names"));
    if (!offer.named.empty()) offer.choice = ToolOffer::Choice::named;
  }
  return offer;
}

}  // namespace

std::string snake_case(std::string_view camel) {
  std::string snake;
  for (char c : camel) {
    if (std::isupper(static_cast<unsigned char>(c))) {
      snake.push_back('_');
      snake.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    } else {
      snake.push_back(c);
    }
  }
  return snake;
}

std::optional<std::string> gemini_request_error(const json& body) {
  if (body.is_discarded()) return "Invalid JSON payload received. Unexpected token.";
  if (!body.is_object()) return "Invalid JSON payload received. Root element must be a message.";
  for (const auto& [key, value] : body.items()) {
    if (!is_field(key, kRequestFields)) {
      return "Invalid JSON payload received. Unknown name \"" + key + "\": Cannot find field.";
    }
  }
  const json* contents = find_member(body, "contents");
  if (contents == nullptr || (contents->is_array() && contents->empty())) {
    return "* GenerateContentRequest.contents: contents is not specified\n";
  }
  if (!contents->is_array()) {
    return "Invalid value at 'contents' "
           "(type.googleapis.com/google.ai.generativelanguage.v1beta.Content)";
  }
  for (std::size_t i = 0; i < contents->size(); ++i) {
    if (auto error = content_error((*contents)[i], i)) return error;
  }
  if (const json* config = find_member(body, "generationConfig", "generation_config")) {
    if (!config->is_object()) {
      return "Invalid value at 'generation_config' "
             "(type.googleapis.com/google.ai.generativelanguage.v1beta.GenerationConfig)";
    }
    if (auto error = unknown_field(*config, kGenerationConfigFields, "generation_config")) {
      return error;
    }
    if (const json* count = find_member(*config, "candidateCount", "candidate_count")) {
      if (!count->is_number_integer() || count->get<long long>() < 1 ||
          count->get<long long>() > kMaxCandidates) {
        return "* GenerateContentRequest.generation_config.candidate_count: must be between 1 "
               "and " +
               std::to_string(kMaxCandidates) + "\n";
      }
    }
  }
  return std::nullopt;
}

int gemini_candidate_count(const json& body) {
  const json* config = find_member(body, "generationConfig", "generation_config");
  const json* count =
      config != nullptr ? find_member(*config, "candidateCount", "candidate_count") : nullptr;
  return count != nullptr && count->is_number_integer() ? count->get<int>() : 1;
}

Conversation read_gemini_conversation(const json& body) {
  Conversation conversation{read_tool_offer(body), std::nullopt};
  const json* contents = find_member(body, "contents");
  if (contents == nullptr || !contents->is_array() || contents->empty()) return conversation;
  const json& last = contents->back();
  const json* role = find_member(last, "role");
  if (role != nullptr && *role != "user") return conversation;
  const json* parts = find_member(last, "parts");
  if (parts == nullptr || !parts->is_array()) return conversation;
  for (const json& part : *parts) {
    const json* function_response = find_member(part, "functionResponse", "function_response");
    if (function_response == nullptr) continue;
    // The last result wins: its response.output when that is a string (how the gateway and
    // Google's SDKs wrap a plain result), else the whole response object as JSON.
    const json* response = find_member(*function_response, "response");
    const json* output = response != nullptr ? find_member(*response, "output") : nullptr;
    if (output != nullptr && output->is_string()) {
      conversation.tool_result = output->get<std::string>();
    } else {
      conversation.tool_result = response != nullptr ? dump_json(*response) : std::string();
    }
  }
  return conversation;
}

}  // namespace switchyard::mock
