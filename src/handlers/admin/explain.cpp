// POST /admin/explain (see admin.hpp).
#include <algorithm>
#include <nlohmann/json.hpp>

#include "../inference/key_limits.hpp"
#include "admin.hpp"
#include "switchyard/api/chat_request.hpp"
#include "switchyard/api/messages_request.hpp"
#include "switchyard/config/config.hpp"
#include "switchyard/dispatch/health_board.hpp"
#include "switchyard/dispatch/ranking.hpp"

namespace switchyard::handlers {

namespace {

using ordered_json = nlohmann::ordered_json;
using SteadyClock = std::chrono::steady_clock;

ordered_json limiter_json(state::RateLimiter& limiter, SteadyClock::time_point now) {
  if (!limiter.limited()) return nullptr;
  const auto usage = limiter.usage(now);
  return {
      {"limit", usage.limit}, {"remaining", usage.remaining}, {"reset", format_reset(usage.reset)}};
}

ordered_json signals_json(const routing::Signals& s) {
  return {{"estimated_prompt_tokens", s.prompt_tokens},
          {"messages", s.messages},
          {"tools", s.tools},
          {"json_schema", s.json_schema},
          {"images", s.images},
          {"pattern", s.pattern.empty() ? ordered_json(nullptr) : ordered_json(s.pattern)},
          {"max_output_tokens", s.max_output_tokens}};
}

using Choice = Inference::Choice;

// The request's error as the client would get it: {"message","type","param","code"}.
ordered_json error_json(const api::ApiError& e) {
  return {{"message", e.message},
          {"type", e.type},
          {"param", e.param.empty() ? ordered_json(nullptr) : ordered_json(e.param)},
          {"code", e.code.empty() ? ordered_json(nullptr) : ordered_json(e.code)}};
}

ordered_json complexity_json(const routing::Route& asked, const Choice& choice) {
  const auto& policy = asked.complexity->config();
  ordered_json complexity{{"route", asked.name}, {"max_simple_tokens", policy.max_simple_tokens}};
  if (choice.verdict) {
    complexity["decision"] = choice.verdict->complex ? "complex" : "simple";
    complexity["reason"] = choice.verdict->reason;
    complexity["signals"] = signals_json(choice.verdict->signals);
  }
  const auto& classifier = policy.classifier;
  if (!classifier.model.empty()) {
    complexity["classifier"] = {{"model", classifier.model},
                                {"timeout_ms", classifier.timeout.count()},
                                {"threshold", classifier.threshold}};
  }
  return complexity;
}

// Every budget on the way from what was asked to what serves.
ordered_json budgets_json(const routing::Route& asked, const Choice& choice,
                          state::LimitCounts& limit_counts) {
  ordered_json budgets = ordered_json::array();
  const auto wall = std::chrono::system_clock::now();
  const routing::Route* step = asked.complexity ? nullptr : &asked;
  if (!step && choice.verdict) step = choice.verdict->complex ? asked.complex : asked.simple;
  for (; step && step->budget; step = step->then) {
    auto& spend = limit_counts.route(step->budget_index);
    const auto exhausted = spend.exhausted(wall);
    budgets.push_back(
        {{"route", step->name},
         {"windows", windows_json(spend, wall)},
         {"exhausted", exhausted.has_value()},
         {"then", step->then ? ordered_json(step->then->name) : ordered_json(nullptr)}});
    if (!exhausted) break;
  }
  return budgets;
}

// The route's targets in the order the dispatcher would try them now, with what ordered them.
ordered_json plan_json(const routing::Route& route, std::string_view preferred,
                       dispatch::HealthBoard& board) {
  const auto now = SteadyClock::now();
  std::vector<dispatch::Candidate> candidates;
  std::vector<std::size_t> order;
  board.plan_now(route, now, candidates, order);
  std::stable_partition(order.begin(), order.end(), [&](std::size_t i) {
    return !preferred.empty() && route.targets[i]->provider->name == preferred;
  });
  ordered_json plan = ordered_json::array();
  for (const std::size_t i : order) {
    const routing::Target& t = *route.targets[i];
    const auto& health = candidates[i].health;
    plan.push_back({{"model", t.model->name},
                    {"provider", t.provider->name},
                    {"upstream_model", t.model->upstream},
                    {"breaker", dispatch::to_string(health.state)},
                    {"provider_healthy", candidates[i].provider_healthy},
                    {"consecutive_failures", health.consecutive_failures},
                    {"in_flight", health.in_flight},
                    {"ttfb_ewma_ms", health.ttfb_ewma.count()},
                    {"rpm", limiter_json(board.limiter(t.provider_index), now)},
                    {"tpm", limiter_json(board.token_limiter(t.provider_index), now)}});
  }
  return plan;
}

}  // namespace

// A body with anthropic-version is a Messages request (POST /v1/messages), else a chat completion.
Awaitable<void> Explain::handle(request::Context& request) {
  const std::string_view text = request.http.body();
  const bool messages = request.http.find("anthropic-version").has_value();
  std::optional<api::ChatRequest> chat;
  std::optional<api::MessagesRequest> message;
  std::optional<api::ApiError> refusal;
  if (messages) {
    auto parsed = api::parse_messages_request(text, api::MessagesBody::message);
    if (parsed) message.emplace(std::move(*parsed));
    if (!parsed) refusal = std::move(parsed).error();
  } else {
    auto parsed = api::parse_chat_request(text);
    if (parsed) chat.emplace(std::move(*parsed));
    if (!parsed) refusal = std::move(parsed).error();
  }
  if (refusal) {
    co_await request.refuse(*refusal);
    co_return;
  }
  dispatch::DispatchRequest job{chat ? chat->model() : message->model()};
  job.chat = chat ? &*chat : nullptr;
  job.messages = message ? &*message : nullptr;
  request.record.requested_model = job.model;
  const routing::Route* asked = services_.routes.find(job.model);
  if (!asked) {
    const auto error = api::errors::model_not_found(job.model);
    co_await request.refuse(error);
    co_return;
  }
  const Choice choice =
      co_await inference_.choose(job, *asked, request.request_id(), Inference::Mode::explain);

  ordered_json body{{"model", job.model}};
  if (messages) body["api"] = "messages";
  body["route"] = choice.route ? ordered_json(choice.route->name) : ordered_json(nullptr);
  body["reason"] = choice.reason;
  if (choice.refusal) body["refusal"] = error_json(*choice.refusal);
  if (asked->complexity) body["complexity"] = complexity_json(*asked, choice);
  body["budgets"] = budgets_json(*asked, choice, services_.limit_counts);
  ordered_json plan = ordered_json::array();
  if (choice.route && !choice.refusal) {
    const std::string_view preferred = preferred_provider(job, request);
    plan = plan_json(*choice.route, preferred, services_.board);
    body["strategy"] = config::to_string(choice.route->strategy);
    if (!preferred.empty()) body["preferred_provider"] = preferred;
  }
  body["plan"] = std::move(plan);
  co_await request.response().send(200, "application/json", body.dump());
}

}  // namespace switchyard::handlers
