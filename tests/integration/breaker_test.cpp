// A target's health as the dispatcher keeps it — its circuit breaker, its run of failures, a
// pause an upstream asked for, its measured latency and load — and how that orders a route's
// plan: what is tried first, what is tried last, what is left out.
#include <gtest/gtest.h>

#include <thread>

#include "harness.hpp"

namespace switchyard::testing {
namespace {

struct Upstream {
  std::string name;
  int port;
};

// Providers `name` (forwarding x-mock-* headers) with models m-<name>, one route "chain" over
// them in the given order; `route` adds keys to the route (indented by 4), `tail` top-level
// sections.
std::string config_for(const std::vector<Upstream>& upstreams, const std::string& route,
                       const std::string& tail) {
  std::string text = "providers:\n";
  for (const auto& u : upstreams) {
    text += "  " + u.name +
            ":\n    type: openai\n    base_url: http://127.0.0.1:" + std::to_string(u.port) +
            "/v1\n    api_key: sk-" + u.name + "-key\n    forward_headers: [\"x-mock-*\"]\n";
  }
  text += "models:\n";
  std::string targets;
  for (const auto& u : upstreams) {
    text += "  m-" + u.name + ": { provider: " + u.name + ", name: upstream-" + u.name + " }\n";
    targets += (targets.empty() ? "" : ", ") + ("m-" + u.name);
  }
  text += "routes:\n  chain:\n    targets: [" + targets + "]\n" + route;
  return text + tail;
}

json admin_health(const Gateway& gw) {
  HttpClient client(gw.port());
  return client.get("/admin/health").json_body();
}

json target_health(const Gateway& gw, const std::string& model) {
  const json health = admin_health(gw);
  for (const auto& t : health["targets"])
    if (t["model"] == model) return t;
  return json{};
}

json route_plan(const Gateway& gw) {
  return admin_health(gw)["routes"][0]["plan"];
}

// Headers that make one request fail on the mock called `target` only.
std::vector<std::pair<std::string, std::string>> failing_on(const std::string& target,
                                                            const std::string& status = "500") {
  return {{"x-mock-status", status}, {"x-mock-target", target}};
}

// Three tries of a target per request, close together, so one request can trip a breaker that
// opens after three failures in a row.
constexpr const char* kThreeQuickTries =
    "    retry: { attempts: 3, backoff_base: 1ms, backoff_cap: 2ms }\n";

TEST(Breaker, SkipsATargetFailingEveryRequestOnceItOpens) {
  TempDir dir;
  Mock primary(dir, "primary");
  Mock fallback(dir, "fallback");
  set_mock_defaults(primary, {{"status", "500"}});
  Gateway gw(dir, config_for({{"primary", primary.port()}, {"fallback", fallback.port()}},
                             kThreeQuickTries,
                             "resilience:\n  breaker: { consecutive_failures: 3, "
                             "min_requests: 1000, cooldown: 60s }\n"));
  HttpClient client(gw.port());

  const auto first = client.post_json("/v1/chat/completions", chat_body("chain"));
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(first.header("x-switchyard-provider"), "fallback");
  EXPECT_EQ(first.header("x-switchyard-attempts"), "4");
  ASSERT_EQ(chat_requests(primary), 3);

  for (int i = 0; i < 5; ++i) {
    const auto r = client.post_json("/v1/chat/completions", chat_body("chain"));
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.header("x-switchyard-provider"), "fallback");
    EXPECT_EQ(r.header("x-switchyard-attempts"), "1");
  }
  EXPECT_EQ(chat_requests(primary), 3);
  EXPECT_EQ(chat_requests(fallback), 6);

  const auto health = admin_health(gw);
  const auto& target = health["targets"][0];
  EXPECT_EQ(target["model"], "m-primary");
  EXPECT_EQ(target["breaker"], "open");
  EXPECT_EQ(target["cooling_down"], false);
  EXPECT_EQ(target["consecutive_failures"], 3);
  EXPECT_EQ(target["window"]["failures"], 3);
  EXPECT_EQ(health["targets"][1]["breaker"], "closed");
  EXPECT_EQ(health["routes"][0]["plan"], json({"m-fallback"}));
  EXPECT_GE(health["counters"]["breaker_skips"].get<int>(), 5);
}

TEST(Breaker, OpensWhenTheErrorRateInItsWindowReachesTheThreshold) {
  TempDir dir;
  Mock primary(dir, "primary");
  Mock fallback(dir, "fallback");
  Gateway gw(dir, config_for({{"primary", primary.port()}, {"fallback", fallback.port()}},
                             "    retry: { attempts: 1 }\n",
                             "resilience:\n  breaker: { consecutive_failures: 0, "
                             "min_requests: 4, error_rate: 0.5, cooldown: 60s }\n"));
  HttpClient client(gw.port());
  // Every other request fails: never two in a row, so neither demotion nor a failure run plays
  // a part, only the window's 2 failures in 4.
  for (int i = 0; i < 4; ++i) {
    const bool fail = i % 2 == 1;
    const auto r = client.post_json("/v1/chat/completions", chat_body("chain"),
                                    fail ? failing_on("primary") : decltype(failing_on("")){});
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.header("x-switchyard-provider"), fail ? "fallback" : "primary") << i;
  }
  EXPECT_TRUE(eventually([&] { return target_health(gw, "m-primary")["breaker"] == "open"; }))
      << target_health(gw, "m-primary").dump();
  const auto window = target_health(gw, "m-primary")["window"];
  EXPECT_EQ(window["requests"], 4);
  EXPECT_EQ(window["failures"], 2);
  EXPECT_DOUBLE_EQ(window["error_rate"].get<double>(), 0.5);

  const auto r = client.post_json("/v1/chat/completions", chat_body("chain"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("x-switchyard-provider"), "fallback");
  EXPECT_EQ(chat_requests(primary), 4);
}

TEST(Breaker, ProbesAfterTheCooldownAndRestoresARecoveredTarget) {
  TempDir dir;
  Mock primary(dir, "primary");
  Mock fallback(dir, "fallback");
  set_mock_defaults(primary, {{"status", "500"}});
  Gateway gw(dir, config_for({{"primary", primary.port()}, {"fallback", fallback.port()}},
                             kThreeQuickTries,
                             "resilience:\n  breaker: { consecutive_failures: 3, "
                             "min_requests: 1000, cooldown: 500ms }\n"));
  HttpClient client(gw.port());
  ASSERT_EQ(client.post_json("/v1/chat/completions", chat_body("chain")).status, 200);
  const auto opened = std::chrono::steady_clock::now();
  ASSERT_EQ(target_health(gw, "m-primary")["breaker"], "open");

  reset_mock(primary);  // recovered, but the breaker does not know yet
  std::string provider;
  ASSERT_TRUE(eventually(
      [&] {
        const auto r = client.post_json("/v1/chat/completions", chat_body("chain"));
        provider = r.header("x-switchyard-provider");
        return r.status == 200 && provider == "primary";
      },
      3000ms))
      << provider;
  // Not before the cooldown was over.
  EXPECT_GE(std::chrono::steady_clock::now() - opened, 450ms);
  EXPECT_EQ(chat_requests(primary), 1);  // the probe, after the reset

  EXPECT_TRUE(eventually([&] { return target_health(gw, "m-primary")["breaker"] == "closed"; }));
  const auto target = target_health(gw, "m-primary");
  EXPECT_EQ(target["consecutive_failures"], 0);
  EXPECT_EQ(target["window"]["failures"], 0);  // the failures that opened it are forgotten
  EXPECT_EQ(route_plan(gw), json({"m-primary", "m-fallback"}));

  const auto r = client.post_json("/v1/chat/completions", chat_body("chain"));
  EXPECT_EQ(r.header("x-switchyard-provider"), "primary");
  EXPECT_EQ(r.header("x-switchyard-attempts"), "1");
}

TEST(Breaker, AFailedProbeReopensTheBreaker) {
  TempDir dir;
  Mock primary(dir, "primary");
  Mock fallback(dir, "fallback");
  set_mock_defaults(primary, {{"status", "500"}});
  Gateway gw(dir, config_for({{"primary", primary.port()}, {"fallback", fallback.port()}},
                             kThreeQuickTries,
                             "resilience:\n  breaker: { consecutive_failures: 3, "
                             "min_requests: 1000, cooldown: 500ms }\n"));
  HttpClient client(gw.port());
  ASSERT_EQ(client.post_json("/v1/chat/completions", chat_body("chain")).status, 200);
  ASSERT_EQ(chat_requests(primary), 3);

  // After the cooldown one request probes the primary: once, not three times, and the fallback
  // still answers it.
  int n = 0;
  ASSERT_TRUE(eventually(
      [&] {
        const auto r = client.post_json("/v1/chat/completions", chat_body("chain"),
                                        {{"x-request-id", "r" + std::to_string(++n)}});
        EXPECT_EQ(r.status, 200) << r.body;
        EXPECT_EQ(r.header("x-switchyard-provider"), "fallback");
        return chat_requests(primary) > 3;
      },
      3000ms));
  EXPECT_EQ(chat_requests(primary), 4);
  const auto log = gw.request_log("r" + std::to_string(n));
  ASSERT_EQ(log["attempts"].size(), 2u) << log.dump();
  EXPECT_EQ(log["attempts"][0]["provider"], "primary");
  EXPECT_EQ(log["attempts"][0]["status"], 500);
  EXPECT_EQ(log["attempts"][1]["provider"], "fallback");

  const auto target = target_health(gw, "m-primary");
  EXPECT_EQ(target["breaker"], "open");
  EXPECT_GT(target["open_for_ms"].get<int>(), 300);  // a whole new cooldown
  for (int i = 0; i < 5; ++i) {
    const auto r = client.post_json("/v1/chat/completions", chat_body("chain"));
    EXPECT_EQ(r.header("x-switchyard-provider"), "fallback");
    EXPECT_EQ(r.header("x-switchyard-attempts"), "1");
  }
  EXPECT_EQ(chat_requests(primary), 4);
}

TEST(Breaker, TriesTheLeastRecentlyOpenedTargetWhenAllAreOpen) {
  TempDir dir;
  Mock primary(dir, "primary");
  Mock fallback(dir, "fallback");
  set_mock_defaults(primary, {{"status", "500"}});
  set_mock_defaults(fallback, {{"status", "500"}});
  Gateway gw(dir, config_for({{"primary", primary.port()}, {"fallback", fallback.port()}},
                             "    retry: { attempts: 1 }\n",
                             "resilience:\n  breaker: { consecutive_failures: 1, "
                             "min_requests: 1000, cooldown: 60s }\n"));
  HttpClient client(gw.port());

  auto r = client.post_json("/v1/chat/completions", chat_body("chain"));
  EXPECT_EQ(r.status, 502);
  EXPECT_EQ(r.header("x-switchyard-attempts"), "2");  // both tried, both open now
  ASSERT_EQ(chat_requests(primary), 1);
  ASSERT_EQ(chat_requests(fallback), 1);

  // Never refused untried: each request goes to the target opened longest ago, and its failure
  // reopens it, so the two take turns.
  const std::vector<std::string> turns{"primary", "fallback", "primary"};
  for (std::size_t i = 0; i < turns.size(); ++i) {
    r = client.post_json("/v1/chat/completions", chat_body("chain"));
    EXPECT_EQ(r.status, 502) << r.body;
    EXPECT_EQ(r.header("x-switchyard-attempts"), "1") << i;
    EXPECT_EQ(r.header("x-switchyard-provider"), turns[i]) << i;
  }
  EXPECT_EQ(chat_requests(primary), 3);
  EXPECT_EQ(chat_requests(fallback), 2);

  // The fallback recovers: its turn comes, its probe succeeds and closes its breaker.
  reset_mock(fallback);
  r = client.post_json("/v1/chat/completions", chat_body("chain"));
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("x-switchyard-provider"), "fallback");
  EXPECT_TRUE(eventually([&] { return target_health(gw, "m-fallback")["breaker"] == "closed"; }));
  r = client.post_json("/v1/chat/completions", chat_body("chain"));
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("x-switchyard-provider"), "fallback");
  EXPECT_EQ(chat_requests(primary), 3);
}

TEST(Breaker, A429WithRetryAfterCoolsTheTargetDown) {
  TempDir dir;
  Mock primary(dir, "primary");
  Mock fallback(dir, "fallback");
  Gateway gw(dir, config_for({{"primary", primary.port()}, {"fallback", fallback.port()}}, "", ""));
  HttpClient client(gw.port());
  const auto started = std::chrono::steady_clock::now();
  auto headers = failing_on("primary", "429");
  headers.emplace_back("x-mock-retry-after", "2");
  auto r = client.post_json("/v1/chat/completions", chat_body("chain"), headers);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("x-switchyard-provider"), "fallback");
  EXPECT_EQ(r.header("x-switchyard-attempts"), "2");

  const auto target = target_health(gw, "m-primary");
  EXPECT_EQ(target["breaker"], "open");
  EXPECT_EQ(target["cooling_down"], true);
  EXPECT_GT(target["open_for_ms"].get<int>(), 1000);
  EXPECT_LE(target["open_for_ms"].get<int>(), 2000);

  // The primary answers again, but is left alone until the time it named.
  for (int i = 0; i < 3; ++i) {
    r = client.post_json("/v1/chat/completions", chat_body("chain"));
    EXPECT_EQ(r.header("x-switchyard-provider"), "fallback");
    EXPECT_EQ(r.header("x-switchyard-attempts"), "1");
  }
  EXPECT_EQ(chat_requests(primary), 1);

  ASSERT_TRUE(eventually(
      [&] {
        return client.post_json("/v1/chat/completions", chat_body("chain"))
                   .header("x-switchyard-provider") == "primary";
      },
      5000ms));
  EXPECT_GE(std::chrono::steady_clock::now() - started, 1900ms);
  EXPECT_TRUE(eventually([&] {
    const auto t = target_health(gw, "m-primary");
    return t["breaker"] == "closed" && t["cooling_down"] == false;
  }));
}

TEST(Breaker, PromotesTheFallbackAfterThePrimaryFailedTwice) {
  TempDir dir;
  Mock primary(dir, "primary");
  Mock fallback(dir, "fallback");
  Gateway gw(dir, config_for({{"primary", primary.port()}, {"fallback", fallback.port()}},
                             "    retry: { attempts: 1 }\n",
                             "resilience:\n  breaker: { consecutive_failures: 5, "
                             "min_requests: 1000 }\n"));
  HttpClient client(gw.port());
  const auto once =
      client.post_json("/v1/chat/completions", chat_body("chain"), failing_on("primary"));
  EXPECT_EQ(once.header("x-switchyard-attempts"), "2");
  // One failure: the primary is still first.
  EXPECT_EQ(route_plan(gw), json({"m-primary", "m-fallback"}));
  const auto twice =
      client.post_json("/v1/chat/completions", chat_body("chain"), failing_on("primary"));
  EXPECT_EQ(twice.header("x-switchyard-attempts"), "2");
  EXPECT_EQ(chat_requests(primary), 2);

  const auto target = target_health(gw, "m-primary");
  EXPECT_EQ(target["breaker"], "closed");
  EXPECT_EQ(target["consecutive_failures"], 2);
  EXPECT_EQ(route_plan(gw), json({"m-fallback", "m-primary"}));
  const auto r = client.post_json("/v1/chat/completions", chat_body("chain"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("x-switchyard-provider"), "fallback");
  EXPECT_EQ(r.header("x-switchyard-attempts"), "1");
  EXPECT_EQ(chat_requests(primary), 2);

  // Demoted, not dropped: when the fallback fails too, the primary is still tried.
  const auto both =
      client.post_json("/v1/chat/completions", chat_body("chain"), failing_on("fallback", "503"));
  ASSERT_EQ(both.status, 200) << both.body;
  EXPECT_EQ(both.header("x-switchyard-provider"), "primary");
  EXPECT_EQ(both.header("x-switchyard-attempts"), "2");
}

TEST(Breaker, ADemotedPrimaryWinsItsTrafficBackOnceItRecovers) {
  // Two passing 500s demote the primary. It is healthy again at once; within a few breaker
  // cooldowns (the time after which even an open breaker would let a probe through) it should
  // be serving the route again.
  TempDir dir;
  Mock primary(dir, "primary");
  Mock fallback(dir, "fallback");
  Gateway gw(dir, config_for({{"primary", primary.port()}, {"fallback", fallback.port()}},
                             "    retry: { attempts: 1 }\n",
                             "resilience:\n  breaker: { cooldown: 300ms }\n"));
  HttpClient client(gw.port());
  for (int i = 0; i < 2; ++i) {
    const auto r =
        client.post_json("/v1/chat/completions", chat_body("chain"), failing_on("primary"));
    ASSERT_EQ(r.header("x-switchyard-provider"), "fallback");
  }
  ASSERT_EQ(route_plan(gw), json({"m-fallback", "m-primary"}));

  EXPECT_TRUE(eventually(
      [&] {
        return client.post_json("/v1/chat/completions", chat_body("chain"))
                   .header("x-switchyard-provider") == "primary";
      },
      3000ms))
      << "primary never tried again; its health: " << target_health(gw, "m-primary").dump()
      << ", plan: " << route_plan(gw).dump();
}

// ---- Ranking: the order the strategies give a route's plan ----------------------------------

TEST(Ranking, LowestLatencyPrefersTheFasterTargetOnceBothAreMeasured) {
  TempDir dir;
  Mock slow(dir, {"slow", {"--delay-ms", "60"}});
  Mock fast(dir, "fast");
  Gateway gw(dir, config_for({{"slow", slow.port()}, {"fast", fast.port()}},
                             "    strategy: lowest_latency\n", "resilience:\n  explore: 0\n"));
  HttpClient client(gw.port());
  // Unmeasured targets go first so they get measured: the slow one too, at first.
  ASSERT_TRUE(eventually(
      [&] {
        EXPECT_EQ(client.post_json("/v1/chat/completions", chat_body("chain")).status, 200);
        const auto health = admin_health(gw);
        return health["targets"][0]["window"]["requests"].get<int>() >= 5 &&
               health["targets"][1]["window"]["requests"].get<int>() >= 5;
      },
      5000ms));
  const int slow_before = chat_requests(slow);
  EXPECT_LE(slow_before, 7);  // the measuring, give or take a sample still being recorded
  EXPECT_EQ(route_plan(gw), json({"m-fast", "m-slow"}));
  for (int i = 0; i < 20; ++i) {
    const auto r = client.post_json("/v1/chat/completions", chat_body("chain"));
    EXPECT_EQ(r.header("x-switchyard-provider"), "fast") << i;
  }
  EXPECT_EQ(chat_requests(slow), slow_before);
  const auto health = admin_health(gw);
  EXPECT_GE(health["targets"][0]["ttfb_ewma_ms"].get<int>(), 50);
  EXPECT_LT(health["targets"][1]["ttfb_ewma_ms"].get<int>(), 30);
}

TEST(Ranking, WeightedSplitsTrafficByWeight) {
  TempDir dir;
  Mock a(dir, "a");
  Mock b(dir, "b");
  Gateway gw(dir, config_for({{"a", a.port()}, {"b", b.port()}},
                             "    strategy: weighted\n    weights: { m-a: 3, m-b: 1 }\n", ""));
  HttpClient client(gw.port());
  for (int i = 0; i < 200; ++i)
    ASSERT_EQ(client.post_json("/v1/chat/completions", chat_body("chain")).status, 200);
  const int to_a = chat_requests(a);
  const int to_b = chat_requests(b);
  EXPECT_EQ(to_a + to_b, 200);
  // 150 expected, standard deviation about 6: a band of ±5 deviations.
  EXPECT_GE(to_a, 120);
  EXPECT_LE(to_a, 180);
}

TEST(Ranking, LeastBusySendsANewRequestToTheTargetWithFewerInFlight) {
  TempDir dir;
  Mock a(dir, "a");
  Mock b(dir, "b");
  Gateway gw(dir, config_for({{"a", a.port()}, {"b", b.port()}}, "    strategy: least_busy\n",
                             "resilience:\n  explore: 0\n"));
  // Equally idle: route order, so the slow request lands on a.
  std::jthread slow([&] {
    HttpClient client(gw.port());
    const auto r =
        client.post_json("/v1/chat/completions", chat_body("chain"), {{"x-mock-delay-ms", "1500"}});
    EXPECT_EQ(r.header("x-switchyard-provider"), "a");
  });
  ASSERT_TRUE(eventually([&] { return target_health(gw, "m-a")["in_flight"] == 1; }));
  EXPECT_EQ(route_plan(gw), json({"m-b", "m-a"}));
  HttpClient client(gw.port());
  for (int i = 0; i < 3; ++i) {
    const auto r = client.post_json("/v1/chat/completions", chat_body("chain"));
    EXPECT_EQ(r.header("x-switchyard-provider"), "b") << i;
  }
  slow.join();
  EXPECT_TRUE(eventually([&] { return target_health(gw, "m-a")["in_flight"] == 0; }));
  EXPECT_EQ(
      client.post_json("/v1/chat/completions", chat_body("chain")).header("x-switchyard-provider"),
      "a");
}

}  // namespace
}  // namespace switchyard::testing
