#include "switchyard/api/jsonrpc.hpp"

#include <array>

#include "switchyard/api/json.hpp"

namespace switchyard::api::jsonrpc {

namespace {

enum Member { kJsonrpc, kId, kMethod, kParams, kResult, kError, kMemberCount };
constexpr std::array<std::string_view, kMemberCount> kNames{"jsonrpc", "id",     "method",
                                                            "params",  "result", "error"};

Unexpected<Error> invalid(std::string message, std::string_view id = {}) {
  return Unexpected(Error{kInvalidRequest, "Invalid Request: " + std::move(message), id});
}

// An error object: an integer code and a string message.
bool is_error_object(const json::Value& error) {
  if (error.type != json::Type::object) return false;
  bool code = false, message = false;
  json::for_each_member(error.raw, [&](std::string_view key, const json::Value& v) {
    if (json::key_equals(key, "code")) code = v.is_integer();
    if (json::key_equals(key, "message")) message = v.type == json::Type::string;
  });
  return code && message;
}

}  // namespace

Result<Message, Error> read_message(std::string_view body) {
  std::array<json::Value, kMemberCount> members{};
  std::array<bool, kMemberCount> seen{};
  std::string_view duplicate;
  const auto scanned = json::scan(body, [&](std::string_view key, const json::Value& v) {
    for (std::size_t i = 0; i < kMemberCount; ++i) {
      if (!json::key_equals(key, kNames[i])) continue;
      if (seen[i]) duplicate = kNames[i];
      seen[i] = true;
      members[i] = v;
    }
  });
  if (scanned)
    return Unexpected(Error{kParseError,
                            "Parse error: " + std::string(scanned->what) + " at byte " +
                                std::to_string(scanned->offset),
                            {}});
  const auto first = body.find_first_not_of(" \t\r\n");
  if (body[first] == '[') return invalid("batches are not supported; send one message at a time");
  if (body[first] != '{') return invalid("a message is a JSON object");

  // The id first: every later refusal of a request can then be answered under it.
  const json::Value& id = members[kId];
  const bool usable_id =
      seen[kId] && (id.type == json::Type::string || id.is_integer()) && duplicate != "id";
  const std::string_view echo = usable_id ? id.raw : std::string_view();
  if (!duplicate.empty()) return invalid("duplicate member '" + std::string(duplicate) + "'", echo);
  if (members[kJsonrpc].raw != "\"2.0\"") return invalid("'jsonrpc' must be \"2.0\"", echo);
  if (seen[kId] && !usable_id) return invalid("'id' must be a string or an integer");

  Message m;
  m.id = echo;
  if (seen[kMethod]) {
    if (members[kMethod].type != json::Type::string)
      return invalid("'method' must be a string", echo);
    if (seen[kResult] || seen[kError]) return invalid("a request has no 'result' or 'error'", echo);
    m.kind = seen[kId] ? Kind::request : Kind::notification;
    m.method = json::unescape(members[kMethod].raw);
    if (seen[kParams]) {
      if (members[kParams].type != json::Type::object)
        return Unexpected(
            Error{kInvalidParams, "Invalid params: 'params' must be an object", echo});
      m.params = members[kParams].raw;
    }
    return m;
  }
  if (!seen[kId])
    return invalid("a message needs a 'method', or an 'id' and a 'result' or 'error'");
  if (seen[kResult] == seen[kError])
    return invalid("a response has one of 'result' and 'error'", echo);
  if (seen[kResult]) {
    if (members[kResult].type != json::Type::object)
      return invalid("'result' must be an object", echo);
    m.kind = Kind::result;
    m.result = members[kResult].raw;
  } else {
    if (!is_error_object(members[kError]))
      return invalid("'error' must be an object with an integer 'code' and a string 'message'",
                     echo);
    m.kind = Kind::error;
    m.error = members[kError].raw;
  }
  return m;
}

namespace {

// `{"jsonrpc":"2.0","id":<id>,"<member>":<raw>}`.
std::string response(std::string_view id, std::string_view member, std::string_view raw) {
  std::string out = R"({"jsonrpc":"2.0","id":)";
  out += id;
  out += ",\"";
  out += member;
  out += "\":";
  out += raw;
  out += '}';
  return out;
}

}  // namespace

std::string result_response(std::string_view id, std::string_view result) {
  return response(id, "result", result);
}

std::string error_response(std::string_view id, int code, std::string_view message) {
  std::string out = R"({"jsonrpc":"2.0",)";
  if (!id.empty()) {
    out += R"("id":)";
    out += id;
    out += ',';
  }
  out += R"("error":{"code":)";
  out += std::to_string(code);
  out += R"(,"message":)";
  json::append_quoted(out, message);
  out += "}}";
  return out;
}

std::string raw_error_response(std::string_view id, std::string_view error) {
  return response(id, "error", error);
}

std::string request_message(std::string_view id, std::string_view method, std::string_view params) {
  std::string out = R"({"jsonrpc":"2.0",)";
  if (!id.empty()) {
    out += R"("id":)";
    out += id;
    out += ',';
  }
  out += R"("method":)";
  json::append_quoted(out, method);
  if (!params.empty()) {
    out += R"(,"params":)";
    out += params;
  }
  out += '}';
  return out;
}

}  // namespace switchyard::api::jsonrpc
