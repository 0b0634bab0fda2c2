#include "switchyard/state/limit_keeper.hpp"

#include <chrono>
#include <utility>

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

Awaitable<LimitKeeper::Reserved> LimitKeeper::reserve(std::string name, SpendWindows& local,
                                                      const config::Budget& budget,
                                                      double worst_usd,
                                                      std::chrono::milliseconds ttl) {
  Reserved out;
  const std::uint64_t micro = worst_usd > 0 ? SpendWindows::charge_micro(worst_usd) : 0;
  std::string id;
  bool decided = false;
  if (shared_) {
    id = shared_->reservation_id();
    const auto shared = co_await shared_->reserve(name, budget, micro, id, ttl);
    note(shared.has_value());
    if (shared) {
      out.refusal = *shared;
      decided = true;
      // The replicas' spend leaves no room: this replica remembers it, and keeps to it while it
      // counts alone, rather than start the budget afresh on its own share of the spend.
      if (out.refusal && out.refusal->held_usd <= 0)
        local.remember_spent(*out.refusal, std::chrono::system_clock::now());
    }
  }
  if (!decided) {
    id.clear();
    out.refusal = local.reserve(micro, std::chrono::system_clock::now());
  }
  if (!out.refusal) {
    Reservation& r = out.reservation;
    r.keeper_ = this;
    r.name_ = std::move(name);
    r.local_ = &local;
    r.budget_ = &budget;
    r.micro_ = micro;
    r.id_ = std::move(id);
  }
  co_return out;
}

void LimitKeeper::settle(Reservation& r, double usd) {
  if (!r.keeper_) return;
  r.local_->charge(usd, std::chrono::system_clock::now());
  if (!r.id_.empty() && shared_) {
    shared_->settle(r.name_, *r.budget_, usd, r.id_, r.micro_);
  } else {
    if (shared_) shared_->charge(r.name_, *r.budget_, usd);
    r.local_->release(r.micro_);
  }
  r.keeper_ = nullptr;
}

Reservation& Reservation::operator=(Reservation&& other) noexcept {
  if (this != &other) {
    if (keeper_) keeper_->settle(*this, 0);
    keeper_ = std::exchange(other.keeper_, nullptr);
    name_ = std::move(other.name_);
    local_ = other.local_;
    budget_ = other.budget_;
    micro_ = other.micro_;
    id_ = std::move(other.id_);
  }
  return *this;
}

Reservation::~Reservation() {
  if (keeper_) keeper_->settle(*this, 0);
}

LimitKeeper::~LimitKeeper() {
  if (falling_back_) counting_alone_.fetch_sub(1, std::memory_order_relaxed);
}

void LimitKeeper::note(bool answered) {
  if (answered) {
    if (falling_back_) {
      telemetry::log_event(telemetry::Level::info, "shared_state",
                           "Redis answers again: limits and budgets are shared by the replicas");
      counting_alone_.fetch_sub(1, std::memory_order_relaxed);
    }
    falling_back_ = false;
    return;
  }
  fallbacks_.fetch_add(1, std::memory_order_relaxed);
  if (!falling_back_) {
    telemetry::log_event(telemetry::Level::warn, "shared_state",
                         "Redis does not answer: limits and budgets are counted by this replica "
                         "alone until it does");
    counting_alone_.fetch_add(1, std::memory_order_relaxed);
  }
  falling_back_ = true;
}

}  // namespace switchyard::state
