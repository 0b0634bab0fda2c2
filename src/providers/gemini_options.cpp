#include "gemini_options.hpp"

#include <string>
#include <utility>

#include "provider_errors.hpp"
#include "text.hpp"

namespace switchyard::providers::gemini {

using Error = Result<void, ProviderError>;

namespace {

Error copy_number(const Json& request, const char* from, Json& config, const char* to,
                  bool integer = false) {
  const Json* value = find(request, from);
  if (!value) return {};
  if (integer ? !value->is_number_integer() : !value->is_number())
    return Unexpected(invalid_request(
        std::string("'") + from + "' must be " + (integer ? "an integer." : "a number."), from));
  config[to] = *value;
  return {};
}

}  // namespace

Error generation_config(const Json& request, const config::Model& model, Json& config) {
  if (auto e = copy_number(request, "temperature", config, "temperature"); !e) return e;
  if (auto e = copy_number(request, "top_p", config, "topP"); !e) return e;
  if (auto e = copy_number(request, "top_k", config, "topK", true); !e) return e;
  // max_completion_tokens supersedes the deprecated max_tokens; both count all output tokens.
  const char* max_key =
      find(request, "max_completion_tokens") ? "max_completion_tokens" : "max_tokens";
  if (auto e = copy_number(request, max_key, config, "maxOutputTokens", true); !e) return e;
  if (!config.contains("maxOutputTokens") && model.max_tokens > 0)
    config["maxOutputTokens"] = model.max_tokens;

  if (const Json* stop = find(request, "stop")) {
    Json sequences = Json::array();
    if (stop->is_string()) {
      sequences.push_back(*stop);
    } else if (stop->is_array()) {
      for (const Json& s : *stop) {
        if (!s.is_string()) return Unexpected(invalid_request("'stop' must hold strings.", "stop"));
        sequences.push_back(s);
      }
    } else {
      return Unexpected(invalid_request("'stop' must be a string or an array of strings.", "stop"));
    }
    if (!sequences.empty()) config["stopSequences"] = std::move(sequences);
  }
  if (const Json* n = find(request, "n")) {
    if (!n->is_number_integer()) return Unexpected(invalid_request("'n' must be an integer.", "n"));
    if (n->get<std::int64_t>() > 1) config["candidateCount"] = *n;
  }
  if (auto e = copy_number(request, "seed", config, "seed", true); !e) return e;
  // The thinking budgets Google's own OpenAI-compatible endpoint gives these efforts (1K, 8K,
  // 24K tokens; none turns thinking off); an effort Gemini has no budget for is left to its
  // default.
  if (const Json* effort = find(request, "reasoning_effort"); effort && effort->is_string()) {
    const auto& level = effort->get_ref<const std::string&>();
    const int budget = level == "none"                        ? 0
                       : level == "minimal" || level == "low" ? 1024
                       : level == "medium"                    ? 8192
                       : level == "high"                      ? 24576
                                                              : -1;
    if (budget >= 0) config["thinkingConfig"] = Json{{"thinkingBudget", budget}};
  }
  if (auto e = copy_number(request, "presence_penalty", config, "presencePenalty"); !e) return e;
  if (auto e = copy_number(request, "frequency_penalty", config, "frequencyPenalty"); !e) return e;

  if (const Json* format = find(request, "response_format")) {
    const std::string* type = find_string(*format, "type");
    if (!type)
      return Unexpected(invalid_request("response_format needs a 'type'.", "response_format"));
    if (*type == "json_object") {
      config["responseMimeType"] = "application/json";
    } else if (*type == "json_schema") {
      const Json* spec = find(*format, "json_schema");
      if (!spec || !spec->is_object())
        return Unexpected(invalid_request("response_format.json_schema must be an object.",
                                          "response_format.json_schema"));
      config["responseMimeType"] = "application/json";
      // responseJsonSchema takes full JSON Schema as OpenAI clients write it; responseSchema
      // would need the OpenAPI subset (GW).
      if (const Json* schema = find(*spec, "schema")) config["responseJsonSchema"] = *schema;
    } else if (*type != "text") {
      return Unexpected(invalid_request(
          "Invalid value: '" + *type + "'. Supported types are text, json_object and json_schema.",
          "response_format.type"));
    }
  }
  if (const Json* logprobs = find(request, "logprobs")) {
    if (!logprobs->is_boolean())
      return Unexpected(invalid_request("'logprobs' must be a boolean.", "logprobs"));
    if (logprobs->get<bool>()) config["responseLogprobs"] = true;
  }
  return copy_number(request, "top_logprobs", config, "logprobs", true);
}

Error tools(const Json& request, Json& body) {
  const Json* tools_in = find(request, "tools");
  if (!tools_in) return {};
  if (!tools_in->is_array())
    return Unexpected(invalid_request("'tools' must be an array.", "tools"));
  Json declarations = Json::array();
  for (std::size_t i = 0; i < tools_in->size(); ++i) {
    const Json& tool = (*tools_in)[i];
    const std::string param = indexed("tools", i);
    const std::string* type = find_string(tool, "type");
    if (type && *type != "function")
      return Unexpected(unsupported("Gemini takes only function tools, not '" + *type + "'.",
                                    dotted(param, "type")));
    const Json* function = find(tool, "function");
    const std::string* name = function ? find_string(*function, "name") : nullptr;
    if (!name)
      return Unexpected(invalid_request("A tool needs function.name.", dotted(param, "function")));
    Json declaration = Json::object();
    declaration["name"] = *name;
    if (const std::string* description = find_string(*function, "description"))
      declaration["description"] = *description;
    // parametersJsonSchema takes full JSON Schema; `parameters` only the OpenAPI subset (GW).
    if (const Json* parameters = find(*function, "parameters"))
      declaration["parametersJsonSchema"] = *parameters;
    declarations.push_back(std::move(declaration));
  }
  if (declarations.empty()) return {};
  body["tools"] = Json::array();
  body["tools"].push_back(Json{{"functionDeclarations", std::move(declarations)}});

  const Json* choice = find(request, "tool_choice");
  if (!choice) return {};
  Json calling = Json::object();
  if (choice->is_string()) {
    const auto& word = choice->get_ref<const std::string&>();
    if (word == "auto") {
      calling["mode"] = "AUTO";
    } else if (word == "none") {
      calling["mode"] = "NONE";
    } else if (word == "required") {
      calling["mode"] = "ANY";
    } else {
      return Unexpected(invalid_request(
          "Invalid value: '" + word + "'. Supported values are none, auto and required.",
          "tool_choice"));
    }
  } else {
    const std::string* type = find_string(*choice, "type");
    const Json* function = find(*choice, "function");
    const std::string* name = function ? find_string(*function, "name") : nullptr;
    if (type && *type != "function")
      return Unexpected(unsupported("Gemini cannot express a tool_choice of type '" + *type + "'.",
                                    "tool_choice.type"));
    if (!name)
      return Unexpected(invalid_request("tool_choice needs function.name.", "tool_choice"));
    calling["mode"] = "ANY";
    calling["allowedFunctionNames"] = Json::array({*name});
  }
  body["toolConfig"]["functionCallingConfig"] = std::move(calling);
  return {};
}

}  // namespace switchyard::providers::gemini
