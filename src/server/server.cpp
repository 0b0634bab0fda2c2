#include "switchyard/server/server.hpp"

#include <sched.h>

#include <algorithm>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <stdexcept>
#include <thread>

#include <spdlog/spdlog.h>

#include "switchyard/telemetry/request_log.hpp"
#include "worker.hpp"

namespace switchyard::server {

namespace {

constexpr auto kForceGrace = std::chrono::seconds(2);

unsigned available_cores() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) return std::max(1, CPU_COUNT(&set));
  return std::max(1u, std::thread::hardware_concurrency());
}

}  // namespace

Server::Server(std::shared_ptr<const config::Config> config) : config_(std::move(config)) {
  const auto& s = config_->server;
  beast::error_code ec;
  const auto address = asio::ip::make_address(s.host, ec);
  if (ec) throw std::runtime_error("invalid listen address '" + s.host + "'");
  auto routes = std::make_shared<const routing::RouteTable>(config_);
  auto board = std::make_shared<dispatch::HealthBoard>(routes);
  auto ledger = std::make_shared<state::Ledger>(*config_);
  const unsigned n = s.workers ? s.workers : available_cores();
  for (unsigned i = 0; i < n; ++i) {
    auto w = std::make_unique<Worker>(*config_, routes, board, ledger, i == 0, open_connections_);
    try {
      // The first worker may get an ephemeral port; the others join it.
      w->listen(tcp::endpoint(address, i == 0 ? s.port : port_));
    } catch (const std::exception& e) {
      throw std::runtime_error("cannot listen on " + s.host + ":" +
                               std::to_string(i == 0 ? s.port : port_) + ": " + e.what());
    }
    if (i == 0) port_ = w->port();
    workers_.push_back(std::move(w));
  }
}

Server::~Server() = default;

int Server::run() {
  asio::io_context main_io(1);
  asio::signal_set signals(main_io, SIGTERM, SIGINT, SIGHUP);
  Timer drain_timer(main_io);
  bool forced = false;
  std::atomic<std::size_t> running{workers_.size()};
  bool draining = false;

  std::vector<std::thread> threads;
  for (auto& w : workers_) {
    threads.emplace_back([&, worker = w.get()] {
      worker->run();
      if (running.fetch_sub(1) == 1) asio::post(main_io, [&] { main_io.stop(); });
    });
  }
  telemetry::log_event(telemetry::Level::info, "listening",
                       "listening on " + config_->server.host + ":" + std::to_string(port_) +
                           " with " + std::to_string(workers_.size()) + " workers");

  // Past the drain timeout every connection is shut down, which ends the requests on them
  // (and cancels their upstream exchanges) within moments; if even that hangs, stop hard.
  auto force = [&] {
    forced = true;
    for (auto& w : workers_) w->force_close();
    drain_timer.expires_after(kForceGrace);
    drain_timer.async_wait([&](const beast::error_code& tec) {
      if (tec) return;
      for (auto& w : workers_) w->stop();
    });
  };
  std::function<void(const beast::error_code&, int)> on_signal = [&](const beast::error_code& ec,
                                                                     int signo) {
    if (ec) return;
    if (signo == SIGHUP) {
      telemetry::log_event(telemetry::Level::warn, "reload",
                           "SIGHUP ignored: configuration reload is not available yet");
    } else if (!draining) {
      draining = true;
      telemetry::log_event(telemetry::Level::info, "draining",
                           "shutting down: finishing in-flight requests (up to " +
                               std::to_string(config_->server.drain_timeout.count()) + " ms)");
      for (auto& w : workers_) w->drain();
      drain_timer.expires_after(config_->server.drain_timeout);
      drain_timer.async_wait([&](const beast::error_code& tec) {
        if (tec) return;
        telemetry::log_event(telemetry::Level::warn, "drain_timeout",
                             "drain timeout reached: closing the remaining connections");
        force();
      });
    } else if (!forced) {
      telemetry::log_event(telemetry::Level::warn, "shutdown",
                           "second signal: closing the remaining connections now");
      drain_timer.cancel();
      force();
    }
    signals.async_wait(on_signal);
  };
  signals.async_wait(on_signal);
  main_io.run();
  for (auto& t : threads) t.join();
  telemetry::log_event(telemetry::Level::info, "stopped", "shut down");
  spdlog::shutdown();
  if (running.load() != 0 ||
      std::any_of(workers_.begin(), workers_.end(), [](auto& w) { return w->stopped_hard(); })) {
    // Work was abandoned mid-flight: its coroutine frames must not be destroyed after the
    // objects they point into, so leave without running destructors.
    std::fflush(nullptr);
    std::_Exit(0);
  }
  return 0;
}

}  // namespace switchyard::server
