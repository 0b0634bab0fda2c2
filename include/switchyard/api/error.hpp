// Every error the gateway itself sends to a client is built here, in OpenAI's shape:
// {"error":{"message","type","param","code"}} with all four keys present, param/code nullable,
// and the HTTP status OpenAI uses for that class (docs/providers.md, "OpenAI format: errors").
// A client of the Messages door gets the same error in Anthropic's shape and statuses instead
// (docs/errors.md, "The Messages door").
#pragma once

#include <string>
#include <string_view>

namespace switchyard::api {

// The API a client speaks, which decides the shape of its errors.
enum class Dialect { openai, anthropic };

struct ApiError {
  int status = 500;
  std::string_view type = "server_error";
  std::string message;
  std::string param;  // empty → null
  std::string code;   // empty → null
  // Seconds for a retry-after header; 0 = none.
  int retry_after_s = 0;

  // The body in `dialect`, and the status it goes with there (Anthropic says 529 for an
  // overloaded 503 and has no 502).
  std::string to_json(Dialect dialect = Dialect::openai) const;
  int status_in(Dialect dialect) const;
  // An event that ends a stream already begun, in `dialect`'s way: OpenAI's `data:` error object,
  // Anthropic's `event: error`.
  std::string to_event(Dialect dialect) const;
};

namespace errors {

// 400: the request body is unusable.
ApiError invalid_request(std::string message, std::string_view param = {},
                         std::string_view code = {});
ApiError invalid_json(std::string_view what, std::size_t offset);
// 401 invalid_api_key: no gateway key, or one the gateway does not know (never echoed).
ApiError missing_api_key();
ApiError invalid_api_key();
// 403 permission_denied: a known key asking for what it may not use.
ApiError permission_denied(std::string message);
// 404 model_not_found, worded as OpenAI words it.
ApiError model_not_found(std::string_view model);
// 404 for a path the gateway does not serve, 405 for a wrong method on one it does.
ApiError unknown_path(std::string_view method, std::string_view target);
ApiError method_not_allowed(std::string_view method, std::string_view target);
// Limits on what a client may send.
ApiError body_too_large(std::size_t limit);
ApiError header_too_large(std::size_t limit);
ApiError request_timeout();
ApiError malformed_http(std::string_view what);
ApiError too_many_connections();
ApiError too_many_client_connections();  // past max_connections_per_client
ApiError shutting_down();
// 422 reload_failed: POST /admin/reload found the configuration invalid (the previous one keeps
// serving); `summary` holds the first problem and how many there are.
ApiError reload_failed(std::string summary);

// 429 rate_limit_exceeded of type "requests" or "tokens", as OpenAI words its own, for a
// gateway key over its rpm or tpm; `retry_after_s` 0 = never (a request larger than a whole
// minute's tokens).
ApiError rate_limited(std::string_view type, std::string message, int retry_after_s);
// 429 budget_exceeded: a route or key spent its cap and no `then` route takes over.
ApiError budget_exceeded(std::string message, int retry_after_s);

// Every upstream attempt failed. `summary` lists what was tried (no secrets in it).
enum class UpstreamFailure { unreachable, bad_response, timeout, rate_limited };
ApiError all_targets_failed(UpstreamFailure kind, std::string_view route, std::string summary,
                            int retry_after_s = 0);
// 504: the request's deadline came before any target answered.
ApiError deadline_exceeded(std::string_view route, std::string summary);
// The body of an SSE error event ending a stream that had already started.
ApiError stream_interrupted(std::string reason);

}  // namespace errors
}  // namespace switchyard::api
