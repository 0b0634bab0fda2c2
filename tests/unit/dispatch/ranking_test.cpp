// The order in which a request tries its targets, from the strategy and each target's health.
#include <gtest/gtest.h>

#include <array>
#include <deque>
#include <random>

#include "switchyard/dispatch/ranking.hpp"

namespace switchyard::dispatch {
namespace {

using namespace std::chrono_literals;
using config::Strategy;
using Order = std::vector<std::size_t>;

const SteadyTime kNow = SteadyTime{} + 1000h;

// Draws that fail the test if ranking asks for more than the script holds.
struct Script {
  std::deque<double> draws;
  Uniform uniform() {
    return [this] {
      if (draws.empty()) {
        ADD_FAILURE() << "ranking drew more random numbers than expected";
        return 0.0;
      }
      const double d = draws.front();
      draws.pop_front();
      return d;
    };
  }
};

const Uniform kNoDraws = [] {
  ADD_FAILURE() << "ranking drew a random number where it needs none";
  return 0.0;
};

Candidate healthy() {
  return Candidate{};
}

Candidate with_latency(std::uint64_t samples, int p50_ms) {
  Candidate c;
  c.health.ttfb_samples = samples;
  c.health.ttfb_ewma = config::Millis{p50_ms};
  return c;
}

Candidate busy(std::int32_t in_flight) {
  Candidate c;
  c.health.in_flight = in_flight;
  return c;
}

Candidate open_until(SteadyTime until, SteadyTime opened_at = kNow - 10s) {
  Candidate c;
  c.health.state = BreakerState::open;
  c.health.opened_at = opened_at;
  c.health.open_until = until;
  return c;
}

Order ranked(Strategy strategy, const std::vector<Candidate>& candidates, double explore = 0,
             const Uniform& uniform = kNoDraws) {
  Order order{99};  // rank() starts from an empty order, whatever it is handed
  rank(strategy, candidates, explore, uniform, kNow, order);
  return order;
}

TEST(Ranking, OrderedKeepsRouteOrder) {
  EXPECT_EQ(ranked(Strategy::ordered, {healthy(), healthy(), healthy()}), (Order{0, 1, 2}));
  EXPECT_EQ(ranked(Strategy::ordered, {}), Order{});
}

TEST(Ranking, LowestLatencyAscendsByP50) {
  EXPECT_EQ(ranked(Strategy::lowest_latency,
                   {with_latency(50, 900), with_latency(50, 300), with_latency(50, 600)}),
            (Order{1, 2, 0}));
}

TEST(Ranking, LowestLatencyPutsUnmeasuredTargetsFirst) {
  // Target 2 has 4 samples, under kMinLatencySamples: counted as 0 ms however slow they were.
  EXPECT_EQ(ranked(Strategy::lowest_latency, {with_latency(50, 300), with_latency(50, 100),
                                              with_latency(4, 5'000), with_latency(5, 200)}),
            (Order{2, 1, 3, 0}));
}

TEST(Ranking, LeastBusyAscendsByInFlightWithTiesInRouteOrder) {
  EXPECT_EQ(ranked(Strategy::least_busy, {busy(3), busy(1), busy(3), busy(0), busy(1)}),
            (Order{3, 1, 4, 0, 2}));
}

TEST(Ranking, WeightedOrdersByEfraimidisSpirakisKeys) {
  // Keys ln(1 - u) / w: target 0 (w 1, u 0.5) -0.693; target 1 (w 3, u 0.5) -0.231;
  // target 2 (w 1, u 0.1) -0.105.
  std::vector<Candidate> c(3);
  c[1].weight = 3;
  Script script{{0.5, 0.5, 0.1}};
  EXPECT_EQ(ranked(Strategy::weighted, c, 0, script.uniform()), (Order{2, 1, 0}));
  EXPECT_TRUE(script.draws.empty());
}

TEST(Ranking, WeightedPicksFirstInProportionToWeight) {
  std::vector<Candidate> c(3);
  c[0].weight = 1;
  c[1].weight = 2;
  c[2].weight = 7;
  std::mt19937 gen(7);
  std::uniform_real_distribution<double> dist(0.0, 1.0);
  const Uniform uniform = [&] { return dist(gen); };
  std::array<int, 3> first{}, second_after_2{};
  int after_2 = 0;
  constexpr int kDraws = 20'000;
  Order order;
  for (int i = 0; i < kDraws; ++i) {
    rank(Strategy::weighted, c, 0, uniform, kNow, order);
    ASSERT_EQ(order.size(), 3u);
    ++first[order[0]];
    if (order[0] == 2) {
      ++after_2;
      ++second_after_2[order[1]];
    }
  }
  EXPECT_NEAR(first[0] / double(kDraws), 0.1, 0.015);
  EXPECT_NEAR(first[1] / double(kDraws), 0.2, 0.015);
  EXPECT_NEAR(first[2] / double(kDraws), 0.7, 0.015);
  // Without replacement: once 2 is taken, 1 follows twice as often as 0.
  EXPECT_NEAR(second_after_2[1] / double(after_2), 2.0 / 3.0, 0.02);
}

TEST(Ranking, WeightedPutsZeroWeightsLastInRouteOrder) {
  std::vector<Candidate> c(4);
  c[0].weight = 0;
  c[2].weight = 0;
  // Only the two positive weights draw, in route order: 1 gets u 0.9 (key ln 0.1), 3 gets
  // u 0.2 (key ln 0.8), so 3 comes first.
  Script script{{0.9, 0.2}};
  EXPECT_EQ(ranked(Strategy::weighted, c, 0, script.uniform()), (Order{3, 1, 0, 2}));
  EXPECT_TRUE(script.draws.empty());
}

TEST(Ranking, ExploresOnlyWhenTheDrawIsBelowExplore) {
  const std::vector<Candidate> c(4);
  // 0.1 is not below 0.1: no exploration, and no second draw.
  Script no{{0.1}};
  EXPECT_EQ(ranked(Strategy::least_busy, c, 0.1, no.uniform()), (Order{0, 1, 2, 3}));
  EXPECT_TRUE(no.draws.empty());
  // 0.05 is: the second draw picks among the 3 others, 0.5 → the middle one, target 2,
  // which moves to the front while the rest keep their order.
  Script yes{{0.05, 0.5}};
  EXPECT_EQ(ranked(Strategy::least_busy, c, 0.1, yes.uniform()), (Order{2, 0, 1, 3}));
  EXPECT_TRUE(yes.draws.empty());
  Script last{{0.0, 0.99}};
  EXPECT_EQ(ranked(Strategy::least_busy, c, 0.1, last.uniform()), (Order{3, 0, 1, 2}));
}

TEST(Ranking, NeverExploresWithExploreZeroOrASingleUsableTarget) {
  EXPECT_EQ(ranked(Strategy::least_busy, std::vector<Candidate>(3), 0.0), (Order{0, 1, 2}));
  std::vector<Candidate> c(2);
  c[1].provider_healthy = false;
  EXPECT_EQ(ranked(Strategy::least_busy, c, 1.0), (Order{0, 1}));
}

TEST(Ranking, ExplorationNeverPromotesADemotedTarget) {
  std::vector<Candidate> c(3);
  c[0].health.consecutive_failures = 2;
  c[0].health.run_expires = kNow + 1s;
  Script script{{0.0, 0.99}};
  EXPECT_EQ(ranked(Strategy::least_busy, c, 0.5, script.uniform()), (Order{2, 1, 0}));
}

TEST(Ranking, NeverExploresAnOrderedOrWeightedRoute) {
  const std::vector<Candidate> c(3);
  Script ordered{{0.0, 0.99}};
  EXPECT_EQ(ranked(Strategy::ordered, c, 1.0, ordered.uniform()), (Order{0, 1, 2}));
  EXPECT_EQ(ordered.draws.size(), 2u);  // nothing drawn
}

TEST(Ranking, DemotedTargetsComeAfterUsableOnesInStrategyOrder) {
  std::vector<Candidate> c{busy(0), busy(5), busy(1), busy(2), busy(3)};
  c[0].provider_healthy = false;
  c[2].health.consecutive_failures = 2;
  c[2].health.run_expires = kNow + 1s;
  c[4].health.consecutive_failures = 1;  // one failure is not yet a run
  EXPECT_EQ(ranked(Strategy::least_busy, c), (Order{3, 4, 1, 0, 2}));
}

TEST(Ranking, KeepsATrippedTargetDueForItsProbeAheadDespiteItsFailureRun) {
  // The primary tripped after 5 failures; its cooldown is over. Behind the healthy fallback
  // its probe would never be sent while the fallback answers.
  std::vector<Candidate> c{open_until(kNow - 1s), healthy()};
  c[0].health.consecutive_failures = 5;
  EXPECT_EQ(ranked(Strategy::ordered, c), (Order{0, 1}));
  c[0].health.state = BreakerState::half_open;
  EXPECT_EQ(ranked(Strategy::ordered, c), (Order{0, 1}));
  // Closed with the same run: demoted, for a cooldown after its last failure.
  c[0].health.state = BreakerState::closed;
  c[0].health.run_expires = kNow + 1s;
  EXPECT_EQ(ranked(Strategy::ordered, c), (Order{1, 0}));
}

TEST(Ranking, ADemotionEndsACooldownAfterTheRunsLastFailure) {
  // A demoted target is rarely tried, so its run may never end with a success: once the
  // cooldown after its last failure is over it leads again, and recovers or trips its breaker.
  std::vector<Candidate> c{healthy(), healthy()};
  c[0].health.consecutive_failures = 2;
  c[0].health.run_expires = kNow;
  EXPECT_EQ(ranked(Strategy::ordered, c), (Order{0, 1}));
  c[0].health.run_expires = kNow + 1ms;
  EXPECT_EQ(ranked(Strategy::ordered, c), (Order{1, 0}));
}

TEST(Ranking, LeavesOutTargetsStillCoolingDown) {
  std::vector<Candidate> c{open_until(kNow + 1s), healthy(), open_until(kNow + 5s)};
  EXPECT_EQ(ranked(Strategy::ordered, c), (Order{1}));
}

TEST(Ranking, CountsAnOpenTargetWhoseCooldownIsOverAsUsable) {
  std::vector<Candidate> c{open_until(kNow), open_until(kNow - 1s), open_until(kNow + 1ns)};
  c[1].health.state = BreakerState::half_open;
  EXPECT_EQ(ranked(Strategy::ordered, c), (Order{0, 1}));
}

TEST(Ranking, AllOpenPlansOnlyTheTargetOpenedLongestAgo) {
  const std::vector<Candidate> c{open_until(kNow + 5s, kNow - 20s),
                                 open_until(kNow + 1s, kNow - 40s),
                                 open_until(kNow + 9s, kNow - 30s)};
  EXPECT_EQ(ranked(Strategy::ordered, c, 0.5), (Order{1}));
  // Ties go to route order.
  const std::vector<Candidate> tie{open_until(kNow + 5s, kNow - 40s),
                                   open_until(kNow + 1s, kNow - 40s)};
  EXPECT_EQ(ranked(Strategy::least_busy, tie), (Order{0}));
}

TEST(Ranking, DemotedButNotOpenIsStillPlannedWhenNothingElseIs) {
  std::vector<Candidate> c{open_until(kNow + 5s), healthy()};
  c[1].provider_healthy = false;
  EXPECT_EQ(ranked(Strategy::ordered, c), (Order{1}));
}

}  // namespace
}  // namespace switchyard::dispatch
