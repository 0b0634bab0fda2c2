#include "messages.hpp"

#include "switchyard/api/messages_request.hpp"
#include "switchyard/routing/complexity.hpp"
#include "switchyard/telemetry/request_metrics.hpp"

namespace switchyard::handlers {

namespace {

constexpr std::string_view kCountHeader = "x-switchyard-token-count";

bool has_anthropic_target(const routing::Route& route) {
  for (const auto* t : route.targets)
    if (t->provider->type == config::ProviderType::anthropic) return true;
  return false;
}

// Anthropic's SDKs keep it as the response's _request_id.
void name_request(request::Context& request) {
  request.response().add_header("request-id", request.request_id());
}

}  // namespace

Awaitable<void> Messages::handle(request::Context& request) {
  name_request(request);
  auto parsed = api::parse_messages_request(request.http.body(), api::MessagesBody::message);
  if (!parsed) {
    co_await request.refuse(parsed.error());
    co_return;
  }
  const auto& messages = *parsed;
  request.record.stream = messages.stream();
  if (messages.stream() && services_.metrics)
    services_.request_metrics->stream_started(*services_.metrics);
  dispatch::DispatchRequest job{messages.model()};
  job.messages = &messages;
  co_await inference_.serve(job, request);
}

// Anthropic counts exactly, for the model the route would send to; without an Anthropic target
// (or when none answers) the gateway's own estimate of the chat equivalent's prompt stands in.
Awaitable<void> CountTokens::handle(request::Context& request) {
  name_request(request);
  auto parsed = api::parse_messages_request(request.http.body(), api::MessagesBody::count_tokens);
  if (!parsed) {
    co_await request.refuse(parsed.error());
    co_return;
  }
  const auto& messages = *parsed;
  dispatch::DispatchRequest job{messages.model()};
  job.messages = &messages;
  job.count_tokens = true;
  request.record.requested_model = job.model;
  const routing::Route* route = nullptr;
  if (auto refusal = inference_.find_route(job, request, route)) {
    co_await request.refuse(*refusal);
    co_return;
  }
  job.route = route;
  request.record.route = route->name;
  if (has_anthropic_target(*route)) {
    request.deadline = request.record.start + route->deadline;
    request.response().watch_client(request.cancel);
    const auto counted = co_await services_.dispatcher.run(job, request);
    request.response().unwatch_client();
    if (counted || request.response().committed() || request.cancel.aborted()) co_return;
  }
  const api::ChatRequest* chat = messages.chat();
  if (!chat) {
    co_await request.refuse(messages.chat_error());
    co_return;
  }
  const auto signals = routing::read_signals(chat->body());
  const std::string body = R"({"input_tokens":)" + std::to_string(signals.prompt_tokens) + "}";
  request.response().add_header(kCountHeader, "estimate");
  co_await request.response().send(200, "application/json", body);
}

}  // namespace switchyard::handlers
