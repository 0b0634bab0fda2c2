#include "switchyard/state/rate_limiter.hpp"

#include <algorithm>

namespace switchyard::state {

namespace {

// Products of a time in nanoseconds (up to 2^63) and a limit (up to kMaxPerMinute) need 100 bits.
__extension__ typedef __int128 Wide;

constexpr std::int64_t kMinuteNs = 60'000'000'000;
constexpr std::int64_t kFarPast = std::numeric_limits<std::int64_t>::min();
constexpr std::int64_t kFarFuture = std::numeric_limits<std::int64_t>::max();

std::int64_t clamp64(Wide v) {
  return static_cast<std::int64_t>(std::clamp<Wide>(v, kFarPast, kFarFuture));
}

Wide floor_div(Wide a, Wide b) {  // b > 0
  const Wide q = a / b;
  return (a % b != 0 && a < 0) ? q - 1 : q;
}

Wide ceil_div(Wide a, Wide b) {
  return -floor_div(-a, b);
}  // b > 0

std::int64_t ns_of(RateLimiter::Time t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

}  // namespace

RateLimiter::RateLimiter(std::uint64_t per_minute)
    : per_minute_(std::min(per_minute, kMaxPerMinute)),
      scale_(per_minute_ == 0
                 ? 1
                 : std::max<std::int64_t>(1, kMinuteNs / static_cast<std::int64_t>(per_minute_))) {}

std::int64_t RateLimiter::ticks(Time now) const {
  return clamp64(floor_div(Wide{ns_of(now)} * static_cast<Wide>(per_minute_) * scale_, kMinuteNs));
}

std::optional<std::chrono::nanoseconds> RateLimiter::try_acquire(Time now, std::uint64_t units) {
  if (!limited() || units == 0) return std::nullopt;
  if (units > per_minute_) return std::chrono::nanoseconds::max();
  const Wide limit = static_cast<Wide>(per_minute_) * scale_;
  const Wide t = ticks(now);
  std::int64_t tat = tat_.load(std::memory_order_relaxed);
  for (;;) {
    const Wide next = std::max<Wide>(tat, t) + static_cast<Wide>(units) * scale_;
    if (next - t > limit) {
      // The units fit once the clock reaches the tick next - limit: the first nanosecond at which
      // floor(ns * per_minute / minute) gets there, which is after now (else they would fit).
      const Wide at = ceil_div((next - limit) * kMinuteNs, limit);
      return std::chrono::nanoseconds(clamp64(at - ns_of(now)));
    }
    if (tat_.compare_exchange_weak(tat, clamp64(next), std::memory_order_relaxed))
      return std::nullopt;
  }
}

void RateLimiter::give_back(std::uint64_t units) {
  if (!limited() || units == 0) return;
  std::int64_t tat = tat_.load(std::memory_order_relaxed);
  // No floor at now is needed: every reader takes max(tat, now).
  while (!tat_.compare_exchange_weak(tat, clamp64(Wide{tat} - static_cast<Wide>(units) * scale_),
                                     std::memory_order_relaxed)) {
  }
}

void RateLimiter::take_anyway(Time now, std::uint64_t units) {
  if (!limited() || units == 0) return;
  const Wide t = ticks(now);
  std::int64_t tat = tat_.load(std::memory_order_relaxed);
  while (!tat_.compare_exchange_weak(
      tat, clamp64(std::max<Wide>(tat, t) + static_cast<Wide>(units) * scale_),
      std::memory_order_relaxed)) {
  }
}

RateLimiter::Usage RateLimiter::usage(Time now) const {
  if (!limited()) return {0, 0, std::chrono::nanoseconds::zero()};
  const Wide limit = static_cast<Wide>(per_minute_) * scale_;
  const Wide tat = tat_.load(std::memory_order_relaxed);
  const Wide in_use = std::max<Wide>(tat - ticks(now), 0);
  const Wide remaining = std::max<Wide>(limit - in_use, 0) / scale_;
  const Wide full_at = ceil_div(tat * kMinuteNs, limit);
  const Wide reset = in_use == 0 ? 0 : std::max<Wide>(full_at - ns_of(now), 0);
  return {per_minute_, static_cast<std::uint64_t>(remaining),
          std::chrono::nanoseconds(clamp64(reset))};
}

}  // namespace switchyard::state
