// A Redis SUBSCRIBE connection: how one gateway instance hears what another changed (a config
// reload, a route override). Pub/sub delivers at most once and nothing while disconnected, so it
// reconnects by itself and calls on_connect after every (re)subscription: the owner re-reads the
// state it may have missed then.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "switchyard/async.hpp"
#include "switchyard/config/redis_url.hpp"
#include "switchyard/redis/client.hpp"

namespace switchyard::redis {

// Runs on one executor (the main thread's, say); every call and callback on its thread.
class Subscriber {
 public:
  // The views are valid during the call only.
  using MessageHandler = std::function<void(std::string_view channel, std::string_view message)>;

  // `channels` must not be empty. Options::command_timeout does not apply: a subscription has
  // no replies to wait for.
  Subscriber(Executor ex, config::RedisUrl url, std::vector<std::string> channels,
             MessageHandler on_message, std::function<void()> on_connect, Options options = {});
  ~Subscriber();
  Subscriber(const Subscriber&) = delete;
  Subscriber& operator=(const Subscriber&) = delete;

  // Connects and subscribes in the background, again after every loss, until stop().
  void start();
  void stop();
  // Subscribed to every channel.
  bool connected() const;

 private:
  class Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace switchyard::redis
