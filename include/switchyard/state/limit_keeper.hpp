// How a request's limits and budgets are counted: against Redis, shared by every replica, when
// `redis:` is configured and answers; against this process's own counters (RateLimiter,
// SpendWindows) otherwise. Losing Redis is a fallback, not an outage: requests go on being
// limited per replica, each fallback is counted, and the switch both ways is logged once. Spend
// is charged to both, so the local picture is this replica's share when Redis goes away.
// One LimitKeeper per worker thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "switchyard/async.hpp"
#include "switchyard/config/config.hpp"
#include "switchyard/state/rate_limiter.hpp"
#include "switchyard/state/shared_state.hpp"
#include "switchyard/state/spend_windows.hpp"

namespace switchyard::state {

class LimitKeeper;

// A request's hold on a budget (SpendWindows::reserve), from admission until it is settled: the
// cost charged and the hold released. One never settled — the request ended before anything was
// served, or a coroutine was abandoned — is released when destroyed, charging nothing. On the
// worker thread that made it.
class Reservation {
 public:
  Reservation() = default;
  Reservation(Reservation&& other) noexcept { *this = std::move(other); }
  Reservation& operator=(Reservation&& other) noexcept;
  ~Reservation();

  std::uint64_t micro() const { return micro_; }  // the worst-case cost held, micro-USD

 private:
  friend class LimitKeeper;
  LimitKeeper* keeper_ = nullptr;  // null: nothing held
  std::string name_;
  SpendWindows* local_ = nullptr;
  const config::Budget* budget_ = nullptr;
  std::uint64_t micro_ = 0;
  std::string id_;  // held in Redis under this id; empty when held by `local_`
};

class LimitKeeper {
 public:
  // `shared`: the worker's SharedState, or null to count locally only. `fallbacks` counts the
  // decisions made locally because Redis did not answer, `counting_alone` the workers doing so
  // now (the process's, for /admin/health).
  LimitKeeper(SharedState* shared, std::atomic<std::uint64_t>& fallbacks,
              std::atomic<std::int64_t>& counting_alone)
      : shared_(shared), fallbacks_(fallbacks), counting_alone_(counting_alone) {}
  ~LimitKeeper();
  LimitKeeper(const LimitKeeper&) = delete;
  LimitKeeper& operator=(const LimitKeeper&) = delete;

  struct Taken {
    SharedState::Take take;
    bool shared = false;  // counted in Redis (corrections go there too)
  };
  // `name` identifies the limit across replicas ("key:team-a:rpm"); `local` is this process's.
  Awaitable<Taken> take(std::string_view name, RateLimiter& local, std::uint64_t units);
  // Corrections of units taken where `shared` says.
  void give_back(bool shared, std::string_view name, RateLimiter& local, std::uint64_t units);
  void take_anyway(bool shared, std::string_view name, RateLimiter& local, std::uint64_t units);
  // Corrects `taken` units (an estimate taken before sending) to the `used` ones.
  void reconcile(bool shared, std::string_view name, RateLimiter& local, std::uint64_t taken,
                 std::uint64_t used) {
    if (used > taken) take_anyway(shared, name, local, used - taken);
    if (used < taken) give_back(shared, name, local, taken - used);
  }

  // The first window of `budget` whose spend reached its cap, or none.
  Awaitable<std::optional<SpendWindows::Exhausted>> exhausted(std::string_view name,
                                                              const SpendWindows& local,
                                                              const config::Budget& budget);

  // Reserves a request's worst-case cost on `budget` for at most `ttl` (its deadline) — in Redis
  // when it answers, else in `local` — or says which window has no room. `local` and `budget`
  // outlive the reservation.
  struct Reserved {
    std::optional<SpendWindows::Exhausted> refusal;
    Reservation reservation;  // holds something when not refused
  };
  Awaitable<Reserved> reserve(std::string name, SpendWindows& local, const config::Budget& budget,
                              double worst_usd, std::chrono::milliseconds ttl);
  // Charges what the request cost (`usd`, 0 when nothing was served) where the budget is counted
  // — this process's windows always, Redis's too when configured — and releases the hold.
  void settle(Reservation& reservation, double usd);

 private:
  // Whether Redis answered; logs the first miss and the first answer after misses.
  void note(bool answered);

  SharedState* shared_;
  std::atomic<std::uint64_t>& fallbacks_;
  std::atomic<std::int64_t>& counting_alone_;
  bool falling_back_ = false;
};

}  // namespace switchyard::state
