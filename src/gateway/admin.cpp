// GET /metrics and the admin API's read-only views: configuration summary (no secrets), routes
// with their live ranking, provider health, spend, cache. What belongs to the process (every
// worker's counts) comes from Control; what belongs to this generation (breakers, health,
// budgets) from the snapshot.
#include <nlohmann/json.hpp>

#include "quota.hpp"
#include "switchyard/gateway/gateway.hpp"
#include "switchyard/telemetry/metrics.hpp"

namespace switchyard::gateway {

namespace {

using ordered_json = nlohmann::ordered_json;
using telemetry::MetricType;

// A URL as the admin API may show it: no user info, query or fragment (where credentials hide).
std::string shown_url(const config::Url& url) {
  return std::string(url.tls ? "https://" : "http://") + url.authority + url.path;
}

ordered_json budget_json(const config::Budget& budget) {
  ordered_json caps = ordered_json::object();
  for (std::size_t w = 0; w < config::kWindowCount; ++w)
    if (budget.usd[w] > 0)
      caps[std::string(config::budget_key(static_cast<config::Window>(w)))] = budget.usd[w];
  return caps;
}

}  // namespace

std::string Gateway::metrics_text() const {
  std::string out;
  out.reserve(16 * 1024);
  control_.write_metrics(out);
  telemetry::TextWriter w(out);
  w.family("switchyard_build_info", "The running build.", MetricType::gauge);
  w.sample({{"version", SWITCHYARD_VERSION}}, std::uint64_t{1});

  const auto& health = board();
  const auto& c = health.counters();
  auto counter = [&](std::string_view name, std::string_view help,
                     const std::atomic<std::uint64_t>& value) {
    w.family(name, help, MetricType::counter);
    w.sample({}, value.load(std::memory_order_relaxed));
  };
  counter("switchyard_retries_total", "Another try of the same target after a failure.", c.retries);
  counter("switchyard_failovers_total", "Moves to the route's next target after a failure.",
          c.failovers);
  counter("switchyard_hedges_total", "Second targets started beside a slow first one.", c.hedges);
  counter("switchyard_hedge_wins_total", "Hedges that answered first.", c.hedge_wins);
  counter("switchyard_breaker_skips_total", "Targets left out because their breaker was open.",
          c.breaker_skips);
  counter("switchyard_deadline_exceeded_total", "Requests whose deadline passed.",
          c.deadline_exceeded);
  counter("switchyard_provider_rate_limit_skips_total",
          "Targets passed over at their provider's own rate limit.", c.rate_limit_skips);
  counter("switchyard_shared_state_fallbacks_total",
          "Limit and budget decisions made on this replica's own counts because Redis did not "
          "answer.",
          c.shared_state_fallbacks);

  const auto now = std::chrono::steady_clock::now();
  w.family("switchyard_breaker_state",
           "Each target's circuit breaker: 0 closed, 1 half-open, 2 open.", MetricType::gauge);
  for (const auto& t : routes_->targets()) {
    const auto state = health.target(t).snapshot(now, false).state;
    const std::uint64_t value = state == dispatch::BreakerState::closed      ? 0
                                : state == dispatch::BreakerState::half_open ? 1
                                                                             : 2;
    w.sample({{"provider", t.provider->name}, {"model", t.model->name}}, value);
  }
  w.family("switchyard_provider_healthy",
           "1 while the provider passes its health check (or has none).", MetricType::gauge);
  const auto& providers = routes_->config().providers;
  for (std::size_t i = 0; i < providers.size(); ++i)
    w.sample({{"provider", providers[i].name}},
             std::uint64_t{health.provider(i).healthy.load(std::memory_order_relaxed) ? 1u : 0u});
  return out;
}

// Spend since start from the cost counters (every worker's), by route, provider, model and key;
// and each budget's windows. Both are this replica's own: with Redis, budgets are enforced on the
// replicas' shared spend, of which this is the share charged here.
std::string Gateway::spend_json() const {
  auto body = ordered_json::parse(control_.spend_json());
  const auto wall = std::chrono::system_clock::now();
  const auto& config = routes_->config();
  ordered_json budgets = ordered_json::array();
  for (std::size_t i = 0; i < config.routes.size(); ++i) {
    if (!config.routes[i].budget.capped()) continue;
    budgets.push_back(
        {{"route", config.routes[i].name}, {"windows", windows_json(ledger_->route(i), wall)}});
  }
  for (std::size_t i = 0; i < config.keys.size(); ++i) {
    if (!config.keys[i].budget.capped()) continue;
    budgets.push_back(
        {{"key", config.keys[i].name}, {"windows", windows_json(ledger_->key(i).budget, wall)}});
  }
  body["budgets"] = std::move(budgets);
  return body.dump();
}

std::string Gateway::admin_json(std::string_view what) const {
  const auto now = std::chrono::steady_clock::now();
  const config::Config& config = routes_->config();
  if (what == "health") return board().to_json(now);
  if (what == "routes") return board().routes_json(now);
  if (what == "cache") {
    auto body = ordered_json::parse(control_.cache_json());
    body["enabled"] = config.cache.enabled;
    if (config.cache.enabled) {
      body["backend"] = config.cache.backend == config::Cache::Backend::redis ? "redis" : "memory";
      body["ttl_ms"] = config.cache.ttl.count();
    }
    return body.dump();
  }
  if (what == "spend") return spend_json();
  // "config": what the operator configured, minus every secret (keys, key hashes, the Redis
  // URL's password, collector headers).
  ordered_json providers = ordered_json::array();
  for (const auto& p : config.providers) {
    providers.push_back({{"name", p.name},
                         {"type", config::to_string(p.type)},
                         {"base_url", shown_url(p.base_url)},
                         {"api_key", p.api_key.empty() ? "none" : "set"},
                         {"timeouts_ms",
                          {{"connect", p.timeouts.connect.count()},
                           {"first_byte", p.timeouts.first_byte.count()},
                           {"idle", p.timeouts.idle.count()},
                           {"total", p.timeouts.total.count()}}},
                         {"health_check", p.health_check.enabled}});
  }
  ordered_json models = ordered_json::array();
  for (const auto& m : config.models) {
    models.push_back({{"name", m.name},
                      {"provider", m.provider},
                      {"upstream", m.upstream},
                      {"input_per_mtok", m.input_per_mtok},
                      {"output_per_mtok", m.output_per_mtok},
                      {"context", m.context}});
  }
  ordered_json routes = ordered_json::array();
  for (const auto& r : config.routes) {
    ordered_json route{{"name", r.name}};
    if (r.complexity) {
      route["complexity"] = {{"simple", r.complexity->simple},
                             {"complex", r.complexity->complex},
                             {"max_simple_tokens", r.complexity->max_simple_tokens}};
    } else {
      route["targets"] = r.targets;
      route["strategy"] = config::to_string(r.strategy);
      route["retry_attempts"] = r.retry.attempts;
      route["deadline_ms"] = r.deadline.count();
      route["hedge"] = r.hedge.enabled;
    }
    if (r.budget.capped()) {
      route["budget_usd"] = budget_json(r.budget);
      route["budget_then"] =
          r.budget.then.empty() ? ordered_json(nullptr) : ordered_json(r.budget.then);
    }
    if (r.cache_ttl) route["cache_ttl_ms"] = r.cache_ttl->count();
    routes.push_back(std::move(route));
  }
  ordered_json keys = ordered_json::array();
  for (const auto& k : config.keys) {
    ordered_json key{{"name", k.name}, {"admin", k.admin}, {"routes", k.routes}};
    if (k.rpm) key["rpm"] = k.rpm;
    if (k.tpm) key["tpm"] = k.tpm;
    if (k.budget.capped()) key["budget_usd"] = budget_json(k.budget);
    keys.push_back(std::move(key));
  }
  ordered_json body{
      {"source", config.source},
      {"generation", snapshot_->generation},
      {"server",
       {{"listen", config.server.host + ":" + std::to_string(config.server.port)},
        {"workers", config.server.workers}}},
      {"log",
       {{"level", config.log.level},
        {"requests", config.log.requests},
        {"format", config.log.format == config::Log::Format::text ? "text" : "json"},
        {"file", config.log.file.empty() ? ordered_json(nullptr) : ordered_json(config.log.file)}}},
      {"metrics", {{"enabled", config.metrics.enabled}}},
      {"tracing", {{"enabled", config.tracing.enabled}}},
      {"providers", std::move(providers)},
      {"models", std::move(models)},
      {"routes", std::move(routes)},
      {"keys", std::move(keys)},
      {"cache", {{"enabled", config.cache.enabled}}},
      {"redis", {{"enabled", config.redis.has_value()}}},
  };
  if (config.tracing.enabled) {
    if (auto url = config::parse_url(config.tracing.endpoint, nullptr))
      body["tracing"]["endpoint"] = shown_url(*url);
    body["tracing"]["sample"] = config.tracing.sample;
  }
  if (config.redis) body["redis"]["prefix"] = config.redis->prefix;
  return body.dump();
}

}  // namespace switchyard::gateway
