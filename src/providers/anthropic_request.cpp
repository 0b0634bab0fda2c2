#include "anthropic_request.hpp"

#include <algorithm>
#include <array>

#include <nlohmann/json.hpp>

#include "provider_errors.hpp"
#include "switchyard/api/json.hpp"
#include "text.hpp"

// What becomes of OpenAI fields that Anthropic has no equivalent for:
// - Fields that change the shape of the answer fall over (unsupported()), so that a provider
//   that can honour them serves the request: `n` > 1, `logprobs: true`, `top_logprobs` > 0,
//   `modalities` with "audio", `audio`, the deprecated `functions` and `function` role, audio
//   and file content parts, non-function tools and `allowed_tools` choices.
// - Hints that only tune how an answer is produced are dropped silently: seed, presence and
//   frequency penalties, logit_bias, store, service_tier, metadata, prediction,
//   reasoning_effort, verbosity, web_search_options, prompt_cache_key, safety_identifier,
//   stream_options (the stream decoder honours include_usage itself), message `name`s.
// - Malformed values (a tool call's arguments that are not a JSON object, an image that is
//   neither a base64 data URL nor http(s)) are the client's mistake: final 400s.
// Only the fields Anthropic knows are written, so nothing OpenAI-only leaks upstream.

namespace switchyard::providers::anthropic {

namespace {

using Json = nlohmann::ordered_json;
using Error = Result<void, ProviderError>;

constexpr std::string_view kWhitespace = " \t\r\n\f\v";

bool blank(std::string_view text) {
  return text.find_first_not_of(kWhitespace) == text.npos;
}

// A present, non-null member of an object.
const Json* member(const Json& object, const char* key) {
  if (!object.is_object()) return nullptr;
  const auto it = object.find(key);
  return it == object.end() || it->is_null() ? nullptr : &*it;
}

bool is_string(const Json* value) {
  return value != nullptr && value->is_string();
}

Error invalid(const std::string& param, std::string_view expected) {
  return Unexpected(invalid_request(
      "Invalid value for '" + param + "': expected " + std::string(expected) + ".", param));
}

// Anthropic refuses empty text blocks anywhere, and whitespace-only ones that stand alone
// ("text content blocks must contain non-whitespace text"); dropping both never loses a word.
void add_text(Json& blocks, const std::string& text) {
  if (!blank(text)) blocks.push_back(Json{{"type", "text"}, {"text", text}});
}

// An image_url part's URL as an image block: a base64 data URL becomes a base64 source, an
// http(s) URL a url source (docs/providers.md, "Anthropic: request").
Error add_image(Json& blocks, const std::string& url, const std::string& param) {
  if (has_scheme(url, "http") || has_scheme(url, "https")) {
    blocks.push_back(Json{{"type", "image"}, {"source", Json{{"type", "url"}, {"url", url}}}});
    return {};
  }
  const auto data_url = read_data_url(url);
  if (!data_url) return invalid(param, "a base64 data URL or an http(s) URL");
  std::string media = data_url->media_type;
  if (media == "image/jpg") media = "image/jpeg";  // a common misspelling of the registered type
  static constexpr std::array<std::string_view, 4> kMediaTypes = {"image/jpeg", "image/png",
                                                                  "image/gif", "image/webp"};
  if (std::find(kMediaTypes.begin(), kMediaTypes.end(), media) == kMediaTypes.end())
    return invalid(param, "an image/jpeg, image/png, image/gif or image/webp image");
  blocks.push_back(
      Json{{"type", "image"},
           {"source", Json{{"type", "base64"}, {"media_type", media}, {"data", data_url->data}}}});
  return {};
}

// The texts of a content that may only hold text (system, developer and tool messages): a string
// or an array of text parts. Absent content has none.
Error text_parts(const Json* content, const std::string& param, std::vector<std::string>& texts) {
  if (content == nullptr) return {};
  if (content->is_string()) {
    texts.push_back(content->get<std::string>());
    return {};
  }
  if (!content->is_array()) return invalid(param, "a string or an array of text parts");
  for (std::size_t j = 0; j < content->size(); ++j) {
    const Json& part = (*content)[j];
    const Json* text = member(part, "text");
    if (member(part, "type") == nullptr || part["type"] != "text" || !is_string(text))
      return invalid(indexed(param, j), "a text part");
    texts.push_back(text->get<std::string>());
  }
  return {};
}

class Encoder {
 public:
  Encoder(const Json& request, const Call& call) : request_(request), call_(call) {}

  Error encode(Json& out) {
    if (auto e = refuse_what_cannot_be_expressed(); !e) return e;
    std::uint64_t limit = 0;
    if (auto e = max_tokens(limit); !e) return e;
    if (auto e = messages(); !e) return e;
    if (turns_.empty()) {
      return Unexpected(unsupported(
          call_.provider.name + ": Anthropic needs a user or assistant message.", "messages"));
    }
    out = Json::object();
    out["model"] = call_.model.upstream;
    out["max_tokens"] = limit;
    if (!system_.empty()) out["system"] = system_;
    out["messages"] = std::move(turns_);
    if (auto e = sampling(out); !e) return e;
    if (auto e = tools(out); !e) return e;
    if (auto e = response_format(out); !e) return e;
    if (call_.stream) out["stream"] = true;
    return {};
  }

 private:
  Error refuse_what_cannot_be_expressed() const {
    const std::string& name = call_.provider.name;
    if (const Json* n = member(request_, "n"); n && n->is_number() && n->get<double>() > 1)
      return Unexpected(unsupported(name + ": Anthropic returns a single choice (n > 1).", "n"));
    if (const Json* l = member(request_, "logprobs"); l && *l == true)
      return Unexpected(
          unsupported(name + ": Anthropic does not return log probabilities.", "logprobs"));
    if (const Json* t = member(request_, "top_logprobs");
        t && t->is_number() && t->get<double>() > 0)
      return Unexpected(
          unsupported(name + ": Anthropic does not return log probabilities.", "top_logprobs"));
    if (const Json* m = member(request_, "modalities");
        m && m->is_array() && std::find(m->begin(), m->end(), Json("audio")) != m->end())
      return Unexpected(unsupported(name + ": Anthropic does not produce audio.", "modalities"));
    if (member(request_, "audio"))
      return Unexpected(unsupported(name + ": Anthropic does not produce audio.", "audio"));
    if (const Json* f = member(request_, "functions"); f && !(f->is_array() && f->empty()))
      return Unexpected(unsupported(
          name + ": the deprecated 'functions' are not translated; use 'tools'.", "functions"));
    return {};
  }

  // Anthropic requires a limit: the client's (max_completion_tokens, then the deprecated
  // max_tokens), else the model's configured one, else kDefaultMaxTokens.
  Error max_tokens(std::uint64_t& limit) const {
    for (const char* key : {"max_completion_tokens", "max_tokens"}) {
      const Json* v = member(request_, key);
      if (v == nullptr) continue;
      if (!v->is_number_unsigned() || v->get<std::uint64_t>() == 0)
        return invalid(key, "an integer of at least 1");
      limit = v->get<std::uint64_t>();
      return {};
    }
    limit = call_.model.max_tokens != 0 ? call_.model.max_tokens : kDefaultMaxTokens;
    return {};
  }

  Error messages() {
    const Json* list = member(request_, "messages");
    if (list == nullptr || !list->is_array()) return invalid("messages", "an array");
    std::vector<std::string> system_texts;
    for (std::size_t i = 0; i < list->size(); ++i) {
      const Json& m = (*list)[i];
      const std::string param = indexed("messages", i);
      if (!m.is_object()) return invalid(param, "an object");
      const Json* role = member(m, "role");
      const std::string r = is_string(role) ? role->get<std::string>() : std::string();
      Json blocks = Json::array();
      Error added;
      const char* turn = "user";
      if (r == "system" || r == "developer") {
        added = text_parts(member(m, "content"), param + ".content", system_texts);
      } else if (r == "user") {
        added = user_blocks(m, param, blocks);
      } else if (r == "assistant") {
        turn = "assistant";
        added = assistant_blocks(m, param, blocks);
      } else if (r == "tool") {
        added = tool_result(m, param, blocks);
      } else if (r == "function") {
        return Unexpected(unsupported(
            call_.provider.name + ": the deprecated 'function' role is not translated; use 'tool'.",
            param + ".role"));
      } else {
        return invalid(param + ".role", "system, developer, user, assistant or tool");
      }
      if (!added) return added;
      add_turn(turn, std::move(blocks));
    }
    for (const auto& text : system_texts) {
      if (blank(text)) continue;
      if (!system_.empty()) system_ += "\n\n";
      system_ += text;
    }
    trim_prefill();
    return {};
  }

  Error user_blocks(const Json& m, const std::string& param, Json& blocks) const {
    const std::string p = param + ".content";
    const Json* content = member(m, "content");
    if (content == nullptr) return invalid(p, "a string or an array of content parts");
    if (content->is_string()) {
      add_text(blocks, content->get<std::string>());
      return {};
    }
    if (!content->is_array()) return invalid(p, "a string or an array of content parts");
    for (std::size_t j = 0; j < content->size(); ++j) {
      const Json& part = (*content)[j];
      const std::string pp = indexed(p, j);
      const Json* type = member(part, "type");
      const std::string t = is_string(type) ? type->get<std::string>() : std::string();
      if (t == "text") {
        const Json* text = member(part, "text");
        if (!is_string(text)) return invalid(pp + ".text", "a string");
        add_text(blocks, text->get<std::string>());
      } else if (t == "image_url") {
        const Json* url = member(part, "image_url");
        if (url != nullptr && url->is_object()) url = member(*url, "url");
        if (!is_string(url)) return invalid(pp + ".image_url.url", "a string");
        if (auto e = add_image(blocks, url->get<std::string>(), pp + ".image_url.url"); !e)
          return e;
      } else if (t == "input_audio" || t == "file") {
        return Unexpected(unsupported(
            call_.provider.name + ": Anthropic does not take " + t + " parts.", pp + ".type"));
      } else {
        return invalid(pp + ".type", "text, image_url, input_audio or file");
      }
    }
    return {};
  }

  Error assistant_blocks(const Json& m, const std::string& param, Json& blocks) const {
    const std::string p = param + ".content";
    if (const Json* content = member(m, "content"); content && content->is_string()) {
      add_text(blocks, content->get<std::string>());
    } else if (content && content->is_array()) {
      for (std::size_t j = 0; j < content->size(); ++j) {
        // What the assistant said, refusals included: the model should see its own words.
        const Json& part = (*content)[j];
        const Json* type = member(part, "type");
        const Json* text = member(part, type && *type == "refusal" ? "refusal" : "text");
        if (!is_string(text)) return invalid(indexed(p, j), "a text or refusal part");
        add_text(blocks, text->get<std::string>());
      }
    } else if (content) {
      return invalid(p, "a string, an array of text parts or null");
    }
    if (member(m, "function_call")) {
      return Unexpected(
          unsupported(call_.provider.name +
                          ": the deprecated 'function_call' is not translated; use 'tool_calls'.",
                      param + ".function_call"));
    }
    const Json* calls = member(m, "tool_calls");
    if (calls == nullptr) return {};
    if (!calls->is_array()) return invalid(param + ".tool_calls", "an array");
    for (std::size_t j = 0; j < calls->size(); ++j) {
      const Json& c = (*calls)[j];
      const std::string cp = indexed(param + ".tool_calls", j);
      if (const Json* type = member(c, "type"); type && *type != "function") {
        return Unexpected(unsupported(
            call_.provider.name + ": Anthropic takes only function tool calls.", cp + ".type"));
      }
      const Json* id = member(c, "id");
      const Json* fn = member(c, "function");
      const Json* name = fn ? member(*fn, "name") : nullptr;
      if (!is_string(id)) return invalid(cp + ".id", "a string");
      if (!is_string(name)) return invalid(cp + ".function.name", "a string");
      Json input = Json::object();
      if (const Json* args = member(*fn, "arguments")) {
        const std::string ap = cp + ".function.arguments";
        if (!args->is_string()) return invalid(ap, "a string holding a JSON object");
        const std::string& text = args->get_ref<const std::string&>();
        if (!blank(text)) {
          // Validated first: our scanner bounds the nesting depth the DOM would recurse into.
          const bool valid = !api::json::validate(text);
          if (valid) input = Json::parse(text, nullptr, false);
          if (!valid || !input.is_object()) {
            return Unexpected(invalid_request(
                "Invalid value for '" + ap + "': expected a string holding a JSON object, got '" +
                    clip(text, 80) + "'.",
                ap));
          }
        }
      }
      blocks.push_back(Json{{"type", "tool_use"}, {"id", *id}, {"name", *name}, {"input", input}});
    }
    return {};
  }

  // A tool message: a tool_result block, which Anthropic takes in a user turn. A blank result
  // goes without content (which is optional), as Anthropic refuses blank text.
  Error tool_result(const Json& m, const std::string& param, Json& blocks) const {
    const Json* id = member(m, "tool_call_id");
    if (!is_string(id)) return invalid(param + ".tool_call_id", "a string");
    Json block = Json{{"type", "tool_result"}, {"tool_use_id", *id}};
    const Json* content = member(m, "content");
    if (content != nullptr && content->is_string()) {
      if (!blank(content->get_ref<const std::string&>())) block["content"] = *content;
    } else {
      std::vector<std::string> texts;
      if (auto e = text_parts(content, param + ".content", texts); !e) return e;
      Json text_blocks = Json::array();
      for (const auto& text : texts) add_text(text_blocks, text);
      if (!text_blocks.empty()) block["content"] = std::move(text_blocks);
    }
    blocks.push_back(std::move(block));
    return {};
  }

  // Anthropic takes strictly user/assistant turns: a message of the same role as the one
  // before joins it (tool results and the user message after them included), and a message
  // with nothing left to say adds no turn.
  void add_turn(const char* role, Json blocks) {
    if (blocks.empty()) return;
    if (!turns_.empty() && turns_.back()["role"] == role) {
      Json& content = turns_.back()["content"];
      for (auto& b : blocks) content.push_back(std::move(b));
      return;
    }
    turns_.push_back(Json{{"role", role}, {"content", std::move(blocks)}});
  }

  // A final assistant turn is a prefill, which Anthropic refuses with trailing whitespace.
  void trim_prefill() {
    if (turns_.empty() || turns_.back()["role"] != "assistant") return;
    Json& content = turns_.back()["content"];
    Json& last = content.back();
    if (last["type"] != "text") return;
    std::string text = last["text"].get<std::string>();
    text.erase(text.find_last_not_of(kWhitespace) + 1);
    last["text"] = text;  // add_text kept only blocks with non-whitespace text
  }

  Error sampling(Json& out) const {
    if (const Json* stop = member(request_, "stop")) {
      Json sequences = Json::array();
      // LiteLLM's observation: Anthropic refuses whitespace-only stop sequences.
      const auto take = [&sequences](const Json& s) {
        if (!s.is_string()) return false;
        if (!blank(s.get_ref<const std::string&>())) sequences.push_back(s);
        return true;
      };
      bool ok = true;
      if (stop->is_array()) {
        for (const auto& s : *stop) ok = take(s) && ok;
      } else {
        ok = take(*stop);
      }
      if (!ok) return invalid("stop", "a string or an array of strings");
      if (!sequences.empty()) out["stop_sequences"] = std::move(sequences);
    }
    if (const Json* t = member(request_, "temperature")) {
      if (!t->is_number()) return invalid("temperature", "a number");
      // OpenAI's range is 0–2, Anthropic's 0–1.
      const double v = t->get<double>();
      out["temperature"] = v > 1 ? Json(1.0) : v < 0 ? Json(0.0) : *t;
    }
    for (const char* key : {"top_p", "top_k"}) {
      const Json* v = member(request_, key);
      if (v == nullptr) continue;
      if (!v->is_number()) return invalid(key, "a number");
      out[key] = *v;
    }
    if (const Json* user = member(request_, "user");
        is_string(user) && !user->get_ref<const std::string&>().empty())
      out["metadata"] = Json{{"user_id", *user}};
    return {};
  }

  Error tools(Json& out) const {
    const Json* list = member(request_, "tools");
    if (list == nullptr) return {};
    if (!list->is_array()) return invalid("tools", "an array");
    if (list->empty()) return {};  // and no tool_choice without tools
    Json tools = Json::array();
    for (std::size_t j = 0; j < list->size(); ++j) {
      const Json& t = (*list)[j];
      const std::string tp = indexed("tools", j);
      if (const Json* type = member(t, "type"); type && *type != "function")
        return Unexpected(unsupported(
            call_.provider.name + ": Anthropic takes only function tools.", tp + ".type"));
      const Json* fn = member(t, "function");
      const Json* name = fn ? member(*fn, "name") : nullptr;
      if (!is_string(name)) return invalid(tp + ".function.name", "a string");
      Json tool = Json{{"name", *name}};
      if (const Json* d = member(*fn, "description"); is_string(d)) tool["description"] = *d;
      // `strict` has no equivalent: Anthropic validates tool input against the schema anyway.
      const Json* parameters = member(*fn, "parameters");
      tool["input_schema"] = parameters && parameters->is_object()
                                 ? *parameters
                                 : Json{{"type", "object"}, {"properties", Json::object()}};
      tools.push_back(std::move(tool));
    }
    out["tools"] = std::move(tools);

    Json choice;
    if (const Json* tc = member(request_, "tool_choice"); tc && tc->is_string()) {
      const std::string& s = tc->get_ref<const std::string&>();
      if (s == "auto") {
        choice = Json{{"type", "auto"}};
      } else if (s == "required") {
        choice = Json{{"type", "any"}};
      } else if (s == "none") {
        choice = Json{{"type", "none"}};
      } else {
        return invalid("tool_choice", "none, auto, required or a named function");
      }
    } else if (tc) {
      const Json* type = member(*tc, "type");
      const Json* fn = member(*tc, "function");
      const Json* name = fn ? member(*fn, "name") : nullptr;
      if (type && *type == "allowed_tools")
        return Unexpected(unsupported(
            call_.provider.name + ": Anthropic has no allowed_tools choice.", "tool_choice"));
      if (!type || *type != "function" || !is_string(name))
        return invalid("tool_choice", "none, auto, required or a named function");
      choice = Json{{"type", "tool"}, {"name", *name}};
    }
    if (const Json* parallel = member(request_, "parallel_tool_calls");
        parallel && *parallel == false) {
      if (choice.is_null()) choice = Json{{"type", "auto"}};
      // {"type":"none"} takes no such flag: without tool calls there is nothing to serialize.
      if (choice["type"] != "none") choice["disable_parallel_tool_use"] = true;
    }
    if (!choice.is_null()) out["tool_choice"] = std::move(choice);
    return {};
  }

  Error response_format(Json& out) const {
    const Json* format = member(request_, "response_format");
    if (format == nullptr) return {};
    const Json* type = member(*format, "type");
    if (!is_string(type))
      return invalid("response_format.type", "text, json_object or json_schema");
    Json schema;
    if (*type == "text") return {};
    if (*type == "json_object") {
      // GW: "any JSON object" is the schema that says what json_object promises.
      schema = Json{{"type", "object"}};
    } else if (*type == "json_schema") {
      const Json* spec = member(*format, "json_schema");
      const Json* given = spec ? member(*spec, "schema") : nullptr;
      schema = given && given->is_object() ? *given : Json{{"type", "object"}};
    } else {
      return invalid("response_format.type", "text, json_object or json_schema");
    }
    out["output_config"] =
        Json{{"format", Json{{"type", "json_schema"}, {"schema", std::move(schema)}}}};
    return {};
  }

  const Json& request_;
  const Call& call_;
  std::string system_;
  Json turns_ = Json::array();
};

}  // namespace

Result<void, ProviderError> encode_request(std::string_view client_body, const Call& call,
                                           std::string& body) {
  const Json request = Json::parse(client_body, nullptr, /*allow_exceptions=*/false);
  if (!request.is_object())
    return Unexpected(invalid_request("The request body must be a JSON object."));
  Json out;
  try {
    if (auto encoded = Encoder(request, call).encode(out); !encoded) return encoded;
  } catch (const Json::exception& e) {
    // Every access above is checked first; should one slip, the request fails, not the worker.
    return Unexpected(
        invalid_request(std::string("The request could not be translated: ") + e.what()));
  }
  body = out.dump(-1, ' ', false, Json::error_handler_t::replace);
  return {};
}

}  // namespace switchyard::providers::anthropic
