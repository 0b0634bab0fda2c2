// What one worker process knows about one target (a provider + model pair): a sliding window of
// outcomes and times to first byte, the circuit breaker driven by it, a cooldown an upstream
// asked for (429 + Retry-After), and the requests in flight. Shared by every worker thread, so
// it is all atomics: recording and reading never take a lock, and a reader may see a slice
// being rolled over (a statistic off by one request, never a broken state).
// Time is always passed in, which makes the state machine testable with a fake clock.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

#include "switchyard/config/config.hpp"

namespace switchyard::dispatch {

using SteadyTime = std::chrono::steady_clock::time_point;

enum class BreakerState { closed, open, half_open };
std::string_view to_string(BreakerState state);

// The sliding window: kSlices time slices covering `window`; a slice older than the window is
// reset by the first writer that lands in its place, so an outcome is forgotten between
// window - window/kSlices and window after it was recorded. Latencies go into a log-scale
// histogram (10% wide buckets from 1 ms to about 2.7 minutes, slower ones in the last) from
// which p50/p95 are read, each within half a bucket (±5%) of the true sample.
class OutcomeWindow {
 public:
  static constexpr std::size_t kSlices = 10;
  static constexpr std::size_t kBuckets = 128;

  explicit OutcomeWindow(config::Millis window);

  void record(SteadyTime now, bool failed, std::optional<config::Millis> ttfb);

  struct Totals {
    std::uint64_t requests = 0;
    std::uint64_t failures = 0;
    std::uint64_t latency_samples = 0;
    config::Millis p50{0};  // 0 when there are no samples
    config::Millis p95{0};
    double error_rate() const { return requests ? double(failures) / double(requests) : 0.0; }
  };
  Totals totals(SteadyTime now) const;

  // Forgets everything (a breaker that closes starts from a clean slate).
  void clear();

 private:
  struct Slice {
    std::atomic<std::int64_t> epoch{-1};  // which slice-length period of time it holds
    std::atomic<std::uint32_t> requests{0};
    std::atomic<std::uint32_t> failures{0};
    std::array<std::atomic<std::uint32_t>, kBuckets> latency{};
  };
  std::int64_t epoch_of(SteadyTime now) const;

  std::int64_t slice_ns_;
  std::array<Slice, kSlices> slices_;
};

class TargetHealth {
 public:
  explicit TargetHealth(const config::BreakerPolicy& policy);

  // Whether an attempt may start now. closed: allowed. open and cooling down: refused (unless
  // `force`: every target of the plan is open and this one was opened longest ago). open with
  // the cooldown over: becomes half-open, and up to half_open_probes attempts at a time are
  // admitted as probes; the rest are refused until a probe's outcome decides.
  enum class Admission { allowed, probe, refused };
  Admission admit(SteadyTime now, bool force = false);

  // An attempt's outcome. Failures are what says the target is unwell (retryable errors,
  // transport faults); a client's mistake or a refusal of the prompt is a success here. A probe
  // that succeeds closes the breaker (window and failure run cleared); one that fails reopens it
  // for another cooldown. In closed state, the breaker opens when the window holds at least
  // min_requests with error rate ≥ error_rate, or after consecutive_failures in a row. Frees
  // the attempt's probe slot as release() does: call one of the two, once.
  void record(SteadyTime now, Admission admission, bool failed, std::optional<config::Millis> ttfb);
  // The attempt ended without an outcome (the client went away): frees a probe slot.
  void release(Admission admission);

  // The upstream said "not before `until`" (429 + Retry-After): refused until then, like an
  // open breaker, without counting as opened by failures. A later time extends it.
  void cool_down(SteadyTime now, SteadyTime until);

  // Requests in flight on this target right now (for least_busy).
  void started() { in_flight_.fetch_add(1, std::memory_order_relaxed); }
  void finished() { in_flight_.fetch_sub(1, std::memory_order_relaxed); }

  struct Snapshot {
    BreakerState state = BreakerState::closed;
    SteadyTime opened_at{};   // last time it opened (or was cooled down)
    SteadyTime open_until{};  // while open: when it may be probed again
    bool cooling = false;     // open because an upstream asked for a pause, not by failures
    std::uint32_t consecutive_failures = 0;
    // A run of failures demotes the target until this (its last failure + the cooldown).
    SteadyTime run_expires{};
    std::int32_t in_flight = 0;
    // Exponentially weighted mean time to first byte (each new sample weighs 1/5) and how
    // many samples it has seen in all: what lowest_latency ranks by, at the cost of two loads.
    config::Millis ttfb_ewma{0};
    std::uint64_t ttfb_samples = 0;
    OutcomeWindow::Totals window;  // only when asked for: it sums every slice
  };
  Snapshot snapshot(SteadyTime now, bool with_window = true) const;

 private:
  // Opens from `from`, the state the caller saw; a no-op on the state if another thread moved it
  // first (the times are stored regardless, see target_health.cpp).
  void open(SteadyTime now, SteadyTime until, bool cooling, int from);

  const config::BreakerPolicy policy_;
  OutcomeWindow window_;
  std::atomic<int> state_{0};  // BreakerState
  std::atomic<std::int64_t> opened_at_ns_{0};
  std::atomic<std::int64_t> open_until_ns_{0};
  std::atomic<bool> cooling_{false};
  std::atomic<std::uint32_t> consecutive_failures_{0};
  std::atomic<std::uint32_t> probes_{0};  // probes in flight while half-open
  std::atomic<std::int32_t> in_flight_{0};
  void note_ttfb(config::Millis ttfb);

  std::atomic<std::int64_t> last_failure_ns_{0};
  std::atomic<std::int64_t> ttfb_ewma_us_{0};
  std::atomic<std::uint64_t> ttfb_samples_{0};
};

}  // namespace switchyard::dispatch
