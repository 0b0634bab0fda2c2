#include "switchyard/api/chat_request.hpp"

#include <array>

#include "request_fields.hpp"
#include "switchyard/api/json.hpp"

namespace switchyard::api {

namespace {

constexpr std::array<std::string_view, 6> kRoles = {"system",    "developer", "user",
                                                    "assistant", "tool",      "function"};

// What the single pass learnt about one message.
struct MessageFacts {
  json::Type type = json::Type::object;
  bool has_role = false;
  json::Value role;
};

// Checks messages[i] has a known role; the rest of a message is the provider's to judge. Runs for
// every message of every request, so it allocates only to report a problem.
std::optional<ApiError> check_message(const MessageFacts& m, std::size_t i) {
  auto param = [i] { return "messages[" + std::to_string(i) + "]"; };
  if (m.type != json::Type::object) return wrong_type(param(), "an object", m.type);
  if (!m.has_role)
    return errors::invalid_request("Missing required parameter: '" + param() + ".role'.",
                                   "messages", "missing_required_parameter");
  if (m.role.type != json::Type::string)
    return wrong_type(param() + ".role", "a string", m.role.type);
  const std::string_view inner = m.role.raw.substr(1, m.role.raw.size() - 2);
  for (const auto r : kRoles)
    if (json::key_equals(inner, r)) return std::nullopt;
  return errors::invalid_request("Invalid value: '" + json::unescape(m.role.raw) +
                                     "'. Supported values are: 'system', 'developer', 'user', "
                                     "'assistant', 'tool' and 'function'.",
                                 "messages", "invalid_value");
}

}  // namespace

Result<ChatRequest, ApiError> parse_chat_request(std::string_view body) {
  ChatRequest r;
  r.body_ = body;

  enum Field { kModel, kMessages, kStream, kStreamOptions, kMetadata, kFieldCount };
  static constexpr std::array<std::string_view, kFieldCount> kNames = {
      "model", "messages", "stream", "stream_options", "metadata"};
  std::array<json::Value, kFieldCount> fields{};
  std::array<bool, kFieldCount> seen{};
  std::string_view duplicate;

  auto first = body.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos)
    return Unexpected(
        errors::invalid_request("The request body is empty; expected a JSON object."));
  if (body[first] != '{') {
    if (auto err = json::validate(body))
      return Unexpected(errors::invalid_json(err->what, err->offset));
    return Unexpected(errors::invalid_request("The request body must be a JSON object."));
  }
  // One pass validates the whole body and reads the fields, walking into `messages` for the
  // roles; problems with a message are reported only once the JSON is known to be valid.
  std::optional<ApiError> bad_message;
  json::Cursor c(body);
  c.skip_ws();
  auto read_message = [&] {
    MessageFacts m;
    bool ok;
    if (c.peek() == '{') {
      ok = c.object(2, [&](std::string_view key) {
        json::Value v;
        if (!c.value(3, &v)) return false;
        if (json::key_equals(key, "role")) {
          m.has_role = true;
          m.role = v;
        }
        return true;
      });
    } else {
      json::Value v;
      ok = c.value(2, &v);
      m.type = v.type;
    }
    if (ok && !bad_message) bad_message = check_message(m, r.message_count_);
    ++r.message_count_;
    return ok;
  };
  bool ok = c.object(0, [&](std::string_view key) {
    int f = 0;
    while (f < kFieldCount && !json::key_equals(key, kNames[f])) ++f;
    json::Value v;
    const std::size_t begin = c.pos();
    if (f == kMessages && c.peek() == '[') {
      if (!c.array(1, read_message)) return false;
      v = {json::Type::array, c.since(begin)};
    } else if (!c.value(1, &v)) {
      return false;
    }
    if (f == kFieldCount) return true;
    if (seen[f]) duplicate = kNames[f];
    seen[f] = true;
    fields[f] = v;
    return true;
  });
  c.skip_ws();
  if (ok && !c.at_end()) ok = c.fail("unexpected text after the JSON value");
  auto err = ok ? std::nullopt : c.error();
  if (err) return Unexpected(errors::invalid_json(err->what, err->offset));
  // Upstreams disagree on which duplicate wins; refusing is the only answer that cannot route
  // one model and bill another.
  if (!duplicate.empty())
    return Unexpected(errors::invalid_request(
        "Duplicate key '" + std::string(duplicate) + "' in the body.", duplicate, "duplicate_key"));

  if (auto bad = read_model(seen[kModel], fields[kModel], r.model_raw_, r.model_decoded_))
    return Unexpected(std::move(*bad));

  if (!seen[kMessages])
    return Unexpected(errors::invalid_request("Missing required parameter: 'messages'.", "messages",
                                              "missing_required_parameter"));
  if (fields[kMessages].type != json::Type::array)
    return Unexpected(wrong_type("messages", "an array", fields[kMessages].type));
  if (bad_message) return Unexpected(std::move(*bad_message));
  if (r.message_count_ == 0)
    return Unexpected(
        errors::invalid_request("Invalid 'messages': empty array. Expected an array with "
                                "minimum length 1, but got an empty array instead.",
                                "messages", "empty_array"));

  if (seen[kStream]) {
    const auto& v = fields[kStream];
    if (v.type != json::Type::boolean && v.type != json::Type::null)
      return Unexpected(wrong_type("stream", "a boolean", v.type));
    r.stream_ = v.is_true();
  }
  if (seen[kStreamOptions] && fields[kStreamOptions].type != json::Type::null) {
    const auto& v = fields[kStreamOptions];
    if (v.type != json::Type::object)
      return Unexpected(wrong_type("stream_options", "an object", v.type));
    std::optional<ApiError> bad;
    json::for_each_member(v.raw, [&](std::string_view key, const json::Value& o) {
      if (!json::key_equals(key, "include_usage")) return;
      if (o.type != json::Type::boolean && o.type != json::Type::null)
        bad = wrong_type("stream_options.include_usage", "a boolean", o.type);
      r.include_usage_ = o.is_true();
    });
    if (bad) return Unexpected(std::move(*bad));
  }
  if (seen[kMetadata] && fields[kMetadata].type == json::Type::object) {
    std::optional<ApiError> bad;
    json::for_each_member(fields[kMetadata].raw, [&](std::string_view key, const json::Value& o) {
      if (!json::key_equals(key, "preferred_provider")) return;
      if (o.type != json::Type::string)
        bad = wrong_type("metadata.preferred_provider", "a string", o.type);
      else
        r.preferred_provider_ = json::unescape(o.raw);
    });
    if (bad) return Unexpected(std::move(*bad));
  }
  return r;
}

}  // namespace switchyard::api
