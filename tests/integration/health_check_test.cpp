// Active health checks: the gateway probes each provider that has a `health_check`, moves the
// targets of one that fails behind the others, reports it in /admin/health and /readyz, and logs
// when a provider goes down and comes back.
#include <gtest/gtest.h>

#include "harness.hpp"

namespace switchyard::testing {
namespace {

constexpr const char* kQuickCheck =
    "    health_check: { path: /models, interval: 200ms, timeout: 100ms, expect_status: 200, "
    "failures: 1 }\n";

struct Upstream {
  std::string name;
  int port;
  std::string health_check = kQuickCheck;  // provider keys, indented by 4
};

// Providers `name` with models m-<name> and route "chain" over them, in the given order.
std::string checked_config(const std::vector<Upstream>& upstreams) {
  std::string text = "providers:\n";
  for (const auto& u : upstreams) {
    text += "  " + u.name +
            ":\n    type: openai\n    base_url: http://127.0.0.1:" + std::to_string(u.port) +
            "/v1\n    api_key: sk-" + u.name + "-key\n" + u.health_check;
  }
  text += "models:\n";
  std::string targets;
  for (const auto& u : upstreams) {
    text += "  m-" + u.name + ": { provider: " + u.name + ", name: upstream-" + u.name + " }\n";
    targets += (targets.empty() ? "" : ", ") + ("m-" + u.name);
  }
  return text + "routes:\n  chain: { targets: [" + targets + "] }\n";
}

json admin_health(const Gateway& gw) {
  HttpClient client(gw.port());
  return client.get("/admin/health").json_body();
}

json provider_health(const Gateway& gw, const std::string& name) {
  const json health = admin_health(gw);
  for (const auto& p : health["providers"])
    if (p["name"] == name) return p;
  return json{};
}

bool healthy(const Gateway& gw, const std::string& name) {
  return provider_health(gw, name).value("healthy", false);
}

bool unhealthy(const Gateway& gw, const std::string& name) {
  return !provider_health(gw, name).value("healthy", true);
}

Response readyz(const Gateway& gw) {
  HttpClient client(gw.port());
  return client.get("/readyz");
}

int probes_seen(Mock& mock) {
  return mock.stats()["requests"].value("GET /v1/models", 0);
}

bool logged(Gateway& gw, const std::string& event, const std::string& provider) {
  for (const auto& line : gw.log_lines()) {
    if (line.is_object() && line.value("event", "") == event &&
        line.value("message", "").find("'" + provider + "'") != std::string::npos)
      return true;
  }
  return false;
}

TEST(HealthCheck, ProbesThePathUnderTheBaseUrlAndReportsIt) {
  TempDir dir;
  Mock primary(dir, "primary");
  Gateway gw(dir, checked_config({{"primary", primary.port()}}));
  EXPECT_TRUE(eventually([&] { return probes_seen(primary) >= 2; }, 3000ms));
  const auto probe = primary.requests()[0];
  EXPECT_EQ(probe["method"], "GET");
  EXPECT_EQ(probe["path"], "/v1/models");
  EXPECT_EQ(probe["headers"].value("authorization", ""), "Bearer sk-primary-key");

  const auto p = provider_health(gw, "primary");
  EXPECT_EQ(p["healthy"], true);
  EXPECT_EQ(p["health_check"]["path"], "/models");
  EXPECT_EQ(p["health_check"]["interval_ms"], 200);
  EXPECT_GE(p["health_check"]["probes"].get<int>(), 1);
  EXPECT_EQ(p["health_check"]["failed_in_a_row"], 0);
  EXPECT_EQ(p["health_check"]["last_status"], 200);
  // Probes are not requests: nothing in the request log, nothing on the chat endpoint.
  EXPECT_EQ(chat_requests(primary), 0);
  for (const auto& line : gw.log_lines()) {
    if (!line.is_object()) continue;
    EXPECT_NE(line.value("event", ""), "request");
  }
}

TEST(HealthCheck, MovesAnUnhealthyProvidersTargetsBehindHealthyOnes) {
  TempDir dir;
  Mock primary(dir, "primary");
  Mock fallback(dir, "fallback");
  Gateway gw(dir, checked_config({{"primary", primary.port()}, {"fallback", fallback.port()}}));
  HttpClient client(gw.port());
  auto r = client.post_json("/v1/chat/completions", chat_body("chain"));
  EXPECT_EQ(r.header("x-switchyard-provider"), "primary");

  set_mock_defaults(primary, {{"status", "503"}});
  ASSERT_TRUE(eventually([&] { return unhealthy(gw, "primary"); }, 3000ms));
  const auto health = admin_health(gw);
  EXPECT_EQ(health["providers"][0]["health_check"]["last_status"], 503);
  EXPECT_GE(health["providers"][0]["health_check"]["failed_in_a_row"].get<int>(), 1);
  EXPECT_EQ(health["routes"][0]["plan"], json({"m-fallback", "m-primary"}));
  // Its breaker has nothing against it: it is the health check that moved it.
  EXPECT_EQ(health["targets"][0]["breaker"], "closed");
  EXPECT_EQ(health["targets"][0]["consecutive_failures"], 0);

  const int before = chat_requests(primary);
  for (int i = 0; i < 3; ++i) {
    r = client.post_json("/v1/chat/completions", chat_body("chain"));
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.header("x-switchyard-provider"), "fallback");
    EXPECT_EQ(r.header("x-switchyard-attempts"), "1");
  }
  EXPECT_EQ(chat_requests(primary), before);
}

TEST(HealthCheck, RestoresAProviderWhenAProbePassesAgain) {
  TempDir dir;
  Mock primary(dir, "primary");
  Mock fallback(dir, "fallback");
  Gateway gw(dir, checked_config({{"primary", primary.port()}, {"fallback", fallback.port()}}));
  set_mock_defaults(primary, {{"status", "500"}});
  ASSERT_TRUE(eventually([&] { return unhealthy(gw, "primary"); }, 3000ms));
  HttpClient client(gw.port());
  EXPECT_EQ(
      client.post_json("/v1/chat/completions", chat_body("chain")).header("x-switchyard-provider"),
      "fallback");

  reset_mock(primary);
  ASSERT_TRUE(eventually([&] { return healthy(gw, "primary"); }, 3000ms));
  EXPECT_EQ(admin_health(gw)["routes"][0]["plan"], json({"m-primary", "m-fallback"}));
  const auto r = client.post_json("/v1/chat/completions", chat_body("chain"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("x-switchyard-provider"), "primary");
  EXPECT_EQ(r.header("x-switchyard-attempts"), "1");
}

TEST(HealthCheck, CountsAProbeSlowerThanItsTimeoutAsFailed) {
  TempDir dir;
  Mock primary(dir, "primary");
  Mock fallback(dir, "fallback");
  Gateway gw(dir, checked_config({{"primary", primary.port()}, {"fallback", fallback.port()}}));
  set_mock_defaults(primary, {{"delay-ms", "400"}});  // the probe's timeout is 100 ms
  ASSERT_TRUE(eventually([&] { return unhealthy(gw, "primary"); }, 3000ms));
  // Slow, not broken: when it is the only one left it still serves.
  HttpClient client(gw.port());
  const auto r = client.post_json("/v1/chat/completions", chat_body("chain"));
  EXPECT_EQ(r.header("x-switchyard-provider"), "fallback");
}

TEST(HealthCheck, MarksAProviderDownOnlyAfterItsFailuresInARow) {
  TempDir dir;
  Mock primary(dir, "primary");
  Mock fallback(dir, "fallback");
  const std::string three_failures =
      "    health_check: { path: /models, interval: 100ms, timeout: 80ms, failures: 3 }\n";
  Gateway gw(dir, checked_config({{"primary", primary.port(), three_failures},
                                  {"fallback", fallback.port(), ""}}));
  set_mock_defaults(primary, {{"status", "500"}});
  bool saw_failing_but_healthy = false;
  ASSERT_TRUE(eventually(
      [&] {
        // Read in one snapshot; the checker counts a failure before it flips `healthy`.
        const auto p = provider_health(gw, "primary");
        const int failed = p["health_check"]["failed_in_a_row"];
        if (p["healthy"] == true) {
          EXPECT_LT(failed, 3) << p.dump();
          saw_failing_but_healthy = saw_failing_but_healthy || failed > 0;
          return false;
        }
        EXPECT_GE(failed, 3) << p.dump();
        return true;
      },
      3000ms));
  EXPECT_TRUE(saw_failing_but_healthy);
}

TEST(HealthCheck, ReportsNotReadyWhileNoProviderIsHealthy) {
  TempDir dir;
  Mock primary(dir, "primary");
  Mock fallback(dir, "fallback");
  Gateway gw(dir, checked_config({{"primary", primary.port()}, {"fallback", fallback.port()}}));
  auto r = readyz(gw);
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json_body()["status"], "ready");
  EXPECT_EQ(r.json_body()["providers"], json({{"primary", "healthy"}, {"fallback", "healthy"}}));

  set_mock_defaults(primary, {{"status", "503"}});
  ASSERT_TRUE(eventually([&] { return unhealthy(gw, "primary"); }, 3000ms));
  r = readyz(gw);
  EXPECT_EQ(r.status, 200) << "one healthy provider is enough: " << r.body;
  EXPECT_EQ(r.json_body()["providers"]["primary"], "unhealthy");

  set_mock_defaults(fallback, {{"status", "503"}});
  ASSERT_TRUE(eventually([&] { return readyz(gw).status == 503; }, 3000ms));
  r = readyz(gw);
  EXPECT_EQ(r.json_body()["status"], "no_healthy_provider");
  EXPECT_EQ(r.json_body()["providers"],
            json({{"primary", "unhealthy"}, {"fallback", "unhealthy"}}));
  // Liveness is another question: the process is fine.
  HttpClient client(gw.port());
  EXPECT_EQ(client.get("/healthz").status, 200);

  reset_mock(fallback);
  ASSERT_TRUE(eventually([&] { return readyz(gw).status == 200; }, 3000ms));
  EXPECT_EQ(readyz(gw).json_body()["status"], "ready");
}

TEST(HealthCheck, StillTriesEveryTargetWhenEveryProviderIsUnhealthy) {
  TempDir dir;
  Mock primary(dir, "primary");
  Mock fallback(dir, "fallback");
  Gateway gw(dir, checked_config({{"primary", primary.port()}, {"fallback", fallback.port()}}));
  // Probes time out (400 ms against 100 ms) but requests are served, late.
  set_mock_defaults(primary, {{"delay-ms", "400"}});
  set_mock_defaults(fallback, {{"delay-ms", "400"}});
  ASSERT_TRUE(eventually([&] { return readyz(gw).status == 503; }, 3000ms));
  HttpClient client(gw.port());
  const auto r = client.post_json("/v1/chat/completions", chat_body("chain"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("x-switchyard-provider"), "primary");  // route order among the demoted
}

TEST(HealthCheck, LogsWhenAProviderGoesDownAndComesBack) {
  TempDir dir;
  Mock primary(dir, "primary");
  Mock fallback(dir, "fallback");
  Gateway gw(dir, checked_config({{"primary", primary.port()}, {"fallback", fallback.port()}}));
  ASSERT_TRUE(eventually([&] { return probes_seen(primary) >= 1; }, 3000ms));
  EXPECT_FALSE(logged(gw, "provider_unhealthy", "primary"));

  set_mock_defaults(primary, {{"status", "502"}});
  ASSERT_TRUE(eventually([&] { return logged(gw, "provider_unhealthy", "primary"); }, 3000ms));
  for (const auto& line : gw.log_lines()) {
    if (!line.is_object() || line.value("event", "") != "provider_unhealthy") continue;
    EXPECT_EQ(line["level"], "warning");
    EXPECT_NE(line.value("message", "").find("502"), std::string::npos) << line.dump();
  }
  EXPECT_FALSE(logged(gw, "provider_healthy", "primary"));

  reset_mock(primary);
  ASSERT_TRUE(eventually([&] { return logged(gw, "provider_healthy", "primary"); }, 3000ms));
  // Once each way: a transition is logged, not every probe.
  int down = 0, up = 0;
  for (const auto& line : gw.log_lines()) {
    if (!line.is_object()) continue;
    down += line.value("event", "") == "provider_unhealthy";
    up += line.value("event", "") == "provider_healthy";
  }
  EXPECT_EQ(down, 1);
  EXPECT_EQ(up, 1);
  EXPECT_FALSE(logged(gw, "provider_unhealthy", "fallback"));
}

}  // namespace
}  // namespace switchyard::testing
