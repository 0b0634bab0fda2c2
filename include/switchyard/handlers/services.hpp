// What every handler of one configuration generation on one worker shares: the configuration and
// what is built from it, the worker's dispatcher and limits, the response cache, the metrics, and
// the process around it all (Control). The gateway owns one Services per generation and worker;
// the handlers keep a reference.
#pragma once

#include <cstdint>
#include <string>

#include "switchyard/async.hpp"
#include "switchyard/cache/store.hpp"
#include "switchyard/telemetry/spend_totals.hpp"

namespace switchyard::config {
struct Config;
}
namespace switchyard::routing {
class RouteTable;
}
namespace switchyard::dispatch {
class Dispatcher;
class HealthBoard;
}  // namespace switchyard::dispatch
namespace switchyard::state {
class LimitCounts;
class LimitKeeper;
}  // namespace switchyard::state
namespace switchyard::telemetry {
class WorkerMetrics;
class RequestMetrics;
}  // namespace switchyard::telemetry

namespace switchyard::mcp {
class Hub;
}
namespace switchyard::redis {
class Client;
}

namespace switchyard::handlers {

class Loopback;

// What the admin API and /metrics ask of the process around the gateways: a configuration
// reload (which runs on the server's own thread), and what the process as a whole has counted.
class Control {
 public:
  virtual ~Control() = default;
  struct Outcome {
    bool ok = false;
    std::string json;  // the reload status, as reload_status() reports it
  };
  // Reloads now and answers once it is done (or has failed). From any worker's thread.
  virtual Awaitable<Outcome> reload() = 0;
  // The generation serving and how the last reload went, as JSON. Any thread.
  virtual std::string reload_status() const = 0;
  // The process's metrics in Prometheus text format: every worker's request metrics, reloads,
  // Redis, the response cache, trace export, connections, the log. Any thread.
  virtual void write_metrics(std::string& out) const = 0;
  // The response cache's counts summed over the workers. Any thread.
  virtual cache::Store::Stats cache_totals() const = 0;
  // Spend since start, by route, provider, model and key. Any thread.
  virtual telemetry::SpendTotals spend() const = 0;
};

struct Services {
  const config::Config& config;
  const routing::RouteTable& routes;
  dispatch::HealthBoard& board;
  state::LimitCounts& limit_counts;
  std::uint64_t generation;  // counts reloads: 1 for the configuration loaded at start
  Control& control;
  dispatch::Dispatcher& dispatcher;
  // Limits and budgets: the replicas' shared counts when `limits_in_redis`, else this process's.
  state::LimitKeeper& limit_keeper;
  bool limits_in_redis = false;
  cache::Store* cache = nullptr;  // the configured backend; null when the cache is off
  bool cache_in_redis = false;
  telemetry::WorkerMetrics* metrics = nullptr;  // this worker's, with what records into it
  const telemetry::RequestMetrics* request_metrics = nullptr;
  mcp::Hub* mcp = nullptr;         // the process's MCP servers; null where MCP is not served
  Loopback* loopback = nullptr;    // the gateway these services belong to
  redis::Client* redis = nullptr;  // this worker's, when `redis:` was configured at start
  bool draining = false;           // shutdown has begun: not ready for new traffic
};

}  // namespace switchyard::handlers
