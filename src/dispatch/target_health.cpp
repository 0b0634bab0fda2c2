#include "switchyard/dispatch/target_health.hpp"

#include <algorithm>
#include <cmath>

namespace switchyard::dispatch {

namespace {

// A slice whose counters are being zeroed. Writers that meet it drop their sample rather than
// wait: a rollover happens once per slice length, and losing one sample then is within the
// "off by one request" the header promises, where waiting would be a lock.
constexpr std::int64_t kResetting = -2;
// A slice never written since construction or clear(): already zero, so no reset is needed.
constexpr std::int64_t kUnused = -1;

// Buckets are 10% wide: bucket 0 holds latencies under 1 ms, bucket i ≥ 1 holds
// [1.1^(i-1), 1.1^i) ms, and the last one everything from 1.1^126 ms (about 2.7 minutes) on.
constexpr double kBucketRatio = 1.1;
const double kLogRatio = std::log(kBucketRatio);

std::size_t bucket_of(config::Millis latency) {
  if (latency.count() < 1) return 0;
  const double i = 1.0 + std::floor(std::log(static_cast<double>(latency.count())) / kLogRatio);
  return std::min(static_cast<std::size_t>(i), OutcomeWindow::kBuckets - 1);
}

// A bucket's geometric middle, so the value read back is within ±5% of any sample in it.
config::Millis bucket_value(std::size_t bucket) {
  if (bucket == 0) return config::Millis{0};
  return config::Millis{std::llround(std::pow(kBucketRatio, static_cast<double>(bucket) - 0.5))};
}

std::int64_t ns_of(SteadyTime t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

SteadyTime time_of(std::int64_t ns) {
  return SteadyTime{std::chrono::duration_cast<SteadyTime::duration>(std::chrono::nanoseconds{ns})};
}

BreakerState state_of(int raw) {
  return static_cast<BreakerState>(raw);
}
constexpr int raw(BreakerState state) {
  return static_cast<int>(state);
}

}  // namespace

std::string_view to_string(BreakerState state) {
  switch (state) {
    case BreakerState::closed:
      return "closed";
    case BreakerState::open:
      return "open";
    case BreakerState::half_open:
      return "half_open";
  }
  return "unknown";
}

// ---- OutcomeWindow -------------------------------------------------------------------------

OutcomeWindow::OutcomeWindow(config::Millis window)
    : slice_ns_(std::max<std::int64_t>(
          1, std::chrono::duration_cast<std::chrono::nanoseconds>(window).count() /
                 static_cast<std::int64_t>(kSlices))) {}

std::int64_t OutcomeWindow::epoch_of(SteadyTime now) const {
  const std::int64_t ns = ns_of(now);
  // Floor division: a fake clock may sit before the epoch, and -1/-2 are reserved for slices.
  const std::int64_t epoch = ns / slice_ns_ - (ns % slice_ns_ < 0 ? 1 : 0);
  return std::max<std::int64_t>(epoch, 0);
}

void OutcomeWindow::record(SteadyTime now, bool failed, std::optional<config::Millis> ttfb) {
  const std::int64_t epoch = epoch_of(now);
  Slice& slice = slices_[static_cast<std::size_t>(epoch) % kSlices];
  std::int64_t held = slice.epoch.load(std::memory_order_acquire);
  while (held != epoch) {
    // Older than what the slice holds (a writer that stalled past a rollover), or another
    // writer is zeroing it: the sample is dropped.
    if (held > epoch || held == kResetting) return;
    if (held == kUnused) {
      if (slice.epoch.compare_exchange_weak(held, epoch, std::memory_order_acq_rel)) break;
      continue;
    }
    // Stale: exactly one writer wins the right to zero it; the others see kResetting.
    if (slice.epoch.compare_exchange_weak(held, kResetting, std::memory_order_acq_rel)) {
      slice.requests.store(0, std::memory_order_relaxed);
      slice.failures.store(0, std::memory_order_relaxed);
      for (auto& bucket : slice.latency) bucket.store(0, std::memory_order_relaxed);
      slice.epoch.store(epoch, std::memory_order_release);
      break;
    }
  }
  slice.requests.fetch_add(1, std::memory_order_relaxed);
  if (failed) slice.failures.fetch_add(1, std::memory_order_relaxed);
  if (ttfb) slice.latency[bucket_of(*ttfb)].fetch_add(1, std::memory_order_relaxed);
}

OutcomeWindow::Totals OutcomeWindow::totals(SteadyTime now) const {
  const std::int64_t newest = epoch_of(now);
  const std::int64_t oldest = newest - static_cast<std::int64_t>(kSlices) + 1;
  Totals totals;
  std::array<std::uint64_t, kBuckets> latency{};
  for (const Slice& slice : slices_) {
    const std::int64_t epoch = slice.epoch.load(std::memory_order_acquire);
    if (epoch < oldest || epoch > newest) continue;  // also skips kUnused and kResetting
    totals.requests += slice.requests.load(std::memory_order_relaxed);
    totals.failures += slice.failures.load(std::memory_order_relaxed);
    for (std::size_t b = 0; b < kBuckets; ++b)
      latency[b] += slice.latency[b].load(std::memory_order_relaxed);
  }
  // A reader racing a writer may see a failure before its request; keep the rate ≤ 1.
  totals.failures = std::min(totals.failures, totals.requests);
  for (const std::uint64_t n : latency) totals.latency_samples += n;
  if (totals.latency_samples == 0) return totals;

  // Nearest rank: the sample at position ceil(q·n), counted from 1.
  const auto percentile = [&](double q) {
    const auto position = std::max<std::uint64_t>(
        1, static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(totals.latency_samples))));
    std::uint64_t seen = 0;
    for (std::size_t b = 0; b < kBuckets; ++b) {
      seen += latency[b];
      if (seen >= position) return bucket_value(b);
    }
    return bucket_value(kBuckets - 1);
  };
  totals.p50 = percentile(0.50);
  totals.p95 = percentile(0.95);
  return totals;
}

void OutcomeWindow::clear() {
  for (Slice& slice : slices_) {
    // Writers meeting kResetting drop their sample; whatever lands during the zeroing is a
    // sample recorded as the breaker closed, and may count either way.
    slice.epoch.store(kResetting, std::memory_order_release);
    slice.requests.store(0, std::memory_order_relaxed);
    slice.failures.store(0, std::memory_order_relaxed);
    for (auto& bucket : slice.latency) bucket.store(0, std::memory_order_relaxed);
    slice.epoch.store(kUnused, std::memory_order_release);
  }
}

// ---- TargetHealth --------------------------------------------------------------------------
//
// State transitions race: several workers may record failures, or find the cooldown over, at
// the same moment. The rule: a transition's times are stored first, then the state is moved
// with a compare-exchange from the state the thread saw, so only one thread makes each
// transition and a reader that sees the new state (acquire) also sees its times. A loser's
// time stores are harmless: a closed breaker ignores them, an open one was opened at the same
// moment by the winner.

TargetHealth::TargetHealth(const config::BreakerPolicy& policy)
    : policy_(policy), window_(policy.window) {}

TargetHealth::Admission TargetHealth::admit(SteadyTime now, bool force) {
  for (;;) {
    int state = state_.load(std::memory_order_acquire);
    switch (state_of(state)) {
      case BreakerState::closed:
        return Admission::allowed;

      case BreakerState::open:
        if (ns_of(now) >= open_until_ns_.load(std::memory_order_acquire)) {
          // Cooldown over: one thread moves it to half-open, then everyone (this thread too)
          // competes for probe slots below.
          state_.compare_exchange_strong(state, raw(BreakerState::half_open),
                                         std::memory_order_acq_rel);
          continue;
        }
        if (!force) return Admission::refused;
        // Every target is open and this one was opened longest ago: a probe, beyond the limit,
        // whose outcome decides as any probe's would.
        probes_.fetch_add(1, std::memory_order_acq_rel);
        return Admission::probe;

      case BreakerState::half_open: {
        const std::uint32_t before = probes_.fetch_add(1, std::memory_order_acq_rel);
        if (force || before < policy_.half_open_probes) return Admission::probe;
        probes_.fetch_sub(1, std::memory_order_acq_rel);
        return Admission::refused;
      }
    }
    return Admission::refused;
  }
}

void TargetHealth::release(Admission admission) {
  if (admission != Admission::probe) return;
  // Saturating: never below zero, even for a release nobody's admit matched.
  std::uint32_t probes = probes_.load(std::memory_order_acquire);
  while (probes > 0 &&
         !probes_.compare_exchange_weak(probes, probes - 1, std::memory_order_acq_rel)) {
  }
}

void TargetHealth::record(SteadyTime now, Admission admission, bool failed,
                          std::optional<config::Millis> ttfb) {
  release(admission);
  if (ttfb) note_ttfb(*ttfb);
  int state = state_.load(std::memory_order_acquire);

  if (admission == Admission::probe && state != raw(BreakerState::closed)) {
    if (!failed) {
      // The target answers again: forget the failures that opened it, or the old window
      // would open it again on the next failure.
      if (state_.compare_exchange_strong(state, raw(BreakerState::closed),
                                         std::memory_order_acq_rel)) {
        window_.clear();
        consecutive_failures_.store(0, std::memory_order_relaxed);
        cooling_.store(false, std::memory_order_relaxed);
      }
      window_.record(now, false, ttfb);
      return;
    }
    window_.record(now, true, ttfb);
    consecutive_failures_.fetch_add(1, std::memory_order_relaxed);
    last_failure_ns_.store(now.time_since_epoch().count(), std::memory_order_relaxed);
    // Still unwell: another full cooldown. From open (a forced probe) the state stays open,
    // but the times move, so the next forced try goes to another target.
    open(now, now + policy_.cooldown, false, state);
    return;
  }

  window_.record(now, failed, ttfb);
  if (!failed) {
    // Read first: every worker's successes would otherwise write this shared line.
    if (consecutive_failures_.load(std::memory_order_relaxed) != 0)
      consecutive_failures_.store(0, std::memory_order_relaxed);
    return;
  }
  const std::uint32_t run = consecutive_failures_.fetch_add(1, std::memory_order_relaxed) + 1;
  last_failure_ns_.store(now.time_since_epoch().count(), std::memory_order_relaxed);
  // Only a closed breaker opens on statistics; an open one already refuses, and a half-open
  // one is decided by its probes, not by attempts admitted before it opened.
  if (state != raw(BreakerState::closed)) return;
  bool trip = policy_.consecutive_failures > 0 && run >= policy_.consecutive_failures;
  if (!trip) {
    const auto totals = window_.totals(now);
    trip = totals.requests >= policy_.min_requests && totals.error_rate() >= policy_.error_rate;
  }
  if (trip) open(now, now + policy_.cooldown, false, state);
}

void TargetHealth::cool_down(SteadyTime now, SteadyTime until) {
  // A later time extends a pause already in force; an earlier one never shortens it.
  const int state = state_.load(std::memory_order_acquire);
  if (state == raw(BreakerState::open)) until = std::max(until, time_of(open_until_ns_.load()));
  opened_at_ns_.store(ns_of(now), std::memory_order_relaxed);
  open_until_ns_.store(ns_of(until), std::memory_order_release);
  cooling_.store(true, std::memory_order_release);
  // Unconditional: whatever the breaker thought, the upstream said to stop.
  state_.store(raw(BreakerState::open), std::memory_order_release);
}

void TargetHealth::open(SteadyTime now, SteadyTime until, bool cooling, int from) {
  opened_at_ns_.store(ns_of(now), std::memory_order_relaxed);
  open_until_ns_.store(ns_of(until), std::memory_order_release);
  cooling_.store(cooling, std::memory_order_release);
  // Already open (a forced probe failed): the new times were all there was to do. Otherwise
  // only from the state this thread saw; losing means another thread decided first.
  if (from != raw(BreakerState::open))
    state_.compare_exchange_strong(from, raw(BreakerState::open), std::memory_order_acq_rel);
}

void TargetHealth::note_ttfb(config::Millis ttfb) {
  const std::int64_t sample = std::chrono::duration_cast<std::chrono::microseconds>(ttfb).count();
  const bool first = ttfb_samples_.fetch_add(1, std::memory_order_relaxed) == 0;
  std::int64_t mean = ttfb_ewma_us_.load(std::memory_order_relaxed);
  // A lost race costs one sample's weight, never a torn value.
  while (!ttfb_ewma_us_.compare_exchange_weak(mean, first ? sample : mean + (sample - mean) / 5,
                                              std::memory_order_relaxed)) {
  }
}

TargetHealth::Snapshot TargetHealth::snapshot(SteadyTime now, bool with_window) const {
  Snapshot s;
  s.state = state_of(state_.load(std::memory_order_acquire));
  s.opened_at = time_of(opened_at_ns_.load(std::memory_order_acquire));
  s.open_until = time_of(open_until_ns_.load(std::memory_order_acquire));
  s.cooling = cooling_.load(std::memory_order_acquire);
  s.consecutive_failures = consecutive_failures_.load(std::memory_order_relaxed);
  s.run_expires = time_of(last_failure_ns_.load(std::memory_order_relaxed)) + policy_.cooldown;
  s.in_flight = in_flight_.load(std::memory_order_relaxed);
  s.ttfb_ewma = std::chrono::duration_cast<config::Millis>(
      std::chrono::microseconds(ttfb_ewma_us_.load(std::memory_order_relaxed)));
  s.ttfb_samples = ttfb_samples_.load(std::memory_order_relaxed);
  if (with_window) s.window = window_.totals(now);
  return s;
}

}  // namespace switchyard::dispatch
