// The request pipeline behind the HTTP server: which endpoint and whose key, then for chat
// completions and embeddings parse → resolve the route → choose what serves it (complexity,
// budgets) → the key's limits → dispatch (raced against the client going away) → settle spend
// → log. The cache slots in here in front of dispatch. One Gateway per worker thread and
// configuration generation: a reload gives each worker a new one, and the old one lives on until
// the requests it started have finished.
#pragma once

#include <memory>
#include "switchyard/async.hpp"

#include "switchyard/dispatch/dispatcher.hpp"
#include "switchyard/dispatch/health_check.hpp"
#include "switchyard/gateway/key_ring.hpp"
#include "switchyard/gateway/snapshot.hpp"
#include "switchyard/routing/complexity.hpp"
#include "switchyard/routing/route_table.hpp"
#include "switchyard/server/request.hpp"
#include "switchyard/server/responder.hpp"
#include "switchyard/state/ledger.hpp"
#include "switchyard/state/meter.hpp"
#include "switchyard/telemetry/request_log.hpp"

namespace switchyard::redis {
class Client;
}
namespace switchyard::cache {
class Store;
}
namespace switchyard::telemetry {
class Shard;
class RequestMetrics;
class Tracer;
}  // namespace switchyard::telemetry

namespace switchyard::gateway {

using server::Request;

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
  // The response cache's counts summed over the workers, as JSON. Any thread.
  virtual std::string cache_json() const = 0;
  // Spend since start, by route, provider, model and key, as JSON. Any thread.
  virtual std::string spend_json() const = 0;
};

// What a worker lends every gateway generation it runs: things that outlive configurations.
struct WorkerContext {
  Executor ex;
  bool health_checks = false;      // this worker's gateway probes the providers for all of them
  Control* control = nullptr;      // the server's reloader (never null)
  redis::Client* redis = nullptr;  // when `redis:` was configured at start
  cache::Store* memory_cache = nullptr;
  cache::Store* redis_cache = nullptr;  // with `redis`
  state::Meter* meter = nullptr;        // limits and budgets: shared with `redis`, else local
  dispatch::SharedHealth* shared_health = nullptr;  // breakers and health told to the replicas
  // The worker's metrics, and what records into them.
  telemetry::Shard* metrics = nullptr;
  const telemetry::RequestMetrics* request_metrics = nullptr;
  telemetry::Tracer* tracer = nullptr;  // with `tracing:`
};

class Gateway : public std::enable_shared_from_this<Gateway> {
 public:
  // `previous` is the gateway this one replaces on the worker, whose upstream connections to
  // unchanged providers it takes over.
  Gateway(const WorkerContext& context, std::shared_ptr<const Snapshot> snapshot,
          const Gateway* previous);
  ~Gateway();

  // Starts the background work (health checks), once the worker's loop runs.
  void start();
  // Ends the background work: another generation has taken over.
  void retire();
  const Snapshot& snapshot() const { return *snapshot_; }
  Awaitable<void> handle(const Request& request, server::Responder& out);

  // Readiness goes false for the load balancer once shutdown has begun.
  void set_draining();
  void sweep_idle() { dispatcher_.sweep_idle(); }
  const dispatch::HealthBoard& board() const { return *snapshot_->board; }
  void close_idle() { dispatcher_.close_idle(); }

 private:
  // `key`: the client's gateway key, when keys are configured.
  Awaitable<void> chat(const Request& request, server::Responder& out,
                       telemetry::RequestRecord& record, const config::GatewayKey* key);
  Awaitable<void> embeddings(const Request& request, server::Responder& out,
                             telemetry::RequestRecord& record, const config::GatewayKey* key);
  // Resolves the route and runs the dispatch, answering with its error if no target served.
  Awaitable<void> serve(dispatch::DispatchRequest& dispatch, server::Responder& out,
                        telemetry::RequestRecord& record, const config::GatewayKey* key);
  static void prefer(dispatch::DispatchRequest& dispatch, server::Responder& out,
                     telemetry::RequestRecord& record);
  // Header x-switchyard-provider, else the body's metadata.preferred_provider; empty if neither.
  static std::string_view preferred_provider(const dispatch::DispatchRequest& dispatch);

  // Which route serves a request naming `asked`, and why.
  struct Choice {
    const routing::Route* route = nullptr;    // serves; the last one tried when refused
    std::optional<routing::Verdict> verdict;  // a classifier route's
    std::string reason;                       // for the log line; empty when `asked` serves
    std::optional<api::ApiError> refusal;     // a spent budget without a `then`, …
  };
  // A classifier route picks simple or complex (asking its classifier only when
  // `ask_classifier`); a route whose budget is spent hands over to its `then`.
  Awaitable<Choice> choose(const dispatch::DispatchRequest& request, const routing::Route& asked,
                           bool ask_classifier);
  // POST /admin/explain: the choice and plan for a chat body, without calling any upstream.
  Awaitable<void> explain(const Request& request, server::Responder& out,
                          telemetry::RequestRecord& record);
  // Where a miss's answer goes once served: the cache key (empty: not stored) and lifetime.
  struct CachePlan {
    std::string key;
    std::chrono::milliseconds ttl{0};
  };
  // Answers from the response cache when it holds this request's answer, or refuses a malformed
  // x-switchyard-cache (true: the request is done); otherwise fills `plan`. Says in
  // x-switchyard-cache what it did.
  Awaitable<bool> consult_cache(const dispatch::DispatchRequest& dispatch, server::Responder& out,
                                telemetry::RequestRecord& record, CachePlan& plan);
  // Stores `body`, what the client got, when it is a complete plain answer (plan permitting).
  void fill_cache(const CachePlan& plan, const dispatch::DispatchRequest& dispatch,
                  const telemetry::RequestRecord& record, const std::string& body,
                  const server::Responder& out);
  // The request's trace context, from the client's traceparent and tracestate or new.
  void begin_trace(const Request& request, telemetry::RequestRecord& record) const;
  // GET /metrics: the process's metrics, then this generation's (breakers, health, dispatch).
  std::string metrics_text() const;
  // GET /admin/{health,config,routes,spend,cache}.
  std::string admin_json(std::string_view what) const;
  std::string spend_json() const;
  // POST /admin/reload: reloads the configuration; GET: how the last reload went.
  Awaitable<void> reload(const Request& request, server::Responder& out);
  // The name a route's spend is kept under across replicas.
  static std::string route_budget(const routing::Route& route) { return "route:" + route.name; }
  // Books the response in the record and logs it (unless `quiet`).
  void finish(server::Responder& out, telemetry::RequestRecord& record, bool quiet) const;
  static Awaitable<void> reject(const api::ApiError& error, server::Responder& out,
                                telemetry::RequestRecord& record);

  std::shared_ptr<const Snapshot> snapshot_;
  const routing::RouteTable* routes_;
  state::Ledger* ledger_;
  Control& control_;
  cache::Store* cache_;          // the configured backend; null when the cache is off
  bool cache_in_redis_ = false;  // cache_ is the Redis backend
  state::Meter& meter_;
  telemetry::Shard* metrics_;
  const telemetry::RequestMetrics* request_metrics_;
  telemetry::Tracer* tracer_;
  bool redis_;  // limits go through Redis (when it answers)
  KeyRing keys_;
  dispatch::Dispatcher dispatcher_;
  std::unique_ptr<dispatch::HealthChecker> health_checker_;
  bool draining_ = false;
};

}  // namespace switchyard::gateway
