#include "switchyard/server/server.hpp"

#include <sched.h>
#include <sys/resource.h>

#include <algorithm>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <stdexcept>
#include <thread>

#include <spdlog/spdlog.h>

#include "client_addresses.hpp"
#include "process_control.hpp"
#include "reloader.hpp"
#include "switchyard/cache/memory_store.hpp"
#include "switchyard/config/file_watch.hpp"
#include "switchyard/mcp/ended_sessions.hpp"
#include "switchyard/mcp/hub.hpp"
#include "switchyard/mcp/shared_streams.hpp"
#include "switchyard/telemetry/metrics.hpp"
#include "switchyard/telemetry/request_log.hpp"
#include "switchyard/telemetry/request_metrics.hpp"
#include "switchyard/telemetry/span_exporter.hpp"
#include "worker.hpp"

namespace switchyard::server {

namespace {

constexpr auto kForceGrace = std::chrono::seconds(2);

// A client connection may hold an upstream connection too, so a busy gateway needs about two
// descriptors per client: the soft limit on open files is raised to the hard one (as nginx's
// worker_rlimit_nofile does), and a hard limit below that need is said at start-up.
void raise_open_files_limit(std::size_t max_connections) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  if (limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
  const rlim_t needed = 2 * static_cast<rlim_t>(max_connections) + 256;
  if (limit.rlim_max != RLIM_INFINITY && limit.rlim_max < needed) {
    telemetry::log_event(telemetry::Level::warn, "open_files",
                         "the limit on open files (" + std::to_string(limit.rlim_max) +
                             ") is below what server.max_connections may need (" +
                             std::to_string(needed) + "): raise it (ulimit -n)");
  }
}

unsigned available_cores() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) return std::max(1, CPU_COUNT(&set));
  return std::max(1u, std::thread::hardware_concurrency());
}

}  // namespace

Server::Server(std::shared_ptr<const config::Config> config, config::Overrides overrides)
    : config_(std::move(config)), client_addresses_(std::make_unique<ClientAddresses>()) {
  const auto& s = config_->server;
  beast::error_code ec;
  const auto address = asio::ip::make_address(s.host, ec);
  if (ec) throw std::runtime_error("invalid listen address '" + s.host + "'");
  reloader_ = std::make_unique<Reloader>(
      main_io_.get_executor(), gateway::ConfigGeneration::build(config_, nullptr),
      [this](std::shared_ptr<const gateway::ConfigGeneration> next) {
        if (mcp_) mcp_->configure(next->config->mcp);  // after start: the Hub is made below
        for (auto& w : workers_) w->install(next);
      });
  // Before any worker exists: they all start on the merged configuration (or the file's, when
  // the overrides do not validate, which is logged).
  reloader_->apply_overrides(std::move(overrides));
  const auto generation = reloader_->current();
  mcp_ = std::make_unique<mcp::Hub>();
  // One for the process whatever the workers and generations: reloads keep what it holds.
  auto memory_cache = std::make_shared<cache::MemoryStore>(config_->cache.max_bytes);
  metrics_ = std::make_unique<telemetry::Registry>();
  request_metrics_ = std::make_unique<telemetry::RequestMetrics>(*metrics_);
  if (config_->tracing.enabled) {
    const auto& t = config_->tracing;
    exporter_ = std::make_unique<telemetry::SpanExporter>(
        telemetry::ExporterSettings{t.endpoint, t.ca_file, t.headers, t.max_queue, t.batch,
                                    t.interval, t.timeout, t.service_name, SWITCHYARD_VERSION});
  }
  control_ = std::make_unique<ProcessControl>(*reloader_, workers_, *metrics_, *request_metrics_,
                                              exporter_.get(), open_connections_, *mcp_);
  // With metrics off nothing is recorded (and /admin/spend has no totals since start).
  const Worker::Telemetry telemetry{config_->metrics.enabled ? metrics_.get() : nullptr,
                                    request_metrics_.get(), exporter_.get()};
  const unsigned n = s.workers ? s.workers : available_cores();
  for (unsigned i = 0; i < n; ++i) {
    auto w = std::make_unique<Worker>(generation, control_.get(), i == 0, open_connections_,
                                      *client_addresses_, memory_cache, telemetry, mcp_.get());
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
  asio::io_context& main_io = main_io_;
  asio::signal_set signals(main_io, SIGTERM, SIGINT, SIGHUP);
  Timer drain_timer(main_io);
  bool forced = false;
  std::atomic<std::size_t> running{workers_.size()};
  bool draining = false;

  if (exporter_) exporter_->start();
  mcp_->start(reloader_->current()->config->mcp, reloader_->current()->config->redis);
  std::vector<std::thread> threads;
  for (auto& w : workers_) {
    threads.emplace_back([&, worker = w.get()] {
      worker->run();
      if (running.fetch_sub(1) == 1) asio::post(main_io, [&] { main_io.stop(); });
    });
  }
  if (const auto& redis = reloader_->current()->config->redis) {
    // A session a client ended at one replica is refused by all of them.
    const mcp::EndedSessionNames names(redis->prefix);
    mcp::Hub* hub = mcp_.get();
    reloader_->also_watch(
        {names.channel, [hub](std::string_view message) { mcp::apply_end(*hub, message); },
         [hub, names](redis::Client& client) { return mcp::catch_up_ends(client, names, *hub); }});
    // A session's stream is at one replica at a time, its subscriptions following it.
    reloader_->also_watch(
        {mcp::SharedStreamNames(redis->prefix).channel,
         [hub](std::string_view message) { mcp::apply_stream_message(*hub, message); },
         {}});
  }
  reloader_->watch_redis();
  // An edit to the config file reloads it, as SIGHUP and POST /admin/reload do.
  watcher_ = std::make_unique<config::FileWatcher>(main_io.get_executor(), config_->source,
                                                   [this] { reloader_->reload_now("file"); });
  try {
    watcher_->start();
  } catch (const std::exception& e) {
    watcher_.reset();
    telemetry::log_event(telemetry::Level::warn, "config_watch",
                         std::string("not watching the config file (reload with SIGHUP or POST "
                                     "/admin/reload): ") +
                             e.what());
  }
  raise_open_files_limit(config_->server.max_connections);
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
      if (!draining) reloader_->reload_now("sighup");
    } else if (!draining) {
      draining = true;
      if (watcher_) watcher_->stop();
      reloader_->stop();
      telemetry::log_event(telemetry::Level::info, "draining",
                           "shutting down: finishing in-flight requests (up to " +
                               std::to_string(config_->server.drain_timeout.count()) + " ms)");
      for (auto& w : workers_) w->drain();
      // MCP clients' streams never end by themselves: they reconnect, to another replica.
      if (mcp_) mcp_->streams().end_all();
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
  mcp_->stop();  // its servers' processes end with it
  // The spans of the last requests go out (within the export timeout).
  if (exporter_) exporter_->stop();
  telemetry::log_event(telemetry::Level::info, "stopped", "shut down");
  spdlog::shutdown();
  if (running.load() != 0 ||
      std::any_of(workers_.begin(), workers_.end(), [](auto& w) { return w->stopped_hard(); })) {
    // Work was abandoned mid-flight: its coroutine frames must not be destroyed after the
    // objects they point into, so leave without running destructors.
    telemetry::shutdown_logging();
    std::fflush(nullptr);
    std::_Exit(0);
  }
  return 0;
}

}  // namespace switchyard::server
