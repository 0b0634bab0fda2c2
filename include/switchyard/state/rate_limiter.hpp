// A requests-per-minute limit kept exactly across worker threads without a lock: the generic
// cell rate algorithm (GCRA, as in ATM networks and redis-cell) on one atomic "theoretical
// arrival time". A burst of up to the whole minute's allowance is let through at once, after
// which slots come back one every minute/rpm — the continuously replenished bucket the
// providers describe (PROVIDERS.md §1). Time is passed in.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>

namespace switchyard::state {

class RateLimiter {
 public:
  using Time = std::chrono::steady_clock::time_point;

  explicit RateLimiter(std::uint32_t per_minute);

  bool limited() const { return interval_ns_ > 0; }
  // Takes one slot at `now`; when none is free, nothing is taken and the wait until one is comes
  // back instead.
  std::optional<std::chrono::nanoseconds> try_acquire(Time now);

 private:
  std::int64_t interval_ns_ = 0;   // a minute / per_minute; 0 = unlimited
  std::int64_t tolerance_ns_ = 0;  // how far ahead of now the arrival time may run: the burst
  std::atomic<std::int64_t> tat_ns_{0};
};

}  // namespace switchyard::state
