// A per-minute limit — requests (one unit each) or tokens (units = estimated tokens) — kept
// exactly across worker threads without a lock: the generic cell rate algorithm (GCRA, as in ATM
// networks and redis-cell) on one atomic "theoretical arrival time". A burst of up to the whole
// minute's allowance is let through at once, after which units come back at per_minute a minute
// — the continuously replenished bucket the providers describe for their own limits. Time is
// passed in.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>

namespace switchyard::state {

class RateLimiter {
 public:
  using Time = std::chrono::steady_clock::time_point;

  // One unit a nanosecond. A clock tells nothing finer apart, and it keeps every tick count in 64
  // bits for any time point; larger limits are clamped to it.
  static constexpr std::uint64_t kMaxPerMinute = 60'000'000'000;

  // 0 = unlimited.
  explicit RateLimiter(std::uint64_t per_minute);

  bool limited() const { return per_minute_ > 0; }
  std::uint64_t limit() const { return per_minute_; }  // per minute; 0 = unlimited

  // Takes `units` at `now`, all or nothing. When they do not fit, nothing is taken and the wait
  // until they would comes back instead. A request of more than limit() units can never fit: it
  // gets nanoseconds::max() (callers refuse it as too large before asking). Unlimited, or 0
  // units, always fits.
  std::optional<std::chrono::nanoseconds> try_acquire(Time now, std::uint64_t units = 1);

  // Returns units taken but not used (the estimate was above the real usage). Never more than a
  // full allowance becomes available: an arrival time behind now counts as nothing in use, so
  // giving back more than is in use just leaves nothing in use.
  void give_back(std::uint64_t units);
  // Books usage learned after the fact (the real usage was above the estimate) without refusing:
  // the bucket may go into debt, which later requests wait out.
  void take_anyway(Time now, std::uint64_t units);

  // For OpenAI-style x-ratelimit-{limit,remaining,reset}-* headers. Unlimited = all zero (send no
  // headers).
  struct Usage {
    std::uint64_t limit;             // per minute
    std::uint64_t remaining;         // units try_acquire would grant right now
    std::chrono::nanoseconds reset;  // until nothing is in use (the whole allowance is back)
  };
  Usage usage(Time now) const;

 private:
  // Time is counted in "ticks", `scale_` of them to one unit's refill (a minute / per_minute), so
  // that a burst is exactly per_minute units and refill is exactly per_minute a minute, with no
  // rounding of the interval to whole nanoseconds. now_ticks = floor(ns * per_minute * scale_ /
  // minute). scale_ puts a tick near a nanosecond whatever the limit, so a unit comes back a
  // refill interval after it was taken (not at the next boundary of a coarse grid) and tick
  // counts still fit 64 bits for centuries of uptime.
  std::int64_t ticks(Time now) const;
  std::uint64_t per_minute_ = 0;
  std::int64_t scale_ = 1;
  // The theoretical arrival time in ticks: max(0, tat - now) units are in use (taken and not yet
  // refilled); more than per_minute is debt. Starts in the far past: nothing in use.
  std::atomic<std::int64_t> tat_{std::numeric_limits<std::int64_t>::min()};
};

}  // namespace switchyard::state
