// Configuration reloads: the file (and, with Redis, the route and model overrides) read again,
// validated in full, and — only when valid — built into the next generation and handed to every
// worker. An invalid file changes nothing: the errors are logged with their file:line, the
// reload status says it failed, and the generation serving keeps serving. Runs on the server's
// main thread; workers reach it through handlers::Control.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "switchyard/async.hpp"
#include "switchyard/gateway/config_generation.hpp"
#include "switchyard/gateway/gateway.hpp"

namespace switchyard::redis {
class Client;
class Subscriber;
}  // namespace switchyard::redis

namespace switchyard::server {

class Reloader {
 public:
  using Install = std::function<void(std::shared_ptr<const gateway::ConfigGeneration>)>;

  // `install` hands a new generation to the workers; `main` is the thread reloads run on.
  Reloader(Executor main, std::shared_ptr<const gateway::ConfigGeneration> first, Install install);
  ~Reloader();

  // On the main thread. `trigger` names the cause in the log and status: "file", "sighup"...
  handlers::Control::Outcome reload_now(std::string_view trigger);
  // Takes `overrides` (read from Redis) and reloads with them when they differ from the last.
  void apply_overrides(config::Overrides overrides);
  // With `redis:` configured: subscribes to the overrides' channel and re-reads them on every
  // announcement and every (re)connection, reloading when they changed. Until stop().
  void watch_redis();
  // One more channel for watch_redis() (called before it) to hear on the same subscription:
  // `on_message` with each of its messages, `on_connect` with the command client after every
  // (re)subscription, to read what was missed (may be empty). On the main thread.
  struct Watch {
    std::string channel;
    std::function<void(std::string_view message)> on_message;
    std::function<Awaitable<void>(redis::Client&)> on_connect;
  };
  void also_watch(Watch watch) { watches_.push_back(std::move(watch)); }
  void stop();
  const std::shared_ptr<const gateway::ConfigGeneration>& current() const { return current_; }

  // From any thread: reload_now("admin") on the main thread.
  Awaitable<handlers::Control::Outcome> reload();
  // The generation serving and how the last reload went, as JSON. Any thread.
  std::string reload_status() const;
  // Any thread.
  struct Counts {
    std::uint64_t ok = 0, failed = 0, generation = 0;
    bool last_ok = true;
  };
  Counts counts() const;

 private:
  // Records the outcome of a reload in the status JSON.
  void set_status(std::string_view trigger, bool ok, const std::vector<std::string>& errors);
  // Re-reads the overrides, once more if asked again meanwhile.
  Awaitable<void> refresh_overrides();
  // Until the command connection is up (at most a second).
  Awaitable<void> wait_for_redis();
  // Applies the replicas' shared health state to the current board, and each watch's on_connect.
  Awaitable<void> catch_up();

  Executor main_;
  std::shared_ptr<const gateway::ConfigGeneration> current_;
  Install install_;
  config::Overrides overrides_;
  // The `redis:` section as it was at start (a reload does not reconnect).
  std::string redis_prefix_;
  std::unique_ptr<redis::Client> redis_;
  std::unique_ptr<redis::Subscriber> subscriber_;
  std::vector<Watch> watches_;
  bool refreshing_ = false, refresh_again_ = false;
  std::atomic<std::uint64_t> succeeded_{0}, failed_{0}, generation_{0};
  std::atomic<bool> last_ok_{true};
  mutable std::mutex status_mutex_;  // admin requests read it from worker threads
  std::string status_;
};

}  // namespace switchyard::server
