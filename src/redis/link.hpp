// What Client and Subscriber share about staying connected to one Redis server: finding the
// server, starting a connection, sleeping until a deadline or an event, backing off between
// attempts, and logging each change of state once (not once per attempt or per command).
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <random>
#include <string>
#include <string_view>

#include "connection.hpp"
#include "switchyard/async.hpp"
#include "switchyard/config/redis_url.hpp"
#include "switchyard/redis/client.hpp"

namespace switchyard::redis {

using Clock = std::chrono::steady_clock;

// "12 ms", for messages.
std::string millis_text(std::chrono::milliseconds d);

class Link {
 public:
  // `role` names the owner in log lines: "client", "subscriber".
  Link(const Executor& ex, config::RedisUrl url, Options options, std::string_view role);
  // Frees the connection, if any: its callbacks run before this returns.
  ~Link();
  Link(const Link&) = delete;
  Link& operator=(const Link&) = delete;

  const Executor& executor() const { return ex_; }
  const config::RedisUrl& url() const { return url_; }
  const Options& options() const { return options_; }
  bool stopping() const { return stopping_; }

  // Resolves the host when it is a name (within `deadline`) and starts connecting; why not when
  // either fails at once.
  Awaitable<switchyard::Result<void>> connect(Clock::time_point deadline);
  // After connect() and the first commands: waits until `done()` (the reply callbacks wake()
  // the link), or says why not — stopped, `refusal` set by a callback, the connection closed,
  // or `deadline` passed (`unanswered`: what the server did not do in time).
  Awaitable<switchyard::Result<void>> wait_for(Clock::time_point deadline,
                                               const std::function<bool()>& done,
                                               const std::string& refusal,
                                               std::string_view unanswered);
  // The current hiredis context; null when not connected (or connecting).
  redisAsyncContext* context() const { return conn_ ? conn_->context() : nullptr; }
  bool open() const { return context() != nullptr; }
  const Connection* connection() const { return conn_.get(); }
  // Why the connection is not open any more, as hiredis saw it; a fallback when it did not say.
  std::string closed_because(std::string_view fallback) const;

  // Sleeps until `deadline` or until wake(), whichever is first. A waker sets its state first,
  // the sleeper looks at the state after: a wake-up with nobody asleep is not lost.
  Awaitable<void> sleep_until(Clock::time_point deadline);
  void wake();
  // Wakes the sleeper only if it sleeps past `deadline`: one that wakes earlier looks again then.
  void wake_before(Clock::time_point deadline) {
    if (wake_.expiry() > deadline) wake();
  }
  // Frees the connection (see Connection::close).
  void close();
  // Before the next attempt: backoff_min plus full jitter over a range that doubles with every
  // failure in a row, backoff_max in all.
  Awaitable<void> back_off();
  // For good: closes, and wakes the loop so that it ends.
  void stop();

  // State changes, each logged once: connected; lost (after being connected) or unavailable.
  void went_up(std::string_view detail = {});
  void went_down(std::string_view why);
  // Why the last attempt failed or the last connection ended; empty while up.
  const std::string& why_down() const { return why_down_; }

 private:
  Executor ex_;
  config::RedisUrl url_;
  Options options_;
  std::string role_;
  Timer wake_;
  Resolver resolver_;
  std::shared_ptr<Connection> conn_;
  bool stopping_ = false;
  bool up_ = false;
  bool down_logged_ = false;
  unsigned failures_ = 0;         // attempts failed in a row: the backoff exponent
  std::size_t address_turn_ = 0;  // which of the host's addresses to try
  std::minstd_rand random_;
  std::string why_down_;
};

}  // namespace switchyard::redis
