#include "switchyard/cache/completion.hpp"

#include <algorithm>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <utility>
#include <vector>

namespace switchyard::cache {

namespace {

// Ordered: what we write keeps the field order OpenAI uses.
using Json = nlohmann::ordered_json;

std::optional<Json> parse_object(std::string_view text) {
  Json doc = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) return std::nullopt;
  return doc;
}

std::string dump(const Json& doc) {
  // Text from providers is not always valid UTF-8; a cached answer must not throw on the way out.
  return doc.dump(-1, ' ', false, Json::error_handler_t::replace);
}

const Json* member(const Json& object, std::string_view name) {
  const auto it = object.find(name);
  return it == object.end() ? nullptr : &*it;
}

// null and [] both say "none": OpenAI-compatible servers send either for an absent list.
bool none(const Json* value) {
  return value == nullptr || value->is_null() || (value->is_array() && value->empty());
}

bool is_tool_finish(const Json& finish_reason) {
  return finish_reason == "tool_calls" || finish_reason == "function_call";
}

}  // namespace

bool storable_completion(std::string_view body) {
  const auto doc = parse_object(body);
  if (!doc || !none(member(*doc, "error"))) return false;
  if (const Json* object = member(*doc, "object"); object && *object != "chat.completion")
    return false;
  const Json* choices = member(*doc, "choices");
  if (!choices || !choices->is_array() || choices->empty()) return false;
  for (const Json& choice : *choices) {
    if (!choice.is_object()) return false;
    const Json* message = member(choice, "message");
    if (!message || !message->is_object()) return false;
    if (!none(member(*message, "tool_calls")) || !none(member(*message, "function_call")) ||
        !none(member(*message, "audio")))
      return false;
    const Json* finish_reason = member(choice, "finish_reason");
    if (!finish_reason || !finish_reason->is_string() ||
        finish_reason->get_ref<const std::string&>().empty() || is_tool_finish(*finish_reason))
      return false;
  }
  return true;
}

struct StreamAssembler::State {
  struct Choice {
    std::int64_t index = 0;
    std::string role;
    Json content;  // null until a delta carries a string
    std::vector<std::pair<std::string, std::string>> text_fields;  // refusal, reasoning_content…
    Json logprobs;  // null, or {"content": [...]|null, "refusal": [...]|null}
    std::string finish_reason;
  };

  bool done = false;
  bool broken = false;
  Json id, created, model, service_tier, system_fingerprint, usage;
  std::vector<Choice> choices;  // ordered by index

  Choice& choice(std::int64_t index) {
    const auto it = std::lower_bound(choices.begin(), choices.end(), index,
                                     [](const Choice& c, std::int64_t i) { return c.index < i; });
    if (it != choices.end() && it->index == index) return *it;
    Choice fresh;
    fresh.index = index;
    return *choices.insert(it, std::move(fresh));
  }

  // The first non-null value a chunk gives for a top-level field.
  static void take(Json& into, const Json& chunk, std::string_view name) {
    if (!into.is_null()) return;
    if (const Json* value = member(chunk, name)) into = *value;
  }

  // False when the delta makes the stream unstorable.
  static bool add_delta(Choice& choice, const Json& delta) {
    for (const auto& item : delta.items()) {
      // Not a structured binding: clang 14 (the fuzz build) cannot capture one in a lambda.
      const std::string& name = item.key();
      const Json& value = item.value();
      if (name == "role") {
        if (value.is_string()) choice.role = value.get<std::string>();
      } else if (value.is_string()) {
        const auto& text = value.get_ref<const std::string&>();
        if (name == "content") {
          if (choice.content.is_null()) choice.content = "";
          choice.content.get_ref<std::string&>() += text;
          continue;
        }
        auto field = std::find_if(choice.text_fields.begin(), choice.text_fields.end(),
                                  [&](const auto& f) { return f.first == name; });
        if (field == choice.text_fields.end()) {
          choice.text_fields.emplace_back(name, text);
        } else {
          field->second += text;
        }
      } else if (!none(&value)) {
        return false;  // tool_calls, function_call, audio: not a plain answer
      }
    }
    return true;
  }

  static bool add_logprobs(Choice& choice, const Json& logprobs) {
    if (logprobs.is_null()) return true;
    if (!logprobs.is_object()) return false;
    if (choice.logprobs.is_null())
      choice.logprobs = Json{{"content", nullptr}, {"refusal", nullptr}};
    for (const char* name : {"content", "refusal"}) {
      const Json* tokens = member(logprobs, name);
      if (!tokens || tokens->is_null()) continue;
      if (!tokens->is_array()) return false;
      Json& into = choice.logprobs[name];
      if (into.is_null()) into = Json::array();
      for (const Json& token : *tokens) into.push_back(token);
    }
    return true;
  }

  bool add_chunk(const Json& chunk) {
    if (!none(member(chunk, "error"))) return false;
    take(id, chunk, "id");
    take(created, chunk, "created");
    take(model, chunk, "model");
    take(service_tier, chunk, "service_tier");
    take(system_fingerprint, chunk, "system_fingerprint");
    if (const Json* u = member(chunk, "usage"); u && !u->is_null()) usage = *u;
    const Json* list = member(chunk, "choices");
    if (!list || list->is_null()) return true;
    if (!list->is_array()) return false;
    for (const Json& item : *list) {
      if (!item.is_object()) return false;
      std::int64_t index = 0;
      if (const Json* i = member(item, "index")) {
        if (!i->is_number_integer()) return false;
        index = i->get<std::int64_t>();
      }
      Choice& c = choice(index);
      if (const Json* delta = member(item, "delta"); delta && !delta->is_null()) {
        if (!delta->is_object() || !add_delta(c, *delta)) return false;
      }
      if (const Json* lp = member(item, "logprobs"); lp && !add_logprobs(c, *lp)) return false;
      if (const Json* finish = member(item, "finish_reason"); finish && !finish->is_null()) {
        if (!finish->is_string() || is_tool_finish(*finish)) return false;
        c.finish_reason = finish->get<std::string>();
      }
    }
    return true;
  }
};

StreamAssembler::StreamAssembler() : state_(std::make_unique<State>()) {}
StreamAssembler::~StreamAssembler() = default;
StreamAssembler::StreamAssembler(StreamAssembler&&) noexcept = default;
StreamAssembler& StreamAssembler::operator=(StreamAssembler&&) noexcept = default;

void StreamAssembler::add(std::string_view data) {
  State& s = *state_;
  if (s.broken) return;
  while (!data.empty() && (data.front() == ' ' || data.front() == '\n' || data.front() == '\r' ||
                           data.front() == '\t'))
    data.remove_prefix(1);
  while (!data.empty() &&
         (data.back() == ' ' || data.back() == '\n' || data.back() == '\r' || data.back() == '\t'))
    data.remove_suffix(1);
  if (s.done) {
    s.broken = true;  // nothing follows [DONE] in a stream we understand
    return;
  }
  if (data == "[DONE]") {
    s.done = true;
    return;
  }
  const auto chunk = parse_object(data);
  if (!chunk || !s.add_chunk(*chunk)) s.broken = true;
}

std::optional<std::string> StreamAssembler::completion() const {
  const State& s = *state_;
  if (s.broken || !s.done || s.choices.empty()) return std::nullopt;
  Json choices = Json::array();
  for (const State::Choice& c : s.choices) {
    if (c.finish_reason.empty()) return std::nullopt;
    Json message = Json::object();
    message["role"] = c.role.empty() ? "assistant" : c.role;
    message["content"] = c.content;
    for (const auto& [name, text] : c.text_fields) message[name] = text;
    choices.push_back(Json{{"index", c.index},
                           {"message", std::move(message)},
                           {"logprobs", c.logprobs},
                           {"finish_reason", c.finish_reason}});
  }
  Json out = Json::object();
  out["id"] = s.id.is_null() ? Json("") : s.id;
  out["object"] = "chat.completion";
  out["created"] = s.created.is_null() ? Json(0) : s.created;
  out["model"] = s.model.is_null() ? Json("") : s.model;
  if (!s.service_tier.is_null()) out["service_tier"] = s.service_tier;
  if (!s.system_fingerprint.is_null()) out["system_fingerprint"] = s.system_fingerprint;
  out["choices"] = std::move(choices);
  if (!s.usage.is_null()) out["usage"] = s.usage;
  return dump(out);
}

std::string replay_as_sse(std::string_view completion, bool include_usage) {
  const auto doc = parse_object(completion);
  if (!doc) return {};
  const Json* choices = member(*doc, "choices");
  if (!choices || !choices->is_array()) return {};

  Json base = Json::object();
  base["id"] = doc->value("id", Json(""));
  base["object"] = "chat.completion.chunk";
  base["created"] = doc->value("created", Json(0));
  base["model"] = doc->value("model", Json(""));
  for (const char* name : {"service_tier", "system_fingerprint"}) {
    if (const Json* value = member(*doc, name); value && !value->is_null()) base[name] = *value;
  }
  std::string out;
  const auto emit = [&](Json choice_list, const Json* usage) {
    Json chunk = base;
    chunk["choices"] = std::move(choice_list);
    if (include_usage) chunk["usage"] = usage ? *usage : Json(nullptr);
    out += "data: ";
    out += dump(chunk);
    out += "\n\n";
  };
  const auto one_choice = [](const Json& index, Json delta, Json logprobs, Json finish_reason) {
    return Json::array({Json{{"index", index},
                             {"delta", std::move(delta)},
                             {"logprobs", std::move(logprobs)},
                             {"finish_reason", std::move(finish_reason)}}});
  };

  std::int64_t position = 0;
  for (const Json& choice : *choices) {
    if (!choice.is_object()) continue;
    const Json index = choice.value("index", Json(position));
    ++position;
    const Json* message_ptr = member(choice, "message");
    const Json message = message_ptr && message_ptr->is_object() ? *message_ptr : Json::object();
    const Json* content = member(message, "content");
    const bool has_text = content && content->is_string();

    emit(one_choice(index,
                    Json{{"role", message.value("role", Json("assistant"))},
                         {"content", has_text ? Json("") : Json(nullptr)}},
                    nullptr, nullptr),
         nullptr);

    Json rest = Json::object();
    if (has_text && !content->get_ref<const std::string&>().empty()) rest["content"] = *content;
    for (const auto& [name, value] : message.items()) {
      if (name == "role" || name == "content" || none(&value)) continue;
      rest[name] = value;
    }
    const Json logprobs = choice.value("logprobs", Json(nullptr));
    if (!rest.empty() || !logprobs.is_null())
      emit(one_choice(index, std::move(rest), logprobs, nullptr), nullptr);

    emit(one_choice(index, Json::object(), nullptr, choice.value("finish_reason", Json(nullptr))),
         nullptr);
  }
  if (const Json* usage = member(*doc, "usage"); include_usage && usage && !usage->is_null())
    emit(Json::array(), usage);
  out += "data: [DONE]\n\n";
  return out;
}

}  // namespace switchyard::cache
