#include "worker.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include "session.hpp"
#include "switchyard/telemetry/request_log.hpp"

namespace switchyard::server {

namespace {
// Request log lines leave the worker at this pace (or sooner when its buffer fills).
constexpr auto kTickInterval = std::chrono::milliseconds(100);
constexpr int kTicksPerSweep = 50;  // idle upstream connections are checked every 5 s
constexpr int kBacklog = 4096;
}  // namespace

Worker::Worker(const config::Config& config, std::shared_ptr<const routing::RouteTable> routes,
               std::shared_ptr<dispatch::HealthBoard> board,
               std::shared_ptr<state::Ledger> ledger, bool first,
               std::atomic<std::size_t>& open_connections)
    : config_(config),
      acceptor_(io_),
      gateway_(io_.get_executor(), std::move(routes), std::move(board), std::move(ledger), first),
      tick_timer_(io_),
      open_connections_(open_connections) {}

Worker::~Worker() = default;

void Worker::listen(const tcp::endpoint& endpoint) {
  acceptor_.open(endpoint.protocol());
  acceptor_.set_option(Acceptor::reuse_address(true));
  // Each worker has its own listening socket on the same port; the kernel spreads
  // connections across them, so no accept lock and no cross-thread hand-off.
  const int one = 1;
  if (::setsockopt(acceptor_.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0)
    throw std::runtime_error("SO_REUSEPORT is not available");
  acceptor_.bind(endpoint);
  acceptor_.listen(kBacklog);
}

std::uint16_t Worker::port() const {
  return acceptor_.local_endpoint().port();
}

void Worker::run() {
  asio::co_spawn(io_, accept_loop(), asio::detached);
  asio::co_spawn(io_, tick_loop(), asio::detached);
  gateway_.start();
  io_.run();
  telemetry::flush_thread_log();
}

void Worker::drain() {
  asio::post(io_, [this] {
    draining_ = true;
    gateway_.set_draining();
    beast::error_code ignored;
    acceptor_.close(ignored);
    for (auto& s : sessions_) s.on_drain();
    gateway_.close_idle();
  });
}

void Worker::force_close() {
  asio::post(io_, [this] {
    for (auto& s : sessions_) s.shut_down();
  });
}

void Worker::add(Session& s) {
  sessions_.push_back(s);
}

bool Worker::over_connection_limit() const {
  return open_connections_.load(std::memory_order_relaxed) > config_.server.max_connections;
}

Awaitable<void> Worker::accept_loop() {
  while (!draining_) {
    auto [ec, socket] = co_await acceptor_.async_accept(as_result);
    if (ec) {
      if (ec == asio::error::operation_aborted || draining_) break;
      continue;  // EMFILE and friends: the next accept may succeed
    }
    socket.set_option(tcp::no_delay(true), ec);
    socket.non_blocking(true, ec);  // for write_now
    open_connections_.fetch_add(1, std::memory_order_relaxed);
    asio::co_spawn(io_, serve_connection(*this, std::move(socket)), asio::detached);
  }
}

Awaitable<void> Worker::tick_loop() {
  // Ticks on through a drain, so the lines of requests finishing meanwhile still go out, and
  // stops once nothing is left: the io_context then runs out of work and the thread ends.
  for (int tick = 1; !draining_ || !sessions_.empty(); ++tick) {
    tick_timer_.expires_after(kTickInterval);
    auto [ec] = co_await tick_timer_.async_wait(as_result);
    telemetry::flush_thread_log();
    if (ec) break;
    for (auto& session : sessions_) session.arm_client_watch();
    if (tick % kTicksPerSweep == 0) gateway_.sweep_idle();
  }
}

}  // namespace switchyard::server
