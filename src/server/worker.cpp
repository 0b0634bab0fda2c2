#include "worker.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include "client_addresses.hpp"
#include "session.hpp"
#include "switchyard/redis/client.hpp"
#include "switchyard/redis/settings.hpp"
#include "switchyard/telemetry/request_log.hpp"

namespace switchyard::server {

namespace {
// Request log lines leave the worker at this pace (or sooner when its buffer fills).
constexpr auto kTickInterval = std::chrono::milliseconds(100);
constexpr int kTicksPerSweep = 50;  // idle upstream connections are checked every 5 s
constexpr int kBacklog = 4096;
}  // namespace

namespace {

std::unique_ptr<redis::Client> redis_client(Executor ex, const config::Config& config) {
  if (!config.redis) return nullptr;
  auto settings = *redis::Settings::of(*config.redis);  // checked at load
  return std::make_unique<redis::Client>(ex, std::move(settings.url), settings.options);
}

}  // namespace

Worker::Worker(std::shared_ptr<const gateway::ConfigGeneration> generation,
               handlers::Control* control, bool first, std::atomic<std::size_t>& open_connections,
               ClientAddresses& clients, std::shared_ptr<cache::MemoryStore> memory_cache,
               const Telemetry& telemetry, mcp::Hub* mcp)
    : server_(generation->config->server),
      redis_(redis_client(io_.get_executor(), *generation->config)),
      memory_cache_(cache::memory_backend(std::move(memory_cache))),
      redis_cache_(redis_ ? cache::redis_backend(io_.get_executor(), *redis_,
                                                 generation->config->redis->prefix)
                          : nullptr),
      shared_state_(redis_ ? std::make_unique<state::SharedState>(io_.get_executor(), *redis_,
                                                                  generation->config->redis->prefix)
                           : nullptr),
      // The counters carry over from generation to generation (HealthBoard).
      limit_keeper_(shared_state_.get(), generation->board->counters().shared_state_fallbacks,
                    generation->board->counters().workers_counting_alone),
      metrics_(telemetry.registry ? telemetry.registry->shard() : nullptr),
      tracer_(telemetry.exporter ? std::make_unique<telemetry::Tracer>(*telemetry.exporter)
                                 : nullptr),
      shared_health_(io_.get_executor(), redis_.get(),
                     redis_ ? generation->config->redis->prefix : std::string()),
      context_{io_.get_executor(),
               first,
               control,
               redis_.get(),
               memory_cache_.get(),
               redis_cache_.get(),
               &limit_keeper_,
               &shared_health_,
               metrics_.get(),
               telemetry.request_metrics,
               tracer_.get(),
               mcp},
      acceptor_(io_),
      gateway_(std::make_shared<gateway::Gateway>(context_, std::move(generation), nullptr)),
      tick_timer_(io_),
      open_connections_(open_connections),
      clients_(clients) {}

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
  if (redis_) redis_->start();
  gateway_->start();
  io_.run();
  telemetry::flush_thread_log();
  if (tracer_) tracer_->flush();
}

void Worker::drain() {
  asio::post(io_, [this] {
    draining_ = true;
    gateway_->set_draining();
    beast::error_code ignored;
    acceptor_.close(ignored);
    for (auto& s : sessions_) s.on_drain();
    gateway_->close_idle();
  });
}

void Worker::force_close() {
  asio::post(io_, [this] {
    for (auto& s : sessions_) s.shut_down();
  });
}

void Worker::install(std::shared_ptr<const gateway::ConfigGeneration> generation) {
  asio::post(io_, [this, generation = std::move(generation)]() mutable {
    if (draining_) return;
    auto next = std::make_shared<gateway::Gateway>(context_, std::move(generation), gateway_.get());
    gateway_->retire();
    gateway_ = std::move(next);
    gateway_->start();
  });
}

void Worker::add(Session& s) {
  sessions_.push_back(s);
}

std::optional<redis::Client::Stats> Worker::redis_stats() const {
  if (!redis_) return std::nullopt;
  return redis_->stats();
}

cache::Store::Stats Worker::cache_stats() const {
  auto stats = memory_cache_->stats();
  if (redis_cache_) stats += redis_cache_->stats();
  return stats;
}

std::optional<api::ApiError> Worker::open_connection(const asio::ip::address& client) {
  const std::size_t open = open_connections_.fetch_add(1, std::memory_order_relaxed) + 1;
  const bool client_within = server_.max_connections_per_client == 0 ||
                             clients_.open(client, server_.max_connections_per_client);
  if (open > server_.max_connections) return api::errors::too_many_connections();
  if (!client_within) return api::errors::too_many_client_connections();
  return std::nullopt;
}

void Worker::connection_closed(const asio::ip::address& client) {
  open_connections_.fetch_sub(1, std::memory_order_relaxed);
  if (server_.max_connections_per_client > 0) clients_.close(client);
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
    if (tracer_) tracer_->flush();
    if (ec) break;
    for (auto& session : sessions_) session.arm_client_watch();
    if (tick % kTicksPerSweep == 0) gateway_->sweep_idle();
  }
  // The last requests are done: the Redis connection's loop is all that would keep the thread.
  if (redis_) redis_->stop();
}

}  // namespace switchyard::server
