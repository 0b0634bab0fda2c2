#include "metrics.hpp"

#include "switchyard/config/config.hpp"
#include "switchyard/dispatch/health_board.hpp"
#include "switchyard/routing/route_table.hpp"
#include "switchyard/telemetry/metrics.hpp"

namespace switchyard::handlers {

using telemetry::MetricType;

Awaitable<void> Metrics::handle(request::Context& request) {
  const std::string body = text();
  co_await request.response().send(200, "text/plain; version=0.0.4; charset=utf-8", body);
}

std::string Metrics::text() const {
  std::string out;
  out.reserve(16 * 1024);
  services_.control.write_metrics(out);
  telemetry::TextWriter w(out);
  w.family("switchyard_build_info", "The running build.", MetricType::gauge);
  w.sample({{"version", SWITCHYARD_VERSION}}, std::uint64_t{1});

  const auto& health = services_.board;
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
  for (const auto& t : services_.routes.targets()) {
    const auto state = health.target(t).snapshot(now, false).state;
    const std::uint64_t value = state == dispatch::BreakerState::closed      ? 0
                                : state == dispatch::BreakerState::half_open ? 1
                                                                             : 2;
    w.sample({{"provider", t.provider->name}, {"model", t.model->name}}, value);
  }
  w.family("switchyard_provider_healthy",
           "1 while the provider passes its health check (or has none).", MetricType::gauge);
  const auto& providers = services_.config.providers;
  for (std::size_t i = 0; i < providers.size(); ++i)
    w.sample({{"provider", providers[i].name}},
             std::uint64_t{health.provider(i).healthy.load(std::memory_order_relaxed) ? 1u : 0u});
  return out;
}

}  // namespace switchyard::handlers
