// Active health checks: every provider with a `health_check` is probed on its interval (GET
// base URL + path, with its credentials, bounded by the check's timeout) through one worker's
// connection pool. `failures_to_unhealthy` failed probes in a row mark the provider unhealthy in
// the HealthBoard, which moves its targets behind the healthy ones; one good probe restores it.
// Transitions are logged as events.
#pragma once

#include <memory>
#include <vector>

#include "switchyard/async.hpp"
#include "switchyard/dispatch/dispatcher.hpp"
#include "switchyard/result.hpp"

namespace switchyard::dispatch {

class HealthChecker {
 public:
  HealthChecker(Executor ex, Dispatcher& dispatcher, const routing::RouteTable& routes);
  ~HealthChecker();

  // Starts one probe loop per checked provider; each keeps `owner` (whatever owns this checker
  // and the dispatcher) alive until it ends.
  void start(std::shared_ptr<const void> owner);
  // Ends the loops (shutdown): sleeping ones at once, a probe in flight when it ends.
  void stop();

 private:
  Awaitable<void> probe_loop(std::size_t provider_index, std::shared_ptr<const void> owner);
  // One probe: `status` is what the provider answered (0 for none); why it failed, if it did.
  Awaitable<Result<void>> probe(std::size_t provider_index, int& status);

  Executor ex_;
  Dispatcher& dispatcher_;
  const routing::RouteTable& routes_;
  std::vector<std::unique_ptr<Timer>> timers_;  // by provider index, null when unchecked
  bool stopped_ = false;
};

}  // namespace switchyard::dispatch
