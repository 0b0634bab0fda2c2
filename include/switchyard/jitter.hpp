// Exponential backoff with "full jitter" (AWS Architecture Blog, "Exponential Backoff And
// Jitter"), shared by the dispatcher's retries and the Redis client's reconnects.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>

namespace switchyard {

// A delay drawn uniformly from [0, min(cap, base * 2^retry)], retry = 0 before the first retry.
// `unit` is the random draw in [0, 1); callers pass their generator's output so tests can pin it.
inline std::chrono::milliseconds full_jitter(unsigned retry, std::chrono::milliseconds base,
                                             std::chrono::milliseconds cap, double unit) {
  using Millis = std::chrono::milliseconds;
  if (base.count() <= 0 || cap.count() <= 0) return Millis{0};
  // base * 2^retry without overflow: past 62 doublings any positive base exceeds any cap, and
  // the comparison against cap >> shift decides the rest without multiplying.
  const unsigned shift = std::min(retry, 62u);
  const std::int64_t bound = base.count() > (cap.count() >> shift)
                                 ? cap.count()
                                 : std::min(cap.count(), base.count() << shift);
  // A generator's output outside [0, 1) (or NaN) is a caller's bug; clamping keeps the result
  // in range anyway.
  if (!(unit > 0.0)) return Millis{0};
  unit = std::min(unit, 1.0);
  // Whole milliseconds uniform over [0, bound] inclusive: floor(unit * (bound + 1)).
  const double scaled = std::floor(unit * (static_cast<double>(bound) + 1.0));
  if (scaled >= static_cast<double>(bound)) return Millis{bound};
  return Millis{static_cast<std::int64_t>(scaled)};
}

}  // namespace switchyard
