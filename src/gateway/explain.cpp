// POST /admin/explain: what the gateway would do with a chat body — the route that would serve
// it and why (complexity signals and verdict, budgets on the way), and the plan of targets with
// the state that ordered it (breakers, health, rate limits) — without calling any upstream, the
// external classifier included.
#include <nlohmann/json.hpp>

#include "quota.hpp"
#include "switchyard/gateway/gateway.hpp"

namespace switchyard::gateway {

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

}  // namespace

ordered_json windows_json(const state::SpendWindows& spend,
                          std::chrono::system_clock::time_point now) {
  ordered_json windows = ordered_json::array();
  for (std::size_t w = 0; w < config::kWindowCount; ++w) {
    const auto window = static_cast<config::Window>(w);
    if (spend.cap(window) <= 0) continue;
    windows.push_back({{"window", config::budget_key(window)},
                       {"spent_usd", spend.spent(window, now)},
                       {"cap_usd", spend.cap(window)}});
  }
  return windows;
}

Awaitable<void> Gateway::explain(const Request& request, server::Responder& out,
                                 telemetry::RequestRecord& record) {
  auto parsed = api::parse_chat_request(request.body());
  if (auto* error = std::get_if<api::ApiError>(&parsed)) {
    co_await reject(*error, out, record);
    co_return;
  }
  const auto& chat = std::get<api::ChatRequest>(parsed);
  record.requested_model = chat.model();
  const routing::Route* asked = routes_->find(chat.model());
  if (!asked) {
    const auto error = api::errors::model_not_found(chat.model());
    co_await reject(error, out, record);
    co_return;
  }
  dispatch::DispatchRequest dispatch{request, out.request_id(), chat.model()};
  dispatch.chat = &chat;
  const Choice choice = co_await choose(dispatch, *asked, /*ask_classifier=*/false);

  ordered_json body{{"model", chat.model()}};
  body["route"] = choice.route ? ordered_json(choice.route->name) : ordered_json(nullptr);
  body["reason"] = choice.reason;
  if (choice.refusal) body["refusal"] = ordered_json::parse(choice.refusal->to_json())["error"];
  if (asked->complexity) {
    const auto& classifier = asked->complexity->config().classifier;
    ordered_json complexity{{"route", asked->name},
                            {"max_simple_tokens", asked->complexity->config().max_simple_tokens}};
    if (choice.verdict) {
      complexity["decision"] = choice.verdict->complex ? "complex" : "simple";
      complexity["reason"] = choice.verdict->reason;
      complexity["signals"] = signals_json(choice.verdict->signals);
    }
    if (!classifier.model.empty()) {
      complexity["classifier"] = {{"model", classifier.model},
                                  {"timeout_ms", classifier.timeout.count()},
                                  {"threshold", classifier.threshold}};
    }
    body["complexity"] = std::move(complexity);
  }

  // Every budget on the way from what was asked to what serves.
  ordered_json budgets = ordered_json::array();
  const auto wall = std::chrono::system_clock::now();
  const routing::Route* step = asked->complexity ? nullptr : asked;
  if (!step && choice.verdict) step = choice.verdict->complex ? asked->complex : asked->simple;
  for (; step && step->budget; step = step->then) {
    auto& spend = ledger_->route(step->budget_index);
    const auto exhausted = spend.exhausted(wall);
    budgets.push_back(
        {{"route", step->name},
         {"windows", windows_json(spend, wall)},
         {"exhausted", exhausted.has_value()},
         {"then", step->then ? ordered_json(step->then->name) : ordered_json(nullptr)}});
    if (!exhausted) break;
  }
  body["budgets"] = std::move(budgets);

  ordered_json plan = ordered_json::array();
  if (choice.route && !choice.refusal) {
    const routing::Route& route = *choice.route;
    const auto now = SteadyClock::now();
    auto& board = dispatcher_.board();
    std::vector<dispatch::Candidate> candidates;
    std::vector<std::size_t> order;
    board.plan_now(route, now, candidates, order);
    const std::string_view preferred = preferred_provider(dispatch);
    std::stable_partition(order.begin(), order.end(), [&](std::size_t i) {
      return !preferred.empty() && route.targets[i]->provider->name == preferred;
    });
    for (std::size_t position = 0; position < order.size(); ++position) {
      const std::size_t i = order[position];
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
    body["strategy"] = config::to_string(route.strategy);
    if (!preferred.empty()) body["preferred_provider"] = preferred;
  }
  body["plan"] = std::move(plan);
  co_await out.send(200, "application/json", body.dump());
}

}  // namespace switchyard::gateway
