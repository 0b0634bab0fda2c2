#include "anthropic_stream.hpp"

#include "provider_errors.hpp"
#include "switchyard/upstream/sse.hpp"

namespace switchyard::providers::anthropic {

namespace json = api::json;

struct MessageStream::Event {
  json::Value type;
  json::Value index;
  json::Value message;
  json::Value content_block;
  json::Value delta;
  json::Value usage;
};

namespace {

bool is_object_text(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  return first != std::string_view::npos && text[first] == '{';
}

// Calls on_member for each member of `value` when it is an object.
template <class OnMember>
void members(const json::Value& value, OnMember&& on_member) {
  if (value.type == json::Type::object) json::for_each_member(value.raw, on_member);
}

}  // namespace

MessageStream::MessageStream(const Call& call) : call_(call) {}

ChatStream::State MessageStream::on_event(const upstream::SseEvent& event, std::string& out) {
  if (!event.has_data) {
    if (event.name == "ping") ping(out);
    return State::open;  // comments and field-only events
  }
  Event e;
  const auto invalid = json::scan(event.data, [&e](std::string_view key, const json::Value& v) {
    if (json::key_equals(key, "type")) e.type = v;
    if (json::key_equals(key, "index")) e.index = v;
    if (json::key_equals(key, "message")) e.message = v;
    if (json::key_equals(key, "content_block")) e.content_block = v;
    if (json::key_equals(key, "delta")) e.delta = v;
    if (json::key_equals(key, "usage")) e.usage = v;
  });
  if (invalid) {
    return fail(bad_response(call_.provider.name, std::string("invalid stream event (") +
                                                      invalid->what + " at byte " +
                                                      std::to_string(invalid->offset) + ")"));
  }
  if (!is_object_text(event.data))
    return fail(bad_response(call_.provider.name, "a stream event that is not a JSON object"));

  // The SDKs dispatch on the `event:` field; the data's `type` says the same and stands in
  // when a proxy dropped the field.
  std::string type_storage;
  const std::string_view type = event.name.empty() ? text_of(e.type, type_storage) : event.name;
  if (type == "ping") {
    ping(out);
    return State::open;
  }
  if (type == "error") return fail(classify_error(error_facts(0, event.data), call_.provider.name));
  if (type == "message_start") return message_start(e, out);

  const bool known = type == "content_block_start" || type == "content_block_delta" ||
                     type == "content_block_stop" || type == "message_delta" ||
                     type == "message_stop";
  // Anthropic's versioning policy adds event types; clients are to ignore unknown ones.
  if (!known) return State::open;
  if (!writer_) {
    return fail(bad_response(call_.provider.name,
                             "a '" + std::string(type) + "' event before message_start"));
  }
  if (type == "content_block_start") return block_start(e, out);
  if (type == "content_block_delta") return block_delta(e, out);
  if (type == "message_delta") return message_delta(e, out);
  if (type == "message_stop") return message_stop(out);
  return State::open;  // content_block_stop: OpenAI has no block boundaries
}

ChatStream::State MessageStream::on_end(std::string&) {
  return fail(bad_response(call_.provider.name, "the stream ended before message_stop"));
}

ChatStream::State MessageStream::message_start(const Event& e, std::string& out) {
  if (writer_) return State::open;  // a repeated message_start has nothing new to say
  json::Value id;
  json::Value usage;
  members(e.message, [&](std::string_view key, const json::Value& v) {
    if (json::key_equals(key, "id")) id = v;
    if (json::key_equals(key, "usage")) usage = v;
  });
  std::string completion_id = "chatcmpl-";
  if (id.type == json::Type::string) {
    completion_id += json::unescape(id.raw);
  } else {
    completion_id += call_.request_id;
  }
  writer_.emplace(completion_id, call_);
  if (usage.type == json::Type::object) counts_.read(usage.raw);
  usage_ = counts_.usage();
  writer_->role(out);
  return State::open;
}

ChatStream::State MessageStream::block_start(const Event& e, std::string& out) {
  json::Value kind_value;
  json::Value id;
  json::Value name;
  json::Value text;
  members(e.content_block, [&](std::string_view key, const json::Value& v) {
    if (json::key_equals(key, "type")) kind_value = v;
    if (json::key_equals(key, "id")) id = v;
    if (json::key_equals(key, "name")) name = v;
    if (json::key_equals(key, "text")) text = v;
  });
  std::string kind_storage;
  const std::string_view kind = text_of(kind_value, kind_storage);
  if (kind == "tool_use") {
    const int k = static_cast<int>(tool_blocks_.size());
    tool_blocks_.emplace_back(count_of(e.index), k);
    std::string id_storage;
    std::string name_storage;
    writer_->tool_call(out, k, text_of(id, id_storage), text_of(name, name_storage), "");
    said_something_ = true;
  } else if (kind == "text") {
    // Anthropic opens text blocks empty; should one ever carry text, it is not lost.
    const std::string_view t = text_of(text, scratch_);
    if (!t.empty()) {
      writer_->content(out, t);
      said_something_ = true;
    }
  }
  // thinking, redacted_thinking, server tools: nothing for an OpenAI client.
  return State::open;
}

ChatStream::State MessageStream::block_delta(const Event& e, std::string& out) {
  json::Value kind_value;
  json::Value text;
  json::Value partial_json;
  members(e.delta, [&](std::string_view key, const json::Value& v) {
    if (json::key_equals(key, "type")) kind_value = v;
    if (json::key_equals(key, "text")) text = v;
    if (json::key_equals(key, "partial_json")) partial_json = v;
  });
  std::string kind_storage;
  const std::string_view kind = text_of(kind_value, kind_storage);
  if (kind == "text_delta") {
    const std::string_view t = text_of(text, scratch_);
    if (t.empty()) return State::open;
    writer_->content(out, t);
    said_something_ = true;
  } else if (kind == "input_json_delta") {
    // Deltas of blocks that are not tool_use (a server tool's input) have no tool call.
    const auto k = tool_index(count_of(e.index));
    const std::string_view fragment = text_of(partial_json, scratch_);
    if (!k || fragment.empty()) return State::open;
    writer_->tool_arguments(out, *k, fragment);
    said_something_ = true;
  }
  // thinking_delta, signature_delta, citations_delta: nothing for an OpenAI client.
  return State::open;
}

ChatStream::State MessageStream::message_delta(const Event& e, std::string& out) {
  json::Value stop_reason;
  members(e.delta, [&](std::string_view key, const json::Value& v) {
    if (json::key_equals(key, "stop_reason")) stop_reason = v;
  });
  // Cumulative counts: each report replaces the last.
  if (e.usage.type == json::Type::object) {
    counts_.read(e.usage.raw);
    usage_ = counts_.usage();
  }
  if (stop_reason.type == json::Type::string && !finished_) {
    std::string storage;
    writer_->finish(out, finish_reason(text_of(stop_reason, storage)));
    finished_ = true;
    said_something_ = true;
  }
  return State::open;
}

ChatStream::State MessageStream::message_stop(std::string& out) {
  // A message_delta always names the stop reason; should it not have, OpenAI clients still get
  // their finish chunk.
  if (!finished_) {
    writer_->finish(out, "stop");
    finished_ = true;
    said_something_ = true;
  }
  if (call_.include_usage) {
    writer_->usage(out, usage_);
    said_something_ = true;
  }
  ChunkWriter::done(out);
  return State::done;
}

void MessageStream::ping(std::string& out) const {
  // A keep-alive comment for the client — but only once its stream has begun: until then the
  // dispatcher holds the output back, and a comment must not count as having said something.
  if (said_something_) out += ": ping\n\n";
}

std::optional<int> MessageStream::tool_index(std::uint64_t block) const {
  for (const auto& [index, k] : tool_blocks_)
    if (index == block) return k;
  return std::nullopt;
}

}  // namespace switchyard::providers::anthropic
