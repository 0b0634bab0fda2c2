#include "switchyard/dispatch/health_board.hpp"

#include <nlohmann/json.hpp>
#include <optional>

namespace switchyard::dispatch {

namespace {

using nlohmann::ordered_json;

std::int64_t ms_until(SteadyTime when, SteadyTime now) {
  return when > now ? std::chrono::duration_cast<std::chrono::milliseconds>(when - now).count() : 0;
}

}  // namespace

HealthBoard::HealthBoard(std::shared_ptr<const routing::RouteTable> routes,
                         const HealthBoard* previous)
    : routes_(std::move(routes)) {
  const auto& config = routes_->config();
  const config::Config* before = previous ? &previous->routes_->config() : nullptr;
  // Where `previous` kept the provider named `name`, when it had one.
  auto provider_before = [&](const std::string& name) -> std::optional<std::size_t> {
    if (!before) return std::nullopt;
    for (std::size_t i = 0; i < before->providers.size(); ++i)
      if (before->providers[i].name == name) return i;
    return std::nullopt;
  };
  for (const auto& target : routes_->targets()) {
    std::shared_ptr<TargetHealth> kept;
    // The same model at the same upstream, judged by the same breaker policy.
    if (before && before->resilience.breaker == config.resilience.breaker) {
      for (const auto& old : previous->routes_->targets()) {
        if (*old.model == *target.model && old.provider->base_url == target.provider->base_url &&
            old.provider->type == target.provider->type) {
          kept = previous->targets_[old.index];
          break;
        }
      }
    }
    targets_.push_back(kept ? kept : std::make_shared<TargetHealth>(config.resilience.breaker));
  }
  for (const auto& p : config.providers) {
    const auto old = provider_before(p.name);
    const config::Provider* was = old ? &before->providers[*old] : nullptr;
    const bool same_upstream =
        was && was->base_url == p.base_url && was->health_check == p.health_check;
    providers_.push_back(same_upstream ? previous->providers_[*old]
                                       : std::make_shared<ProviderHealth>());
    limiters_.push_back(was && was->rpm == p.rpm ? previous->limiters_[*old]
                                                 : std::make_shared<state::RateLimiter>(p.rpm));
    token_limiters_.push_back(was && was->tpm == p.tpm
                                  ? previous->token_limiters_[*old]
                                  : std::make_shared<state::RateLimiter>(p.tpm));
  }
  counters_ = previous ? previous->counters_ : std::make_shared<DispatchCounters>();
}

void HealthBoard::candidates(const routing::Route& route, SteadyTime now,
                             std::vector<Candidate>& out) const {
  out.clear();
  for (std::size_t i = 0; i < route.targets.size(); ++i) {
    const routing::Target& t = *route.targets[i];
    out.push_back({route.weights[i],
                   providers_[t.provider_index]->healthy.load(std::memory_order_relaxed),
                   targets_[t.index]->snapshot(now, false)});
  }
}

bool HealthBoard::any_provider_healthy() const {
  for (const auto& p : providers_)
    if (p->healthy.load(std::memory_order_relaxed)) return true;
  return providers_.empty();
}

std::string HealthBoard::readiness_json() const {
  const auto& config = routes_->config();
  ordered_json providers = ordered_json::object();
  for (std::size_t i = 0; i < config.providers.size(); ++i) {
    const auto& p = config.providers[i];
    if (!p.health_check.enabled) continue;
    providers[p.name] = providers_[i]->healthy.load() ? "healthy" : "unhealthy";
  }
  ordered_json body{{"status", any_provider_healthy() ? "ready" : "no_healthy_provider"}};
  if (!providers.empty()) body["providers"] = std::move(providers);
  return body.dump();
}

void HealthBoard::plan_now(const routing::Route& route, SteadyTime now,
                           std::vector<Candidate>& candidates,
                           std::vector<std::size_t>& order) const {
  this->candidates(route, now, candidates);
  rank(
      route.strategy, candidates, 0.0, [] { return 0.5; }, now, order);
}

ordered_json HealthBoard::target_json(const routing::Target& t, SteadyTime now) const {
  const auto s = targets_[t.index]->snapshot(now);
  return {
      {"model", t.model->name},
      {"provider", t.provider->name},
      {"upstream_model", t.model->upstream},
      {"breaker", to_string(s.state)},
      {"cooling_down", s.cooling},
      {"open_for_ms", s.state == BreakerState::open ? ms_until(s.open_until, now) : 0},
      {"consecutive_failures", s.consecutive_failures},
      {"in_flight", s.in_flight},
      {"ttfb_ewma_ms", s.ttfb_ewma.count()},
      {"window",
       {{"requests", s.window.requests},
        {"failures", s.window.failures},
        {"error_rate", s.window.error_rate()},
        {"ttfb_p50_ms", s.window.p50.count()},
        {"ttfb_p95_ms", s.window.p95.count()}}},
  };
}

// Each route's plan as a request would see it now, without exploration.
ordered_json HealthBoard::routes_array(SteadyTime now, bool with_targets) const {
  const auto& config = routes_->config();
  ordered_json routes = ordered_json::array();
  std::vector<Candidate> ranked_from;
  std::vector<std::size_t> order;
  for (const auto& r : config.routes) {
    const routing::Route* route = routes_->find(r.name);
    if (!route) continue;
    plan_now(*route, now, ranked_from, order);
    ordered_json plan = ordered_json::array();
    for (std::size_t i : order) plan.push_back(route->targets[i]->model->name);
    ordered_json entry{{"name", r.name},
                       {"strategy", config::to_string(route->strategy)},
                       {"hedge", route->hedge.enabled},
                       {"plan", std::move(plan)}};
    if (with_targets) {
      ordered_json targets = ordered_json::array();
      for (std::size_t i = 0; i < route->targets.size(); ++i) {
        auto target = target_json(*route->targets[i], now);
        target["weight"] = route->weights[i];
        target["provider_healthy"] = providers_[route->targets[i]->provider_index]->healthy.load();
        targets.push_back(std::move(target));
      }
      entry["targets"] = std::move(targets);
    }
    routes.push_back(std::move(entry));
  }
  return routes;
}

std::string HealthBoard::routes_json(SteadyTime now) const {
  return ordered_json{{"routes", routes_array(now, true)}}.dump();
}

std::string HealthBoard::to_json(SteadyTime now) const {
  const auto& config = routes_->config();
  ordered_json providers = ordered_json::array();
  for (std::size_t i = 0; i < config.providers.size(); ++i) {
    const auto& p = config.providers[i];
    const auto& h = *providers_[i];
    ordered_json entry{{"name", p.name}, {"healthy", h.healthy.load()}};
    if (p.health_check.enabled) {
      entry["health_check"] = {
          {"path", p.health_check.path},
          {"interval_ms", p.health_check.interval.count()},
          {"probes", h.probes.load()},
          {"failed_in_a_row", h.failed_probes.load()},
          {"last_status", h.last_status.load()},
          {"last_probe_unix_ms", h.last_probe_ms.load()},
          {"last_change_unix_ms", h.last_change_ms.load()},
      };
    }
    providers.push_back(std::move(entry));
  }

  ordered_json targets = ordered_json::array();
  for (const auto& t : routes_->targets()) targets.push_back(target_json(t, now));
  ordered_json routes = routes_array(now, false);

  const auto& c = *counters_;
  ordered_json counters{
      {"retries", c.retries.load()},
      {"failovers", c.failovers.load()},
      {"hedges", c.hedges.load()},
      {"hedge_wins", c.hedge_wins.load()},
      {"hedges_wasted", c.hedges_wasted.load()},
      {"hedge_waste_usd", static_cast<double>(c.hedge_waste_micro_usd.load()) / 1e6},
      {"breaker_skips", c.breaker_skips.load()},
      {"deadline_exceeded", c.deadline_exceeded.load()},
      {"rate_limit_skips", c.rate_limit_skips.load()},
      {"classifier_calls", c.classifier_calls.load()},
      {"classifier_fallbacks", c.classifier_fallbacks.load()},
      {"shared_state_fallbacks", c.shared_state_fallbacks.load()},
  };
  return ordered_json{{"providers", std::move(providers)},
                      {"targets", std::move(targets)},
                      {"routes", std::move(routes)},
                      {"counters", std::move(counters)}}
      .dump();
}

}  // namespace switchyard::dispatch
