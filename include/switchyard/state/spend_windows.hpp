// USD spend over the rolling windows of one budget (a gateway key's or a route's): the last
// minute, hour, day and 30-day month, checked against the budget's caps before a request and
// charged after it. Exact across worker threads without a lock, and fixed in size: each capped
// window is a ring of 60 slots of one atomic word each, allocated once at construction; an
// uncapped window costs nothing and reads as $0.
//
// Slot widths: minute 1 s, hour 1 min, day 24 min, month 12 h. A window covers the current slot
// and the 59 before it, so a charge leaves it between 59 and 60 slot widths after it was made.
// Slots are aligned on the wall clock (system_clock), so replicas that share spend later (Redis)
// agree on slot boundaries.
//
// A slot packs the slot index it belongs to, modulo 2^24 (its epoch), above the amount in
// micro-USD (40 bits: about $1.1M per slot; more saturates). A charge is one CAS that either adds
// to the slot of the current index or, when the slot still holds an older index, replaces it —
// so a reset and a charge never race each other into a lost charge.
//
// Aliasing: a 24-bit epoch repeats every 2^24 slot indexes — minute ≈ 194 days, hour ≈ 32 years,
// day ≈ 766 years, month ≈ 23,000 years. So only the minute ring can alias, and only when one of
// its slots has not been charged for 2^24 s (± a minute): its old amount then reads as current
// for at most a minute, once — on the side of spent, which a budget prefers to under-counting.
//
// Reservations make a cap hold with requests in flight: a request reserves its worst-case cost
// before it is sent, and is admitted only while spend plus everything reserved plus its own fits
// under every cap. It then charges what it really cost and releases the reservation. A request
// whose worst case is larger than a cap itself could never fit: it is admitted alone (nothing
// else reserved) while spend is under the cap. So a cap is overshot only by such a request, or
// by requests that cost more than they reserved (docs/keys-and-budgets.md).
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>

#include "switchyard/config/config.hpp"

namespace switchyard::state {

class SpendWindows {
 public:
  using Time = std::chrono::system_clock::time_point;  // wall clock: see above

  explicit SpendWindows(const config::Budget& budget);

  bool capped() const { return slots_ != nullptr; }  // any window capped

  // Adds `usd` to every capped window at `now`, rounded up to whole micro-USD (a budget errs on
  // the side of spent). Zero, negative and NaN amounts are ignored. Any thread; no allocation.
  void charge(double usd, Time now);

  struct Exhausted {
    config::Window window;
    double spent_usd;
    double cap_usd;
    // Until enough of the oldest slots have left the window for the spend to fall below the cap
    // (or low enough for the request's worst case to fit), assuming no new charges; whole
    // seconds, rounded up, at least 1 s. 1 s when reservations are what leaves no room: they
    // settle within their requests' deadlines.
    std::chrono::seconds retry_after;
    double held_usd = 0;  // reserved by requests in flight, when that is why there is no room
    double need_usd = 0;  // the worst case of the request refused (0: a plain check)
  };
  // The first capped window, minute to month, whose spend has reached its cap (caps compared in
  // whole micro-USD, rounded to nearest, at least 1); none when there is room in all.
  std::optional<Exhausted> exhausted(Time now) const;

  double spent(config::Window window, Time now) const;  // $0 for an uncapped window

  // Reserves `micro` (a worst-case cost in whole micro-USD) when there is room as said above;
  // else the first window that has none. Any thread; an uncapped budget always has room.
  std::optional<Exhausted> reserve(std::uint64_t micro, Time now);
  // Gives a reservation back (after charging what the request cost).
  void release(std::uint64_t micro);
  // What the replicas' shared count (Redis) said when spend alone left no room for a request:
  // until its retry_after has passed, the window holds at least that much, and reserve() refuses
  // a request that would not fit beside it, whatever this process counted itself — a replica left
  // to count alone while Redis does not answer does not start the budget afresh on its own share.
  void remember_spent(const Exhausted& spent, Time now);
  double held() const;  // USD reserved by requests in flight

  // Whole micro-USD, the unit spend is kept in (here and in Redis, state::SharedState): a charge
  // rounded up, forgiving binary noise, at most one slot's maximum (~$1.1M); a cap rounded to
  // nearest, at least 1, clamped where no sum of 60 slots can reach it.
  static std::uint64_t charge_micro(double usd);
  static std::uint64_t cap_micro(double cap_usd);

  // Takes over `before`'s spend in every window both cap (a reload that changed the caps keeps
  // what was spent). Before this one is in use.
  void absorb(const SpendWindows& before);
  double cap(config::Window window) const;                 // 0 = no cap
  std::array<double, config::kWindowCount> caps() const {  // by Window, as configured
    std::array<double, config::kWindowCount> out{};
    for (std::size_t w = 0; w < out.size(); ++w) out[w] = rings_[w].cap_usd;
    return out;
  }

 private:
  struct Ring {
    std::atomic<std::uint64_t>* slots = nullptr;  // kSlots of them in slots_; null = uncapped
    std::uint64_t cap_micro = 0;
    double cap_usd = 0;
  };
  static constexpr std::size_t kSlots = 60;

  // The window's slot amounts at `now`, oldest (index - 59) first; returns their sum.
  std::uint64_t amounts(const Ring& ring, std::int64_t index,
                        std::array<std::uint64_t, kSlots>& out) const;

  // The first capped window without room for a request of `micro` beside `held` (both 0: whose
  // spend has reached its cap).
  std::optional<Exhausted> no_room(std::uint64_t micro, std::uint64_t held, Time now) const;

  std::unique_ptr<std::atomic<std::uint64_t>[]> slots_;  // the capped rings, back to back
  std::array<Ring, config::kWindowCount> rings_{};       // by config::Window
  std::atomic<std::uint64_t> held_{0};                   // micro-USD reserved, in flight
  // remember_spent(): until when (system_clock ticks), which window, its spend and the least it
  // holds until then, in micro-USD.
  std::atomic<std::int64_t> spent_until_{0};
  std::atomic<int> spent_window_{0};
  std::atomic<std::uint64_t> spent_micro_{0}, spent_floor_{0};
};

}  // namespace switchyard::state
