// The HTTP/1.1 front: one worker thread per core, each with its own io_context, SO_REUSEPORT
// listener, sessions and upstream pools (nothing shared per request). Owns process signals:
// SIGTERM/SIGINT drain and exit, SIGHUP is reserved for reload.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "switchyard/config/config.hpp"

namespace switchyard::server {

class Worker;

class Server {
 public:
  // Binds the listeners; throws std::runtime_error when it cannot (port taken, bad address).
  explicit Server(std::shared_ptr<const config::Config> config);
  ~Server();

  std::uint16_t port() const { return port_; }
  // Serves until a signal asks for shutdown and the drain is over. Returns the exit status.
  int run();

 private:
  std::shared_ptr<const config::Config> config_;
  std::atomic<std::size_t> open_connections_{0};
  std::vector<std::unique_ptr<Worker>> workers_;
  std::uint16_t port_ = 0;
};

}  // namespace switchyard::server
