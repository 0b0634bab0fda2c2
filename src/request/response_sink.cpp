#include "switchyard/request/response_sink.hpp"

#include <string>

namespace switchyard::request {

// A coroutine, not a hand-on: the JSON must live until it is written.
Awaitable<bool> ResponseSink::send_error(const api::ApiError& error, api::Dialect dialect) {
  if (error.retry_after_s > 0) add_header("retry-after", std::to_string(error.retry_after_s));
  const std::string body = error.to_json(dialect);
  co_return co_await send(error.status_in(dialect), "application/json", body);
}

}  // namespace switchyard::request
