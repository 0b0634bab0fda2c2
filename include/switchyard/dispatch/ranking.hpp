// The order in which a request tries its route's targets, from the route's strategy and what is
// known about each target right now. Pure: statistics and randomness are passed in.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "switchyard/config/config.hpp"
#include "switchyard/dispatch/target_health.hpp"

namespace switchyard::dispatch {

struct Candidate {
  double weight = 1;              // strategy weighted
  bool provider_healthy = true;   // the provider's health check passes (or there is none)
  TargetHealth::Snapshot health;  // breaker, window, in-flight
};

// A uniform draw in [0, 1).
using Uniform = std::function<double()>;

// Positions into `candidates` (route order), in the order to try them:
//  1. usable targets (breaker closed or half-open, or open with its cooldown over; provider
//     healthy; if closed, not in a recent run of 2+ failures), ordered by the strategy:
//       ordered        — route order;
//       weighted       — a weighted random permutation (each next pick ∝ weight);
//       lowest_latency — ascending mean time to first byte (TargetHealth's EWMA); a target
//                        with fewer than kMinLatencySamples samples counts as 0 ms so it
//                        gets measured;
//       least_busy     — ascending in-flight count, ties in route order;
//     then, for lowest_latency and least_busy only (ordered is the operator's preference,
//     weighted is random already), with probability `explore` (and more than one usable
//     target), a random other
//     usable target is moved to the front (the rest keep their order, so the best is tried
//     second), so a recovered target is noticed;
//  2. demoted targets (provider unhealthy, or a closed breaker with 2+ failures in a row, for
//     a breaker cooldown after the last of them — a tripped breaker's run lasts until its
//     probe, which must not wait behind the healthy targets), in the same strategy order;
//  3. open targets whose cooldown is not over are left out — unless every target is such, when
//     the plan is the one opened longest ago alone.
// `uniform` is drawn in this order: once per positive-weight usable target (weighted only);
// once to decide on exploring, and once more to pick the target when it does; once per
// positive-weight demoted target (weighted only).
inline constexpr std::uint64_t kMinLatencySamples = 5;
void rank(config::Strategy strategy, std::span<const Candidate> candidates, double explore,
          const Uniform& uniform, SteadyTime now, std::vector<std::size_t>& order);

}  // namespace switchyard::dispatch
