#include "switchyard/redis/subscriber.hpp"

#include <hiredis/async.h>

#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/container/small_vector.hpp>
#include <exception>
#include <stdexcept>

#include "link.hpp"
#include "switchyard/telemetry/request_log.hpp"

namespace switchyard::redis {

namespace {

std::string_view text(const redisReply& r) {
  return r.str ? std::string_view(r.str, r.len) : std::string_view{};
}

// The owner's callbacks run from inside hiredis (messages) or from the connection loop; an
// exception must not unwind through hiredis's C frames.
template <class F>
void guarded(std::string_view what, F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    telemetry::log_event(telemetry::Level::error, "redis_subscriber_callback_failed",
                         std::string(what) + " threw: " + e.what());
  } catch (...) {
    telemetry::log_event(telemetry::Level::error, "redis_subscriber_callback_failed",
                         std::string(what) + " threw");
  }
}

}  // namespace

class Subscriber::Impl {
 public:
  Impl(const Executor& ex, config::RedisUrl url, std::vector<std::string> channels,
       MessageHandler on_message, std::function<void()> on_connect, Options options)
      : link_(ex, std::move(url), options, "subscriber"),
        channels_(std::move(channels)),
        on_message_(std::move(on_message)),
        on_connect_(std::move(on_connect)) {}
  // The subscription callbacks hold raw pointers to this: they all run before it goes.
  ~Impl() { link_.close(); }

  Awaitable<void> run([[maybe_unused]] std::shared_ptr<Impl> self) {
    while (!link_.stopping()) {
      co_await session();
      if (link_.stopping()) break;
      co_await link_.back_off();
    }
  }
  void stop() {
    subscribed_ = false;
    link_.stop();
  }
  bool subscribed() const { return subscribed_ && link_.open(); }
  const Executor& executor() const { return link_.executor(); }

  bool started_ = false;

 private:
  Awaitable<void> session();
  Awaitable<switchyard::Result<void>> subscribe(Clock::time_point deadline);
  static void on_auth_reply(redisAsyncContext* ac, void* reply, void* privdata);
  static void on_subscription(redisAsyncContext* ac, void* reply, void* privdata);

  Link link_;
  std::vector<std::string> channels_;
  MessageHandler on_message_;
  std::function<void()> on_connect_;
  std::size_t confirmed_ = 0;  // "subscribe" confirmations on this connection
  std::string auth_error_;
  bool subscribed_ = false;
};

Awaitable<void> Subscriber::Impl::session() {
  const auto deadline = Clock::now() + link_.options().connect_timeout;
  const auto connecting = co_await link_.connect(deadline);
  if (!connecting) {
    if (!link_.stopping()) link_.went_down(connecting.error());
    co_return;
  }
  const auto up = co_await subscribe(deadline);
  if (!up) {
    link_.close();
    if (!link_.stopping()) link_.went_down(up.error());
    co_return;
  }
  subscribed_ = true;
  link_.went_up("subscribed to " + std::to_string(channels_.size()) + " channel(s)");
  if (on_connect_) guarded("on_connect", on_connect_);

  // Messages arrive through on_subscription; this only waits for the end.
  while (!link_.stopping() && link_.open()) co_await link_.sleep_until(Clock::time_point::max());
  subscribed_ = false;
  const std::string why = link_.closed_because("connection closed");
  link_.close();
  if (!link_.stopping()) link_.went_down(why);
}

// AUTH (when the URL has a password), then SUBSCRIBE, pipelined; subscribed once every channel
// is confirmed. No SELECT: channels are not per database.
Awaitable<switchyard::Result<void>> Subscriber::Impl::subscribe(Clock::time_point deadline) {
  const config::RedisUrl& url = link_.url();
  redisAsyncContext* ac = link_.context();
  confirmed_ = 0;
  auth_error_.clear();
  if (!url.password.empty()) {
    boost::container::small_vector<const char*, 3> words{"AUTH"};
    boost::container::small_vector<std::size_t, 3> lengths{4};
    if (!url.user.empty()) {
      words.push_back(url.user.data());
      lengths.push_back(url.user.size());
    }
    words.push_back(url.password.data());
    lengths.push_back(url.password.size());
    redisAsyncCommandArgv(ac, &on_auth_reply, this, static_cast<int>(words.size()), words.data(),
                          lengths.data());
  }
  std::vector<const char*> words{"SUBSCRIBE"};
  std::vector<std::size_t> lengths{9};
  for (const std::string& c : channels_) {
    words.push_back(c.data());
    lengths.push_back(c.size());
  }
  if (redisAsyncCommandArgv(ac, &on_subscription, this, static_cast<int>(words.size()),
                            words.data(), lengths.data()) != REDIS_OK)
    co_return Unexpected("hiredis refused SUBSCRIBE");
  co_return co_await link_.wait_for(
      deadline, [this] { return confirmed_ >= channels_.size(); }, auth_error_,
      "SUBSCRIBE not confirmed");
}

void Subscriber::Impl::on_auth_reply(redisAsyncContext*, void* reply, void* privdata) {
  Impl& self = *static_cast<Impl*>(privdata);
  if (!reply) return;
  const auto& r = *static_cast<const redisReply*>(reply);
  if (r.type == REDIS_REPLY_ERROR) {
    self.auth_error_ = "AUTH refused: " + std::string(text(r));
    self.link_.wake();
  }
}

// hiredis calls this for every "subscribe" confirmation and every "message" on the channels,
// and once per channel with NULL when the connection goes.
void Subscriber::Impl::on_subscription(redisAsyncContext*, void* reply, void* privdata) {
  Impl& self = *static_cast<Impl*>(privdata);
  if (!reply) return;
  const auto& r = *static_cast<const redisReply*>(reply);
  if (r.type != REDIS_REPLY_ARRAY || r.elements < 3) return;
  const std::string_view kind = text(*r.element[0]);
  if (kind == "message") {
    if (self.on_message_) {
      const std::string_view channel = text(*r.element[1]), message = text(*r.element[2]);
      guarded("on_message", [&] { self.on_message_(channel, message); });
    }
  } else if (kind == "subscribe") {
    if (++self.confirmed_ == self.channels_.size()) self.link_.wake();
  }
}

Subscriber::Subscriber(Executor ex, config::RedisUrl url, std::vector<std::string> channels,
                       MessageHandler on_message, std::function<void()> on_connect,
                       Options options) {
  if (channels.empty()) throw std::invalid_argument("redis::Subscriber needs at least one channel");
  impl_ = std::make_shared<Impl>(ex, std::move(url), std::move(channels), std::move(on_message),
                                 std::move(on_connect), options);
}

Subscriber::~Subscriber() {
  impl_->stop();
}

void Subscriber::start() {
  if (impl_->started_) return;
  impl_->started_ = true;
  asio::co_spawn(impl_->executor(), impl_->run(impl_), [](std::exception_ptr e) {
    if (e) std::rethrow_exception(e);  // a bug: out of io_context::run()
  });
}

void Subscriber::stop() {
  impl_->stop();
}

bool Subscriber::connected() const {
  return impl_->subscribed();
}

}  // namespace switchyard::redis
