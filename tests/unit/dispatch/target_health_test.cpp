// The per-target breaker and sliding window, driven by a fake clock.
#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "switchyard/dispatch/target_health.hpp"

namespace switchyard::dispatch {
namespace {

using namespace std::chrono_literals;
using Admission = TargetHealth::Admission;

// A fake clock: tests move `now` by hand. Starts well after the epoch, as steady_clock does.
struct Clock {
  SteadyTime now = SteadyTime{} + 1000h;
  void advance(std::chrono::nanoseconds d) { now += d; }
};

config::BreakerPolicy policy() {
  config::BreakerPolicy p;
  p.window = 10s;
  p.min_requests = 10;
  p.error_rate = 0.5;
  p.consecutive_failures = 0;  // off unless a test wants it
  p.cooldown = 30s;
  p.half_open_probes = 1;
  return p;
}

// Records `n` outcomes of attempts admitted as `allowed`.
void record(TargetHealth& health, const Clock& clock, int n, bool failed) {
  for (int i = 0; i < n; ++i) health.record(clock.now, Admission::allowed, failed, std::nullopt);
}

// Trips the breaker with a run of failures; returns when it opened.
SteadyTime trip(TargetHealth& health, Clock& clock) {
  record(health, clock, 10, true);
  EXPECT_EQ(health.snapshot(clock.now).state, BreakerState::open);
  return clock.now;
}

TEST(TargetHealth, StartsClosedAndAllowsAttempts) {
  Clock clock;
  TargetHealth health(policy());
  EXPECT_EQ(health.admit(clock.now), Admission::allowed);
  const auto s = health.snapshot(clock.now);
  EXPECT_EQ(s.state, BreakerState::closed);
  EXPECT_EQ(s.window.requests, 0u);
  EXPECT_EQ(to_string(s.state), "closed");
}

TEST(TargetHealth, OpensOnErrorRateOnlyOnceTheWindowHoldsMinRequests) {
  Clock clock;
  TargetHealth health(policy());
  // Alternating, so no run of failures matters: 9 requests at 5/9 failed stay closed.
  for (int i = 0; i < 9; ++i) record(health, clock, 1, i % 2 == 0);
  EXPECT_EQ(health.snapshot(clock.now).state, BreakerState::closed);
  // The 10th, a success, brings the rate to exactly 0.5 but only a failure re-evaluates.
  record(health, clock, 1, false);
  EXPECT_EQ(health.snapshot(clock.now).state, BreakerState::closed);
  record(health, clock, 1, true);  // 6 of 11
  const auto s = health.snapshot(clock.now);
  EXPECT_EQ(s.state, BreakerState::open);
  EXPECT_EQ(s.opened_at, clock.now);
  EXPECT_EQ(s.open_until, clock.now + 30s);
  EXPECT_FALSE(s.cooling);
  EXPECT_EQ(s.window.requests, 11u);
  EXPECT_EQ(s.window.failures, 6u);
}

TEST(TargetHealth, StaysClosedBelowTheErrorRate) {
  Clock clock;
  TargetHealth health(policy());
  for (int i = 0; i < 30; ++i) record(health, clock, 1, i % 3 == 0);  // a third fail
  EXPECT_EQ(health.snapshot(clock.now).state, BreakerState::closed);
}

TEST(TargetHealth, OpensAfterConsecutiveFailuresWithoutMinRequests) {
  Clock clock;
  auto p = policy();
  p.consecutive_failures = 3;
  p.min_requests = 100;
  TargetHealth health(p);
  record(health, clock, 2, true);
  record(health, clock, 1, false);  // a success ends the run
  record(health, clock, 2, true);
  EXPECT_EQ(health.snapshot(clock.now).state, BreakerState::closed);
  EXPECT_EQ(health.snapshot(clock.now).consecutive_failures, 2u);
  record(health, clock, 1, true);
  EXPECT_EQ(health.snapshot(clock.now).state, BreakerState::open);
  EXPECT_EQ(health.admit(clock.now), Admission::refused);
}

TEST(TargetHealth, RefusesDuringTheCooldown) {
  Clock clock;
  TargetHealth health(policy());
  trip(health, clock);
  EXPECT_EQ(health.admit(clock.now), Admission::refused);
  clock.advance(30s - 1ns);
  EXPECT_EQ(health.admit(clock.now), Admission::refused);
  EXPECT_EQ(health.snapshot(clock.now).state, BreakerState::open);
}

TEST(TargetHealth, HalfOpenAdmitsExactlyTheConfiguredProbes) {
  Clock clock;
  auto p = policy();
  p.half_open_probes = 3;
  TargetHealth health(p);
  trip(health, clock);
  clock.advance(30s);
  EXPECT_EQ(health.admit(clock.now), Admission::probe);
  EXPECT_EQ(health.snapshot(clock.now).state, BreakerState::half_open);
  EXPECT_EQ(to_string(BreakerState::half_open), "half_open");
  EXPECT_EQ(health.admit(clock.now), Admission::probe);
  EXPECT_EQ(health.admit(clock.now), Admission::probe);
  EXPECT_EQ(health.admit(clock.now), Admission::refused);
  EXPECT_EQ(health.admit(clock.now), Admission::refused);
}

TEST(TargetHealth, ReleaseFreesAProbeSlot) {
  Clock clock;
  TargetHealth health(policy());
  trip(health, clock);
  clock.advance(30s);
  const Admission probe = health.admit(clock.now);
  ASSERT_EQ(probe, Admission::probe);
  EXPECT_EQ(health.admit(clock.now), Admission::refused);
  health.release(probe);
  EXPECT_EQ(health.admit(clock.now), Admission::probe);
  EXPECT_EQ(health.snapshot(clock.now).state, BreakerState::half_open);
  // Releasing what was never a probe, or more than were admitted, frees nothing extra.
  health.release(Admission::allowed);
  EXPECT_EQ(health.admit(clock.now), Admission::refused);
}

TEST(TargetHealth, SuccessfulProbeClosesAndForgetsTheOldFailures) {
  Clock clock;
  TargetHealth health(policy());
  trip(health, clock);
  clock.advance(30s);
  const Admission probe = health.admit(clock.now);
  ASSERT_EQ(probe, Admission::probe);
  health.record(clock.now, probe, false, 120ms);
  auto s = health.snapshot(clock.now);
  EXPECT_EQ(s.state, BreakerState::closed);
  EXPECT_EQ(s.consecutive_failures, 0u);
  // The window holds only the probe, so one more failure does not reopen it.
  EXPECT_EQ(s.window.requests, 1u);
  EXPECT_EQ(s.window.failures, 0u);
  EXPECT_EQ(s.window.latency_samples, 1u);
  record(health, clock, 1, true);
  EXPECT_EQ(health.snapshot(clock.now).state, BreakerState::closed);
  EXPECT_EQ(health.admit(clock.now), Admission::allowed);
}

TEST(TargetHealth, FailedProbeReopensForAnotherCooldown) {
  Clock clock;
  TargetHealth health(policy());
  trip(health, clock);
  clock.advance(30s);
  const Admission probe = health.admit(clock.now);
  ASSERT_EQ(probe, Admission::probe);
  clock.advance(2s);
  health.record(clock.now, probe, true, std::nullopt);
  const auto s = health.snapshot(clock.now);
  EXPECT_EQ(s.state, BreakerState::open);
  EXPECT_EQ(s.opened_at, clock.now);
  EXPECT_EQ(s.open_until, clock.now + 30s);
  EXPECT_EQ(health.admit(clock.now + 29s), Admission::refused);
  EXPECT_EQ(health.admit(clock.now + 30s), Admission::probe);
}

TEST(TargetHealth, ForceAdmitsAnOpenTargetAsAProbe) {
  Clock clock;
  TargetHealth health(policy());
  trip(health, clock);
  EXPECT_EQ(health.admit(clock.now), Admission::refused);
  const Admission forced = health.admit(clock.now, /*force=*/true);
  EXPECT_EQ(forced, Admission::probe);
  // A forced success is a probe's success: closed.
  health.record(clock.now, forced, false, std::nullopt);
  EXPECT_EQ(health.snapshot(clock.now).state, BreakerState::closed);
}

TEST(TargetHealth, ForcedProbeThatFailsMovesTheCooldown) {
  Clock clock;
  TargetHealth health(policy());
  trip(health, clock);
  clock.advance(10s);
  const Admission forced = health.admit(clock.now, true);
  ASSERT_EQ(forced, Admission::probe);
  health.record(clock.now, forced, true, std::nullopt);
  const auto s = health.snapshot(clock.now);
  EXPECT_EQ(s.state, BreakerState::open);
  EXPECT_EQ(s.opened_at, clock.now);
  EXPECT_EQ(s.open_until, clock.now + 30s);
}

TEST(TargetHealth, CoolDownRefusesUntilTheTimeThenProbes) {
  Clock clock;
  TargetHealth health(policy());
  health.cool_down(clock.now, clock.now + 5s);
  auto s = health.snapshot(clock.now);
  EXPECT_EQ(s.state, BreakerState::open);
  EXPECT_TRUE(s.cooling);
  EXPECT_EQ(s.opened_at, clock.now);
  EXPECT_EQ(s.open_until, clock.now + 5s);
  EXPECT_EQ(health.admit(clock.now + 4s), Admission::refused);
  // An earlier time does not shorten the pause; a later one extends it.
  health.cool_down(clock.now, clock.now + 1s);
  EXPECT_EQ(health.snapshot(clock.now).open_until, clock.now + 5s);
  health.cool_down(clock.now, clock.now + 8s);
  EXPECT_EQ(health.snapshot(clock.now).open_until, clock.now + 8s);
  EXPECT_EQ(health.admit(clock.now + 7s), Admission::refused);
  const Admission probe = health.admit(clock.now + 8s);
  EXPECT_EQ(probe, Admission::probe);
  health.record(clock.now + 8s, probe, false, std::nullopt);
  s = health.snapshot(clock.now + 8s);
  EXPECT_EQ(s.state, BreakerState::closed);
  EXPECT_FALSE(s.cooling);
}

TEST(OutcomeWindow, ForgetsOutcomesOlderThanTheWindow) {
  Clock clock;
  clock.now = SteadyTime{} + 1000s;  // a whole number of slices, so ages are exact
  OutcomeWindow window(10s);
  window.record(clock.now, true, 50ms);
  clock.advance(5s);
  window.record(clock.now, false, std::nullopt);
  auto t = window.totals(clock.now);
  EXPECT_EQ(t.requests, 2u);
  EXPECT_EQ(t.failures, 1u);
  EXPECT_DOUBLE_EQ(t.error_rate(), 0.5);
  EXPECT_EQ(t.latency_samples, 1u);
  // The first outcome is 10 s old a moment later: gone; the second is still there.
  t = window.totals(clock.now + 5s - 1ns);
  EXPECT_EQ(t.requests, 2u);
  t = window.totals(clock.now + 5s);
  EXPECT_EQ(t.requests, 1u);
  EXPECT_EQ(t.failures, 0u);
  EXPECT_EQ(t.latency_samples, 0u);
  EXPECT_EQ(t.p50, config::Millis{0});
  // A slice reused 10 s later starts from zero.
  clock.advance(10s);
  window.record(clock.now, false, std::nullopt);
  t = window.totals(clock.now);
  EXPECT_EQ(t.requests, 1u);
  EXPECT_EQ(t.failures, 0u);
}

TEST(OutcomeWindow, ReadsPercentilesWithinBucketPrecision) {
  Clock clock;
  OutcomeWindow window(60s);
  // 1..100 ms: the 50th sample is 50 ms, the 95th 95 ms.
  for (int ms = 1; ms <= 100; ++ms) window.record(clock.now, false, config::Millis{ms});
  const auto t = window.totals(clock.now);
  EXPECT_EQ(t.latency_samples, 100u);
  EXPECT_NEAR(static_cast<double>(t.p50.count()), 50.0, 50 * 0.05 + 0.5);
  EXPECT_NEAR(static_cast<double>(t.p95.count()), 95.0, 95 * 0.05 + 0.5);
  EXPECT_LT(t.p50, t.p95);
}

TEST(OutcomeWindow, ReadsPercentilesOfSkewedSamples) {
  Clock clock;
  OutcomeWindow window(60s);
  // 90 fast answers and 10 of 20 seconds: the median is fast, the p95 slow.
  for (int i = 0; i < 90; ++i) window.record(clock.now, false, config::Millis{200});
  for (int i = 0; i < 10; ++i) window.record(clock.now, false, config::Millis{20'000});
  const auto t = window.totals(clock.now);
  EXPECT_NEAR(static_cast<double>(t.p50.count()), 200.0, 200 * 0.05);
  EXPECT_NEAR(static_cast<double>(t.p95.count()), 20'000.0, 20'000 * 0.05);
  // Sub-millisecond answers land in the first bucket and read back as 0.
  OutcomeWindow fast(60s);
  fast.record(clock.now, false, config::Millis{0});
  EXPECT_EQ(fast.totals(clock.now).p50, config::Millis{0});
  EXPECT_EQ(fast.totals(clock.now).latency_samples, 1u);
}

TEST(OutcomeWindow, ClearForgetsEverything) {
  Clock clock;
  OutcomeWindow window(10s);
  for (int i = 0; i < 5; ++i) window.record(clock.now, true, 10ms);
  window.clear();
  const auto t = window.totals(clock.now);
  EXPECT_EQ(t.requests, 0u);
  EXPECT_EQ(t.latency_samples, 0u);
  window.record(clock.now, false, std::nullopt);
  EXPECT_EQ(window.totals(clock.now).requests, 1u);
}

TEST(TargetHealth, CountsEveryOutcomeRecordedFromSeveralThreads) {
  Clock clock;
  auto p = policy();
  p.min_requests = 1'000'000;  // keep it closed: this is about counting
  TargetHealth health(p);
  constexpr int kThreads = 4, kEach = 20'000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        health.started();
        health.record(clock.now, Admission::allowed, (i + t) % 4 == 0, config::Millis{10});
        health.finished();
      }
    });
  }
  for (auto& th : threads) th.join();
  const auto s = health.snapshot(clock.now);
  EXPECT_EQ(s.window.requests, std::uint64_t{kThreads} * kEach);
  EXPECT_EQ(s.window.failures, std::uint64_t{kThreads} * kEach / 4);
  EXPECT_EQ(s.window.latency_samples, std::uint64_t{kThreads} * kEach);
  EXPECT_EQ(s.in_flight, 0);
  EXPECT_EQ(s.state, BreakerState::closed);
}

TEST(TargetHealth, TracksRequestsInFlight) {
  Clock clock;
  TargetHealth health(policy());
  health.started();
  health.started();
  health.finished();
  EXPECT_EQ(health.snapshot(clock.now).in_flight, 1);
}

TEST(TargetHealth, KeepsAnExponentialMeanOfTimeToFirstByteWithoutTheWindow) {
  Clock clock;
  TargetHealth health(policy());
  health.record(clock.now, Admission::allowed, false, 100ms);
  auto s = health.snapshot(clock.now, /*with_window=*/false);
  EXPECT_EQ(s.ttfb_ewma, 100ms);  // the first sample is the mean
  EXPECT_EQ(s.ttfb_samples, 1u);
  EXPECT_EQ(s.window.requests, 0u);  // not summed when not asked for
  health.record(clock.now, Admission::allowed, false, 200ms);
  s = health.snapshot(clock.now);
  EXPECT_EQ(s.ttfb_ewma, 120ms);  // each new sample weighs 1/5
  EXPECT_EQ(s.ttfb_samples, 2u);
  EXPECT_EQ(s.window.requests, 2u);
  // Failures carry no time to first byte and leave the mean alone.
  health.record(clock.now, Admission::allowed, true, std::nullopt);
  EXPECT_EQ(health.snapshot(clock.now, false).ttfb_ewma, 120ms);
}

}  // namespace
}  // namespace switchyard::dispatch
