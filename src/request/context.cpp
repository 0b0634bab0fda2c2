#include "switchyard/request/context.hpp"

namespace switchyard::request {

Awaitable<void> Context::refuse(const api::ApiError& error) {
  response_->add_header("x-switchyard-attempts", "0");
  record.error = error.message;
  record.error_code = error.code.empty() ? std::string(error.type) : error.code;
  co_await response_->send_error(error, dialect);
}

}  // namespace switchyard::request
