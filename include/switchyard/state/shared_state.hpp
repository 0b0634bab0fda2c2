// Rate limits and spend budgets held in Redis, so that they hold across all gateway replicas
// together: every take, charge and check is one atomic Lua script in Redis (EVALSHA), never a
// local counter synced now and then — that lets N replicas admit N times the limit between two
// syncs (LiteLLM's multi-instance bug). Time is Redis's own (TIME), so replicas' clocks do not
// matter.
//
// The semantics are those of the local RateLimiter (GCRA) and SpendWindows (rolling windows of
// 60 slots), which remain the fallback: every call either answers from Redis or, when Redis did
// not answer (unavailable, timed out, an error reply), returns nullopt at once; the caller then
// decides with its local state and counts a fallback.
//
// Keys (hash tags in braces, so that one script's keys share a Redis Cluster hash slot):
//   prefix + "{limit:" + name + "}"                   a limit's GCRA state, hash {tat, frac}
//   prefix + "{spend:" + name + "}:" + window name    a capped window's spend, hash slot → µUSD
//   prefix + "{spend:" + name + "}:reservations"      requests in flight, sorted set by expiry
//   prefix + "{spend:" + name + "}:reserved"          their sum in µUSD
// Every key carries a TTL: an idle limit or an old window's spend disappears by itself.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "switchyard/async.hpp"
#include "switchyard/config/config.hpp"
#include "switchyard/redis/client.hpp"
#include "switchyard/state/rate_limiter.hpp"
#include "switchyard/state/spend_windows.hpp"

namespace switchyard::state {

// One per worker thread, on that worker's redis::Client; every call on that worker's thread.
// Names and budgets are read when a call is made (not when it is awaited).
class SharedState {
 public:
  // `ex` is the executor `redis` runs on: the corrections and charges are sent from coroutines
  // spawned there. `redis` outlives them; this object need not. `prefix` e.g. "switchyard:".
  SharedState(Executor ex, redis::Client& redis, std::string prefix);

  // GCRA exactly like RateLimiter::try_acquire: a burst of one minute's allowance, refilled at
  // per_minute a minute, `units` taken all or nothing. per_minute 0 is unlimited (granted without
  // asking Redis); above RateLimiter::kMaxPerMinute it is clamped like there.
  struct Take {
    bool granted = false;
    // Until the units would fit, when not granted; nanoseconds::max() when units > per_minute
    // (they never fit). Redis's clock counts microseconds: so does this.
    std::chrono::nanoseconds wait{0};
    RateLimiter::Usage usage{};  // after the take, as RateLimiter::usage gives it
  };
  Awaitable<std::optional<Take>> take(std::string_view name, std::uint64_t per_minute,
                                      std::uint64_t units);
  // RateLimiter's corrections. give_back: units taken but not used, never below "nothing in use";
  // take_anyway: usage learned after the fact, may go into debt. Sent in the background; a
  // failure is only counted.
  void give_back(std::string_view name, std::uint64_t per_minute, std::uint64_t units);
  void take_anyway(std::string_view name, std::uint64_t per_minute, std::uint64_t units);

  // Adds `usd` to every capped window of the budget, rounded up to whole micro-USD like
  // SpendWindows::charge (zero, negative and NaN ignored). Sent in the background.
  void charge(std::string_view name, const config::Budget& budget, double usd);
  // The first capped window, minute to month, whose spend has reached its cap, with
  // SpendWindows::exhausted's semantics; an engaged optional holding nullopt when there is room
  // (or nothing is capped); nullopt when Redis did not answer.
  Awaitable<std::optional<std::optional<SpendWindows::Exhausted>>> exhausted(
      std::string_view name, const config::Budget& budget);

  // SpendWindows::reserve across the replicas: `micro` held under `id` (reservation_id()) until
  // settled or until `ttl` has passed — a replica that dies mid-request leaks nothing for longer.
  // An engaged nullopt when reserved; the window without room; nullopt when Redis did not answer.
  Awaitable<std::optional<std::optional<SpendWindows::Exhausted>>> reserve(
      std::string_view name, const config::Budget& budget, std::uint64_t micro, std::string_view id,
      std::chrono::milliseconds ttl);
  // Charges `usd` like charge() and releases the reservation `id` of `reserved_micro`, in one
  // script, in the background.
  void settle(std::string_view name, const config::Budget& budget, double usd, std::string_view id,
              std::uint64_t reserved_micro);
  std::string reservation_id();  // unique across workers, replicas and restarts

  // For admin/explain. $0 for a window the budget does not cap (without asking Redis).
  Awaitable<std::optional<double>> spent(std::string_view name, config::Window window,
                                         const config::Budget& budget);

  struct Stats {
    std::uint64_t calls = 0;     // scripts sent, background ones included
    std::uint64_t failures = 0;  // of those: no answer, an error reply or a reply of wrong shape
  };
  Stats stats() const { return *stats_; }

 private:
  enum class Correction { give_back, take_anyway };
  using Caps = std::array<std::uint64_t, config::kWindowCount>;  // micro-USD, 0 = uncapped

  std::string limit_key(std::string_view name) const;
  // A budget's keys: its four windows (minute to month), its reservations and their sum.
  std::array<std::string, 6> spend_keys(std::string_view name) const;
  static std::string member(std::string_view id, std::uint64_t micro);

  Awaitable<std::optional<Take>> take_key(std::string key, std::uint64_t per_minute,
                                          std::uint64_t units);
  // Runs a spend script that answers {window, spent, retry_after, held} (-1: room).
  Awaitable<std::optional<std::optional<SpendWindows::Exhausted>>> decide(
      const redis::Script& script, std::string name, Caps caps,
      std::array<double, config::kWindowCount> cap_usd, std::uint64_t need_micro,
      std::vector<std::string> tail);
  Awaitable<std::optional<double>> spent_keys(std::string name, config::Window window, Caps caps);
  void correct(std::string_view name, std::uint64_t per_minute, std::uint64_t units,
               Correction correction);

  Executor ex_;
  redis::Client& redis_;
  std::string prefix_;
  std::string tag_;  // random, for reservation ids
  std::uint64_t reservations_ = 0;
  // Shared with the background coroutines, which may finish after this object is gone.
  std::shared_ptr<Stats> stats_;
};

}  // namespace switchyard::state
