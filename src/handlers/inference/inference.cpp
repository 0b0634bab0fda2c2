#include "inference.hpp"

#include <algorithm>

#include "key_limits.hpp"
#include "response_cache.hpp"
#include "switchyard/config/config.hpp"
#include "switchyard/routing/complexity.hpp"
#include "switchyard/state/limit_counts.hpp"
#include "switchyard/state/limit_keeper.hpp"

namespace switchyard::handlers {

namespace {

// A client's own deadline for the whole request, across retries and failovers.
constexpr std::string_view kDeadlineHeader = "x-switchyard-deadline";
constexpr std::string_view kPreferredProviderHeader = "x-switchyard-provider";
// However long a client asks for, no request waits longer than this.
constexpr config::Millis kMaxDeadline{3'600'000};
constexpr config::Millis kHoldMargin{5'000};

}  // namespace

std::string_view preferred_provider(const dispatch::DispatchRequest& job,
                                    const request::Context& request) {
  if (auto h = request.http.find(kPreferredProviderHeader)) return *h;
  return job.chat ? std::string_view(job.chat->preferred_provider()) : std::string_view();
}

Awaitable<bool> Inference::route(dispatch::DispatchRequest& job, request::Context& request,
                                 std::optional<config::Millis>& client_deadline,
                                 std::unique_ptr<state::Reservation>& hold) {
  const routing::Route* asked = nullptr;
  auto refusal = find_route(job, request, asked);
  if (!refusal) refusal = read_deadline(request, client_deadline);
  if (refusal) {
    co_await request.refuse(*refusal);
    co_return false;
  }
  // Most routes have neither a classifier nor a budget: no coroutine frame for them.
  Choice choice{asked, std::nullopt, {}, std::nullopt, nullptr};
  if (asked->complexity || asked->budget) {
    const auto begun = telemetry::Clock::now();
    choice = co_await choose(job, *asked, request.request_id(), Mode::serve, client_deadline);
    request.record.phase("routing", begun,
                         choice.route ? std::string_view(choice.route->name) : "");
    hold = std::move(choice.hold);
  }
  refusal = take(std::move(choice), job, request);
  if (refusal) co_await request.refuse(*refusal);
  co_return !refusal;
}

// The steps that only sometimes wait (a classifier, Redis, the cache) are coroutines called only
// when they have something to wait for; the others are plain functions that return the refusal,
// if any. Every coroutine frame costs a request about 150 instructions.
Awaitable<void> Inference::serve(dispatch::DispatchRequest& job, request::Context& request) {
  auto& record = request.record;
  record.requested_model = job.model;
  std::optional<config::Millis> client_deadline;
  std::unique_ptr<state::Reservation> route_hold;  // only for a route with a budget
  const bool routed = co_await route(job, request, client_deadline, route_hold);
  if (!routed) co_return;

  KeyLimits limits(services_, request);
  limits.estimate(job);
  if (limits.active()) {
    const bool admitted = co_await limits.admit(job, hold_for(*job.route, client_deadline));
    if (!admitted) co_return;
  }

  ResponseCache cache(services_);
  if (!job.embeddings && !services_.cache) ResponseCache::bypass(request);
  if (!job.embeddings && services_.cache) {
    const bool answered = co_await cache.answer(job, request);
    if (answered) {
      limits.reconcile(/*served=*/false);  // nothing upstream was used: the estimate goes back
      co_return;
    }
  }
  prefer(job, request);
  request.deadline = record.start + deadline(*job.route, client_deadline);
  std::optional<BodyCopy> copy;
  if (cache.storing()) copy.emplace(request.response(), services_.config.cache.max_entry);
  dispatch::DispatchResult result;
  {
    std::optional<request::Context::Through> through;
    if (copy) through.emplace(request, *copy);
    // A client that hangs up cancels its upstream request (within a worker tick) instead of
    // leaving it to run, and bill, to the end.
    request.response().watch_client(request.cancel);
    result = co_await services_.dispatcher.run(job, request);
    request.response().unwatch_client();
  }
  charge_route(route_hold, request.record);
  if (copy) cache.store(job, request, *copy);
  limits.reconcile(result.has_value());
  if (conclude(result, request))
    co_await request.response().send_error(result.error(), request.dialect);
}

std::optional<api::ApiError> Inference::find_route(const dispatch::DispatchRequest& job,
                                                   const request::Context& request,
                                                   const routing::Route*& asked) const {
  asked = services_.routes.find(job.model);
  if (!asked) return api::errors::model_not_found(job.model);
  if (request.key && !request.key->may_use(job.model))
    return api::errors::permission_denied("The key '" + request.key->name +
                                          "' may not use the model or route '" +
                                          std::string(job.model) + "'.");
  return std::nullopt;
}

config::Millis Inference::deadline(const routing::Route& route,
                                   std::optional<config::Millis> client_deadline) {
  return client_deadline ? std::min(*client_deadline, kMaxDeadline) : route.deadline;
}

config::Millis Inference::hold_for(const routing::Route& route,
                                   std::optional<config::Millis> client_deadline) {
  return deadline(route, client_deadline) + kHoldMargin;
}

std::optional<api::ApiError> Inference::read_deadline(const request::Context& request,
                                                      std::optional<config::Millis>& into) {
  const auto given = request.http.find(kDeadlineHeader);
  if (!given) return std::nullopt;
  into = config::parse_duration(*given);
  if (into && into->count() > 0) return std::nullopt;
  return api::errors::invalid_request(
      "Invalid x-switchyard-deadline header: expected a duration such as 2500ms, 30s or 2m",
      kDeadlineHeader, "invalid_header");
}

std::optional<api::ApiError> Inference::take(Choice choice, dispatch::DispatchRequest& job,
                                             request::Context& request) const {
  auto& record = request.record;
  if (choice.verdict) {
    record.complexity = choice.verdict->complex ? "complex" : "simple";
    request.response().add_header("x-switchyard-complexity", record.complexity);
  }
  record.routing = std::move(choice.reason);
  if (choice.refusal) {
    // The route that refused (a spent budget), for the log.
    if (choice.route) record.route = choice.route->name;
    return std::move(choice.refusal);
  }
  job.route = choice.route;
  job.report_upstream_model = services_.config.server.report_upstream_model;
  return std::nullopt;
}

// The client's preferred provider — header x-switchyard-provider, else the body's
// metadata.preferred_provider — reorders the plan when the route has a target there; otherwise
// it is ignored, and the response says which.
void Inference::prefer(dispatch::DispatchRequest& job, request::Context& request) {
  const std::string_view preferred = preferred_provider(job, request);
  if (preferred.empty()) return;
  const auto& targets = job.route->targets;
  const bool served = std::any_of(targets.begin(), targets.end(), [&](const routing::Target* t) {
    return t->provider->name == preferred;
  });
  request.response().add_header("x-switchyard-preferred-provider", served ? "applied" : "ignored");
  request.record.preference = served ? "applied" : "ignored";
  if (served) job.preferred_provider = preferred;
}

// The route that actually served pays, whatever the client named.
void Inference::charge_route(std::unique_ptr<state::Reservation>& hold,
                             const telemetry::RequestRecord& record) {
  if (hold) services_.limit_keeper.settle(*hold, settled_cost(*hold, record));
}

bool Inference::conclude(const dispatch::DispatchResult& result, request::Context& request) {
  if (request.cancel.aborted()) {
    request.record.client_gone = true;
    request.response().close_after();
    return false;
  }
  if (result) return false;
  request.record.error = result.error().message;
  // The OpenAI and Anthropic SDKs obey this before their own retry rules: a request whose
  // deadline passed here would only pass it again.
  if (result.error().code == "deadline_exceeded")
    request.response().add_header("x-should-retry", "false");
  return true;
}

}  // namespace switchyard::handlers
