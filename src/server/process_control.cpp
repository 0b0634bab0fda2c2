#include "process_control.hpp"

#include "switchyard/mcp/hub.hpp"
#include "switchyard/redis/client.hpp"
#include "switchyard/telemetry/metrics.hpp"
#include "switchyard/telemetry/request_metrics.hpp"
#include "switchyard/telemetry/span_exporter.hpp"
#include "worker.hpp"

namespace switchyard::server {

namespace {
using telemetry::MetricType;
}

void ProcessControl::write_metrics(std::string& out) const {
  registry_.write(out);
  telemetry::TextWriter w(out);

  const auto reloads = reloader_.counts();
  w.family("switchyard_config_reloads_total",
           "Configuration reloads (file edit, SIGHUP, admin API, Redis overrides) by result.",
           MetricType::counter);
  w.sample({{"result", "ok"}}, reloads.ok);
  w.sample({{"result", "failed"}}, reloads.failed);
  w.family("switchyard_config_generation", "The configuration generation serving.",
           MetricType::gauge);
  w.sample({}, reloads.generation);
  w.family("switchyard_config_last_reload_success",
           "1 when the last reload succeeded (or none failed since start).", MetricType::gauge);
  w.sample({}, std::uint64_t{reloads.last_ok ? 1u : 0u});

  w.family("switchyard_open_connections", "Client connections open.", MetricType::gauge);
  w.sample({}, static_cast<std::uint64_t>(open_connections_.load(std::memory_order_relaxed)));

  redis::Client::Stats redis;
  bool has_redis = false;
  for (const auto& worker : workers_) {
    if (const auto r = worker->redis_stats()) {
      has_redis = true;
      redis += *r;
    }
  }
  if (has_redis) {
    w.family("switchyard_redis_commands_total", "Commands the workers sent to Redis.",
             MetricType::counter);
    w.sample({}, redis.commands);
    w.family("switchyard_redis_errors_total",
             "Redis commands that failed: unavailable, timed out, connection lost or an error "
             "reply.",
             MetricType::counter);
    w.sample({}, redis.failures);
    w.family("switchyard_redis_timeouts_total", "Redis commands that timed out.",
             MetricType::counter);
    w.sample({}, redis.timeouts);
    w.family("switchyard_redis_reconnects_total", "Connections the workers made to Redis.",
             MetricType::counter);
    w.sample({}, redis.connects);
  }
  const auto cache = cache_totals();
  w.family("switchyard_cache_lookups_total", "Response cache lookups by result.",
           MetricType::counter);
  w.sample({{"result", "hit"}}, cache.hits);
  w.sample({{"result", "miss"}}, cache.misses);
  w.family("switchyard_cache_stores_total", "Answers stored in the response cache.",
           MetricType::counter);
  w.sample({}, cache.stores);
  w.family("switchyard_cache_errors_total", "Response cache backend failures (Redis).",
           MetricType::counter);
  w.sample({}, cache.errors);

  if (exporter_) {
    const auto spans = exporter_->stats();
    w.family("switchyard_trace_spans_total",
             "Spans by what became of them: exported, dropped (queue full) or failed (the "
             "collector did not take them).",
             MetricType::counter);
    w.sample({{"result", "exported"}}, spans.exported);
    w.sample({{"result", "dropped"}}, spans.dropped);
    w.sample({{"result", "failed"}}, spans.failed);
    w.family("switchyard_trace_spans_queued", "Spans waiting for export.", MetricType::gauge);
    w.sample({}, spans.queued);
  }
  w.family("switchyard_log_lines_dropped_total",
           "Log lines dropped because the log output could not keep up.", MetricType::counter);
  w.sample({}, telemetry::log_lines_dropped());
  mcp_.write_metrics(out);
}

cache::Store::Stats ProcessControl::cache_totals() const {
  cache::Store::Stats total;
  for (const auto& worker : workers_) total += worker->cache_stats();
  return total;
}

telemetry::SpendTotals ProcessControl::spend() const {
  return request_metrics_.spend(registry_);
}

}  // namespace switchyard::server
