#include "switchyard/state/rate_limiter.hpp"

#include <algorithm>

namespace switchyard::state {

namespace {
constexpr std::int64_t kMinuteNs = 60'000'000'000;
}

RateLimiter::RateLimiter(std::uint32_t per_minute) {
  if (per_minute == 0) return;
  interval_ns_ = kMinuteNs / per_minute;
  tolerance_ns_ = interval_ns_ * static_cast<std::int64_t>(per_minute);
}

std::optional<std::chrono::nanoseconds> RateLimiter::try_acquire(Time now) {
  if (!limited()) return std::nullopt;
  const std::int64_t t =
      std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count();
  std::int64_t tat = tat_ns_.load(std::memory_order_relaxed);
  for (;;) {
    const std::int64_t next = std::max(tat, t) + interval_ns_;
    if (next - t > tolerance_ns_) return std::chrono::nanoseconds(next - t - tolerance_ns_);
    if (tat_ns_.compare_exchange_weak(tat, next, std::memory_order_relaxed)) return std::nullopt;
  }
}

}  // namespace switchyard::state
