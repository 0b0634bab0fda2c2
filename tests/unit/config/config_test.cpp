// Loading and validating the config file: what a valid file turns into, and the exact
// "file:line:col: message" a user sees for each kind of mistake.
#include <gtest/gtest.h>

#include "config_messages.hpp"

#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "switchyard/config/config.hpp"

namespace switchyard::config {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

const std::string kDataDir = std::string(SWITCHYARD_TEST_DATA) + "/config/";

EnvLookup env_from(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    const auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

LoadResult load(std::string_view yaml, std::map<std::string, std::string> vars = {}) {
  return load_config_string(yaml, "test.yaml", env_from(std::move(vars)));
}

// The smallest valid config, to which each test adds the one thing it is about.
constexpr std::string_view kMinimal = R"(providers:
  p: { type: openai, base_url: https://api.example.com }
models:
  m: { provider: p }
)";

// --- Valid configs -----------------------------------------------------------------------------

TEST(ConfigLoad, ReadsEveryFieldOfACompleteConfig) {
  const std::string path = kDataDir + "valid.yaml";
  const LoadResult result = load_config_file(path, env_from({{"OPENAI_API_KEY", "sk-test"}}));
  ASSERT_TRUE(result.errors.empty()) << joined(result);
  ASSERT_TRUE(result.config.has_value());
  const Config& config = *result.config;
  EXPECT_EQ(config.source, path);

  const Server& server = config.server;
  EXPECT_EQ(server.host, "127.0.0.1");
  EXPECT_EQ(server.port, 9090);
  EXPECT_EQ(server.workers, 4u);
  EXPECT_EQ(server.max_body, 4u * 1024 * 1024);
  EXPECT_EQ(server.max_header, 32u * 1024);
  EXPECT_EQ(server.max_connections, 2000u);
  EXPECT_EQ(server.read_timeout, seconds(20));
  EXPECT_EQ(server.idle_timeout, seconds(90));
  EXPECT_EQ(server.write_timeout, seconds(45));
  EXPECT_EQ(server.drain_timeout, seconds(15));

  EXPECT_EQ(config.log.level, "debug");
  EXPECT_FALSE(config.log.requests);

  ASSERT_EQ(config.providers.size(), 2u);
  const Provider& openai = config.providers[0];
  EXPECT_EQ(openai.name, "openai");
  EXPECT_EQ(openai.type, ProviderType::openai);
  EXPECT_TRUE(openai.base_url.tls);
  EXPECT_EQ(openai.base_url.host, "api.openai.com");
  EXPECT_EQ(openai.base_url.port, 443);
  EXPECT_EQ(openai.base_url.path, "/v1");
  EXPECT_EQ(openai.base_url.authority, "api.openai.com");
  EXPECT_EQ(openai.api_key, "sk-test");
  EXPECT_EQ(openai.ca_file, kDataDir + "certs/ca.pem");
  EXPECT_EQ(openai.timeouts.connect, seconds(2));
  EXPECT_EQ(openai.timeouts.first_byte, seconds(30));
  EXPECT_EQ(openai.timeouts.idle, seconds(45));
  EXPECT_EQ(openai.timeouts.total, minutes(5));
  EXPECT_EQ(openai.pool.max_idle, 32u);
  EXPECT_EQ(openai.pool.idle_expiry, seconds(90));
  EXPECT_EQ(openai.forward_headers, (std::vector<std::string>{"x-mock-*", "openai-beta"}));

  const Provider& local = config.providers[1];
  EXPECT_EQ(local.name, "local");
  EXPECT_FALSE(local.base_url.tls);
  EXPECT_EQ(local.base_url.host, "mock.internal");
  EXPECT_EQ(local.base_url.port, 9001);
  EXPECT_EQ(local.base_url.path, "");
  EXPECT_EQ(local.base_url.authority, "mock.internal:9001");
  EXPECT_EQ(local.api_key, "");
  EXPECT_EQ(local.ca_file, "");

  ASSERT_EQ(config.models.size(), 2u);
  const Model& mini = config.models[0];
  EXPECT_EQ(mini.name, "gpt-4o-mini");
  EXPECT_EQ(mini.provider, "openai");
  EXPECT_EQ(mini.upstream, "gpt-4o-mini-2024-07-18");
  EXPECT_DOUBLE_EQ(mini.input_per_mtok, 0.15);
  EXPECT_DOUBLE_EQ(mini.output_per_mtok, 0.6);
  EXPECT_DOUBLE_EQ(mini.cached_input_per_mtok, 0.075);
  EXPECT_EQ(mini.context, 128000u);
  EXPECT_EQ(config.models[1].name, "local-llama");
  EXPECT_EQ(config.models[1].provider, "local");

  ASSERT_EQ(config.routes.size(), 1u);
  EXPECT_EQ(config.routes[0].name, "default");
  EXPECT_EQ(config.routes[0].targets, (std::vector<std::string>{"gpt-4o-mini", "local-llama"}));
}

TEST(ConfigLoad, PricesCachedInputLikeInputUnlessTold) {
  const LoadResult result = load(R"(providers:
  p: { type: openai, base_url: "http://127.0.0.1:9/v1" }
models:
  unpriced: { provider: p }
  plain: { provider: p, input: 3.0, output: 15.0 }
  cached: { provider: p, input: 3.0, cached_input: 0.3 }
  free_cache: { provider: p, input: 3.0, cached_input: 0 }
)");
  ASSERT_TRUE(result.config.has_value()) << joined(result);
  const auto& m = result.config->models;
  EXPECT_DOUBLE_EQ(m[0].cached_input_per_mtok, 0.0);
  EXPECT_DOUBLE_EQ(m[1].cached_input_per_mtok, 3.0);
  EXPECT_DOUBLE_EQ(m[2].cached_input_per_mtok, 0.3);
  EXPECT_DOUBLE_EQ(m[3].cached_input_per_mtok, 0.0);
}

TEST(ConfigLoad, ReadsAProvidersRequestsPerMinute) {
  const LoadResult result = load(R"(providers:
  p: { type: openai, base_url: "http://127.0.0.1:9/v1", rate_limit: { rpm: 500 } }
  q: { type: openai, base_url: "http://127.0.0.1:9/v1" }
models:
  m: { provider: p }
)");
  ASSERT_TRUE(result.config.has_value()) << joined(result);
  EXPECT_EQ(result.config->providers[0].rpm, 500u);
  EXPECT_EQ(result.config->providers[1].rpm, 0u);  // no limit
  const LoadResult bad = load(R"(providers:
  p: { type: openai, base_url: "http://127.0.0.1:9/v1", rate_limit: { rpm: -1, tpm: -5 } }
models:
  m: { provider: p }
)");
  EXPECT_FALSE(bad.config.has_value());
  EXPECT_EQ(bad.errors.size(), 2u) << joined(bad);
}

TEST(ConfigLoad, FillsDefaultsForEverythingLeftOut) {
  const LoadResult result = load(kMinimal);
  ASSERT_TRUE(result.config.has_value()) << joined(result);
  const Config& config = *result.config;
  EXPECT_EQ(config.source, "test.yaml");

  const Server defaults;
  EXPECT_EQ(config.server.host, "0.0.0.0");
  EXPECT_EQ(config.server.port, 8080);
  EXPECT_EQ(config.server.workers, 0u);
  EXPECT_EQ(config.server.max_body, 8u * 1024 * 1024);
  EXPECT_EQ(config.server.max_header, 16u * 1024);
  EXPECT_EQ(config.server.max_connections, 10'000u);
  EXPECT_EQ(config.server.read_timeout, defaults.read_timeout);
  EXPECT_EQ(config.server.idle_timeout, defaults.idle_timeout);
  EXPECT_EQ(config.server.write_timeout, defaults.write_timeout);
  EXPECT_EQ(config.server.drain_timeout, defaults.drain_timeout);
  EXPECT_EQ(config.log.level, "info");
  EXPECT_TRUE(config.log.requests);

  ASSERT_EQ(config.providers.size(), 1u);
  const Provider& p = config.providers[0];
  EXPECT_EQ(p.base_url.authority, "api.example.com");
  EXPECT_EQ(p.base_url.path, "");
  EXPECT_EQ(p.api_key, "");
  EXPECT_EQ(p.ca_file, "");
  EXPECT_EQ(p.timeouts.connect, seconds(5));
  EXPECT_EQ(p.timeouts.first_byte, seconds(60));
  EXPECT_EQ(p.timeouts.idle, seconds(60));
  EXPECT_EQ(p.timeouts.total, seconds(600));
  EXPECT_EQ(p.pool.max_idle, 64u);
  EXPECT_EQ(p.pool.idle_expiry, seconds(60));
  EXPECT_TRUE(p.forward_headers.empty());

  ASSERT_EQ(config.models.size(), 1u);
  EXPECT_EQ(config.models[0].upstream, "m");  // the alias, when `name` is left out
  EXPECT_EQ(config.models[0].input_per_mtok, 0);
  EXPECT_EQ(config.models[0].context, 0u);
  EXPECT_TRUE(config.routes.empty());
}

TEST(ConfigLoad, AcceptsYamlIntegersForSizesAndDurations) {
  const LoadResult result = load(std::string(kMinimal) + R"(server:
  max_body: 1048576
  read_timeout: 10
  idle_timeout: 1.5
  listen: "[::]:0"
)");
  ASSERT_TRUE(result.config.has_value()) << joined(result);
  EXPECT_EQ(result.config->server.max_body, 1048576u);
  EXPECT_EQ(result.config->server.read_timeout, seconds(10));
  EXPECT_EQ(result.config->server.idle_timeout, std::chrono::milliseconds(1500));
  EXPECT_EQ(result.config->server.host, "::");
  EXPECT_EQ(result.config->server.port, 0);
}

TEST(ConfigLoad, FindsProvidersModelsAndRoutesByName) {
  const LoadResult result =
      load_config_file(kDataDir + "valid.yaml", env_from({{"OPENAI_API_KEY", "k"}}));
  ASSERT_TRUE(result.config.has_value()) << joined(result);
  const Config& config = *result.config;
  ASSERT_NE(config.find_provider("local"), nullptr);
  EXPECT_EQ(config.find_provider("local")->base_url.port, 9001);
  ASSERT_NE(config.find_model("gpt-4o-mini"), nullptr);
  EXPECT_EQ(config.find_model("gpt-4o-mini")->provider, "openai");
  ASSERT_NE(config.find_route("default"), nullptr);
  EXPECT_EQ(config.find_route("default")->targets.size(), 2u);
  EXPECT_EQ(config.find_provider("gpt-4o-mini"), nullptr);
  EXPECT_EQ(config.find_model("default"), nullptr);
  EXPECT_EQ(config.find_route("nope"), nullptr);
}

// --- Environment substitution ------------------------------------------------------------------

TEST(ConfigEnv, SubstitutesSeveralVariablesInOneValue) {
  const LoadResult result = load(R"(providers:
  p:
    type: openai
    base_url: http://${HOST}:${PORT}/${PREFIX}
    api_key: ${KEY}
models:
  m: { provider: p }
server: { workers: "${WORKERS}" }
)",
                                 {{"HOST", "127.0.0.1"},
                                  {"PORT", "9001"},
                                  {"PREFIX", "v1"},
                                  {"KEY", "sk-1"},
                                  {"WORKERS", "3"}});
  ASSERT_TRUE(result.config.has_value()) << joined(result);
  const Provider& p = result.config->providers[0];
  EXPECT_EQ(p.base_url.authority, "127.0.0.1:9001");
  EXPECT_EQ(p.base_url.path, "/v1");
  EXPECT_EQ(p.api_key, "sk-1");
  EXPECT_EQ(result.config->server.workers, 3u);
}

TEST(ConfigEnv, ReportsAnUnsetVariableByName) {
  const LoadResult result = load(R"(providers:
  p: { type: openai, base_url: https://api.example.com, api_key: "${OPENAI_API_KEY}" }
models:
  m: { provider: p }
)");
  EXPECT_FALSE(result.config.has_value());
  EXPECT_EQ(printed(result),
            std::vector<std::string>{"test.yaml:2:66: providers.p.api_key: environment variable "
                                     "'OPENAI_API_KEY' is not set"});
}

TEST(ConfigEnv, UsesTheDefaultWhenTheVariableIsUnsetOrEmpty) {
  const LoadResult result = load(R"(providers:
  p: { type: openai, base_url: "${URL:-http://localhost:8000}", api_key: "${KEY:-}" }
models:
  m: { provider: p, name: "${NAME:-llama3}" }
)",
                                 {{"NAME", ""}});
  ASSERT_TRUE(result.config.has_value()) << joined(result);
  EXPECT_EQ(result.config->providers[0].base_url.authority, "localhost:8000");
  EXPECT_EQ(result.config->providers[0].api_key, "");
  EXPECT_EQ(result.config->models[0].upstream, "llama3");
}

TEST(ConfigEnv, PrefersASetVariableOverItsDefault) {
  const LoadResult result = load(R"(providers:
  p: { type: openai, base_url: https://api.example.com, api_key: "${KEY:-none}" }
models:
  m: { provider: p }
)",
                                 {{"KEY", "sk-set"}});
  ASSERT_TRUE(result.config.has_value()) << joined(result);
  EXPECT_EQ(result.config->providers[0].api_key, "sk-set");
}

TEST(ConfigEnv, ReadsDoubleDollarAsALiteralDollar) {
  const LoadResult result = load(R"(providers:
  p: { type: openai, base_url: https://api.example.com, api_key: "a$$b$${X}c$d" }
models:
  m: { provider: p }
)");
  ASSERT_TRUE(result.config.has_value()) << joined(result);
  EXPECT_EQ(result.config->providers[0].api_key, "a$b${X}c$d");
}

TEST(ConfigEnv, ReportsMalformedReferences) {
  const LoadResult result = load(std::string(kMinimal) + R"(log:
  level: "${LEVEL"
routes:
  r: { targets: ["${1BAD}"] }
)");
  EXPECT_EQ(printed(result),
            (std::vector<std::string>{
                "test.yaml:6:10: log.level: unterminated '${' (write '$$' for a literal '$')",
                "test.yaml:8:18: routes.r.targets[0]: invalid environment variable name '1BAD'",
            }));
}

TEST(ConfigEnv, NeverQuotesTheApiKeyInMessages) {
  const LoadResult result = load(R"(providers:
  p: { type: openai, base_url: https://api.example.com, api_key: "${sk-proj-SECRET}" }
  q: { type: openai, base_url: https://api.example.com, api_key: "sk-SECRET${" }
models:
  m: { provider: p }
)");
  EXPECT_EQ(printed(result),
            (std::vector<std::string>{
                "test.yaml:2:66: providers.p.api_key: invalid environment variable reference",
                "test.yaml:3:66: providers.q.api_key: unterminated '${' (write '$$' for a literal "
                "'$')",
            }));
  EXPECT_EQ(joined(result).find("SECRET"), std::string::npos);
}

TEST(ConfigEnv, ProcessEnvReadsTheEnvironment) {
  ::setenv("SWITCHYARD_CONFIG_TEST_VARIABLE", "from-env", 1);
  const EnvLookup env = process_env();
  EXPECT_EQ(env("SWITCHYARD_CONFIG_TEST_VARIABLE"), "from-env");
  ::unsetenv("SWITCHYARD_CONFIG_TEST_VARIABLE");
  EXPECT_EQ(env("SWITCHYARD_CONFIG_TEST_VARIABLE"), std::nullopt);
}

TEST(Diagnostic, PrintsFileLineColumnAndMessage) {
  EXPECT_EQ((Diagnostic{"a.yaml", 3, 7, "boom"}).to_string(), "a.yaml:3:7: boom");
  EXPECT_EQ((Diagnostic{"a.yaml", 0, 0, "cannot read"}).to_string(), "a.yaml: cannot read");
}

}  // namespace
}  // namespace switchyard::config

namespace switchyard::config {
namespace {

// --- Provider types ------------------------------------------------------------------------------

TEST(ConfigProviders, EachTypeGetsItsDefaultApiVersionUnlessOneIsGiven) {
  const LoadResult result = load(R"(providers:
  a: { type: anthropic, base_url: https://api.anthropic.com }
  g: { type: gemini, base_url: https://generativelanguage.googleapis.com }
  z: { type: azure, base_url: https://r.openai.azure.com, api_version: v1 }
  o: { type: openai, base_url: https://api.openai.com/v1, preset: mistral, max_tokens_field: max_completion_tokens }
models:
  m: { provider: a, max_tokens: 2048 }
)");
  ASSERT_TRUE(result.errors.empty()) << joined(result);
  const Config& c = *result.config;
  EXPECT_EQ(c.find_provider("a")->type, ProviderType::anthropic);
  EXPECT_EQ(c.find_provider("a")->api_version, "2023-06-01");
  EXPECT_EQ(c.find_provider("g")->api_version, "v1beta");
  EXPECT_EQ(c.find_provider("z")->api_version, "v1");
  EXPECT_EQ(c.find_provider("o")->preset, Preset::mistral);
  EXPECT_EQ(c.find_provider("o")->max_tokens_field, MaxTokensField::max_completion_tokens);
  EXPECT_EQ(c.find_model("m")->max_tokens, 2048u);
  EXPECT_FALSE(c.server.report_upstream_model);
}

TEST(ConfigProviders, RejectsKeysThatDoNotApplyToTheProvidersType) {
  const LoadResult result = load(R"(server: { response_model: upstreams }
providers:
  a: { type: anthropic, base_url: https://api.anthropic.com, preset: mistral }
  o: { type: openai, base_url: https://api.openai.com/v1, api_version: "2024-10-21" }
  p: { type: openai, base_url: https://api.openai.com/v1, max_tokens_field: both }
models:
  m: { provider: a }
)");
  EXPECT_EQ(printed(result),
            (std::vector<std::string>{
                "test.yaml:1:27: server.response_model: expected one of requested, upstream, got "
                "'upstreams'",
                "test.yaml:3:62: providers.a.preset: only for providers of type openai or azure",
                "test.yaml:4:59: providers.o.api_version: only for providers of type anthropic, "
                "gemini or azure",
                "test.yaml:5:77: providers.p.max_tokens_field: expected one of as_sent, "
                "max_tokens, max_completion_tokens, got 'both'",
            }));
}

}  // namespace
}  // namespace switchyard::config
