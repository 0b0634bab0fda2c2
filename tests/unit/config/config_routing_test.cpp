// The routing settings of the config file: classifier routes (`complexity:`), budgets of routes
// and keys with their fallbacks, and the per-key and per-provider rate limits — what they turn
// into, and the exact "file:line:col: message" for each rule they break.
#include <gtest/gtest.h>

#include "config_messages.hpp"

#include <regex>
#include <string>
#include <vector>

#include "switchyard/config/config.hpp"

namespace switchyard::config {
namespace {

using namespace std::chrono_literals;

// Three models on one provider and a route over two of them, to which each test adds what it is
// about (from line 9 on).
constexpr std::string_view kCatalog = R"(providers:
  p: { type: openai, base_url: https://api.example.com }
models:
  a: { provider: p }
  b: { provider: p }
  judge: { provider: p }
routes:
  cheap: { targets: [a] }
)";

Config load_valid(std::string_view extra) {
  const LoadResult result = load_yaml(std::string(kCatalog) + std::string(extra));
  EXPECT_TRUE(result.errors.empty()) << joined(result);
  return result.config.value_or(Config{});
}

LoadResult load_routes(std::string_view extra) {
  return load_yaml(std::string(kCatalog) + std::string(extra));
}

const std::string kSha256(64, 'a');

// What this standard library says about a pattern, for messages that quote it.
std::string regex_error_of(const std::string& pattern) {
  try {
    const std::regex regex(pattern, std::regex::ECMAScript | std::regex::icase);
  } catch (const std::regex_error& e) {
    return e.what();
  }
  return "(compiles)";
}

TEST(ConfigRouting, ClassifierRouteReadsItsSignals) {
  const Config config = load_valid(R"(  smart: { targets: [b] }
  auto:
    complexity:
      simple: cheap
      complex: smart
      max_simple_tokens: 800
      signals:
        tools: false
        json_schema: true
        max_turns: 8
        images: true
        patterns: ["step by step", "prove"]
      classifier: { model: judge, timeout: 120ms, threshold: 0.7 }
)");
  const Route& route = *config.find_route("auto");
  ASSERT_TRUE(route.complexity.has_value());
  EXPECT_TRUE(route.targets.empty());
  EXPECT_FALSE(route.budget.capped());
  const Complexity& complexity = *route.complexity;
  EXPECT_EQ(complexity.simple, "cheap");
  EXPECT_EQ(complexity.complex, "smart");
  EXPECT_EQ(complexity.max_simple_tokens, 800u);
  EXPECT_FALSE(complexity.signals.tools);
  EXPECT_TRUE(complexity.signals.json_schema);
  EXPECT_EQ(complexity.signals.max_turns, 8u);
  EXPECT_TRUE(complexity.signals.images);
  EXPECT_EQ(complexity.signals.patterns, (std::vector<std::string>{"step by step", "prove"}));
  EXPECT_EQ(complexity.classifier.model, "judge");
  EXPECT_EQ(complexity.classifier.timeout, 120ms);
  EXPECT_DOUBLE_EQ(complexity.classifier.threshold, 0.7);

  EXPECT_FALSE(config.find_route("cheap")->complexity.has_value());
}

TEST(ConfigRouting, ClassifierRouteUsesTheDefaultsForWhatItDoesNotSet) {
  const Config config = load_valid(R"(  auto: { complexity: { simple: a, complex: b } }
  judged: { complexity: { simple: a, complex: b, signals: {}, classifier: { model: judge } } }
)");
  for (const char* name : {"auto", "judged"}) {
    const Complexity& complexity = config.find_route(name)->complexity.value();
    EXPECT_EQ(complexity.simple, "a") << name;
    EXPECT_EQ(complexity.complex, "b") << name;
    EXPECT_EQ(complexity.max_simple_tokens, 500u) << name;
    EXPECT_TRUE(complexity.signals.tools) << name;
    EXPECT_FALSE(complexity.signals.json_schema) << name;
    EXPECT_EQ(complexity.signals.max_turns, 0u) << name;
    EXPECT_FALSE(complexity.signals.images) << name;
    EXPECT_TRUE(complexity.signals.patterns.empty()) << name;
    EXPECT_EQ(complexity.classifier.timeout, 50ms) << name;
    EXPECT_DOUBLE_EQ(complexity.classifier.threshold, 0.5) << name;
  }
  EXPECT_EQ(config.find_route("auto")->complexity->classifier.model, "");
  EXPECT_EQ(config.find_route("judged")->complexity->classifier.model, "judge");
}

TEST(ConfigRouting, ReadsBudgetsOfRoutesAndKeysAndTheRateLimitsOfKeysAndProviders) {
  const LoadResult result = load_yaml(R"(providers:
  p:
    type: openai
    base_url: https://api.example.com
    rate_limit: { rpm: 5000, tpm: 2000000 }
  q: { type: openai, base_url: https://api.example.com, rate_limit: { rpm: 10 } }
models:
  a: { provider: p }
  b: { provider: q }
routes:
  smart:
    targets: [b]
    budget: { usd_per_day: 50, then: backup }
  backup:
    targets: [a, b]
    budget: { usd_per_minute: 0.5, usd_per_hour: 2, usd_per_day: 0, usd_per_month: 300, then: a }
  refused: { targets: [a], budget: { usd_per_hour: 1.25 } }
keys:
  team-a:
    sha256: )" + kSha256 + R"(
    routes: [smart]
    budget: { usd_per_month: 100 }
    rpm: 60
    tpm: 100000
  team-b: { sha256: )" + std::string(64, 'b') +
                                      R"( }
)");
  ASSERT_TRUE(result.config.has_value()) << joined(result);
  const Config& config = *result.config;

  EXPECT_EQ(config.providers[0].rpm, 5000u);
  EXPECT_EQ(config.providers[0].tpm, 2'000'000u);
  EXPECT_EQ(config.providers[1].rpm, 10u);
  EXPECT_EQ(config.providers[1].tpm, 0u);

  const Budget& smart = config.find_route("smart")->budget;
  EXPECT_TRUE(smart.capped());
  EXPECT_EQ(smart.usd, (std::array<double, kWindowCount>{0, 0, 50, 0}));
  EXPECT_EQ(smart.then, "backup");
  const Budget& backup = config.find_route("backup")->budget;
  EXPECT_EQ(backup.usd, (std::array<double, kWindowCount>{0.5, 2, 0, 300}));
  EXPECT_EQ(backup.then, "a");
  const Budget& refused = config.find_route("refused")->budget;
  EXPECT_EQ(refused.usd, (std::array<double, kWindowCount>{0, 1.25, 0, 0}));
  EXPECT_EQ(refused.then, "");

  const GatewayKey& team_a = config.keys[0];
  EXPECT_EQ(team_a.budget.usd, (std::array<double, kWindowCount>{0, 0, 0, 100}));
  EXPECT_EQ(team_a.budget.then, "");
  EXPECT_EQ(team_a.rpm, 60u);
  EXPECT_EQ(team_a.tpm, 100'000u);
  const GatewayKey& team_b = config.keys[1];
  EXPECT_FALSE(team_b.budget.capped());
  EXPECT_EQ(team_b.rpm, 0u);
  EXPECT_EQ(team_b.tpm, 0u);
}

TEST(ConfigRouting, NamesEachBudgetWindowAsTheConfigFileDoes) {
  EXPECT_EQ(budget_key(Window::minute), "usd_per_minute");
  EXPECT_EQ(budget_key(Window::hour), "usd_per_hour");
  EXPECT_EQ(budget_key(Window::day), "usd_per_day");
  EXPECT_EQ(budget_key(Window::month), "usd_per_month");
}

TEST(ConfigRouting, AcceptsFallbacksAndChoicesThatNameRoutesFurtherDown) {
  const Config config = load_valid(R"(  auto: { complexity: { simple: later, complex: b } }
  first: { targets: [a], budget: { usd_per_day: 1, then: later } }
  later: { targets: [b], budget: { usd_per_day: 2, then: cheap } }
)");
  EXPECT_EQ(config.find_route("auto")->complexity->simple, "later");
  EXPECT_EQ(config.find_route("first")->budget.then, "later");
}

// --- Mistakes ----------------------------------------------------------------------------------

TEST(ConfigRouting, ReportsARouteWithNeitherOrBothOfTargetsAndComplexity) {
  const LoadResult result = load_routes(R"(  neither: { strategy: ordered }
  both: { targets: [a], complexity: { simple: a, complex: b } }
  empty:
)");
  EXPECT_EQ(printed(result),
            (std::vector<std::string>{
                "test.yaml:9:12: routes.neither: expected targets or complexity",
                "test.yaml:10:25: routes.both: expected targets or complexity, not both (a "
                "classifier route has no targets of its own)",
                "test.yaml:11:3: routes.empty: expected targets or complexity",
            }));
}

TEST(ConfigRouting, ReportsWhatAClassifierRouteLeavesToTheRoutesItChoosesBetween) {
  const LoadResult result = load_routes(R"(  auto:
    complexity: { simple: a, complex: b }
    strategy: weighted
    weights: { a: 1 }
    retry: { attempts: 3 }
    deadline: 10s
    hedge: { after: 1s }
    budget: { usd_per_day: 5 }
)");
  EXPECT_EQ(printed(result),
            (std::vector<std::string>{
                "test.yaml:11:5: routes.auto.strategy: not for a classifier route (the routes it "
                "chooses between decide it)",
                "test.yaml:12:5: routes.auto.weights: not for a classifier route (the routes it "
                "chooses between decide it)",
                "test.yaml:13:5: routes.auto.retry: not for a classifier route (the routes it "
                "chooses between decide it)",
                "test.yaml:14:5: routes.auto.deadline: not for a classifier route (the routes it "
                "chooses between decide it)",
                "test.yaml:15:5: routes.auto.hedge: not for a classifier route (the routes it "
                "chooses between decide it)",
                "test.yaml:16:5: routes.auto.budget: not for a classifier route (put the budget "
                "on the routes it chooses between)",
            }));
}

TEST(ConfigRouting, ReportsSimpleAndComplexThatNameNothingARequestCanBeHandedTo) {
  const LoadResult result =
      load_routes(R"(  auto: { complexity: { simple: nowhere, complex: auto } }
  nested: { complexity: { simple: cheap, complex: auto } }
  missing: { complexity: { max_simple_tokens: 10 } }
)");
  EXPECT_EQ(printed(result),
            (std::vector<std::string>{
                "test.yaml:9:33: routes.auto.complexity.simple: unknown route or model 'nowhere'",
                "test.yaml:9:51: routes.auto.complexity.complex: 'auto' is the route itself",
                "test.yaml:10:51: routes.nested.complexity.complex: 'auto' is a classifier route; "
                "expected a route with targets or a model alias (classifier routes do not nest)",
                "test.yaml:11:26: routes.missing.complexity: missing required key 'simple'",
                "test.yaml:11:26: routes.missing.complexity: missing required key 'complex'",
            }));
}

TEST(ConfigRouting, ReportsEachComplexityValueOutOfRange) {
  const LoadResult result = load_routes(R"(  auto:
    complexity:
      simple: a
      complex: b
      max_simple_tokens: 0
      signals: { tools: yes, json_schema: 1, max_turns: 0, images: no, words: [x] }
      classifier: { model: cheap, timeout: 0ms, threshold: 1.5 }
  other: { complexity: { simple: a, complex: b, classifier: { timeout: 1s } } }
  odd: { complexity: { simple: a, complex: b, classifier: { model: nobody }, signals: [] } }
  listed: { complexity: [a, b] }
)");
  EXPECT_EQ(printed(result),
            (std::vector<std::string>{
                "test.yaml:13:26: routes.auto.complexity.max_simple_tokens: expected an integer "
                ">= 1, got '0'",
                "test.yaml:14:25: routes.auto.complexity.signals.tools: expected true or false, "
                "got 'yes'",
                "test.yaml:14:43: routes.auto.complexity.signals.json_schema: expected true or "
                "false, got '1'",
                "test.yaml:14:57: routes.auto.complexity.signals.max_turns: expected an integer "
                ">= 1, got '0'",
                "test.yaml:14:68: routes.auto.complexity.signals.images: expected true or false, "
                "got 'no'",
                "test.yaml:14:72: unknown key 'words' in routes.auto.complexity.signals (expected "
                "one of: tools, json_schema, max_turns, images, patterns)",
                "test.yaml:15:28: routes.auto.complexity.classifier.model: unknown model 'cheap' "
                "(the classifier is a model alias, not a route)",
                "test.yaml:15:44: routes.auto.complexity.classifier.timeout: expected a duration "
                "greater than 0, got '0ms'",
                "test.yaml:15:60: routes.auto.complexity.classifier.threshold: expected a number "
                "from 0 to 1, got '1.5'",
                "test.yaml:16:61: routes.other.complexity.classifier: missing required key "
                "'model'",
                "test.yaml:17:68: routes.odd.complexity.classifier.model: unknown model 'nobody'",
                "test.yaml:17:87: routes.odd.complexity.signals: expected a mapping, got a list",
                "test.yaml:18:25: routes.listed.complexity: expected a mapping, got a list",
            }));
}

TEST(ConfigRouting, ReportsAPatternThatIsNoRegexWithTheRegexError) {
  const LoadResult result = load_routes(R"(  auto:
    complexity:
      simple: a
      complex: b
      signals:
        patterns:
          - "prove"
          - "(unclosed"
          - "[z-a]"
          - "(please)?"
          - ""
          - { not: text }
)");
  EXPECT_EQ(printed(result),
            (std::vector<std::string>{
                "test.yaml:16:13: routes.auto.complexity.signals.patterns[1]: invalid regex "
                "'(unclosed': " +
                    regex_error_of("(unclosed"),
                "test.yaml:17:13: routes.auto.complexity.signals.patterns[2]: invalid regex "
                "'[z-a]': " +
                    regex_error_of("[z-a]"),
                "test.yaml:18:13: routes.auto.complexity.signals.patterns[3]: '(please)?' "
                "matches the empty string, so every message would be complex",
                "test.yaml:19:13: routes.auto.complexity.signals.patterns[4]: '' matches the "
                "empty string, so every message would be complex",
                "test.yaml:20:13: routes.auto.complexity.signals.patterns[5]: expected a string, "
                "got a mapping",
            }));
  EXPECT_NE(regex_error_of("(unclosed"), "(compiles)");
}

TEST(ConfigRouting, ReportsABudgetWithoutACapAboveZero) {
  const LoadResult result =
      load_routes(R"(  zero: { targets: [a], budget: { usd_per_day: 0, then: b } }
  empty: { targets: [a], budget: {} }
  blank:
    targets: [a]
    budget:
  negative: { targets: [a], budget: { usd_per_hour: -1 } }
  typo: { targets: [a], budget: { usd_per_week: 3 } }
keys:
  k: { sha256: )" +
                  kSha256 + R"(, budget: { usd_per_month: 0 } }
)");
  EXPECT_EQ(printed(result),
            (std::vector<std::string>{
                "test.yaml:9:33: routes.zero.budget: a budget needs at least one cap above 0",
                "test.yaml:10:34: routes.empty.budget: a budget needs at least one cap above 0",
                "test.yaml:13:5: routes.blank.budget: a budget needs at least one cap above 0",
                "test.yaml:14:53: routes.negative.budget.usd_per_hour: expected a number >= 0, "
                "got '-1'",
                "test.yaml:15:35: unknown key 'usd_per_week' in routes.typo.budget (expected one "
                "of: usd_per_minute, usd_per_hour, usd_per_day, usd_per_month, then)",
                "test.yaml:17:90: keys.k.budget: a budget needs at least one cap above 0",
            }));
}

TEST(ConfigRouting, ReportsABudgetThenThatNamesNothingARequestCanBeHandedTo) {
  const LoadResult result = load_routes(R"(  auto: { complexity: { simple: a, complex: b } }
  unknown: { targets: [a], budget: { usd_per_day: 1, then: nowhere } }
  itself: { targets: [a], budget: { usd_per_day: 1, then: itself } }
  classifier: { targets: [a], budget: { usd_per_day: 1, then: auto } }
  listed: { targets: [a], budget: { usd_per_day: 1, then: [b] } }
)");
  EXPECT_EQ(printed(result),
            (std::vector<std::string>{
                "test.yaml:10:60: routes.unknown.budget.then: unknown route or model 'nowhere'",
                "test.yaml:11:59: routes.itself.budget.then: 'itself' is the route itself",
                "test.yaml:12:63: routes.classifier.budget.then: 'auto' is a classifier route; "
                "expected a route with targets or a model alias",
                "test.yaml:13:59: routes.listed.budget.then: expected a string, got a list",
            }));
}

TEST(ConfigRouting, ReportsACycleOfBudgetFallbacksAtTheThenThatClosesIt) {
  const LoadResult result =
      load_routes(R"(  x: { targets: [a], budget: { usd_per_day: 1, then: y } }
  y: { targets: [a], budget: { usd_per_day: 1, then: x } }
  p1: { targets: [a], budget: { usd_per_day: 1, then: p2 } }
  p2: { targets: [b], budget: { usd_per_day: 1, then: p3 } }
  p3: { targets: [a], budget: { usd_per_day: 1, then: p2 } }
  into: { targets: [a], budget: { usd_per_day: 1, then: x } }
)");
  EXPECT_EQ(printed(result),
            (std::vector<std::string>{
                "test.yaml:10:54: routes.y.budget.then: 'x' closes a cycle of budget fallbacks: "
                "x then y then x",
                "test.yaml:13:55: routes.p3.budget.then: 'p2' closes a cycle of budget fallbacks: "
                "p2 then p3 then p2",
            }));
}

TEST(ConfigRouting, ReportsKeyLimitsOutOfRangeAndAThenOnAKeysBudget) {
  const LoadResult result = load_routes(R"(keys:
  k:
    sha256: )" + kSha256 + R"(
    budget: { usd_per_day: 10, then: cheap }
    rpm: 100000001
    tpm: -5
  l: { sha256: )" + std::string(64, 'b') +
                                        R"(, rpm: 100000000, tpm: 1000000000001 }
)");
  EXPECT_EQ(printed(result),
            (std::vector<std::string>{
                "test.yaml:12:32: unknown key 'then' in keys.k.budget (expected one of: "
                "usd_per_minute, usd_per_hour, usd_per_day, usd_per_month)",
                "test.yaml:13:10: keys.k.rpm: expected an integer 0..100000000, got '100000001'",
                "test.yaml:14:10: keys.k.tpm: expected an integer 0..1000000000000, got '-5'",
                "test.yaml:15:103: keys.l.tpm: expected an integer 0..1000000000000, got "
                "'1000000000001'",
            }));
}

TEST(ConfigRouting, ReportsAProviderTpmOutOfRange) {
  const LoadResult result = load_yaml(R"(providers:
  p:
    type: openai
    base_url: https://api.example.com
    rate_limit: { rpm: 10, tpm: 1e6, rps: 1 }
models:
  a: { provider: p }
)");
  EXPECT_EQ(printed(result),
            (std::vector<std::string>{
                "test.yaml:5:33: providers.p.rate_limit.tpm: expected an integer "
                "0..1000000000000, got '1e6'",
                "test.yaml:5:38: unknown key 'rps' in providers.p.rate_limit (expected one of: "
                "rpm, tpm)",
            }));
}

}  // namespace
}  // namespace switchyard::config
