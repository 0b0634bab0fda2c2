// Route and model overrides (from Redis) merged over the file, and the cache and redis sections.
#include <gtest/gtest.h>

#include "config_messages.hpp"

namespace switchyard::config {
namespace {

constexpr std::string_view kBase = R"(providers:
  p: { type: openai, base_url: "https://api.example.com/v1" }
models:
  small: { provider: p }
  large: { provider: p }
keys:
  app: { sha256: "0000000000000000000000000000000000000000000000000000000000000000", routes: [fast] }
routes:
  fast: { targets: [small] }
  smart: { targets: [large, small], budget: { usd_per_day: 5, then: fast } }
)";

LoadResult load_with(const Overrides& overrides, std::string_view yaml = kBase) {
  return load_config_string(
      yaml, "test.yaml", [](const std::string&) -> std::optional<std::string> { return {}; },
      overrides);
}

std::vector<std::string> targets_of(const Config& config, std::string_view route) {
  const Route* r = config.find_route(route);
  return r ? r->targets : std::vector<std::string>{"<none>"};
}

TEST(ConfigOverrides, AnOverrideReplacesTheFilesRouteAndAddsNewOnes) {
  Overrides o;
  o.routes = {{"fast", R"({"targets":["large"]})"}, {"fresh", R"({"targets":["small","large"]})"}};
  const auto result = load_with(o);
  ASSERT_TRUE(result.config) << joined(result);
  EXPECT_EQ(targets_of(*result.config, "fast"), std::vector<std::string>{"large"});
  EXPECT_EQ(targets_of(*result.config, "fresh"), (std::vector<std::string>{"small", "large"}));
  EXPECT_EQ(result.config->routes.front().name, "fast");  // in the file's place
}

TEST(ConfigOverrides, ANullOverrideRemovesTheFilesEntry) {
  Overrides o;
  o.routes = {{"smart", "null"}};
  const auto result = load_with(o);
  ASSERT_TRUE(result.config) << joined(result);
  EXPECT_EQ(result.config->find_route("smart"), nullptr);
}

TEST(ConfigOverrides, AModelOverrideCanServeARouteOverride) {
  Overrides o;
  o.models = {{"tiny", R"({"provider":"p","name":"tiny-v2","input":0.1,"output":0.2})"}};
  o.routes = {{"fresh", R"({"targets":["tiny"]})"}};
  const auto result = load_with(o);
  ASSERT_TRUE(result.config) << joined(result);
  ASSERT_NE(result.config->find_model("tiny"), nullptr);
  EXPECT_EQ(result.config->find_model("tiny")->upstream, "tiny-v2");
}

TEST(ConfigOverrides, AProblemInAnOverrideIsReportedAgainstIt) {
  Overrides o;
  o.routes = {{"fresh", R"({"targets":["nope"]})"}};
  const auto result = load_with(o);
  EXPECT_FALSE(result.config);
  EXPECT_EQ(printed(result),
            std::vector<std::string>{"redis:routes.fresh:1:13: routes.fresh: unknown model 'nope'"})
      << joined(result);
}

TEST(ConfigOverrides, AnOverrideThatIsNotJsonIsReportedAndNothingIsApplied) {
  Overrides o;
  o.routes = {{"fresh", R"({"targets": ["small")"}, {"fast", R"({"targets":["large"]})"}};
  const auto result = load_with(o);
  EXPECT_FALSE(result.config);
  ASSERT_EQ(result.errors.size(), 1u) << joined(result);
  EXPECT_EQ(result.errors[0].file, "redis:routes.fresh");
  EXPECT_NE(result.errors[0].message.find("invalid JSON"), std::string::npos);
}

TEST(ConfigOverrides, RemovingARouteOthersNeedIsRefusedWhereTheyNeedIt) {
  Overrides o;
  o.routes = {{"fast", "null"}};
  const auto result = load_with(o);
  EXPECT_FALSE(result.config);
  const std::string all = joined(result);
  // smart's budget hands over to it, and the key may only use it.
  EXPECT_NE(all.find("test.yaml:10:"), std::string::npos) << all;
  EXPECT_NE(all.find("routes.smart.budget.then: unknown route or model 'fast'"), std::string::npos)
      << all;
  EXPECT_NE(all.find("keys.app.routes"), std::string::npos) << all;
}

TEST(ConfigOverrides, ABudgetLinkInAnOverrideIsCheckedAgainstTheOverride) {
  Overrides o;
  o.routes = {{"fresh", R"({"targets":["small"],"budget":{"usd_per_day":1,"then":"fresh"}})"}};
  const auto result = load_with(o);
  ASSERT_EQ(result.errors.size(), 1u) << joined(result);
  EXPECT_EQ(result.errors[0].file, "redis:routes.fresh");
  EXPECT_NE(result.errors[0].message.find("is the route itself"), std::string::npos);
}

TEST(ConfigCache, ReadsTheCacheAndRedisSections) {
  const auto result = load_yaml(std::string(kBase) + R"(cache:
  backend: redis
  ttl: 10m
  max_bytes: 64MiB
  share_across_models: true
  max_temperature: 0.5
redis: { url: "redis://:secret@127.0.0.1:6380/2", timeout: 50ms, prefix: "sy:" }
)");
  ASSERT_TRUE(result.config) << joined(result);
  const auto& c = *result.config;
  EXPECT_TRUE(c.cache.enabled);
  EXPECT_EQ(c.cache.backend, Cache::Backend::redis);
  EXPECT_EQ(c.cache.ttl, Millis(600'000));
  EXPECT_EQ(c.cache.max_bytes, 64u * 1024 * 1024);
  EXPECT_TRUE(c.cache.share_across_models);
  EXPECT_DOUBLE_EQ(c.cache.max_temperature, 0.5);
  ASSERT_TRUE(c.redis);
  EXPECT_EQ(c.redis->timeout, Millis(50));
  EXPECT_EQ(c.redis->prefix, "sy:");
}

TEST(ConfigCache, ReportsWhatCannotWork) {
  const auto result =
      load_yaml(std::string(kBase) +
                R"(  auto: { complexity: { simple: fast, complex: smart }, cache_ttl: 1m }
cache: { backend: redis, max_temperature: 3 }
)");
  EXPECT_EQ(printed(result),
            (std::vector<std::string>{
                "test.yaml:11:57: routes.auto.cache_ttl: not for a classifier route (the routes "
                "it chooses between decide it)",
                "test.yaml:12:1: cache.backend: redis needs a `redis:` section with its url",
                "test.yaml:12:43: cache.max_temperature: expected a temperature from 0 to 2",
            }))
      << joined(result);
}

TEST(ConfigCache, ARedisUrlIsCheckedWithoutShowingItsPassword) {
  const auto result = load_yaml(std::string(kBase) + "redis: { url: \"rediss://:hunter2@h:1\" }\n");
  ASSERT_EQ(result.errors.size(), 1u) << joined(result);
  EXPECT_NE(result.errors[0].message.find("TLS"), std::string::npos) << joined(result);
  EXPECT_EQ(joined(result).find("hunter2"), std::string::npos) << joined(result);
}

}  // namespace
}  // namespace switchyard::config
