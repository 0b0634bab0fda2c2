#include "gemini_request.hpp"

#include <utility>
#include <vector>

#include "gemini_options.hpp"
#include "gemini_wire.hpp"
#include "provider_errors.hpp"
#include "text.hpp"

// What crosses over, and what does not (docs/providers.md, "Gemini: request"):
// - Every OpenAI field with a Gemini equivalent is translated; a field whose value has a shape
//   OpenAI itself would refuse is an invalid_request naming the param.
// - Features Gemini cannot express so that the answer would mislead the client (non-function
//   tools, the legacy `functions`, audio output, OpenAI file ids) are `unsupported`: another
//   provider on the route may take them.
// - Hints that only tune or label a request and have no Gemini equivalent are dropped silently
//   — user, safety_identifier, prompt_cache_key, metadata, store, service_tier,
//   parallel_tool_calls, logit_bias, stream_options, verbosity, prediction,
//   web_search_options, a message's `name`, a tool's `strict` — and no OpenAI key is ever
//   copied into the Gemini body: the body is built from scratch, member by member.
// - `stream` and `model` travel in the path, not the body.

namespace switchyard::providers::gemini {
namespace {

using Error = Result<void, ProviderError>;

// Gemini's fileData needs a media type the URL does not carry: guessed from the file name's
// extension; an image is what an `image_url` most likely points at.
std::string guess_mime(std::string_view uri) {
  uri = uri.substr(0, uri.find_first_of("?#"));
  const std::size_t slash = uri.rfind('/');
  const std::string_view name = slash == std::string_view::npos ? uri : uri.substr(slash + 1);
  const std::size_t dot = name.rfind('.');
  if (dot == std::string_view::npos) return "image/jpeg";
  const std::string ext = ascii_lower(name.substr(dot + 1));
  static constexpr std::pair<std::string_view, std::string_view> kTypes[] = {
      {"jpg", "image/jpeg"},  {"jpeg", "image/jpeg"},     {"png", "image/png"},
      {"gif", "image/gif"},   {"webp", "image/webp"},     {"heic", "image/heic"},
      {"heif", "image/heif"}, {"pdf", "application/pdf"}, {"wav", "audio/wav"},
      {"mp3", "audio/mp3"},   {"mp4", "video/mp4"},       {"txt", "text/plain"},
  };
  for (const auto& [extension, type] : kTypes)
    if (ext == extension) return std::string(type);
  return "image/jpeg";
}

// "data:<media type>[;…];base64,<data>" → inlineData. Gemini takes base64 only.
Error inline_data(std::string_view url, const std::string& param, Json& parts) {
  const auto data_url = read_data_url(url);
  if (!data_url)
    return Unexpected(
        invalid_request("Expected a base64 data URL ('data:<media type>;base64,…').", param));
  Json part = Json::object();
  part["inlineData"]["mimeType"] = data_url->media_type;
  part["inlineData"]["data"] = std::string(data_url->data);
  parts.push_back(std::move(part));
  return {};
}

// An image (or other file) by URL: data: inline, http(s) and gs:// as fileData.
Error media_url(std::string_view url, const std::string& param, Json& parts) {
  if (has_scheme(url, "data")) return inline_data(url, param, parts);
  if (!has_scheme(url, "http") && !has_scheme(url, "https") && !has_scheme(url, "gs"))
    return Unexpected(invalid_request("Expected a data:, http(s):// or gs:// URL.", param));
  Json part = Json::object();
  part["fileData"]["mimeType"] = guess_mime(url);
  part["fileData"]["fileUri"] = std::string(url);
  parts.push_back(std::move(part));
  return {};
}

// One part of a user message's content array.
Error user_part(const Json& item, const std::string& param, Json& parts) {
  const std::string* type = find_string(item, "type");
  if (!type) return Unexpected(invalid_request("Each content part needs a string 'type'.", param));
  if (*type == "text") {
    const std::string* text = find_string(item, "text");
    if (!text)
      return Unexpected(
          invalid_request("A text part needs a string 'text'.", dotted(param, "text")));
    parts.push_back(Json{{"text", *text}});
    return {};
  }
  if (*type == "image_url") {
    const Json* image = find(item, "image_url");
    const std::string* url = image && image->is_string() ? image->get_ptr<const std::string*>()
                             : image                     ? find_string(*image, "url")
                                                         : nullptr;
    if (!url)
      return Unexpected(
          invalid_request("An image_url part needs a URL.", dotted(param, "image_url")));
    return media_url(*url, dotted(param, "image_url.url"), parts);
  }
  if (*type == "input_audio") {
    const Json* audio = find(item, "input_audio");
    const std::string* data = audio ? find_string(*audio, "data") : nullptr;
    const std::string* format = audio ? find_string(*audio, "format") : nullptr;
    if (!data || !format || (*format != "wav" && *format != "mp3"))
      return Unexpected(
          invalid_request("An input_audio part needs base64 'data' and a 'format' of wav or mp3.",
                          dotted(param, "input_audio")));
    Json part = Json::object();
    part["inlineData"]["mimeType"] = "audio/" + *format;
    part["inlineData"]["data"] = *data;
    parts.push_back(std::move(part));
    return {};
  }
  if (*type == "file") {
    const Json* file = find(item, "file");
    const std::string* data = file ? find_string(*file, "file_data") : nullptr;
    if (data && has_scheme(*data, "data"))
      return inline_data(*data, dotted(param, "file.file_data"), parts);
    if (data) {  // bare base64: the media type from the file name (OpenAI takes PDFs here)
      const std::string* filename = find_string(*file, "filename");
      Json part = Json::object();
      part["inlineData"]["mimeType"] = filename && filename->find('.') != std::string::npos
                                           ? guess_mime(*filename)
                                           : "application/pdf";
      part["inlineData"]["data"] = *data;
      parts.push_back(std::move(part));
      return {};
    }
    if (file && find(*file, "file_id"))
      return Unexpected(
          unsupported("Gemini cannot read files uploaded to OpenAI; send file_data instead.",
                      dotted(param, "file.file_id")));
    return Unexpected(invalid_request("A file part needs 'file_data'.", dotted(param, "file")));
  }
  return Unexpected(unsupported("Content parts of type '" + *type + "' cannot be sent to Gemini.",
                                dotted(param, "type")));
}

// The text of content that may only hold text (system, developer, tool messages).
Error text_of(const Json* content, const std::string& param, std::string& out) {
  if (!content) return {};
  if (content->is_string()) {
    out = content->get<std::string>();
    return {};
  }
  if (!content->is_array())
    return Unexpected(
        invalid_request("'content' must be a string or an array of text parts.", param));
  for (std::size_t j = 0; j < content->size(); ++j) {
    const Json& item = (*content)[j];
    const std::string* type = find_string(item, "type");
    const std::string* text = find_string(item, "text");
    if (!type || *type != "text" || !text)
      return Unexpected(
          invalid_request("Only text parts are allowed in this message.", indexed(param, j)));
    out += *text;
  }
  return {};
}

// A tool's result as Gemini's functionResponse.response, which must be an object: JSON that
// the tool returned is embedded as JSON so the model reads structure, anything else as text.
Json function_response(const std::string& name, const std::string& text) {
  Json parsed = parse(text);
  Json part = Json::object();
  part["functionResponse"]["name"] = name;
  if (parsed.is_object() || parsed.is_array()) {
    part["functionResponse"]["response"]["output"] = std::move(parsed);
  } else {
    part["functionResponse"]["response"]["output"] = text;
  }
  return part;
}

// Gemini 3 and later refuse a replayed functionCall without the thoughtSignature that came with
// it ("Function call is missing a thought_signature", 400). OpenAI's tool_calls have nowhere to
// carry it back — and an id long enough to hold it breaks OpenAI's 40-character limit on a
// failover — so the first call of each replayed turn gets the validator-skipping value Google
// documents for histories that come from elsewhere. Older models validate nothing and get none.
bool needs_signature(std::string_view upstream) {
  upstream = bare_model(upstream);
  if (!upstream.starts_with("gemini-")) return false;
  int major = 0;
  for (std::size_t i = 7; i < upstream.size() && upstream[i] >= '0' && upstream[i] <= '9'; ++i)
    major = major * 10 + (upstream[i] - '0');
  return major >= 3;
}
constexpr const char* kSkipSignature = "skip_thought_signature_validator";

class Encoder {
 public:
  Error run(const Json& request, const config::Model& model, Json& body);

 private:
  Error message(const Json& m, const std::string& param);
  Error assistant(const Json& m, const std::string& param);
  // A `tool` message, or with `legacy` one of the `function` role that names its function.
  Error tool_result(const Json& m, const std::string& param, bool legacy);
  // Appends a turn, merged into the previous one when the role repeats: Gemini wants user and
  // model to alternate ("Please ensure that multiturn requests alternate…").
  void add_turn(const char* role, Json parts);

  std::string system_;
  bool has_system_ = false;
  bool sign_calls_ = false;  // see needs_signature()
  Json contents_ = Json::array();
  std::vector<std::pair<std::string, std::string>> tool_names_;  // tool call id → function
};

Error Encoder::message(const Json& m, const std::string& param) {
  if (!m.is_object()) return Unexpected(invalid_request("Each message must be an object.", param));
  const std::string* role = find_string(m, "role");
  if (!role)
    return Unexpected(
        invalid_request("Each message needs a string 'role'.", dotted(param, "role")));
  const Json* content = find(m, "content");
  const std::string content_param = dotted(param, "content");
  if (*role == "system" || *role == "developer") {
    std::string text;
    if (auto e = text_of(content, content_param, text); !e) return e;
    if (has_system_) system_ += '\n';
    system_ += text;
    has_system_ = true;
    return {};
  }
  if (*role == "user") {
    Json parts = Json::array();
    if (content && content->is_string()) {
      parts.push_back(Json{{"text", content->get<std::string>()}});
    } else if (content && content->is_array()) {
      for (std::size_t j = 0; j < content->size(); ++j)
        if (auto e = user_part((*content)[j], indexed(content_param, j), parts); !e) return e;
    } else {
      return Unexpected(invalid_request(
          "A user message needs 'content': a string or an array of parts.", content_param));
    }
    add_turn("user", std::move(parts));
    return {};
  }
  if (*role == "assistant") return assistant(m, param);
  if (*role == "tool" || *role == "function") return tool_result(m, param, *role == "function");
  return Unexpected(
      invalid_request("Invalid value: '" + *role +
                          "'. Supported roles are system, developer, user, assistant and tool.",
                      dotted(param, "role")));
}

Error Encoder::assistant(const Json& m, const std::string& param) {
  Json parts = Json::array();
  std::string text;
  if (const Json* content = find(m, "content"); content && content->is_array()) {
    // Refusal parts are the model's own earlier words about declining: not replayable as text.
    for (std::size_t j = 0; j < content->size(); ++j) {
      const Json& item = (*content)[j];
      const std::string* type = find_string(item, "type");
      const std::string* part_text = find_string(item, "text");
      if (type && *type == "refusal") continue;
      if (!type || *type != "text" || !part_text)
        return Unexpected(invalid_request("Assistant content may hold only text and refusal parts.",
                                          indexed(dotted(param, "content"), j)));
      text += *part_text;
    }
  } else if (auto e = text_of(content, dotted(param, "content"), text); !e) {
    return e;
  }
  // An empty text part is refused by Gemini; "" is how clients spell "only tool calls".
  if (!text.empty()) parts.push_back(Json{{"text", text}});

  if (const Json* calls = find(m, "tool_calls")) {
    const std::string calls_param = dotted(param, "tool_calls");
    if (!calls->is_array())
      return Unexpected(invalid_request("'tool_calls' must be an array.", calls_param));
    for (std::size_t j = 0; j < calls->size(); ++j) {
      const Json& call = (*calls)[j];
      const std::string call_param = indexed(calls_param, j);
      const Json* function = find(call, "function");
      const std::string* name = function ? find_string(*function, "name") : nullptr;
      if (!name)
        return Unexpected(
            invalid_request("A tool call needs function.name.", dotted(call_param, "function")));
      const std::string* arguments = find_string(*function, "arguments");
      Json args = parse(arguments && !arguments->empty() ? std::string_view(*arguments) : "{}");
      if (!args.is_object())
        return Unexpected(invalid_request("function.arguments must be a JSON object in a string.",
                                          dotted(call_param, "function.arguments")));
      if (const std::string* id = find_string(call, "id")) tool_names_.emplace_back(*id, *name);
      Json part = Json::object();
      part["functionCall"]["name"] = *name;
      part["functionCall"]["args"] = std::move(args);
      // Only the first of parallel calls carries a signature (Gemini's thought-signatures doc).
      if (sign_calls_ && j == 0) part["thoughtSignature"] = kSkipSignature;
      parts.push_back(std::move(part));
    }
  }
  add_turn("model", std::move(parts));
  return {};
}

Error Encoder::tool_result(const Json& m, const std::string& param, bool legacy) {
  std::string name;
  if (legacy) {
    const std::string* fn = find_string(m, "name");
    if (!fn)
      return Unexpected(invalid_request("A function message needs 'name'.", dotted(param, "name")));
    name = *fn;
  } else {
    const std::string* id = find_string(m, "tool_call_id");
    if (!id)
      return Unexpected(
          invalid_request("A tool message needs 'tool_call_id'.", dotted(param, "tool_call_id")));
    // Gemini matches results to calls by function name; OpenAI by id — recover the name from
    // the assistant turn that made the call (GW).
    for (auto it = tool_names_.rbegin(); it != tool_names_.rend() && name.empty(); ++it)
      if (it->first == *id) name = it->second;
    if (name.empty())
      return Unexpected(invalid_request("No earlier assistant tool call has the id '" + *id + "'.",
                                        dotted(param, "tool_call_id")));
  }
  std::string text;
  if (auto e = text_of(find(m, "content"), dotted(param, "content"), text); !e) return e;
  Json parts = Json::array();
  parts.push_back(function_response(name, text));
  add_turn("user", std::move(parts));
  return {};
}

void Encoder::add_turn(const char* role, Json parts) {
  if (parts.empty()) return;
  if (!contents_.empty() && contents_.back()["role"] == role) {
    Json& into = contents_.back()["parts"];
    for (auto& part : parts) into.push_back(std::move(part));
    return;
  }
  Json turn = Json::object();
  turn["role"] = role;
  turn["parts"] = std::move(parts);
  contents_.push_back(std::move(turn));
}

Error Encoder::run(const Json& request, const config::Model& model, Json& body) {
  if (!request.is_object()) return Unexpected(invalid_request("The body must be a JSON object."));
  sign_calls_ = needs_signature(model.upstream);
  if (find(request, "functions") || find(request, "function_call"))
    return Unexpected(unsupported(
        "Gemini is reached through 'tools'; the legacy 'functions' is not sent.", "functions"));
  if (find(request, "audio"))
    return Unexpected(unsupported("Gemini's generateContent does not answer in audio.", "audio"));
  const Json* messages = find(request, "messages");
  if (!messages || !messages->is_array())
    return Unexpected(invalid_request("'messages' must be an array.", "messages"));
  for (std::size_t i = 0; i < messages->size(); ++i)
    if (auto e = message((*messages)[i], indexed("messages", i)); !e) return e;

  if (contents_.empty() && has_system_) {
    // Gemini refuses a request without contents; OpenAI answers a lone system prompt. Sent as
    // the user's turn it gets an answer, as it would from OpenAI (GW).
    add_turn("user", Json::array({Json{{"text", system_}}}));
    has_system_ = false;
  }
  if (has_system_) {
    body["systemInstruction"]["parts"] = Json::array();
    body["systemInstruction"]["parts"].push_back(Json{{"text", system_}});
  }
  body["contents"] = std::move(contents_);
  Json config = Json::object();
  if (auto e = generation_config(request, model, config); !e) return e;
  if (!config.empty()) body["generationConfig"] = std::move(config);
  return tools(request, body);
}

}  // namespace

Result<void, ProviderError> write_chat_body(std::string_view openai, const config::Model& model,
                                            std::string& out) {
  const Json request = parse(openai);
  if (request.is_discarded()) return Unexpected(invalid_request("The body is not valid JSON."));
  Json body = Json::object();
  Encoder encoder;
  if (auto e = encoder.run(request, model, body); !e) return e;
  out = dump(body);
  return {};
}

}  // namespace switchyard::providers::gemini
