#include "link.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/address.hpp>

#include "switchyard/jitter.hpp"
#include "switchyard/telemetry/request_log.hpp"

namespace switchyard::redis {

using namespace asio::experimental::awaitable_operators;

std::string millis_text(std::chrono::milliseconds d) {
  return std::to_string(d.count()) + " ms";
}

Link::Link(const Executor& ex, config::RedisUrl url, Options options, std::string_view role)
    : ex_(ex),
      url_(std::move(url)),
      options_(options),
      role_(role),
      wake_(ex),
      resolver_(ex),
      random_(std::random_device{}()) {}

Link::~Link() {
  close();
}

Awaitable<switchyard::Result<void>> Link::connect(Clock::time_point deadline) {
  std::string address = url_.host;
  boost::system::error_code ec;
  asio::ip::make_address(url_.host, ec);
  if (ec) {
    // A name: getaddrinfo in hiredis would block the thread, Asio's resolver does not.
    wake_.expires_at(deadline);
    auto outcome =
        co_await (resolver_.async_resolve(url_.host, std::to_string(url_.port), as_result) ||
                  wake_.async_wait(as_result));
    if (stopping_) co_return Unexpected("stopped");
    if (outcome.index() == 1)
      co_return Unexpected("resolving '" + url_.host + "' took longer than " +
                           millis_text(options_.connect_timeout));
    const auto& [resolve_ec, results] = std::get<0>(outcome);
    if (resolve_ec || results.empty())
      co_return Unexpected("cannot resolve '" + url_.host + "': " + resolve_ec.message());
    // A name may stand for several addresses (localhost: 127.0.0.1 and ::1) of which the server
    // listens on one: each failed attempt moves on to the next.
    auto it = results.begin();
    std::advance(it, static_cast<std::ptrdiff_t>(address_turn_ % results.size()));
    address = it->endpoint().address().to_string();
  }
  auto opened = Connection::open(ex_, address, url_.port, [this] { wake(); });
  conn_ = opened ? std::move(*opened) : nullptr;
  if (!opened) co_return Unexpected(std::move(opened).error());
  co_return switchyard::Result<void>();
}

Awaitable<switchyard::Result<void>> Link::wait_for(Clock::time_point deadline,
                                                   const std::function<bool()>& done,
                                                   const std::string& refusal,
                                                   std::string_view unanswered) {
  for (;;) {
    if (stopping_) co_return Unexpected("stopped");
    // Before the connection check: after a refused AUTH the server refuses what follows too,
    // and hiredis may close the connection on that error.
    if (!refusal.empty()) co_return Unexpected(refusal);
    if (!open()) co_return Unexpected(closed_because("connection closed"));
    if (done()) co_return switchyard::Result<void>();
    if (Clock::now() >= deadline) {
      const std::string limit = millis_text(options_.connect_timeout);
      co_return Unexpected(conn_->tcp_connected() ? std::string(unanswered) + " within " + limit
                                                  : "connect timed out after " + limit);
    }
    co_await sleep_until(deadline);
  }
}

std::string Link::closed_because(std::string_view fallback) const {
  if (conn_ && !conn_->error().empty()) return conn_->error();
  return std::string(fallback);
}

Awaitable<void> Link::sleep_until(Clock::time_point deadline) {
  wake_.expires_at(deadline);
  co_await wake_.async_wait(as_result);
}

void Link::wake() {
  wake_.cancel();
}

void Link::close() {
  if (conn_) conn_->close();
}

Awaitable<void> Link::back_off() {
  const auto spread =
      std::max(options_.backoff_max - options_.backoff_min, std::chrono::milliseconds{0});
  const double unit = std::uniform_real_distribution<double>(0.0, 1.0)(random_);
  const auto delay =
      options_.backoff_min +
      full_jitter(failures_, std::max(options_.backoff_min, std::chrono::milliseconds{1}), spread,
                  unit);
  ++failures_;
  if (!stopping_) co_await sleep_until(Clock::now() + delay);
}

void Link::stop() {
  stopping_ = true;
  close();
  resolver_.cancel();
  wake();
}

void Link::went_up(std::string_view detail) {
  failures_ = 0;
  up_ = true;
  down_logged_ = false;
  why_down_.clear();
  std::string message = "redis " + role_ + " connected to " + url_.redacted();
  if (!detail.empty()) message += std::string(", ") + std::string(detail);
  telemetry::log_event(telemetry::Level::info, "redis_connected", message);
}

void Link::went_down(std::string_view why) {
  why_down_ = std::string(why);
  ++address_turn_;
  if (up_) {
    up_ = false;
    down_logged_ = true;
    telemetry::log_event(telemetry::Level::warn, "redis_disconnected",
                         "redis " + role_ + " lost " + url_.redacted() + ": " + why_down_ +
                             "; reconnecting in the background");
  } else if (!down_logged_) {
    down_logged_ = true;
    telemetry::log_event(telemetry::Level::warn, "redis_unavailable",
                         "redis " + role_ + " cannot reach " + url_.redacted() + ": " + why_down_ +
                             "; retrying in the background");
  }
}

}  // namespace switchyard::redis
