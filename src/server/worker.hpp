// One worker thread's world: its io_context, listener, client sessions and Gateway. Only this
// thread touches any of it; other threads talk to it by posting to its io_context.
#pragma once

#include <atomic>
#include <boost/intrusive/list.hpp>
#include <memory>
#include <optional>

#include "switchyard/api/error.hpp"
#include "switchyard/async.hpp"
#include "switchyard/cache/store.hpp"
#include "switchyard/config/config.hpp"
#include "switchyard/gateway/gateway.hpp"
#include "switchyard/redis/client.hpp"
#include "switchyard/routing/route_table.hpp"
#include "switchyard/state/limit_keeper.hpp"
#include "switchyard/telemetry/metrics.hpp"
#include "switchyard/telemetry/request_metrics.hpp"
#include "switchyard/telemetry/tracer.hpp"

namespace switchyard::server {

using tcp = asio::ip::tcp;

class Session;
class ClientAddresses;
// Only this thread does I/O on a worker's context; other threads only post to it (drain, stop),
// and the scheduler keeps its lock for that. The reactor's per-descriptor locks are not needed.
using SessionHook =
    boost::intrusive::list_base_hook<boost::intrusive::link_mode<boost::intrusive::auto_unlink>>;

class Worker {
 public:
  // The first worker (`first`) also runs the providers' health checks. The server settings are
  // the generation's and stay for the worker's life; a reload changes everything else.
  // `memory_cache` and `mcp` (the MCP servers) are the process's, shared by the workers.
  // What the process lends each worker for metrics and traces.
  struct Telemetry {
    telemetry::Registry* registry = nullptr;  // null: metrics off, nothing recorded
    const telemetry::RequestMetrics* request_metrics = nullptr;
    telemetry::SpanExporter* exporter = nullptr;  // null: no tracing
  };
  Worker(std::shared_ptr<const gateway::ConfigGeneration> generation, handlers::Control* control,
         bool first, std::atomic<std::size_t>& open_connections, ClientAddresses& clients,
         std::shared_ptr<cache::MemoryStore> memory_cache, const Telemetry& telemetry,
         mcp::Hub* mcp);
  ~Worker();

  // Opens the listener on `endpoint` (SO_REUSEPORT, so every worker binds the same port).
  void listen(const tcp::endpoint& endpoint);
  std::uint16_t port() const;

  // Runs the event loop on the calling thread until the worker has nothing left to do.
  void run();
  // From any thread: stop accepting, finish in-flight requests, close idle connections.
  void drain();
  // From any thread: shut down every client connection, which ends the work on them.
  void force_close();
  // From any thread: serve new requests from `generation` (a reload); those in flight finish on
  // the one they started with.
  void install(std::shared_ptr<const gateway::ConfigGeneration> generation);
  // From any thread: stop the event loop, abandoning whatever is still running.
  void stop() {
    stopped_hard_ = true;
    io_.stop();
  }
  bool stopped_hard() const { return stopped_hard_; }

  // For sessions.
  const config::Server& limits() const { return server_; }
  // The current generation's gateway; a request holds on to it until it is done.
  std::shared_ptr<gateway::Gateway> gateway() const { return gateway_; }
  bool draining() const { return draining_; }
  void add(Session& s);
  // Counts a connection just accepted from `client`; the error to answer it with when it is past
  // max_connections or max_connections_per_client (it is counted all the same). Each is closed
  // with connection_closed().
  std::optional<api::ApiError> open_connection(const asio::ip::address& client);
  void connection_closed(const asio::ip::address& client);
  // From any thread: the counts of this worker's Redis client (none without `redis:`) and cache
  // backends.
  std::optional<redis::Client::Stats> redis_stats() const;
  cache::Store::Stats cache_stats() const;

 private:
  Awaitable<void> accept_loop();
  // Flushes the request log and sweeps idle upstream connections.
  Awaitable<void> tick_loop();

  const config::Server server_;
  // Before the gateway, which borrows them (WorkerContext).
  asio::io_context io_{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO};
  std::unique_ptr<redis::Client> redis_;  // when `redis:` is configured
  std::unique_ptr<cache::Store> memory_cache_, redis_cache_;
  std::unique_ptr<state::SharedState> shared_state_;  // with redis_
  state::LimitKeeper limit_keeper_;
  std::shared_ptr<telemetry::WorkerMetrics> metrics_;
  std::unique_ptr<telemetry::Tracer> tracer_;
  dispatch::SharedHealth shared_health_;
  gateway::WorkerContext context_;
  Acceptor acceptor_;
  std::shared_ptr<gateway::Gateway> gateway_;
  Timer tick_timer_;
  boost::intrusive::list<Session, boost::intrusive::base_hook<SessionHook>,
                         boost::intrusive::constant_time_size<false>>
      sessions_;
  std::atomic<std::size_t>& open_connections_;
  ClientAddresses& clients_;  // counted only with max_connections_per_client
  bool draining_ = false;
  std::atomic<bool> stopped_hard_{false};
};

}  // namespace switchyard::server
