#include "switchyard/dispatch/health_check.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include "switchyard/providers/adapter.hpp"
#include "switchyard/telemetry/request_log.hpp"
#include "switchyard/upstream/exchange.hpp"

namespace switchyard::dispatch {

namespace {

// A probe reads at most this much of the answer (then the connection is not reused).
constexpr std::size_t kMaxProbeBody = 1024 * 1024;

std::int64_t unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

HealthChecker::HealthChecker(Executor ex, Dispatcher& dispatcher, const routing::RouteTable& routes)
    : ex_(ex), dispatcher_(dispatcher), routes_(routes) {
  for (const auto& p : routes_.config().providers)
    timers_.push_back(p.health_check.enabled ? std::make_unique<Timer>(ex_) : nullptr);
}

HealthChecker::~HealthChecker() = default;

void HealthChecker::start(std::shared_ptr<const void> owner) {
  for (std::size_t i = 0; i < timers_.size(); ++i)
    if (timers_[i]) asio::co_spawn(ex_, probe_loop(i, owner), asio::detached);
}

void HealthChecker::stop() {
  stopped_ = true;
  for (auto& t : timers_)
    if (t) t->cancel();
}

Awaitable<void> HealthChecker::probe_loop(std::size_t provider_index,
                                          [[maybe_unused]] std::shared_ptr<const void> owner) {
  const auto& provider = routes_.config().providers[provider_index];
  const auto& check = provider.health_check;
  ProviderHealth& health = dispatcher_.board().provider(provider_index);
  Timer& timer = *timers_[provider_index];
  while (!stopped_) {
    int status = 0;
    const auto probed = co_await probe(provider_index, status);
    if (stopped_) break;
    health.probes.fetch_add(1, std::memory_order_relaxed);
    health.last_status.store(status, std::memory_order_relaxed);
    health.last_probe_ms.store(unix_ms(), std::memory_order_relaxed);
    if (probed) {
      health.failed_probes.store(0, std::memory_order_relaxed);
      if (!health.healthy.exchange(true)) {
        health.last_change_ms.store(unix_ms(), std::memory_order_relaxed);
        dispatcher_.shared_health().provider_health(provider.name, true);
        telemetry::log_event(telemetry::Level::info, "provider_healthy",
                             "provider '" + provider.name + "' passes its health check again");
      }
    } else {
      const auto failed = health.failed_probes.fetch_add(1, std::memory_order_relaxed) + 1;
      if (failed >= check.failures_to_unhealthy && health.healthy.exchange(false)) {
        health.last_change_ms.store(unix_ms(), std::memory_order_relaxed);
        dispatcher_.shared_health().provider_health(provider.name, false);
        telemetry::log_event(telemetry::Level::warn, "provider_unhealthy",
                             "provider '" + provider.name + "' failed " + std::to_string(failed) +
                                 " health checks in a row: " + probed.error());
      }
    }
    timer.expires_after(check.interval);
    co_await timer.async_wait(as_result);
  }
}

Awaitable<Result<void>> HealthChecker::probe(std::size_t provider_index, int& status) {
  const auto& provider = routes_.config().providers[provider_index];
  const auto& check = provider.health_check;
  std::string head;
  routes_.adapter(provider_index).encode_probe(check.path, head);
  upstream::Exchange exchange(dispatcher_.origin(provider_index),
                              std::chrono::steady_clock::now() + check.timeout);
  const std::array<asio::const_buffer, 1> request{asio::buffer(head)};
  upstream::Failure sent = co_await exchange.send(request);
  if (sent) co_return Unexpected(std::move(sent.detail));
  status = exchange.status();
  std::string body;
  upstream::Failure read = co_await exchange.read_body(body, kMaxProbeBody);
  exchange.finish();
  if (read) co_return Unexpected(std::move(read.detail));
  if (status != check.expect_status)
    co_return Unexpected("HTTP " + std::to_string(status) + " (expected " +
                         std::to_string(check.expect_status) + ")");
  co_return Result<void>();
}

}  // namespace switchyard::dispatch
