// The resilience settings of the config file: the `resilience:` section, a provider's
// `health_check:` and a route's strategy, weights, retry, deadline and hedge — what they turn
// into, and the exact "file:line:col: message" for each value out of range.
#include <gtest/gtest.h>

#include "config_messages.hpp"

#include <map>
#include <string>
#include <vector>

#include "switchyard/config/config.hpp"

namespace switchyard::config {
namespace {

using namespace std::chrono_literals;

// Three models on one provider, to which each test adds what it is about (from line 7 on).
constexpr std::string_view kCatalog = R"(providers:
  p: { type: openai, base_url: https://api.example.com }
models:
  a: { provider: p }
  b: { provider: p }
  c: { provider: p }
)";

Config load_valid(std::string_view extra) {
  const LoadResult result = load_yaml(std::string(kCatalog) + std::string(extra));
  EXPECT_TRUE(result.errors.empty()) << joined(result);
  return result.config.value_or(Config{});
}

TEST(ConfigResilience, UsesTheDefaultsWhenNothingIsSet) {
  const Config config = load_valid("routes:\n  r: { targets: [a, b] }\n");
  const Resilience& resilience = config.resilience;
  EXPECT_EQ(resilience.deadline, 600s);
  EXPECT_EQ(resilience.retry.attempts, 2u);
  EXPECT_EQ(resilience.retry.backoff_base, 250ms);
  EXPECT_EQ(resilience.retry.backoff_cap, 8s);
  EXPECT_EQ(resilience.retry.max_retry_after, 30s);
  EXPECT_EQ(resilience.breaker.window, 30s);
  EXPECT_EQ(resilience.breaker.min_requests, 10u);
  EXPECT_DOUBLE_EQ(resilience.breaker.error_rate, 0.5);
  EXPECT_EQ(resilience.breaker.consecutive_failures, 5u);
  EXPECT_EQ(resilience.breaker.cooldown, 30s);
  EXPECT_EQ(resilience.breaker.half_open_probes, 1u);
  EXPECT_DOUBLE_EQ(resilience.explore, 0.05);

  EXPECT_FALSE(config.providers[0].health_check.enabled);

  const Route& route = config.routes[0];
  EXPECT_EQ(route.strategy, Strategy::ordered);
  EXPECT_EQ(route.weights, (std::vector<double>{1, 1}));
  EXPECT_EQ(route.retry.attempts, 2u);
  EXPECT_EQ(route.retry.backoff_base, 250ms);
  EXPECT_EQ(route.deadline, 600s);
  EXPECT_FALSE(route.hedge.enabled);
}

TEST(ConfigResilience, ReadsEveryKeyOfTheResilienceSection) {
  const Config config = load_valid(R"(resilience:
  deadline: 2m
  retry: { attempts: 4, backoff_base: 100ms, backoff_cap: 2s, max_retry_after: 0s }
  breaker:
    window: 1m
    min_requests: 20
    error_rate: 1
    consecutive_failures: 0
    cooldown: 5s
    half_open_probes: 3
  explore: 0
)");
  const Resilience& resilience = config.resilience;
  EXPECT_EQ(resilience.deadline, 120s);
  EXPECT_EQ(resilience.retry.attempts, 4u);
  EXPECT_EQ(resilience.retry.backoff_base, 100ms);
  EXPECT_EQ(resilience.retry.backoff_cap, 2s);
  EXPECT_EQ(resilience.retry.max_retry_after, 0ms);
  EXPECT_EQ(resilience.breaker.window, 60s);
  EXPECT_EQ(resilience.breaker.min_requests, 20u);
  EXPECT_DOUBLE_EQ(resilience.breaker.error_rate, 1.0);
  EXPECT_EQ(resilience.breaker.consecutive_failures, 0u);
  EXPECT_EQ(resilience.breaker.cooldown, 5s);
  EXPECT_EQ(resilience.breaker.half_open_probes, 3u);
  EXPECT_DOUBLE_EQ(resilience.explore, 0.0);
}

TEST(ConfigResilience, ReadsAHealthCheckAndEnablesAnEmptyOneWithTheDefaults) {
  const LoadResult result = load_yaml(R"(providers:
  p:
    type: openai
    base_url: https://api.example.com/v1
    health_check: { path: /health, interval: 5s, timeout: 500ms, expect_status: 204, failures: 3 }
  q:
    type: anthropic
    base_url: https://api.example.com
    health_check: {}
  r:
    type: openai
    base_url: https://api.example.com/v1
    health_check:
models:
  m: { provider: p }
)");
  ASSERT_TRUE(result.config.has_value()) << joined(result);
  const HealthCheck& set = result.config->providers[0].health_check;
  EXPECT_TRUE(set.enabled);
  EXPECT_EQ(set.path, "/health");
  EXPECT_EQ(set.interval, 5s);
  EXPECT_EQ(set.timeout, 500ms);
  EXPECT_EQ(set.expect_status, 204);
  EXPECT_EQ(set.failures_to_unhealthy, 3u);
  for (std::size_t i : {1u, 2u}) {
    const HealthCheck& defaults = result.config->providers[i].health_check;
    EXPECT_TRUE(defaults.enabled) << i;
    EXPECT_EQ(defaults.path, "/models") << i;
    EXPECT_EQ(defaults.interval, 10s) << i;
    EXPECT_EQ(defaults.timeout, 2s) << i;
    EXPECT_EQ(defaults.expect_status, 200) << i;
    EXPECT_EQ(defaults.failures_to_unhealthy, 2u) << i;
  }
}

TEST(ConfigResilience, MergesARoutesRetryOverTheResilienceDefaultsWhicheverSectionComesFirst) {
  // The routes come first in the file; resilience is still what they start from.
  const Config config = load_valid(R"(routes:
  partial: { targets: [a], retry: { attempts: 3 } }
  full:
    targets: [b]
    retry: { attempts: 1, backoff_base: 1s, backoff_cap: 1s, max_retry_after: 2s }
    deadline: 30s
  plain: { targets: [c] }
resilience:
  deadline: 90s
  retry: { attempts: 5, backoff_base: 50ms, backoff_cap: 400ms, max_retry_after: 10s }
)");
  const Route& partial = *config.find_route("partial");
  EXPECT_EQ(partial.retry.attempts, 3u);
  EXPECT_EQ(partial.retry.backoff_base, 50ms);
  EXPECT_EQ(partial.retry.backoff_cap, 400ms);
  EXPECT_EQ(partial.retry.max_retry_after, 10s);
  EXPECT_EQ(partial.deadline, 90s);

  const Route& full = *config.find_route("full");
  EXPECT_EQ(full.retry.attempts, 1u);
  EXPECT_EQ(full.retry.backoff_base, 1s);
  EXPECT_EQ(full.retry.backoff_cap, 1s);
  EXPECT_EQ(full.retry.max_retry_after, 2s);
  EXPECT_EQ(full.deadline, 30s);

  const Route& plain = *config.find_route("plain");
  EXPECT_EQ(plain.retry.attempts, 5u);
  EXPECT_EQ(plain.deadline, 90s);
}

TEST(ConfigResilience, ReadsStrategiesAndAlignsWeightsWithTheTargets) {
  const Config config = load_valid(R"(routes:
  weighted:
    targets: [a, b, c]
    weights: { c: 0.5, a: 3 }
    strategy: weighted
  even: { targets: [a, b], strategy: weighted }
  fastest: { targets: [a, b], strategy: lowest_latency }
  idlest: { targets: [a, b], strategy: least_busy }
  ordered: { targets: [b, a], strategy: ordered }
)");
  const Route& weighted = *config.find_route("weighted");
  EXPECT_EQ(weighted.strategy, Strategy::weighted);
  EXPECT_EQ(weighted.weights, (std::vector<double>{3, 1, 0.5}));
  EXPECT_EQ(config.find_route("even")->weights, (std::vector<double>{1, 1}));
  EXPECT_EQ(config.find_route("fastest")->strategy, Strategy::lowest_latency);
  EXPECT_EQ(config.find_route("idlest")->strategy, Strategy::least_busy);
  EXPECT_EQ(config.find_route("ordered")->strategy, Strategy::ordered);
}

TEST(ConfigResilience, ReadsAFixedAndAnAdaptiveHedge) {
  const Config config = load_valid(R"(routes:
  fixed: { targets: [a, b], hedge: { after: 300ms } }
  adaptive: { targets: [a, b], hedge: { after: p95, initial: 2s } }
  adaptive_default: { targets: [a, b], hedge: { after: p95 } }
)");
  const Hedge& fixed = config.find_route("fixed")->hedge;
  EXPECT_TRUE(fixed.enabled);
  EXPECT_FALSE(fixed.adaptive);
  EXPECT_EQ(fixed.after, 300ms);
  const Hedge& adaptive = config.find_route("adaptive")->hedge;
  EXPECT_TRUE(adaptive.enabled);
  EXPECT_TRUE(adaptive.adaptive);
  EXPECT_EQ(adaptive.after, 2s);
  const Hedge& adaptive_default = config.find_route("adaptive_default")->hedge;
  EXPECT_TRUE(adaptive_default.enabled);
  EXPECT_TRUE(adaptive_default.adaptive);
  EXPECT_EQ(adaptive_default.after, 1s);
}

// --- Mistakes ----------------------------------------------------------------------------------

TEST(ConfigResilience, ReportsEachResilienceValueOutOfRange) {
  const LoadResult result = load_yaml(std::string(kCatalog) + R"(resilience:
  deadline: 0s
  retry: { attempts: 0, backoff_base: 0ms, max_retry_after: -1s }
  breaker:
    window: 0s
    min_requests: 0
    error_rate: 0
    consecutive_failures: -1
    cooldown: 0s
    half_open_probes: 101
  explore: 1.5
  colour: red
)");
  EXPECT_EQ(printed(result),
            (std::vector<std::string>{
                "test.yaml:8:13: resilience.deadline: expected a duration greater than 0, got "
                "'0s'",
                "test.yaml:9:22: resilience.retry.attempts: expected an integer 1..10, got '0'",
                "test.yaml:9:39: resilience.retry.backoff_base: expected a duration greater than "
                "0, got '0ms'",
                "test.yaml:9:61: resilience.retry.max_retry_after: expected a duration like "
                "250ms, 2s, 1m or 1h, got '-1s'",
                "test.yaml:11:13: resilience.breaker.window: expected a duration greater than 0, "
                "got '0s'",
                "test.yaml:12:19: resilience.breaker.min_requests: expected an integer "
                "1..1000000, got '0'",
                "test.yaml:13:17: resilience.breaker.error_rate: expected a number greater than 0 "
                "and at most 1, got '0'",
                "test.yaml:14:27: resilience.breaker.consecutive_failures: expected an integer "
                "0..1000000, got '-1'",
                "test.yaml:15:15: resilience.breaker.cooldown: expected a duration greater than "
                "0, got '0s'",
                "test.yaml:16:23: resilience.breaker.half_open_probes: expected an integer "
                "1..100, got '101'",
                "test.yaml:17:12: resilience.explore: expected a number from 0 to 1, got '1.5'",
                "test.yaml:18:3: unknown key 'colour' in resilience (expected one of: deadline, "
                "retry, breaker, explore)",
            }));
}

TEST(ConfigResilience, ReportsABackoffCapBelowItsBaseAtTheCapOrWhereverTheRouteSetsOne) {
  const LoadResult result = load_yaml(std::string(kCatalog) + R"(resilience:
  retry: { backoff_base: 2s, backoff_cap: 500ms }
routes:
  base: { targets: [a], retry: { backoff_base: 10s } }
  cap: { targets: [b], retry: { backoff_cap: 100ms } }
  attempts: { targets: [c], retry: { attempts: 11 } }
)");
  EXPECT_EQ(printed(result),
            (std::vector<std::string>{
                "test.yaml:8:43: resilience.retry.backoff_cap: 500ms is shorter than "
                "backoff_base (2s)",
                "test.yaml:10:48: routes.base.retry.backoff_base: 10s is longer than "
                "backoff_cap (500ms, from resilience.retry)",
                "test.yaml:11:46: routes.cap.retry.backoff_cap: 100ms is shorter than "
                "backoff_base (2s, from resilience.retry)",
                "test.yaml:12:48: routes.attempts.retry.attempts: expected an integer 1..10, got "
                "'11'",
            }));

  const LoadResult defaults = load_yaml(std::string(kCatalog) + R"(resilience:
  retry: { backoff_base: 9s }
)");
  EXPECT_EQ(printed(defaults),
            std::vector<std::string>{"test.yaml:8:26: resilience.retry.backoff_base: 9s is longer "
                                     "than backoff_cap (8s, the default)"});
}

TEST(ConfigResilience, ReportsEachHealthCheckValueOutOfRange) {
  const LoadResult result = load_yaml(R"(providers:
  p:
    type: openai
    base_url: https://api.example.com
    health_check:
      path: models
      interval: 0s
      timeout: 0s
      expect_status: 600
      failures: 0
      method: HEAD
  q:
    type: openai
    base_url: https://api.example.com
    health_check: { interval: 5s, timeout: 5s }
  r:
    type: openai
    base_url: https://api.example.com
    health_check: { interval: 1s }
  s:
    type: openai
    base_url: https://api.example.com
    health_check: { timeout: 1m, expect_status: 99 }
  t: { type: openai, base_url: https://api.example.com, health_check: [] }
models:
  m: { provider: p }
)");
  EXPECT_EQ(printed(result),
            (std::vector<std::string>{
                "test.yaml:6:13: providers.p.health_check.path: expected a path starting with "
                "'/', got 'models'",
                "test.yaml:7:17: providers.p.health_check.interval: expected a duration greater "
                "than 0, got '0s'",
                "test.yaml:8:16: providers.p.health_check.timeout: expected a duration greater "
                "than 0, got '0s'",
                "test.yaml:9:22: providers.p.health_check.expect_status: expected an integer "
                "100..599, got '600'",
                "test.yaml:10:17: providers.p.health_check.failures: expected an integer 1..100, "
                "got '0'",
                "test.yaml:11:7: unknown key 'method' in providers.p.health_check (expected one "
                "of: path, interval, timeout, expect_status, failures)",
                "test.yaml:15:44: providers.q.health_check.timeout: 5s is not shorter than "
                "interval (5s)",
                "test.yaml:19:31: providers.r.health_check.interval: 1s is not longer than "
                "timeout (2s, the default)",
                "test.yaml:23:30: providers.s.health_check.timeout: 60s is not shorter than "
                "interval (10s, the default)",
                "test.yaml:23:49: providers.s.health_check.expect_status: expected an integer "
                "100..599, got '99'",
                "test.yaml:24:71: providers.t.health_check: expected a mapping, got a list",
            }));
}

TEST(ConfigResilience, ReportsWeightsWithoutTheWeightedStrategyOrForAnotherTarget) {
  const LoadResult result = load_yaml(std::string(kCatalog) + R"(routes:
  unordered: { targets: [a, b], weights: { a: 2 } }
  fastest: { targets: [a, b], strategy: lowest_latency, weights: { a: 2 } }
  stranger:
    targets: [a, b]
    strategy: weighted
    weights: { a: 2, c: 1, b: -1 }
  zero: { targets: [a, b], strategy: weighted, weights: { a: 0, b: 0 } }
  some_zero: { targets: [a, b], strategy: weighted, weights: { a: 0 } }
  typo: { targets: [a], strategy: fastest }
)");
  EXPECT_EQ(printed(result),
            (std::vector<std::string>{
                "test.yaml:8:33: routes.unordered.weights: only with strategy weighted",
                "test.yaml:9:57: routes.fastest.weights: only with strategy weighted",
                "test.yaml:13:22: routes.stranger.weights: unknown target 'c' (the route's "
                "targets are a, b)",
                "test.yaml:13:31: routes.stranger.weights.b: expected a number >= 0, got '-1'",
                "test.yaml:14:57: routes.zero.weights: at least one target needs a weight above "
                "0",
                "test.yaml:16:35: routes.typo.strategy: expected one of ordered, weighted, "
                "lowest_latency, least_busy, got 'fastest'",
            }));
}

TEST(ConfigResilience, ReportsHedgeAndDeadlineMistakes) {
  const LoadResult result = load_yaml(std::string(kCatalog) + R"(routes:
  zero: { targets: [a, b], hedge: { after: 0ms }, deadline: 0s }
  word: { targets: [a, b], hedge: { after: soon } }
  fixed: { targets: [a, b], hedge: { after: 1s, initial: 2s } }
  empty: { targets: [a, b], hedge: {} }
  initial: { targets: [a, b], hedge: { after: p95, initial: 0s } }
)");
  EXPECT_EQ(printed(result),
            (std::vector<std::string>{
                "test.yaml:8:44: routes.zero.hedge.after: expected p95 or a duration greater "
                "than 0, got '0ms'",
                "test.yaml:8:61: routes.zero.deadline: expected a duration greater than 0, got "
                "'0s'",
                "test.yaml:9:44: routes.word.hedge.after: expected p95 or a duration like 250ms, "
                "2s, 1m or 1h, got 'soon'",
                "test.yaml:10:49: routes.fixed.hedge.initial: only with after: p95",
                "test.yaml:11:36: routes.empty.hedge: missing required key 'after'",
                "test.yaml:12:61: routes.initial.hedge.initial: expected a duration greater than "
                "0, got '0s'",
            }));
}

TEST(ConfigResilience, StillReadsARoutesOtherKeysWhenItsTargetsAreWrong) {
  const LoadResult result = load_yaml(std::string(kCatalog) + R"(routes:
  r: { targets: [], strategy: weighted, weights: { a: -1 }, deadline: 0s }
)");
  EXPECT_EQ(printed(result),
            (std::vector<std::string>{
                "test.yaml:8:17: routes.r.targets: expected a non-empty list of model aliases, "
                "got an empty list",
                "test.yaml:8:55: routes.r.weights.a: expected a number >= 0, got '-1'",
                "test.yaml:8:71: routes.r.deadline: expected a duration greater than 0, got '0s'",
            }));
}

}  // namespace
}  // namespace switchyard::config
