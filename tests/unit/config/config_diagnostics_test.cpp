// What a user sees for each kind of mistake in a config file: the exact
// "file:line:col: message", all problems at once, sorted by position.
#include <gtest/gtest.h>

#include "config_messages.hpp"

#include <map>
#include <string>
#include <vector>

#include "switchyard/config/config.hpp"

namespace switchyard::config {
namespace {

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

TEST(ConfigLoad, ReportsAnUnreadableFileWithoutAPosition) {
  const std::string path = kDataDir + "does-not-exist.yaml";
  const LoadResult result = load_config_file(path, env_from({}));
  EXPECT_FALSE(result.config.has_value());
  EXPECT_EQ(printed(result), std::vector<std::string>{
                                 path + ": cannot read config file: No such file or directory"});
}

TEST(ConfigLoad, ReportsYamlSyntaxErrorsWithLineAndColumn) {
  const LoadResult result = load(R"(models:
  m: { provider: p
routes: {}
)");
  EXPECT_FALSE(result.config.has_value());
  EXPECT_EQ(printed(result),
            std::vector<std::string>{"test.yaml:3:7: invalid YAML: end of map flow not found"});
}

// Found by tests/fuzz/config_fuzz: yaml-cpp 0.7's LoadAll never returned on these, taking all
// memory.
TEST(ConfigLoad, ADocumentStartingWithACommaIsASyntaxError) {
  EXPECT_EQ(printed(load(",")),
            std::vector<std::string>{"test.yaml:1:1: invalid YAML: unexpected ','"});
  EXPECT_EQ(printed(load(std::string(kMinimal) + "---\n, x\n")),
            std::vector<std::string>{"test.yaml:6:1: invalid YAML: unexpected ','"});
}

TEST(ConfigLoad, ReportsMoreThanOneYamlDocument) {
  const LoadResult result = load(std::string(kMinimal) + "---\nlog: {}\n");
  EXPECT_EQ(printed(result),
            std::vector<std::string>{"test.yaml:6:1: expected one YAML document, found 2"});
}

TEST(ConfigLoad, ReportsUnknownKeyWithLineAndColumn) {
  const LoadResult result = load(R"(server:
  listen: "0.0.0.0:8080"
  wrokers: 4
providers:
  p:
    type: openai
    base_url: https://api.example.com
    timeouts: { connect: 1s, frist_byte: 2s }
    apikey: x
models:
  m: { provider: p, prize: 1 }
cahce: {}
)");
  EXPECT_FALSE(result.config.has_value());
  EXPECT_EQ(
      printed(result),
      (std::vector<std::string>{
          "test.yaml:3:3: unknown key 'wrokers' in server (expected one of: listen, workers, "
          "max_body, max_header, max_connections, max_connections_per_client, read_timeout, "
          "idle_timeout, "
          "write_timeout, drain_timeout, response_model)",
          "test.yaml:8:30: unknown key 'frist_byte' in providers.p.timeouts (expected one "
          "of: connect, first_byte, idle, total)",
          "test.yaml:9:5: unknown key 'apikey' in providers.p (expected one of: type, "
          "base_url, api_key, ca_file, allow_plain_http, timeouts, pool, forward_headers, "
          "api_version, preset, max_tokens_field, health_check, rate_limit)",
          "test.yaml:11:21: unknown key 'prize' in models.m (expected one of: provider, "
          "name, input, output, cached_input, context, max_tokens)",
          "test.yaml:12:1: unknown key 'cahce' at the top level (expected one of: server, "
          "log, metrics, tracing, providers, models, routes, resilience, keys, cache, redis, mcp)",
      }));
}

TEST(ConfigLoad, ReportsWrongTypesAtTheValue) {
  const LoadResult result = load(std::string(kMinimal) + R"(server:
  workers: many
  max_connections: 0
  read_timeout: -1s
  max_header: [1]
log: { requests: yes }
routes:
  r: { targets: { a: m } }
  s: { targets: m }
  t: { targets: [] }
)");
  EXPECT_EQ(printed(result),
            (std::vector<std::string>{
                "test.yaml:6:12: server.workers: expected an integer 0..1024, got 'many'",
                "test.yaml:7:20: server.max_connections: expected an integer >= 1, got '0'",
                "test.yaml:8:17: server.read_timeout: expected a duration like 250ms, 2s, 1m or "
                "1h, got '-1s'",
                "test.yaml:9:15: server.max_header: expected a size like 8MiB, 16KiB or 512 "
                "(bytes), got a list",
                "test.yaml:10:18: log.requests: expected true or false, got 'yes'",
                "test.yaml:12:17: routes.r.targets: expected a non-empty list of model aliases, "
                "got a mapping",
                "test.yaml:13:17: routes.s.targets: expected a non-empty list of model aliases, "
                "got 'm'",
                "test.yaml:14:17: routes.t.targets: expected a non-empty list of model aliases, "
                "got an empty list",
            }));
}

TEST(ConfigLoad, ReportsAnEmptyValueAtItsKeyAndAnEmptyItemAtItsList) {
  // yaml-cpp marks an empty value where the next token starts, which is on another line.
  const LoadResult result = load(std::string(kMinimal) + R"(server:
  workers:
  listen: "0.0.0.0:1"
routes:
  r:
    targets:
      -
      - m
)");
  EXPECT_EQ(printed(result),
            (std::vector<std::string>{
                "test.yaml:6:3: server.workers: expected an integer 0..1024, got an empty value",
                "test.yaml:11:7: routes.r.targets[0]: expected a string, got an empty value",
            }));
}

TEST(ConfigLoad, ReportsMissingRequiredKeysAtTheParentMapping) {
  const LoadResult result = load(R"(providers:
  openai:
    type: openai
  empty:
models:
  m: { name: x }
routes:
  r: {}
)");
  EXPECT_EQ(printed(result), (std::vector<std::string>{
                                 "test.yaml:3:5: providers.openai: missing required key 'base_url'",
                                 "test.yaml:4:3: providers.empty: missing required key 'type'",
                                 "test.yaml:4:3: providers.empty: missing required key 'base_url'",
                                 "test.yaml:6:6: models.m: missing required key 'provider'",
                                 "test.yaml:8:6: routes.r: expected targets or complexity",
                             }));
}

TEST(ConfigLoad, ReportsAModelWithAnUnknownProvider) {
  const LoadResult result = load(R"(providers:
  openai: { type: openai, base_url: https://api.openai.com/v1 }
models:
  gpt: { provider: opnai }
)");
  EXPECT_EQ(printed(result),
            std::vector<std::string>{"test.yaml:4:20: models.gpt: unknown provider 'opnai'"});
}

TEST(ConfigLoad, ReportsUnknownAndRepeatedRouteTargets) {
  const LoadResult result = load(std::string(kMinimal) + R"(routes:
  default:
    targets:
      - m
      - x
      - m
      - fast
  fast: { targets: [m] }
)");
  EXPECT_EQ(printed(result),
            (std::vector<std::string>{
                "test.yaml:9:9: routes.default: unknown model 'x'",
                "test.yaml:10:9: routes.default: model 'm' is listed twice (first at line 8)",
                "test.yaml:11:9: routes.default: unknown model 'fast' (a route cannot target "
                "another route)",
            }));
}

TEST(ConfigLoad, ReportsARouteNamedLikeAModel) {
  const LoadResult result = load(std::string(kMinimal) + R"(routes:
  m: { targets: [m] }
)");
  EXPECT_EQ(printed(result),
            std::vector<std::string>{"test.yaml:6:3: routes.m: name 'm' is also a model (line 4)"});
}

TEST(ConfigLoad, ReportsDuplicateKeysThatYamlCppWouldKeepSilently) {
  const std::string path = kDataDir + "duplicate_keys.yaml";
  const LoadResult result = load_config_file(path, env_from({}));
  EXPECT_EQ(printed(result),
            (std::vector<std::string>{
                path + ":4:3: duplicate key 'openai' in providers (first at line 3)",
                path + ":9:5: duplicate key 'context' in models.gpt (first at line 8)",
                path + ":10:1: duplicate key 'models' at the top level (first at line 5)",
            }));
}

TEST(ConfigLoad, ReportsDuplicateKeysInFlowMappings) {
  const LoadResult result = load(std::string(kMinimal) + "log: { level: info, level: debug }\n");
  EXPECT_EQ(printed(result), std::vector<std::string>{
                                 "test.yaml:5:21: duplicate key 'level' in log (first at line 5)"});
}

TEST(ConfigLoad, ReportsBadBaseUrlsWithTheReason) {
  const LoadResult result = load(R"(providers:
  a: { type: openai, base_url: ftp://example.com }
  b: { type: openai, base_url: "https://:443/v1" }
  c: { type: openai, base_url: "https://example.com:0" }
  d: { type: openai, base_url: "https://user:pw@example.com" }
  e: { type: openai, base_url: "https://example.com/v1?x=1" }
  f: { type: openai, base_url: "https://example.com/v1#top" }
  g: { type: openai, base_url: example.com/v1 }
models:
  m: { provider: a }
)");
  EXPECT_EQ(printed(result),
            (std::vector<std::string>{
                "test.yaml:2:32: providers.a.base_url: scheme must be http or https, got 'ftp'",
                "test.yaml:3:32: providers.b.base_url: missing host",
                "test.yaml:4:32: providers.c.base_url: port must be 1..65535, got '0'",
                "test.yaml:5:32: providers.d.base_url: user info (user:password@) is not allowed; "
                "put credentials in api_key",
                "test.yaml:6:32: providers.e.base_url: a query string is not allowed",
                "test.yaml:7:32: providers.f.base_url: a fragment is not allowed",
                "test.yaml:8:32: providers.g.base_url: expected a URL starting with http:// or "
                "https://",
            }));
}

TEST(ConfigLoad, RejectsPlainHttpToARemoteHostUnlessAllowed) {
  const LoadResult rejected = load(R"(providers:
  p: { type: openai, base_url: "http://api.example.com/v1" }
  local: { type: openai, base_url: "http://10.1.2.3:8000/v1" }
models:
  m: { provider: p }
)");
  EXPECT_EQ(
      printed(rejected),
      std::vector<std::string>{"test.yaml:2:32: providers.p.base_url: plain http to non-local host "
                               "'api.example.com' (use https, or set allow_plain_http: true)"});

  const LoadResult allowed = load(R"(providers:
  p: { type: openai, base_url: "http://api.example.com/v1", allow_plain_http: true }
models:
  m: { provider: p }
)");
  ASSERT_TRUE(allowed.config.has_value()) << joined(allowed);
  EXPECT_FALSE(allowed.config->providers[0].base_url.tls);
  EXPECT_EQ(allowed.config->providers[0].base_url.port, 80);
}

TEST(ConfigLoad, ReportsAMissingCaFileResolvedAgainstTheConfigDirectory) {
  const std::string path = kDataDir + "missing_ca_file.yaml";
  const LoadResult result = load_config_file(path, env_from({}));
  EXPECT_EQ(printed(result),
            std::vector<std::string>{path + ":5:14: providers.corp.ca_file: cannot read '" +
                                     kDataDir + "certs/missing.pem': No such file or directory"});
}

TEST(ConfigLoad, ReportsInvalidListenAddressesTypesAndHeaders) {
  const LoadResult result = load(R"(server: { listen: "localhost:8080" }
log: { level: verbose }
providers:
  p:
    type: anthropik
    base_url: https://api.example.com
    forward_headers: ["*", "x bad", "x-ok-*", "", "a*b"]
models:
  m: { provider: p, context: -5 }
)");
  EXPECT_EQ(printed(result),
            (std::vector<std::string>{
                "test.yaml:1:19: server.listen: host must be an IP address such as 0.0.0.0, "
                "127.0.0.1 or [::], got 'localhost'",
                "test.yaml:2:15: log.level: expected one of trace, debug, info, warn, error, off, "
                "got 'verbose'",
                "test.yaml:5:11: providers.p.type: expected one of openai, anthropic, gemini, "
                "azure, got 'anthropik'",
                "test.yaml:7:23: providers.p.forward_headers[0]: '*' alone would forward every "
                "header, credentials included",
                "test.yaml:7:28: providers.p.forward_headers[1]: 'x bad' is not a header name (a "
                "trailing * matches a prefix)",
                "test.yaml:7:47: providers.p.forward_headers[3]: '' is not a header name (a "
                "trailing * matches a prefix)",
                "test.yaml:7:51: providers.p.forward_headers[4]: 'a*b' is not a header name (a "
                "trailing * matches a prefix)",
                "test.yaml:9:30: models.m.context: expected an integer >= 0, got '-5'",
            }));
}

TEST(ConfigLoad, ReportsNoModelsAtTheTopOfTheFile) {
  EXPECT_EQ(printed(load("")), std::vector<std::string>{"test.yaml:1:1: no models configured"});
  EXPECT_EQ(printed(load("# just a comment\nlog: { level: warn }\n")),
            std::vector<std::string>{"test.yaml:1:1: no models configured"});
  EXPECT_EQ(printed(load("models: {}\n")),
            std::vector<std::string>{"test.yaml:1:1: no models configured"});
}

TEST(ConfigLoad, ReportsATopLevelThatIsNotAMapping) {
  EXPECT_EQ(
      printed(load("- a\n- b\n")),
      std::vector<std::string>{"test.yaml:1:1: expected a mapping at the top level, got a list"});
}

TEST(ConfigLoad, ReportsEveryProblemInOneFileSortedByPosition) {
  const std::string path = kDataDir + "multiple_errors.yaml";
  const LoadResult result = load_config_file(path, env_from({}));
  EXPECT_FALSE(result.config.has_value());
  std::vector<std::string> expected{
      "4:12: server.workers: expected an integer 0..1024, got 'many'",
      "5:13: server.max_body: expected a size like 8MiB, 16KiB or 512 (bytes), got 'lots'",
      "7:10: log.level: expected one of trace, debug, info, warn, error, off, got 'verbose'",
      "8:3: unknown key 'colour' in log (expected one of: level, requests, format, file)",
      "11:5: providers.openai: missing required key 'base_url'",
      "12:14: providers.openai.api_key: environment variable 'OPENAI_API_KEY' is not set",
      "15:15: providers.plain.base_url: plain http to non-local host 'api.example.com' (use "
      "https, or set allow_plain_http: true)",
      "17:20: models.gpt: unknown provider 'opnai'",
      "17:34: models.gpt.input: expected a number >= 0, got '-1'",
      "20:30: routes.default: unknown model 'x'",
      "20:33: routes.default: model 'mini' is listed twice (first at line 20)",
      "21:3: routes.gpt: name 'gpt' is also a model (line 17)",
  };
  for (std::string& line : expected) line = path + ":" + line;
  EXPECT_EQ(printed(result), expected);
}

TEST(ConfigLoad, DoesNotReportReferencesIntoAMalformedSection) {
  // The providers map itself is wrong; "unknown provider" for every model would only be noise.
  const LoadResult result = load(R"(providers: [openai]
models:
  m: { provider: openai }
)");
  EXPECT_EQ(printed(result),
            std::vector<std::string>{"test.yaml:1:12: providers: expected a mapping, got a list"});
}

}  // namespace
}  // namespace switchyard::config
