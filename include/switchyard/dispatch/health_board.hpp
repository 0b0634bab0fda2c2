// The process-wide picture of upstream health that every worker reads and writes: one
// TargetHealth per provider + model pair (breaker, window, in-flight), one ProviderHealth per
// provider (its active health check), and the dispatch counters (retries, failovers, hedges).
// Atomics only: no worker waits for another. Built once per route table; a reload's board takes
// over the previous one's state for whatever did not change.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "switchyard/dispatch/ranking.hpp"
#include "switchyard/dispatch/target_health.hpp"
#include "switchyard/routing/route_table.hpp"
#include "switchyard/state/rate_limiter.hpp"

namespace switchyard::dispatch {

// The state of a provider's health check. Without a check a provider counts as healthy.
struct ProviderHealth {
  std::atomic<bool> healthy{true};
  std::atomic<std::uint32_t> failed_probes{0};  // in a row
  std::atomic<std::uint64_t> probes{0};
  std::atomic<int> last_status{0};              // of the last probe; 0 = no HTTP answer
  std::atomic<std::int64_t> last_probe_ms{0};   // system clock, ms since the epoch
  std::atomic<std::int64_t> last_change_ms{0};  // when `healthy` last flipped
};

struct DispatchCounters {
  std::atomic<std::uint64_t> retries{0};        // another try of the same target
  std::atomic<std::uint64_t> failovers{0};      // moved on to the next target
  std::atomic<std::uint64_t> hedges{0};         // a second target started beside a slow first
  std::atomic<std::uint64_t> hedge_wins{0};     // ... and answered first
  std::atomic<std::uint64_t> hedges_wasted{0};  // upstream requests cancelled as the loser
  // Estimated input cost of the cancelled requests, in micro-USD: a provider bills a prompt it
  // started on (prompt tokens estimated as request bytes / 4).
  std::atomic<std::uint64_t> hedge_waste_micro_usd{0};
  std::atomic<std::uint64_t> breaker_skips{0};  // targets left out because their breaker was open
  std::atomic<std::uint64_t> deadline_exceeded{0};
  std::atomic<std::uint64_t> rate_limit_skips{0};  // targets passed over at their provider's rpm
  std::atomic<std::uint64_t> classifier_calls{0};  // external complexity classifier asked
  std::atomic<std::uint64_t> classifier_fallbacks{0};  // ... and the heuristic decided instead
  // Limits and budgets decided on this replica's own counters because Redis did not answer.
  std::atomic<std::uint64_t> shared_state_fallbacks{0};
  // Not a count of events: the workers deciding that way now (Redis not answering them).
  std::atomic<std::int64_t> workers_counting_alone{0};
};

class HealthBoard {
 public:
  // Shares `previous`'s state of each target, provider and rate limit that is defined the same
  // way in both route tables (same name and definition), and its counters.
  HealthBoard(std::shared_ptr<const routing::RouteTable> routes, const HealthBoard* previous);

  const routing::RouteTable& routes() const { return *routes_; }
  TargetHealth& target(const routing::Target& t) { return *targets_[t.index]; }
  const TargetHealth& target(const routing::Target& t) const { return *targets_[t.index]; }
  ProviderHealth& provider(std::size_t index) { return *providers_[index]; }
  const ProviderHealth& provider(std::size_t index) const { return *providers_[index]; }
  DispatchCounters& counters() { return *counters_; }
  const DispatchCounters& counters() const { return *counters_; }
  // The provider's own requests-per-minute limit (`rate_limit.rpm`).
  state::RateLimiter& limiter(std::size_t provider_index) { return *limiters_[provider_index]; }
  // ... and its tokens-per-minute limit (`rate_limit.tpm`).
  state::RateLimiter& token_limiter(std::size_t provider_index) {
    return *token_limiters_[provider_index];
  }

  // What ranking needs to know of each of the route's targets now, in route order (the cheap
  // snapshots: no window sums).
  void candidates(const routing::Route& route, SteadyTime now, std::vector<Candidate>& out) const;
  // The route's plan as a request would see it now, without exploration (weighted: every draw
  // 0.5): positions into route.targets in `order`, from the `candidates` it was ranked on.
  void plan_now(const routing::Route& route, SteadyTime now, std::vector<Candidate>& candidates,
                std::vector<std::size_t>& order) const;

  // Ready = at least one provider passes its health check (or has none).
  bool any_provider_healthy() const;
  // GET /admin/health: providers, targets (breaker, window stats, in-flight), routes with their
  // current ranking, counters. No secrets.
  std::string to_json(SteadyTime now) const;
  // GET /readyz's body.
  std::string readiness_json() const;
  // GET /admin/routes: each route's targets in route order with their live state, and the plan
  // a request would get now.
  std::string routes_json(SteadyTime now) const;

 private:
  nlohmann::ordered_json target_json(const routing::Target& t, SteadyTime now) const;
  nlohmann::ordered_json routes_array(SteadyTime now, bool with_targets) const;

  std::shared_ptr<const routing::RouteTable> routes_;
  std::vector<std::shared_ptr<TargetHealth>> targets_;               // by Target::index
  std::vector<std::shared_ptr<ProviderHealth>> providers_;           // by provider index
  std::vector<std::shared_ptr<state::RateLimiter>> limiters_;        // by provider index
  std::vector<std::shared_ptr<state::RateLimiter>> token_limiters_;  // by provider index
  std::shared_ptr<DispatchCounters> counters_;
};

}  // namespace switchyard::dispatch
