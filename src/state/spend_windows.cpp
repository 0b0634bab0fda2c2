#include "switchyard/state/spend_windows.hpp"

#include <algorithm>
#include <cmath>

namespace switchyard::state {

namespace {

constexpr std::array<std::int64_t, config::kWindowCount> kSlotSeconds = {
    1,          // minute: 60 × 1 s
    60,         // hour: 60 × 1 min
    24 * 60,    // day: 60 × 24 min
    12 * 3600,  // month (30 days): 60 × 12 h
};

constexpr int kAmountBits = 40;
constexpr std::uint64_t kAmountMask = (std::uint64_t{1} << kAmountBits) - 1;
constexpr std::uint64_t kEpochMask = (std::uint64_t{1} << 24) - 1;
// A slot whose epoch is up to this many indexes ahead of a charge's belongs to a charger whose
// clock reads later (a minute or more: the same ring position); the charge is added to it rather
// than wiping it. Further ahead can only be an older slot seen through the epoch's wrap, which is
// replaced. An hour of skew for the minute ring; the wrap is months away for any ring.
constexpr std::uint64_t kMaxAhead = 60 * 60;
constexpr double kMicro = 1e6;

std::int64_t floor_div(std::int64_t a, std::int64_t b) {  // b > 0
  const std::int64_t q = a / b;
  return (a % b != 0 && a < 0) ? q - 1 : q;
}

std::int64_t slot_index(std::size_t window, SpendWindows::Time now) {
  const auto s = std::chrono::floor<std::chrono::seconds>(now.time_since_epoch()).count();
  return floor_div(s, kSlotSeconds[window]);
}

std::uint64_t epoch_of(std::int64_t index) {
  return static_cast<std::uint64_t>(index) & kEpochMask;
}

std::size_t position_of(std::int64_t index, std::size_t slots) {
  const auto n = static_cast<std::int64_t>(slots);
  return static_cast<std::size_t>(index - floor_div(index, n) * n);
}

std::uint64_t pack(std::uint64_t epoch, std::uint64_t micro) {
  return (epoch << kAmountBits) | micro;
}

}  // namespace

SpendWindows::SpendWindows(const config::Budget& budget) {
  std::size_t capped = 0;
  for (const double cap : budget.usd)
    if (cap > 0) ++capped;
  if (capped == 0) return;
  slots_ = std::make_unique<std::atomic<std::uint64_t>[]>(capped * kSlots);  // zero: empty slots
  std::size_t next = 0;
  for (std::size_t w = 0; w < config::kWindowCount; ++w) {
    const double cap = budget.usd[w];
    if (!(cap > 0)) continue;
    Ring& ring = rings_[w];
    ring.slots = &slots_[next++ * kSlots];
    ring.cap_usd = cap;
    ring.cap_micro = cap_micro(cap);
  }
}

// The factor keeps binary noise from costing a micro-dollar (0.1 * 1e6 is 100000.00000000001 in
// doubles and is meant as 100000): it forgives a relative error of 1e-14, about 45 ulps, which
// stays below one micro-dollar up to the slot's maximum.
std::uint64_t SpendWindows::charge_micro(double usd) {
  const double micro = std::ceil(usd * kMicro * (1 - 1e-14));
  return micro >= static_cast<double>(kAmountMask) ? kAmountMask
                                                   : static_cast<std::uint64_t>(micro);
}

std::uint64_t SpendWindows::cap_micro(double cap_usd) {
  return std::max<std::uint64_t>(
      static_cast<std::uint64_t>(std::llround(std::min(cap_usd * kMicro, 1e18))), 1);
}

void SpendWindows::charge(double usd, Time now) {
  if (!capped() || !(usd > 0)) return;
  const std::uint64_t micro = charge_micro(usd);
  for (std::size_t w = 0; w < config::kWindowCount; ++w) {
    const Ring& ring = rings_[w];
    if (ring.slots == nullptr) continue;
    const std::int64_t index = slot_index(w, now);
    const std::uint64_t epoch = epoch_of(index);
    std::atomic<std::uint64_t>& slot = ring.slots[position_of(index, kSlots)];
    std::uint64_t v = slot.load(std::memory_order_relaxed);
    for (;;) {
      const std::uint64_t held_epoch = v >> kAmountBits;
      const std::uint64_t held = v & kAmountMask;
      const std::uint64_t ahead = (held_epoch - epoch) & kEpochMask;
      // An empty slot carries no epoch worth keeping (a fresh ring is all zero).
      const bool current = held != 0 && ahead <= kMaxAhead;
      const std::uint64_t next =
          current ? pack(held_epoch, std::min(held + micro, kAmountMask)) : pack(epoch, micro);
      if (slot.compare_exchange_weak(v, next, std::memory_order_relaxed)) break;
    }
  }
}

std::uint64_t SpendWindows::amounts(const Ring& ring, std::int64_t index,
                                    std::array<std::uint64_t, kSlots>& out) const {
  std::uint64_t sum = 0;
  for (std::size_t k = 0; k < kSlots; ++k) {
    const std::int64_t i = index - static_cast<std::int64_t>(kSlots - 1 - k);
    const std::uint64_t v = ring.slots[position_of(i, kSlots)].load(std::memory_order_relaxed);
    out[k] = (v >> kAmountBits) == epoch_of(i) ? (v & kAmountMask) : 0;
    sum += out[k];
  }
  return sum;
}

std::optional<SpendWindows::Exhausted> SpendWindows::exhausted(Time now) const {
  return no_room(0, 0, now);
}

std::optional<SpendWindows::Exhausted> SpendWindows::no_room(std::uint64_t micro,
                                                             std::uint64_t held, Time now) const {
  if (!capped()) return std::nullopt;
  std::array<std::uint64_t, kSlots> slot_micro{};
  for (std::size_t w = 0; w < config::kWindowCount; ++w) {
    const Ring& ring = rings_[w];
    if (ring.slots == nullptr) continue;
    const std::int64_t index = slot_index(w, now);
    const std::uint64_t total = amounts(ring, index, slot_micro);
    Exhausted full{static_cast<config::Window>(w),
                   static_cast<double>(total) / kMicro,
                   ring.cap_usd,
                   std::chrono::seconds(1),
                   0,
                   static_cast<double>(micro) / kMicro};
    // Room while the spend stays below `below` (a request larger than the cap itself needs only
    // spend under the cap, and then runs alone).
    std::uint64_t below = ring.cap_micro;
    if (micro <= ring.cap_micro) {
      below = ring.cap_micro - std::max<std::uint64_t>(micro, 1) + 1;
    } else if (held > 0) {
      full.held_usd = static_cast<double>(held) / kMicro;
      return full;
    }
    if (total >= below) {
      // Slot index - 59 + k leaves the window when index + 1 + k begins. Removing all 60 leaves
      // $0, below any bound, so the loop always finds one.
      std::uint64_t left = total;
      std::size_t k = 0;
      for (; k + 1 < kSlots; ++k) {
        left -= slot_micro[k];
        if (left < below) break;
      }
      const Time leaves{
          std::chrono::seconds((index + 1 + static_cast<std::int64_t>(k)) * kSlotSeconds[w])};
      full.retry_after =
          std::max(std::chrono::ceil<std::chrono::seconds>(leaves - now), std::chrono::seconds(1));
      return full;
    }
    if (micro > 0 && micro <= ring.cap_micro && total + held + micro > ring.cap_micro) {
      full.held_usd = static_cast<double>(held) / kMicro;  // they settle within their deadlines
      return full;
    }
  }
  return std::nullopt;
}

// held_ is read and changed with acquire/release: a request that sees another's hold released
// also sees the charge that request made before releasing it.
std::optional<SpendWindows::Exhausted> SpendWindows::reserve(std::uint64_t micro, Time now) {
  if (!capped()) return std::nullopt;
  const Time until{Time::duration(spent_until_.load(std::memory_order_relaxed))};
  const auto w = static_cast<std::size_t>(spent_window_.load(std::memory_order_relaxed));
  if (now < until &&
      spent_floor_.load(std::memory_order_relaxed) + std::max<std::uint64_t>(micro, 1) >
          rings_[w].cap_micro) {
    return Exhausted{
        static_cast<config::Window>(w),
        static_cast<double>(spent_micro_.load(std::memory_order_relaxed)) / kMicro,
        rings_[w].cap_usd,
        std::max(std::chrono::ceil<std::chrono::seconds>(until - now), std::chrono::seconds(1)),
        0,
        static_cast<double>(micro) / kMicro};
  }
  std::uint64_t held = held_.load(std::memory_order_acquire);
  for (;;) {
    if (auto full = no_room(micro, held, now)) return full;
    if (held_.compare_exchange_weak(held, held + micro, std::memory_order_acq_rel,
                                    std::memory_order_acquire))
      break;
  }
  // The spend read before the exchange may predate the charge of a request that reserved and
  // released in between (held_ back where it was): read again, now that this hold is in place.
  if (auto full = no_room(micro, held, now)) {
    release(micro);
    return full;
  }
  return std::nullopt;
}

void SpendWindows::release(std::uint64_t micro) {
  std::uint64_t held = held_.load(std::memory_order_relaxed);
  while (!held_.compare_exchange_weak(held, held - std::min(held, micro), std::memory_order_acq_rel,
                                      std::memory_order_relaxed)) {
  }
}

double SpendWindows::spent(config::Window window, Time now) const {
  const auto w = static_cast<std::size_t>(window);
  if (rings_[w].slots == nullptr) return 0;
  std::array<std::uint64_t, kSlots> slot_micro{};
  return static_cast<double>(amounts(rings_[w], slot_index(w, now), slot_micro)) / kMicro;
}

void SpendWindows::remember_spent(const Exhausted& spent, Time now) {
  const auto w = static_cast<std::size_t>(spent.window);
  const std::uint64_t cap = rings_[w].cap_micro, need = charge_micro(spent.need_usd);
  // Until retry_after the spend stays at or above the cap, or too high for `need` to fit.
  const std::uint64_t floor =
      spent.spent_usd >= spent.cap_usd || need == 0 || need > cap ? cap : cap - need + 1;
  spent_window_.store(static_cast<int>(spent.window), std::memory_order_relaxed);
  spent_micro_.store(charge_micro(spent.spent_usd), std::memory_order_relaxed);
  spent_floor_.store(floor, std::memory_order_relaxed);
  spent_until_.store((now + spent.retry_after).time_since_epoch().count(),
                     std::memory_order_relaxed);
}

double SpendWindows::held() const {
  return static_cast<double>(held_.load(std::memory_order_relaxed)) / kMicro;
}

double SpendWindows::cap(config::Window window) const {
  return rings_[static_cast<std::size_t>(window)].cap_usd;
}

void SpendWindows::absorb(const SpendWindows& before) {
  for (std::size_t w = 0; w < config::kWindowCount; ++w) {
    if (!rings_[w].slots || !before.rings_[w].slots) continue;
    for (std::size_t i = 0; i < kSlots; ++i)
      rings_[w].slots[i].store(before.rings_[w].slots[i].load(std::memory_order_relaxed),
                               std::memory_order_relaxed);
  }
}

}  // namespace switchyard::state
