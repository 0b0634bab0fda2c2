// The HTTP/1.1 front: one worker thread per core, each with its own io_context, SO_REUSEPORT
// listener, sessions and upstream pools (nothing shared per request). Owns process signals
// (SIGTERM/SIGINT drain and exit, SIGHUP reloads) and the configuration reloads, which run on
// the thread that calls run().
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "switchyard/async.hpp"
#include "switchyard/config/config.hpp"

namespace switchyard::server {

class Worker;
class Reloader;
class ClientAddresses;
class ProcessControl;
}  // namespace switchyard::server
namespace switchyard::telemetry {
class Registry;
class RequestMetrics;
class SpanExporter;
}  // namespace switchyard::telemetry
namespace switchyard::mcp {
class Hub;
}
namespace switchyard::config {
class FileWatcher;
}
namespace switchyard::server {

class Server {
 public:
  // Binds the listeners; throws std::runtime_error when it cannot (port taken, bad address).
  // `overrides`: the Redis route and model overrides as read at start.
  Server(std::shared_ptr<const config::Config> config, config::Overrides overrides = {});
  ~Server();

  std::uint16_t port() const { return port_; }
  // Serves until a signal asks for shutdown and the drain is over. Returns the exit status.
  int run();

 private:
  std::shared_ptr<const config::Config> config_;  // as loaded at start
  asio::io_context main_io_{1};
  std::unique_ptr<Reloader> reloader_;
  // Set up once, before the workers that record into them.
  std::unique_ptr<telemetry::Registry> metrics_;
  std::unique_ptr<telemetry::RequestMetrics> request_metrics_;
  std::unique_ptr<telemetry::SpanExporter> exporter_;  // with `tracing:`
  std::unique_ptr<ProcessControl> control_;
  std::unique_ptr<mcp::Hub> mcp_;                 // the MCP servers, on a thread of their own
  std::unique_ptr<config::FileWatcher> watcher_;  // of the config file, on main_io_
  std::atomic<std::size_t> open_connections_{0};
  std::unique_ptr<ClientAddresses> client_addresses_;  // for max_connections_per_client
  std::vector<std::unique_ptr<Worker>> workers_;
  std::uint16_t port_ = 0;
};

}  // namespace switchyard::server
