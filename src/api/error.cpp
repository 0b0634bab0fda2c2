#include "switchyard/api/error.hpp"

#include "switchyard/api/json.hpp"

namespace switchyard::api {

namespace {
void append_nullable(std::string& out, std::string_view v) {
  if (v.empty()) {
    out += "null";
  } else {
    json::append_quoted(out, v);
  }
}

// Anthropic's error types by the status it answers with (its errors page): the SDKs raise their
// typed exceptions from the status, the type says the same in the body.
std::string_view anthropic_type(int status) {
  switch (status) {
    case 401:
      return "authentication_error";
    case 402:
      return "billing_error";
    case 403:
      return "permission_error";
    case 404:
      return "not_found_error";
    case 413:
    case 431:
      return "request_too_large";
    case 429:
      return "rate_limit_error";
    case 408:
    case 504:
      return "timeout_error";
    case 529:
      return "overloaded_error";
    default:
      return status >= 500 ? "api_error" : "invalid_request_error";
  }
}

}  // namespace

int ApiError::status_in(Dialect dialect) const {
  if (dialect == Dialect::openai) return status;
  if (status == 503) return 529;
  if (status == 502) return 500;
  return status;
}

std::string ApiError::to_event(Dialect dialect) const {
  if (dialect == Dialect::openai) return "data: " + to_json() + "\n\n";
  return "event: error\ndata: " + to_json(dialect) + "\n\n";
}

std::string ApiError::to_json(Dialect dialect) const {
  std::string out;
  if (dialect == Dialect::anthropic) {
    out.reserve(64 + message.size());
    out += R"({"type":"error","error":{"type":)";
    json::append_quoted(out, anthropic_type(status_in(dialect)));
    out += R"(,"message":)";
    json::append_quoted(out, message);
    out += "}}";
    return out;
  }
  out.reserve(96 + message.size());
  out += R"({"error":{"message":)";
  json::append_quoted(out, message);
  out += R"(,"type":)";
  json::append_quoted(out, type);
  out += R"(,"param":)";
  append_nullable(out, param);
  out += R"(,"code":)";
  append_nullable(out, code);
  out += "}}";
  return out;
}

namespace errors {

ApiError invalid_request(std::string message, std::string_view param, std::string_view code) {
  return {400, "invalid_request_error", std::move(message), std::string(param), std::string(code)};
}

ApiError invalid_json(std::string_view what, std::size_t offset) {
  return invalid_request("We could not parse the JSON body of your request: " + std::string(what) +
                         " at byte " + std::to_string(offset) +
                         ". (HINT: This likely means you aren't using your HTTP library "
                         "correctly. The OpenAI API expects a JSON payload.)");
}

ApiError missing_api_key() {
  return {401,
          "invalid_request_error",
          "You didn't provide an API key. You need to provide your API key in an Authorization "
          "header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
          {},
          "invalid_api_key"};
}

ApiError invalid_api_key() {
  return {401,
          "invalid_request_error",
          "Incorrect API key provided. Ask the operator of this gateway for a valid key.",
          {},
          "invalid_api_key"};
}

ApiError permission_denied(std::string message) {
  return {403, "invalid_request_error", std::move(message), {}, "permission_denied"};
}

ApiError model_not_found(std::string_view model) {
  return {404, "invalid_request_error",
          "The model `" + std::string(model) +
              "` does not exist or you do not have access to it. GET /v1/models lists the "
              "models and routes this gateway serves.",
          "model", "model_not_found"};
}

ApiError unknown_path(std::string_view method, std::string_view target) {
  return {404,
          "invalid_request_error",
          "Invalid URL (" + std::string(method) + " " + std::string(target) + ")",
          {},
          "unknown_url"};
}

ApiError method_not_allowed(std::string_view method, std::string_view target) {
  return {405,
          "invalid_request_error",
          "Method " + std::string(method) + " is not allowed on " + std::string(target),
          {},
          "method_not_allowed"};
}

ApiError body_too_large(std::size_t limit) {
  return {
      413,
      "invalid_request_error",
      "The request body is larger than this gateway accepts (" + std::to_string(limit) + " bytes).",
      {},
      "request_too_large"};
}

ApiError header_too_large(std::size_t limit) {
  return {431,
          "invalid_request_error",
          "The request headers are larger than this gateway accepts (" + std::to_string(limit) +
              " bytes).",
          {},
          "headers_too_large"};
}

ApiError request_timeout() {
  return {
      408, "invalid_request_error", "The request was not received in time.", {}, "request_timeout"};
}

ApiError malformed_http(std::string_view what) {
  return {400,
          "invalid_request_error",
          "Malformed HTTP request: " + std::string(what),
          {},
          "malformed_request"};
}

ApiError too_many_connections() {
  return {503, "server_error",         "The gateway has too many open connections; retry shortly.",
          {},  "too_many_connections", 1};
}

ApiError too_many_client_connections() {
  return {503,
          "server_error",
          "This client address has too many open connections to the gateway; close some, or "
          "retry shortly.",
          {},
          "too_many_connections",
          1};
}

ApiError shutting_down() {
  return {503, "server_error",  "The gateway is shutting down; retry on another instance.",
          {},  "shutting_down", 1};
}

ApiError reload_failed(std::string summary) {
  return {
      422,
      "invalid_request_error",
      "The configuration was not reloaded; the previous one keeps serving. " + std::move(summary),
      {},
      "reload_failed"};
}

ApiError rate_limited(std::string_view type, std::string message, int retry_after_s) {
  return {429, type, std::move(message), {}, "rate_limit_exceeded", retry_after_s};
}

ApiError budget_exceeded(std::string message, int retry_after_s) {
  return {429, "budget_exceeded", std::move(message), {}, "budget_exceeded", retry_after_s};
}

ApiError all_targets_failed(UpstreamFailure kind, std::string_view route, std::string summary,
                            int retry_after_s) {
  std::string message = "No upstream could serve route '" + std::string(route) + "': " + summary;
  switch (kind) {
    case UpstreamFailure::rate_limited:
      return {429, "rate_limit_exceeded", std::move(message),
              {},  "rate_limit_exceeded", retry_after_s};
    case UpstreamFailure::timeout:
      return {504, "server_error", std::move(message), {}, "upstream_timeout", retry_after_s};
    case UpstreamFailure::unreachable:
      return {503, "server_error", std::move(message), {}, "upstream_unavailable", retry_after_s};
    case UpstreamFailure::bad_response:
      break;
  }
  return {502, "server_error", std::move(message), {}, "upstream_error", retry_after_s};
}

ApiError deadline_exceeded(std::string_view route, std::string summary) {
  std::string message =
      "The request's deadline passed before route '" + std::string(route) + "' could answer";
  if (!summary.empty()) message += ": " + summary;
  return {504, "server_error", std::move(message), {}, "deadline_exceeded"};
}

ApiError stream_interrupted(std::string reason) {
  return {502,
          "server_error",
          "The upstream stream was interrupted: " + std::move(reason),
          {},
          "stream_interrupted"};
}

}  // namespace errors
}  // namespace switchyard::api
