#include "switchyard/dispatch/ranking.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace switchyard::dispatch {

namespace {

// Two failures in a row without the breaker tripping yet: still tried, but after the others.
constexpr std::uint32_t kDemotingFailureRun = 2;

bool waiting_out_cooldown(const TargetHealth::Snapshot& health, SteadyTime now) {
  // Open with the cooldown over counts as usable: admit() turns it into a probe.
  return health.state == BreakerState::open && health.open_until > now;
}

bool demoted(const Candidate& c, SteadyTime now) {
  // The run counts only while the breaker is closed. A breaker that tripped keeps its run
  // until a probe closes it, so demoting it would put it behind every healthy target, and with
  // those answering its probe would never be sent: a failed-over primary would never win its
  // traffic back. Half-open (or due to be) is for its probe to decide.
  // For the same reason a run demotes only for a cooldown after its last failure: a demoted
  // target is rarely tried, so its run may never end with a success; after that it is tried
  // first again, and either recovers or adds to the run until its breaker opens.
  const bool failing_run = c.health.state == BreakerState::closed &&
                           c.health.consecutive_failures >= kDemotingFailureRun &&
                           now < c.health.run_expires;
  return !c.provider_healthy || failing_run;
}

// A random permutation in which each next pick is proportional to weight: Efraimidis and
// Spirakis, "Weighted random sampling with a reservoir" (2006) — sort by u^(1/w), descending,
// here as its logarithm ln(u)/w to keep small weights from underflowing. Weight 0 (or less, or
// not a number) is never picked while a positive one is left: those go last, in route order.
void weighted_order(std::span<const Candidate> candidates, const Uniform& uniform,
                    std::vector<std::size_t>::iterator first,
                    std::vector<std::size_t>::iterator last) {
  struct Keyed {
    double key;
    std::size_t index;
  };
  // Reused per thread: ranking runs once per request and should not allocate each time.
  thread_local std::vector<Keyed> keyed;
  keyed.clear();
  for (auto it = first; it != last; ++it) {
    const double w = candidates[*it].weight;
    double key = -std::numeric_limits<double>::infinity();
    if (w > 0) {
      // 1 - u lies in (0, 1], so the logarithm is finite.
      key = std::log(1.0 - std::clamp(uniform(), 0.0, 1.0)) / w;
      // ln(1) = 0 ties every target that drew 0; the larger weight still deserves to win.
      if (key == 0) key = std::numeric_limits<double>::min() * w;
    }
    keyed.push_back({key, *it});
  }
  std::stable_sort(keyed.begin(), keyed.end(),
                   [](const Keyed& a, const Keyed& b) { return a.key > b.key; });
  for (const Keyed& k : keyed) *first++ = k.index;
}

void strategy_order(config::Strategy strategy, std::span<const Candidate> candidates,
                    const Uniform& uniform, std::vector<std::size_t>::iterator first,
                    std::vector<std::size_t>::iterator last) {
  switch (strategy) {
    case config::Strategy::ordered:
      return;  // already in route order
    case config::Strategy::weighted:
      weighted_order(candidates, uniform, first, last);
      return;
    case config::Strategy::lowest_latency: {
      const auto latency = [&](std::size_t i) {
        const auto& health = candidates[i].health;
        // Too few samples to trust: 0 ms puts it first so it gets measured.
        return health.ttfb_samples < kMinLatencySamples ? config::Millis{0} : health.ttfb_ewma;
      };
      std::stable_sort(first, last,
                       [&](std::size_t a, std::size_t b) { return latency(a) < latency(b); });
      return;
    }
    case config::Strategy::least_busy:
      std::stable_sort(first, last, [&](std::size_t a, std::size_t b) {
        return candidates[a].health.in_flight < candidates[b].health.in_flight;
      });
      return;
  }
}

}  // namespace

void rank(config::Strategy strategy, std::span<const Candidate> candidates, double explore,
          const Uniform& uniform, SteadyTime now, std::vector<std::size_t>& order) {
  order.clear();
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    const Candidate& c = candidates[i];
    if (!waiting_out_cooldown(c.health, now) && !demoted(c, now)) order.push_back(i);
  }
  const std::size_t usable = order.size();
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    const Candidate& c = candidates[i];
    if (!waiting_out_cooldown(c.health, now) && demoted(c, now)) order.push_back(i);
  }

  if (order.empty()) {
    // Everything is cooling down. Refusing outright would fail the request without trying;
    // the target opened longest ago is the likeliest to have recovered (the dispatcher admits
    // it with force). Ties go to route order.
    if (candidates.empty()) return;
    std::size_t oldest = 0;
    for (std::size_t i = 1; i < candidates.size(); ++i)
      if (candidates[i].health.opened_at < candidates[oldest].health.opened_at) oldest = i;
    order.push_back(oldest);
    return;
  }

  const auto usable_end = order.begin() + static_cast<std::ptrdiff_t>(usable);
  strategy_order(strategy, candidates, uniform, order.begin(), usable_end);

  // Exploration: now and then try a target that is not the best first, so one that recovered
  // (or got faster) is noticed. The rest keep their order, so the best is tried second.
  // Only where the order comes from measurements: `ordered` is the operator's explicit
  // preference and `weighted` is random already; a failed target in those comes back through its
  // breaker's half-open probes.
  const bool measured =
      strategy == config::Strategy::lowest_latency || strategy == config::Strategy::least_busy;
  if (measured && explore > 0 && usable > 1 && uniform() < explore) {
    const auto others = static_cast<double>(usable - 1);
    const auto pick = std::min(
        usable - 1, 1 + static_cast<std::size_t>(std::clamp(uniform(), 0.0, 1.0) * others));
    std::rotate(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(pick),
                order.begin() + static_cast<std::ptrdiff_t>(pick) + 1);
  }

  strategy_order(strategy, candidates, uniform, usable_end, order.end());
}

}  // namespace switchyard::dispatch
