// The `resilience:` section: how hard the gateway tries before it gives up on a request (the
// deadline, retries of one target, the circuit breaker of every target), and the parts of a
// route that refine it (`retry:`, `hedge:`).
#include <array>
#include <cstdint>

#include "sections.hpp"

namespace switchyard::config {
namespace {

constexpr std::array<std::string_view, 4> kResilienceKeys{"deadline", "retry", "breaker",
                                                          "explore"};
constexpr std::array<std::string_view, 4> kRetryKeys{"attempts", "backoff_base", "backoff_cap",
                                                     "max_retry_after"};
constexpr std::array<std::string_view, 6> kBreakerKeys{
    "window", "min_requests", "error_rate", "consecutive_failures", "cooldown", "half_open_probes",
};
constexpr std::array<std::string_view, 2> kHedgeKeys{"after", "initial"};

// Every attempt of one target costs the client time and the provider capacity; more than this
// is a typo, not a policy.
constexpr std::uint64_t kMaxAttempts = 10;
constexpr std::uint64_t kMaxHalfOpenProbes = 100;
// Counts of outcomes in one breaker window; a breaker waiting for more would never open.
constexpr std::uint64_t kMaxBreakerCount = 1'000'000;

// `hedge.after: p95` hedges at the target's observed 95th percentile time to first byte.
constexpr std::string_view kAdaptive = "p95";

void read_breaker(NodeReader& reader, const Entry& entry, BreakerPolicy& breaker) {
  const auto section = reader.section(entry, kBreakerKeys);
  if (!section) return;
  for (const Entry& e : section->entries) {
    if (e.key == "window") {
      assign(breaker.window, reader.duration(e, Zero::rejected));
    } else if (e.key == "min_requests") {
      assign(breaker.min_requests, reader.integer(e, 1, kMaxBreakerCount));
    } else if (e.key == "error_rate") {
      // Zero would open the breaker on a window without a single failure.
      assign(breaker.error_rate, reader.fraction(e, Zero::rejected));
    } else if (e.key == "consecutive_failures") {
      assign(breaker.consecutive_failures, reader.integer(e, 0, kMaxBreakerCount));
    } else if (e.key == "cooldown") {
      assign(breaker.cooldown, reader.duration(e, Zero::rejected));
    } else if (e.key == "half_open_probes") {
      assign(breaker.half_open_probes, reader.integer(e, 1, kMaxHalfOpenProbes));
    }
  }
}

}  // namespace

void read_retry(NodeReader& reader, const Entry& entry, RetryPolicy& retry,
                std::string_view inherited) {
  const auto section = reader.section(entry, kRetryKeys);
  if (!section) return;
  bool backoff_read = true;  // no problem with either backoff value on its own
  for (const Entry& e : section->entries) {
    if (e.key == "attempts") {
      assign(retry.attempts, reader.integer(e, 1, kMaxAttempts));
    } else if (e.key == "backoff_base" || e.key == "backoff_cap") {
      const auto backoff = reader.duration(e, Zero::rejected);
      backoff_read = backoff_read && backoff.has_value();
      assign(e.key == "backoff_base" ? retry.backoff_base : retry.backoff_cap, backoff);
    } else if (e.key == "max_retry_after") {
      // Zero is a policy: never wait for a Retry-After, always move on to the next target.
      assign(retry.max_retry_after, reader.duration(e, Zero::allowed));
    }
  }

  // The cap bounds the growing backoff; below the base it would bound nothing. Reported where
  // this mapping sets one of the two, at the cap when it sets both.
  const Entry* base = section->find("backoff_base");
  const Entry* cap = section->find("backoff_cap");
  if (!backoff_read || (!base && !cap) || retry.backoff_cap >= retry.backoff_base) return;
  if (cap) {
    reader.error(cap->value_position(), cap->path + ": " + show_duration(retry.backoff_cap) +
                                            " is shorter than backoff_base (" +
                                            show_duration(retry.backoff_base) +
                                            (base ? "" : ", " + std::string(inherited)) + ")");
  } else {
    reader.error(base->value_position(), base->path + ": " + show_duration(retry.backoff_base) +
                                             " is longer than backoff_cap (" +
                                             show_duration(retry.backoff_cap) + ", " +
                                             std::string(inherited) + ")");
  }
}

void read_hedge(NodeReader& reader, const Entry& entry, Hedge& hedge) {
  hedge.enabled = true;
  const auto section = reader.section(entry, kHedgeKeys);
  if (!section) return;
  if (!reader.require(*section, "after")) return;

  const Entry& after = *section->find("after");
  const auto text = reader.text(after);
  if (text && *text == kAdaptive) {
    hedge.adaptive = true;
  } else if (text) {
    const auto duration = parse_duration(*text);
    if (!duration) {
      reader.error(after.value_position(),
                   after.path + ": expected p95 or a duration like 250ms, 2s, 1m or 1h, got " +
                       quote(*text));
    } else if (duration->count() == 0) {
      reader.error(after.value_position(),
                   after.path + ": expected p95 or a duration greater than 0, got " + quote(*text));
    } else {
      hedge.after = *duration;
    }
  }

  // `initial` stands in for the p95 until the target has enough samples; a fixed delay needs none.
  if (const Entry* initial = section->find("initial")) {
    if (text && !hedge.adaptive) {
      reader.error(initial->key_position(), initial->path + ": only with after: p95");
    } else {
      assign(hedge.after, reader.duration(*initial, Zero::rejected));
    }
  }
}

void read_resilience(NodeReader& reader, const Entry& entry, Resilience& resilience) {
  const auto section = reader.section(entry, kResilienceKeys);
  if (!section) return;
  for (const Entry& e : section->entries) {
    if (e.key == "deadline") {
      assign(resilience.deadline, reader.duration(e, Zero::rejected));
    } else if (e.key == "retry") {
      read_retry(reader, e, resilience.retry, "the default");
    } else if (e.key == "breaker") {
      read_breaker(reader, e, resilience.breaker);
    } else if (e.key == "explore") {
      assign(resilience.explore, reader.fraction(e, Zero::allowed));
    }
  }
}

}  // namespace switchyard::config
