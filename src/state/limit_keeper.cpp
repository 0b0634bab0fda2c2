#include "switchyard/state/limit_keeper.hpp"

#include <chrono>

#include "switchyard/telemetry/request_log.hpp"

namespace switchyard::state {

Awaitable<LimitKeeper::Taken> LimitKeeper::take(std::string_view name, RateLimiter& local,
                                                std::uint64_t units) {
  if (shared_) {
    const auto shared = co_await shared_->take(name, local.limit(), units);
    note(shared.has_value());
    if (shared) co_return Taken{*shared, true};
  }
  const auto now = std::chrono::steady_clock::now();
  const auto wait = local.try_acquire(now, units);
  co_return Taken{{!wait, wait.value_or(std::chrono::nanoseconds(0)), local.usage(now)}, false};
}

void LimitKeeper::give_back(bool shared, std::string_view name, RateLimiter& local,
                            std::uint64_t units) {
  if (shared && shared_) {
    shared_->give_back(name, local.limit(), units);
  } else {
    local.give_back(units);
  }
}

void LimitKeeper::take_anyway(bool shared, std::string_view name, RateLimiter& local,
                              std::uint64_t units) {
  if (shared && shared_) {
    shared_->take_anyway(name, local.limit(), units);
  } else {
    local.take_anyway(std::chrono::steady_clock::now(), units);
  }
}

Awaitable<std::optional<SpendWindows::Exhausted>> LimitKeeper::exhausted(
    std::string_view name, const SpendWindows& local, const config::Budget& budget) {
  if (shared_) {
    auto shared = co_await shared_->exhausted(name, budget);
    note(shared.has_value());
    if (shared) co_return *shared;
  }
  co_return local.exhausted(std::chrono::system_clock::now());
}

void LimitKeeper::charge(std::string_view name, SpendWindows& local, const config::Budget& budget,
                         double usd) {
  local.charge(usd, std::chrono::system_clock::now());
  if (shared_) shared_->charge(name, budget, usd);
}

void LimitKeeper::note(bool answered) {
  if (answered) {
    if (falling_back_)
      telemetry::log_event(telemetry::Level::info, "shared_state",
                           "Redis answers again: limits and budgets are shared by the replicas");
    falling_back_ = false;
    return;
  }
  fallbacks_.fetch_add(1, std::memory_order_relaxed);
  if (!falling_back_)
    telemetry::log_event(telemetry::Level::warn, "shared_state",
                         "Redis does not answer: limits and budgets are counted by this replica "
                         "alone until it does");
  falling_back_ = true;
}

}  // namespace switchyard::state
