// OpenAI and every OpenAI-compatible API (DeepSeek, Mistral, Groq, OpenRouter, vLLM, Ollama…),
// and Azure OpenAI, which speaks the same body under another path and key header.
//
// The client's body travels as it is with only `model` replaced — no DOM round trip — unless a
// provider quirk needs a field renamed (docs/providers.md, "OpenAI-compatible: presets");
// responses are relayed as they come, with only `model` rewritten to what the client asked for.
#include <algorithm>
#include <charconv>

#include <nlohmann/json.hpp>

#include "adapters.hpp"
#include "openai_output.hpp"
#include "provider_errors.hpp"
#include "request_head.hpp"
#include "switchyard/api/chat_request.hpp"
#include "switchyard/api/embeddings_request.hpp"
#include "switchyard/api/json.hpp"
#include "switchyard/upstream/sse.hpp"

namespace switchyard::providers {

namespace {

namespace json = api::json;
using Json = nlohmann::ordered_json;

std::uint64_t number_of(const json::Value& v) {
  std::uint64_t n = 0;
  if (v.type == json::Type::number) std::from_chars(v.raw.data(), v.raw.data() + v.raw.size(), n);
  return n;
}

// OpenAI's usage object (also in stream chunks).
void read_usage(std::string_view raw, Usage& usage) {
  usage.reported = true;
  json::for_each_member(raw, [&](std::string_view key, const json::Value& v) {
    if (json::key_equals(key, "prompt_tokens")) {
      usage.prompt = number_of(v);
    } else if (json::key_equals(key, "completion_tokens")) {
      usage.completion = number_of(v);
    } else if (json::key_equals(key, "total_tokens")) {
      usage.total = number_of(v);
    } else if (v.type == json::Type::object) {
      const bool prompt = json::key_equals(key, "prompt_tokens_details");
      const bool completion = json::key_equals(key, "completion_tokens_details");
      json::for_each_member(v.raw, [&](std::string_view k, const json::Value& d) {
        if (prompt && json::key_equals(k, "cached_tokens")) usage.cached = number_of(d);
        if (completion && json::key_equals(k, "reasoning_tokens")) usage.reasoning = number_of(d);
      });
    }
  });
}

// True for a chunk that carries nothing yet: the role preamble (`delta: {role, content: ""}`)
// with no finish reason and no usage.
bool says_nothing_yet(std::string_view chunk) {
  bool nothing = true;
  json::for_each_member(chunk, [&](std::string_view key, const json::Value& v) {
    if (json::key_equals(key, "usage") && v.type != json::Type::null) nothing = false;
    if (!json::key_equals(key, "choices") || v.type != json::Type::array) return;
    json::for_each_element(v.raw, [&](const json::Value& choice) {
      if (choice.type != json::Type::object) return;
      json::for_each_member(choice.raw, [&](std::string_view k, const json::Value& cv) {
        if (json::key_equals(k, "finish_reason") && cv.type != json::Type::null) nothing = false;
        if (!json::key_equals(k, "delta") || cv.type != json::Type::object) return;
        json::for_each_member(cv.raw, [&](std::string_view dk, const json::Value& dv) {
          const bool empty = dv.type == json::Type::null || dv.raw == "\"\"";
          if (!json::key_equals(dk, "role") && !empty) nothing = false;
        });
      });
    });
  });
  return nothing;
}

constexpr std::string_view kIncludeUsage = R"("stream_options":{"include_usage":true})";

// What an OpenAI-style error says: {"error":{message,type,param,code}}, the flat form of
// Mistral and older vLLM ({"object":"error","message",…}), and OpenRouter's numeric codes.
ErrorFacts error_facts(int status, std::string_view body) {
  ErrorFacts facts;
  facts.status = status;
  auto take = [&facts](std::string_view key, const json::Value& v) {
    if (v.type != json::Type::string) return;
    if (json::key_equals(key, "message")) facts.message = json::unescape(v.raw);
    if (json::key_equals(key, "type")) facts.type = json::unescape(v.raw);
    if (json::key_equals(key, "code")) facts.code = json::unescape(v.raw);
    if (json::key_equals(key, "param")) facts.param = json::unescape(v.raw);
  };
  const auto invalid = json::scan(body, [&](std::string_view key, const json::Value& v) {
    if (json::key_equals(key, "error") && v.type == json::Type::object) {
      json::for_each_member(v.raw, take);
    } else if (json::key_equals(key, "error") && v.type == json::Type::string) {
      facts.message = json::unescape(v.raw);  // {"error": "…"} (some local servers)
    } else {
      take(key, v);
    }
  });
  if (invalid || facts.message.empty()) facts.message = clip(body);
  return facts;
}

// What inspect() saw of a body or chunk besides its validity.
struct Seen {
  json::Value model;
  // The usage chunk that ends a stream asked for it: `choices` empty, `usage` an object.
  bool usage_only() const { return usage && no_choices; }
  bool usage = false;
  bool no_choices = false;
};

// Checks a response body or stream chunk on the way through — valid JSON, no error member (which
// stands for `error_status`) — and reads its `model` value and usage in the same pass.
Result<void, ProviderError> inspect(std::string_view text, std::string_view provider,
                                    int error_status, Seen& seen, Usage& usage) {
  bool has_error = false;
  const auto invalid = json::scan(text, [&](std::string_view key, const json::Value& v) {
    if (json::key_equals(key, "model")) seen.model = v;
    if (json::key_equals(key, "error")) has_error = true;
    if (json::key_equals(key, "usage") && v.type == json::Type::object) {
      seen.usage = true;
      read_usage(v.raw, usage);
    }
    if (json::key_equals(key, "choices") && v.type == json::Type::array)
      seen.no_choices = v.raw.find_first_not_of(" \t\r\n", 1) == v.raw.size() - 1;
  });
  if (invalid) return Unexpected(bad_json(provider, *invalid));
  if (has_error) return Unexpected(classify_error(error_facts(error_status, text), provider));
  return {};
}

// Mistral accepts only tool-call ids of 9 letters and digits; others (OpenAI's "call_…",
// Anthropic's "toolu_…") are mapped to one, the same way in the assistant's tool_calls and in
// the tool messages answering them, so the pairs still match.
std::string mistral_tool_id(const std::string& id) {
  const bool fits =
      id.size() == 9 && std::all_of(id.begin(), id.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
      });
  if (fits) return id;
  static constexpr char kAlphabet[] =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  std::uint64_t h = 1469598103934665603ULL;  // FNV-1a: stable across runs and replicas
  for (const char c : id) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
  std::string out(9, 'a');
  for (char& c : out) {
    c = kAlphabet[h % 62];
    h /= 62;
    if (h == 0) h = 0x9E3779B97F4A7C15ULL;
  }
  return out;
}

class OpenAiStream final : public ChatStream {
 public:
  // `strip_usage`: the gateway asked for usage the client did not; its chunk is not relayed.
  OpenAiStream(const Call& call, bool strip_usage)
      : provider_(call.provider.name), strip_usage_(strip_usage) {
    json::append_quoted(quoted_model_, call.response_model);
  }

  State on_event(const upstream::SseEvent& event, std::string& out) override {
    if (!event.has_data) {
      // Keep-alive comments and blank lines (DeepSeek while queued, OpenRouter's
      // "PROCESSING"): the client's too, once its stream has begun.
      if (said_something_) out += event.raw;
      return State::open;
    }
    if (event.data == "[DONE]") {
      ChunkWriter::done(out);
      return State::done;
    }
    Seen seen;
    // OpenAI, vLLM and OpenRouter report a failure after the head as an error event
    // (docs/providers.md, "OpenAI-compatible: streaming").
    if (auto checked = inspect(event.data, provider_, 500, seen, usage_); !checked)
      return fail(std::move(checked).error());
    if (strip_usage_ && seen.usage_only()) return State::open;
    const json::Value& model = seen.model;
    said_something_ = said_something_ || !says_nothing_yet(event.data);
    if (model.type != json::Type::string || model.raw == quoted_model_) {
      out += event.raw;
      return State::open;
    }
    const auto at = static_cast<std::size_t>(model.raw.data() - event.data.data());
    out += "data: ";
    out += event.data.substr(0, at);
    out += quoted_model_;
    out += event.data.substr(at + model.raw.size());
    out += "\n\n";
    return State::open;
  }

  State on_end(std::string&) override {
    return fail(bad_response(provider_, "the stream ended without [DONE]"));
  }

 private:
  std::string provider_;
  std::string quoted_model_;
  bool strip_usage_;
};

class OpenAiAdapter final : public Adapter {
 public:
  explicit OpenAiAdapter(const config::Provider& provider)
      : provider_(provider),
        head_(provider, credentials(provider)),
        chat_path_(fixed_path("/chat/completions")),
        embeddings_path_(fixed_path("/embeddings")) {}

  Result<void, ProviderError> encode_chat(const api::ChatRequest& chat, const Call& call,
                                          std::string& head, std::string& body) const override {
    const std::string p = chat_path_.empty() ? deployment_path(call, "/chat/completions") : "";
    const std::string_view path = chat_path_.empty() ? std::string_view(p) : chat_path_;
    const bool ask_usage = asks_usage(call);
    // Searched only when needed: a scan of every body would cost more than the rest of encoding.
    const bool has_options =
        ask_usage && chat.body().find("\"stream_options\"") != std::string_view::npos;
    if (needs_rewrite(chat.body()) || (ask_usage && has_options) ||
        !chat.preferred_provider().empty()) {
      auto rewritten = rewrite(chat.body(), call, body);
      if (!rewritten) return rewritten;
      head_.write(head, path, body.size(), call);
      return {};
    }
    if (ask_usage) {
      // No DOM for this: the member goes in right after the body's opening brace.
      const std::string_view client = chat.body();
      const std::size_t open = client.find('{') + 1;
      const std::size_t model_at = chat.model_offset();
      body.assign(client.substr(0, open));
      body += kIncludeUsage;
      body += ',';
      body += client.substr(open, model_at - open);
      body += call.quoted_upstream;
      body += client.substr(model_at + chat.model_raw().size());
      head_.write(head, path, body.size(), call);
      return {};
    }
    body.clear();
    head_.write(head, path,
                chat.body().size() - chat.model_raw().size() + call.quoted_upstream.size(), call);
    return {};
  }

  Result<void, ProviderError> decode_chat(std::string& body, const Call& call,
                                          Usage& usage) const override {
    return relay(body, call, usage);
  }

  std::unique_ptr<ChatStream> chat_stream(const Call& call) const override {
    return std::make_unique<OpenAiStream>(call, asks_usage(call));
  }

  Result<void, ProviderError> encode_embeddings(const api::EmbeddingsRequest& request,
                                                const Call& call, std::string& head,
                                                std::string& body) const override {
    body.clear();
    head_.write(
        head, embeddings_path_.empty() ? deployment_path(call, "/embeddings") : embeddings_path_,
        request.body().size() - request.model_raw().size() + call.quoted_upstream.size(), call);
    return {};
  }

  Result<void, ProviderError> decode_embeddings(std::string& body, const Call& call,
                                                Usage& usage) const override {
    return relay(body, call, usage);
  }

  void encode_probe(std::string_view path, std::string& head) const override {
    head_.write_get(head, path);
  }

  ProviderError decode_error(int status, std::string_view body) const override {
    return classify_error(error_facts(status, body), provider_.name);
  }

 private:
  static std::string credentials(const config::Provider& p) {
    if (p.api_key.empty()) return {};
    // Azure takes its resource key in api-key (docs/providers.md, "Azure OpenAI").
    if (p.type == config::ProviderType::azure) return "api-key: " + p.api_key + "\r\n";
    return "Authorization: Bearer " + p.api_key + "\r\n";
  }

  // Azure: the deployment in the path selects the model, api-version in the query; the "v1"
  // API instead takes OpenAI's paths under /openai/v1 and the deployment as `model`. Paths that
  // do not depend on the model are built once; empty means "per deployment".
  std::string fixed_path(std::string_view operation) const {
    if (provider_.type != config::ProviderType::azure) return std::string(operation);
    if (provider_.api_version == "v1") return "/openai/v1" + std::string(operation);
    return {};
  }
  std::string deployment_path(const Call& call, std::string_view operation) const {
    std::string p = "/openai/deployments/";
    append_url_encoded(p, call.model.upstream);
    p += operation;
    p += "?api-version=";
    append_url_encoded(p, provider_.api_version);
    return p;
  }

  // A stream's cost needs its usage, which OpenAI-style servers send only when asked
  // (stream_options.include_usage). Mistral's API refuses unknown members and reports usage in
  // its last chunk anyway.
  bool asks_usage(const Call& call) const {
    return call.stream && !call.include_usage && provider_.preset == config::Preset::openai;
  }

  bool needs_rewrite(std::string_view body) const {
    // A cheap look before any parse: most bodies have nothing a quirk touches.
    const auto has = [body](std::string_view key) {
      return body.find(key) != std::string_view::npos;
    };
    switch (provider_.max_tokens_field) {
      case config::MaxTokensField::max_tokens:
        if (has("\"max_completion_tokens\"")) return true;
        break;
      case config::MaxTokensField::max_completion_tokens:
        if (has("\"max_tokens\"")) return true;
        break;
      case config::MaxTokensField::as_sent:
        break;
    }
    return provider_.preset == config::Preset::mistral &&
           (has("\"tool_call") || has("\"seed\"") || has("\"required\""));
  }

  Result<void, ProviderError> rewrite(std::string_view client_body, const Call& call,
                                      std::string& body) const {
    Json doc = Json::parse(client_body, nullptr, /*allow_exceptions=*/false);
    if (!doc.is_object())
      return Unexpected(invalid_request("The request body must be a JSON object."));
    doc["model"] = call.model.upstream;
    // The gateway's routing hint; OpenAI takes metadata only with `store`.
    if (auto metadata = doc.find("metadata"); metadata != doc.end() && metadata->is_object()) {
      metadata->erase("preferred_provider");
      if (metadata->empty()) doc.erase(metadata);
    }
    if (asks_usage(call)) {
      auto& options = doc["stream_options"];
      if (!options.is_object()) options = Json::object();
      options["include_usage"] = true;
    }
    auto rename = [&doc](const char* from, const char* to) {
      auto it = doc.find(from);
      if (it == doc.end()) return;
      if (!doc.contains(to)) doc[to] = *it;
      doc.erase(from);
    };
    if (provider_.max_tokens_field == config::MaxTokensField::max_tokens)
      rename("max_completion_tokens", "max_tokens");
    if (provider_.max_tokens_field == config::MaxTokensField::max_completion_tokens)
      rename("max_tokens", "max_completion_tokens");
    if (provider_.preset == config::Preset::mistral) {
      rename("seed", "random_seed");
      if (auto it = doc.find("tool_choice"); it != doc.end() && *it == "required") *it = "any";
      if (auto messages = doc.find("messages"); messages != doc.end() && messages->is_array()) {
        for (auto& m : *messages) {
          if (!m.is_object()) continue;
          if (auto id = m.find("tool_call_id"); id != m.end() && id->is_string())
            *id = mistral_tool_id(id->get<std::string>());
          auto calls = m.find("tool_calls");
          if (calls == m.end() || !calls->is_array()) continue;
          for (auto& c : *calls) {
            if (auto id = c.find("id"); c.is_object() && id != c.end() && id->is_string())
              *id = mistral_tool_id(id->get<std::string>());
          }
        }
      }
    }
    body = doc.dump(-1, ' ', false, Json::error_handler_t::replace);
    return {};
  }

  // A 2xx body relayed as it came, with `model` rewritten and leading blank lines (DeepSeek's
  // keep-alives while a request is queued) dropped.
  Result<void, ProviderError> relay(std::string& body, const Call& call, Usage& usage) const {
    Seen seen;
    if (auto checked = inspect(body, provider_.name, 502, seen, usage); !checked) return checked;
    const json::Value& model = seen.model;
    if (model.type == json::Type::string) {
      std::string quoted;
      json::append_quoted(quoted, call.response_model);
      if (quoted != model.raw) {
        const auto at = static_cast<std::size_t>(model.raw.data() - body.data());
        body.replace(at, model.raw.size(), quoted);
      }
    }
    const auto first = body.find_first_not_of(" \t\r\n");
    if (first != std::string::npos && first > 0) body.erase(0, first);
    return {};
  }

  const config::Provider& provider_;
  RequestHead head_;
  std::string chat_path_;
  std::string embeddings_path_;
};

}  // namespace

std::unique_ptr<Adapter> make_openai_adapter(const config::Provider& provider) {
  return std::make_unique<OpenAiAdapter>(provider);
}

}  // namespace switchyard::providers
