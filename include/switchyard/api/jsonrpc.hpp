// JSON-RPC 2.0 as the Model Context Protocol uses it (revision 2025-11-25, "Base Protocol"):
// reading one message and writing the responses to it. A request has a string or integer id
// (never null), a notification has none, a response carries the id of the request it answers
// and exactly one of `result` and `error`; `params`, when present, is an object. What is read
// stays a view into the message's bytes — the id to echo exactly, the params to forward as they
// came — after one validating pass.
#pragma once

#include <string>
#include <string_view>

#include "switchyard/result.hpp"

namespace switchyard::api::jsonrpc {

// The error codes JSON-RPC 2.0 reserves.
inline constexpr int kParseError = -32700;
inline constexpr int kInvalidRequest = -32600;
inline constexpr int kMethodNotFound = -32601;
inline constexpr int kInvalidParams = -32602;
inline constexpr int kInternalError = -32603;

enum class Kind { request, notification, result, error };

struct Message {
  Kind kind = Kind::request;
  std::string_view id;      // raw: a quoted string or an integer; empty for a notification
  std::string method;       // decoded; requests and notifications
  std::string_view params;  // raw object; empty when absent
  std::string_view result;  // raw; a result response's
  std::string_view error;   // raw object; an error response's
};

// Why a message cannot be served, as the error response to answer it with.
struct Error {
  int code = kInvalidRequest;
  std::string message;
  std::string_view id;  // raw, when the message had a usable one; else the answer has none
};

// One message (a JSON object). A batch (an array) is an invalid request here: MCP dropped
// batches in 2025-06-18.
Result<Message, Error> read_message(std::string_view body);

// `{"jsonrpc":"2.0","id":<id>,"result":<result>}`; `id` and `result` raw JSON.
std::string result_response(std::string_view id, std::string_view result);
// `{"jsonrpc":"2.0","id":<id>,"error":{"code":…,"message":…}}`, without "id" when `id` is empty
// (the request's could not be read).
std::string error_response(std::string_view id, int code, std::string_view message);
inline std::string error_response(const Error& error) {
  return error_response(error.id, error.code, error.message);
}
// `{"jsonrpc":"2.0","id":<id>,"error":<error>}`: an error object passed on as it came.
std::string raw_error_response(std::string_view id, std::string_view error);
// `{"jsonrpc":"2.0","id":<id>,"method":…,"params":<params>}`, without "params" when empty; a
// notification when `id` is empty.
std::string request_message(std::string_view id, std::string_view method, std::string_view params);

}  // namespace switchyard::api::jsonrpc
