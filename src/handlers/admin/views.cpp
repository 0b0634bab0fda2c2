// The admin API's read-only views: configuration summary (no secrets), routes with their live
// ranking, provider health, spend, cache. What belongs to the process (every worker's counts)
// comes from Control; what belongs to this generation (breakers, health, budgets) from Services.
#include <nlohmann/json.hpp>

#include "../inference/key_limits.hpp"
#include "admin.hpp"
#include "switchyard/config/config.hpp"
#include "switchyard/dispatch/health_board.hpp"
#include "switchyard/mcp/hub.hpp"

namespace switchyard::handlers {

namespace {

using ordered_json = nlohmann::ordered_json;

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

ordered_json providers_json(const config::Config& config) {
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
  return providers;
}

ordered_json models_json(const config::Config& config) {
  ordered_json models = ordered_json::array();
  for (const auto& m : config.models) {
    models.push_back({{"name", m.name},
                      {"provider", m.provider},
                      {"upstream", m.upstream},
                      {"input_per_mtok", m.input_per_mtok},
                      {"output_per_mtok", m.output_per_mtok},
                      {"context", m.context}});
  }
  return models;
}

ordered_json routes_json(const config::Config& config) {
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
  return routes;
}

ordered_json keys_json(const config::Config& config) {
  ordered_json keys = ordered_json::array();
  for (const auto& k : config.keys) {
    ordered_json key{{"name", k.name}, {"admin", k.admin}, {"routes", k.routes}};
    if (k.rpm) key["rpm"] = k.rpm;
    if (k.tpm) key["tpm"] = k.tpm;
    if (k.budget.capped()) key["budget_usd"] = budget_json(k.budget);
    keys.push_back(std::move(key));
  }
  return keys;
}

}  // namespace

// Spend since start from the cost counters (every worker's), by route, provider, model and key;
// and each budget's windows. Both are this replica's own: with Redis, budgets are enforced on the
// replicas' shared spend, of which this is the share charged here.
std::string AdminView::spend_json() const {
  const auto spend = services_.control.spend();
  ordered_json body{{"total_usd", spend.total_usd},
                    {"routes", spend.routes},
                    {"providers", spend.providers},
                    {"models", spend.models},
                    {"keys", spend.keys}};
  const auto wall = std::chrono::system_clock::now();
  const auto& config = services_.config;
  auto& limit_counts = services_.limit_counts;
  ordered_json budgets = ordered_json::array();
  for (std::size_t i = 0; i < config.routes.size(); ++i) {
    if (!config.routes[i].budget.capped()) continue;
    budgets.push_back(
        {{"route", config.routes[i].name}, {"windows", windows_json(limit_counts.route(i), wall)}});
  }
  for (std::size_t i = 0; i < config.keys.size(); ++i) {
    if (!config.keys[i].budget.capped()) continue;
    budgets.push_back({{"key", config.keys[i].name},
                       {"windows", windows_json(limit_counts.key(i).budget, wall)}});
  }
  body["budgets"] = std::move(budgets);
  return body.dump();
}

Awaitable<void> AdminView::handle(request::Context& request) {
  const std::string body = json();
  co_await request.response().send(200, "application/json", body);
}

std::string AdminView::json() const {
  const auto now = std::chrono::steady_clock::now();
  switch (what_) {
    case What::health:
      return health_json(now);
    case What::routes:
      return services_.board.routes_json(now);
    case What::cache:
      return cache_json();
    case What::spend:
      return spend_json();
    case What::config:
      break;
  }
  return config_json();
}

// The providers' and targets' health, where limits and budgets are counted, and the MCP servers'
// health when MCP is served.
std::string AdminView::health_json(std::chrono::steady_clock::time_point now) const {
  auto body = ordered_json::parse(services_.board.to_json(now));
  // Redis, shared by the replicas; or this replica alone — without Redis, or while it does not
  // answer (the fallback of docs/replicas.md).
  const auto alone = services_.board.counters().workers_counting_alone.load();
  body["limits"] = {{"counted_in", !services_.config.redis ? "this replica"
                                   : alone > 0             ? "this replica: Redis does not answer"
                                                           : "redis"},
                    {"workers_counting_alone", alone}};
  if (!services_.mcp || !services_.config.mcp.enabled) return body.dump();
  ordered_json servers = ordered_json::array();
  for (const auto& server : services_.mcp->health())
    servers.push_back(
        {{"name", server.name}, {"up", server.up}, {"missed_pings", server.missed_pings}});
  body["mcp_servers"] = std::move(servers);
  return body.dump();
}

std::string AdminView::cache_json() const {
  const auto& cache = services_.config.cache;
  const auto totals = services_.control.cache_totals();
  const auto lookups = totals.hits + totals.misses;
  ordered_json body{
      {"hits", totals.hits},
      {"misses", totals.misses},
      {"hit_ratio",
       lookups ? static_cast<double>(totals.hits) / static_cast<double>(lookups) : 0.0},
      {"stores", totals.stores},
      {"errors", totals.errors},
  };
  body["enabled"] = cache.enabled;
  if (cache.enabled) {
    body["backend"] = cache.backend == config::Cache::Backend::redis ? "redis" : "memory";
    body["ttl_ms"] = cache.ttl.count();
  }
  return body.dump();
}

// What the operator configured, minus every secret (keys, key hashes, the Redis URL's password,
// collector headers).
std::string AdminView::config_json() const {
  const config::Config& config = services_.config;
  ordered_json body{
      {"source", config.source},
      {"generation", services_.generation},
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
      {"providers", providers_json(config)},
      {"models", models_json(config)},
      {"routes", routes_json(config)},
      {"keys", keys_json(config)},
      {"cache", {{"enabled", config.cache.enabled}}},
      {"redis", {{"enabled", config.redis.has_value()}}},
  };
  if (config.tracing.enabled) {
    if (auto url = config::parse_url(config.tracing.endpoint))
      body["tracing"]["endpoint"] = shown_url(*url);
    body["tracing"]["sample"] = config.tracing.sample;
  }
  if (config.redis) body["redis"]["prefix"] = config.redis->prefix;
  return body.dump();
}

}  // namespace switchyard::handlers
