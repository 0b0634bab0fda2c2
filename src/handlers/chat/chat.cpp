#include "chat.hpp"

#include "switchyard/api/chat_request.hpp"
#include "switchyard/telemetry/request_metrics.hpp"

namespace switchyard::handlers {

Awaitable<void> Chat::handle(request::Context& request) {
  auto parsed = api::parse_chat_request(request.http.body());
  if (!parsed) {
    co_await request.refuse(parsed.error());
    co_return;
  }
  const auto& chat = *parsed;
  request.record.stream = chat.stream();
  if (chat.stream() && services_.metrics)
    services_.request_metrics->stream_started(*services_.metrics);
  dispatch::DispatchRequest job{chat.model()};
  job.chat = &chat;
  co_await inference_.serve(job, request);
}

}  // namespace switchyard::handlers
