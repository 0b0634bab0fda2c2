// The edge of the request pipeline, behind the HTTP server: which endpoint a request is for
// (the table in handlers/), whether its key may call it, its trace context and Context; then its
// handler; then the record it leaves (metrics, log line, span). One Gateway per worker thread
// and configuration generation: a reload gives each worker a new one, and the old one lives on
// until the requests it started have finished.
#pragma once

#include <memory>
#include <vector>

#include "switchyard/async.hpp"
#include "switchyard/dispatch/dispatcher.hpp"
#include "switchyard/dispatch/health_check.hpp"
#include "switchyard/gateway/config_generation.hpp"
#include "switchyard/gateway/key_ring.hpp"
#include "switchyard/handlers/handler.hpp"
#include "switchyard/handlers/loopback.hpp"
#include "switchyard/handlers/services.hpp"
#include "switchyard/request/http.hpp"
#include "switchyard/request/response_sink.hpp"

namespace switchyard::redis {
class Client;
}
namespace switchyard::telemetry {
class Tracer;
}

namespace switchyard::gateway {

// What a worker lends every gateway generation it runs: things that outlive configurations.
struct WorkerContext {
  Executor ex;
  bool health_checks = false;  // this worker's gateway probes the providers for all of them
  handlers::Control* control = nullptr;  // the server's reloader (never null)
  redis::Client* redis = nullptr;        // when `redis:` was configured at start
  cache::Store* memory_cache = nullptr;
  cache::Store* redis_cache = nullptr;  // with `redis`
  state::LimitKeeper* limit_keeper =
      nullptr;  // limits and budgets: shared with `redis`, else local
  dispatch::SharedHealth* shared_health = nullptr;  // breakers and health told to the replicas
  // The worker's metrics, and what records into them.
  telemetry::WorkerMetrics* metrics = nullptr;
  const telemetry::RequestMetrics* request_metrics = nullptr;
  telemetry::Tracer* tracer = nullptr;  // with `tracing:`
  mcp::Hub* mcp = nullptr;              // the process's MCP servers
};

class Gateway final : public std::enable_shared_from_this<Gateway>, public handlers::Loopback {
 public:
  // `previous` is the gateway this one replaces on the worker, whose upstream connections to
  // unchanged providers it takes over.
  Gateway(const WorkerContext& context, std::shared_ptr<const ConfigGeneration> generation,
          const Gateway* previous);
  ~Gateway();

  // Starts the background work (health checks), once the worker's loop runs.
  void start();
  // Ends the background work: another generation has taken over.
  void retire();
  const ConfigGeneration& generation() const { return *generation_; }
  Awaitable<void> handle(request::Context& request) override;

  // Readiness goes false for the load balancer once shutdown has begun.
  void set_draining();
  void sweep_idle() { dispatcher_.sweep_idle(); }
  const dispatch::HealthBoard& board() const { return *generation_->board; }
  void close_idle() { dispatcher_.close_idle(); }

 private:
  const handlers::Endpoint* find(std::string_view path) const;
  // An unknown path, or a method the endpoint does not serve: its own coroutine, so the frame
  // of every request carries no room for these errors.
  static Awaitable<void> reject(const handlers::Endpoint* endpoint, request::Context& request);
  // The API the request speaks (an unknown path: Anthropic's when it carries anthropic-version).
  static api::Dialect dialect_of(const handlers::Endpoint* endpoint,
                                 const request::HttpRequest& http);
  // With keys configured, whether the request's key may call an endpoint of `access`: sets
  // request.key, or says why not.
  std::optional<api::ApiError> authorize(handlers::Access access, request::Context& request) const;
  // The request's trace context, from the client's traceparent and tracestate or new.
  void begin_trace(request::Context& request) const;
  // Books the response in the record and logs it (unless `quiet`).
  void finish(request::Context& request, bool quiet) const;

  std::shared_ptr<const ConfigGeneration> generation_;
  telemetry::Tracer* tracer_;
  KeyRing keys_;
  dispatch::Dispatcher dispatcher_;
  handlers::Services services_;
  std::vector<handlers::Endpoint> endpoints_;
  std::unique_ptr<dispatch::HealthChecker> health_checker_;
};

}  // namespace switchyard::gateway
