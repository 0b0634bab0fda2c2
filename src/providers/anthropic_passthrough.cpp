#include "anthropic_passthrough.hpp"

#include "provider_errors.hpp"
#include "switchyard/api/json.hpp"
#include "switchyard/upstream/sse.hpp"

namespace switchyard::providers::anthropic {

namespace json = api::json;

namespace {

// `text` with the string value `raw` (a view into it) replaced by `quoted`, appended to `out`.
void append_replaced(std::string& out, std::string_view text, std::string_view raw,
                     std::string_view model) {
  const auto at = static_cast<std::size_t>(raw.data() - text.data());
  out.append(text.substr(0, at));
  json::append_quoted(out, model);
  out.append(text.substr(at + raw.size()));
}

}  // namespace

Result<void, ProviderError> relay_message(std::string& body, const Call& call, Usage& usage) {
  json::Value type, model, usage_raw;
  const auto invalid = json::scan(body, [&](std::string_view key, const json::Value& v) {
    if (json::key_equals(key, "type")) type = v;
    if (json::key_equals(key, "model")) model = v;
    if (json::key_equals(key, "usage")) usage_raw = v;
  });
  if (invalid) return Unexpected(bad_json(call.provider.name, *invalid));
  if (type.raw == "\"error\"")
    return Unexpected(classify_error(error_facts(0, body), call.provider.name));
  if (type.raw != "\"message\"")
    return Unexpected(bad_response(call.provider.name, "expected a message"));
  if (usage_raw.type == json::Type::object) {
    TokenCounts counts;
    counts.read(usage_raw.raw);
    usage = counts.usage();
  }
  if (model.type == json::Type::string) {
    std::string out;
    out.reserve(body.size() + call.response_model.size());
    append_replaced(out, body, model.raw, call.response_model);
    body = std::move(out);
  }
  return {};
}

ChatStream::State RelayedStream::on_event(const upstream::SseEvent& event, std::string& out) {
  if (!event.has_data) {  // comments and field-only events
    out.append(event.raw);
    return State::open;
  }
  json::Value type, message, usage;
  const auto invalid = json::scan(event.data, [&](std::string_view key, const json::Value& v) {
    if (json::key_equals(key, "type")) type = v;
    if (json::key_equals(key, "message")) message = v;
    if (json::key_equals(key, "usage")) usage = v;
  });
  if (invalid) return fail(bad_json(call_.provider.name, *invalid));
  // The SDKs dispatch on the `event:` field; the data's `type` stands in when a proxy dropped it.
  std::string storage;
  const std::string_view kind = event.name.empty() ? text_of(type, storage) : event.name;
  if (kind == "error") return fail(classify_error(error_facts(0, event.data), call_.provider.name));
  if (kind == "message_start" && message.type == json::Type::object) {
    relay_start(event.data, message, out);
  } else {
    out.append(event.raw);
  }
  // message_delta repeats the counts cumulatively: later reports overwrite.
  if (kind == "message_delta" && usage.type == json::Type::object) counts_.read(usage.raw);
  usage_ = counts_.usage();
  // Until a block says something, a target may still be replaced (a started message and an
  // empty block are only a preamble).
  if (kind == "content_block_delta" || kind == "message_delta" || kind == "message_stop")
    said_something_ = true;
  return kind == "message_stop" ? State::done : State::open;
}

ChatStream::State RelayedStream::on_end(std::string&) {
  return fail(bad_response(call_.provider.name, "the stream ended before message_stop"));
}

void RelayedStream::relay_start(std::string_view data, const json::Value& message,
                                std::string& out) {
  json::Value model;
  json::for_each_member(message.raw, [&](std::string_view key, const json::Value& v) {
    if (json::key_equals(key, "model") && v.type == json::Type::string) model = v;
    if (json::key_equals(key, "usage") && v.type == json::Type::object) counts_.read(v.raw);
  });
  out += "event: message_start\ndata: ";
  if (model.raw.empty()) {
    out.append(data);
  } else {
    append_replaced(out, data, model.raw, call_.response_model);
  }
  out += "\n\n";
}

}  // namespace switchyard::providers::anthropic

namespace switchyard::providers {

Result<std::string, ProviderError> anthropic_as_openai(std::string_view answer, bool stream,
                                                       const Call& call) {
  std::string out;
  if (!stream) {
    out.assign(answer);
    Usage usage;
    auto decoded = anthropic::decode_message(out, call, usage);
    if (!decoded) return Unexpected(std::move(decoded).error());
    return out;
  }
  anthropic::MessageStream decoder(call);
  upstream::SseParser sse(answer.size() + 1);
  sse.feed(answer);
  if (pump(decoder, sse, out, /*upstream_ended=*/true) != ChatStream::State::done)
    return Unexpected(decoder.error());
  return out;
}

}  // namespace switchyard::providers
