// Several gateway processes on one Redis: limits and budgets hold for all of them together, and
// each falls back to counting alone when Redis goes away.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <thread>
#include <vector>

#include "harness.hpp"

namespace switchyard::testing {
namespace {

constexpr int kReplicas = 3;

// One mock provider (with `provider_extra` under it), a key `app` (with `key_extra`), a route
// `capped` with the given budget, all sharing state through `redis`.
std::string config_for(int mock_port, const RedisServer& redis, const std::string& key_extra,
                       const std::string& provider_extra = "", const std::string& budget = "") {
  return "server:\n  workers: 2\n"
         "providers:\n  local:\n    type: openai\n    base_url: http://127.0.0.1:" +
         std::to_string(mock_port) + "/v1\n" + provider_extra +
         // $0.001 a prompt token; the mock reports about 20 a request.
         "models:\n  small: { provider: local, input: 1000, output: 0 }\n"
         "routes:\n  capped: { targets: [small]" +
         budget +
         " }\n"
         "keys:\n  app: { sha256: " +
         hash_key("sk-app") + key_extra +
         " }\n"
         "redis:\n  url: " +
         redis.url() + "\n";
}

struct Fleet {
  Fleet(const TempDir& dir, const std::string& config) {
    for (int i = 0; i < kReplicas; ++i) {
      gateways.push_back(std::make_unique<Gateway>(dir, config));
      EXPECT_TRUE(redis_connected(*gateways.back(), 4));
      clients.push_back(std::make_unique<HttpClient>(gateways.back()->port()));
    }
  }
  // The i-th request goes to replica i mod 3.
  Response ask(int i, const std::string& model = "capped") {
    return clients[static_cast<std::size_t>(i % kReplicas)]->post_json(
        "/v1/chat/completions", chat_body(model), {{"authorization", "Bearer sk-app"}});
  }
  std::vector<std::unique_ptr<Gateway>> gateways;
  std::vector<std::unique_ptr<HttpClient>> clients;
};

// The micro-USD Redis holds for the route's minute window.
long long spent_micro(const RedisServer& redis) {
  const auto r = run_program("redis-cli", {"-p", std::to_string(redis.port()), "--no-raw", "EVAL",
                                           "local s = 0 for _, v in ipairs(redis.call('HVALS', "
                                           "KEYS[1])) do s = s + tonumber(v) end return s",
                                           "1", "switchyard:{spend:route:capped}:minute"});
  const auto colon = r.out.find(')');
  return std::stoll(colon == std::string::npos ? r.out : r.out.substr(colon + 1));
}

TEST(Replicas, AKeysRequestsPerMinuteHoldForAllReplicasTogether) {
  TempDir dir;
  RedisServer redis(dir);
  Mock mock(dir);
  Fleet fleet(dir, config_for(mock.port(), redis, ", rpm: 6"));
  int served = 0, limited = 0;
  for (int i = 0; i < 15; ++i) {
    const auto r = fleet.ask(i);
    if (r.status == 200) ++served;
    if (r.status == 429) {
      ++limited;
      EXPECT_EQ(r.json_body()["error"]["code"], "rate_limit_exceeded");
      EXPECT_FALSE(r.header("retry-after").empty());
    }
  }
  EXPECT_EQ(served, 6);
  EXPECT_EQ(limited, 9);
  EXPECT_EQ(chat_requests(mock), 6);
}

TEST(Replicas, AProvidersRequestsPerMinuteHoldForAllReplicasTogether) {
  TempDir dir;
  RedisServer redis(dir);
  Mock mock(dir);
  Fleet fleet(dir, config_for(mock.port(), redis, "", "    rate_limit: { rpm: 4 }\n"));
  int served = 0;
  for (int i = 0; i < 12; ++i) served += fleet.ask(i).status == 200;
  EXPECT_EQ(served, 4);
  EXPECT_EQ(chat_requests(mock), 4);
}

TEST(Replicas, ARouteBudgetHoldsForAllReplicasTogether) {
  TempDir dir;
  RedisServer redis(dir);
  Mock mock(dir);
  // $0.05 a minute; a request costs its prompt tokens × $0.001 (about $0.05 as the mock counts
  // them) and reserves its estimated prompt tokens × $0.001 (output is free).
  Fleet fleet(dir, config_for(mock.port(), redis, "", "", ", budget: { usd_per_minute: 0.05 }"));
  int served = 0;
  long long spent = 0, cost = 0, need = 0;
  for (int i = 0; i < 9; ++i) {
    const auto r = fleet.ask(i);
    if (r.status == 200) {
      ++served;
      cost = r.json_body()["usage"]["prompt_tokens"].get<long long>() * 1000;
      spent += cost;
      // The charge follows the answer: wait for it to land before the next replica checks.
      EXPECT_TRUE(eventually([&] { return spent_micro(redis) == spent; })) << spent_micro(redis);
    } else {
      EXPECT_EQ(r.status, 429);
      EXPECT_EQ(r.json_body()["error"]["code"], "budget_exceeded");
      const std::string message = r.json_body()["error"]["message"];
      const auto at = message.find("may cost up to $");
      ASSERT_NE(at, std::string::npos) << message;
      need = std::llround(std::stod(message.substr(at + 16)) * 1e6);
    }
  }
  ASSERT_GT(cost, 0);
  ASSERT_GT(need, 0);
  // Admitted while what was spent plus the request's worst case fits under the cap.
  EXPECT_EQ(served, 1 + (50'000 - need) / cost);
  EXPECT_LT(served, 9);
}

TEST(Replicas, RequestsInFlightOnEveryReplicaNeverTakeARouteBudgetPastItsCap) {
  TempDir dir;
  RedisServer redis(dir);
  Mock mock(dir);
  // Output at $0.001 a token, input free: a request asking max_tokens 5 reserves $0.005 and
  // costs $0.003 (the mock answers 3 tokens). $0.05 a minute admits a request while what was
  // spent, what is held and its $0.005 fit: 16 of them, $0.048 — however many are in flight.
  std::string config = config_for(mock.port(), redis, "", "", ", budget: { usd_per_minute: 0.05 }");
  const std::string prices = "input: 1000, output: 0";
  config.replace(config.find(prices), prices.size(), "input: 0, output: 1000");
  Fleet fleet(dir, config);
  std::atomic<int> served{0}, held_back{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 12; ++t) {
    clients.emplace_back([&, t] {
      HttpClient client(fleet.gateways[static_cast<std::size_t>(t % kReplicas)]->port());
      auto body = chat_body("capped");
      body["max_tokens"] = 5;
      for (;;) {
        // Every request stays in flight for 200 ms: a dozen at a time reach the cap together.
        const auto r =
            client.post_json("/v1/chat/completions", body,
                             {{"authorization", "Bearer sk-app"}, {"x-mock-delay-ms", "200"}});
        if (r.status == 200) {
          ++served;
          continue;
        }
        EXPECT_EQ(r.status, 429) << r.body;
        const std::string message = r.json_body()["error"]["message"];
        if (message.find("held by requests in flight") == std::string::npos) return;
        ++held_back;  // others hold the rest for now: as a client told retry-after 1 s would
        std::this_thread::sleep_for(20ms);
      }
    });
  }
  for (auto& c : clients) c.join();
  EXPECT_EQ(served.load(), 16);
  EXPECT_GT(held_back.load(), 0);
  EXPECT_EQ(chat_requests(mock), 16);
  EXPECT_TRUE(eventually([&] { return spent_micro(redis) == 48'000; })) << spent_micro(redis);
}

TEST(Replicas, EachReplicaCountsAloneWhileRedisIsDownAndSharesAgainAfter) {
  TempDir dir;
  RedisServer redis(dir);
  Mock mock(dir);
  Fleet fleet(dir, config_for(mock.port(), redis, ", rpm: 2, admin: true"));
  redis.kill();
  // Each replica now has its own 2 a minute.
  int served = 0;
  for (int i = 0; i < 12; ++i) served += fleet.ask(i).status == 200;
  EXPECT_EQ(served, 2 * kReplicas);
  const auto health =
      fleet.clients[0]->request("GET", "/admin/health", "", {{"authorization", "Bearer sk-app"}});
  EXPECT_EQ(health.json_body()["counters"]["shared_state_fallbacks"], 4) << health.body;
  for (auto& gw : fleet.gateways) {
    EXPECT_TRUE(eventually([&] {
      for (const auto& line : gw->log_lines())
        if (line.value("event", "") == "shared_state" && line.value("level", "") == "warning")
          return true;
      return false;
    }));
  }
  // Back, and empty: the limit is shared again.
  redis.restart();
  ASSERT_TRUE(eventually([&] { return fleet.ask(0).status == 200; }, 10000ms));
  int again = 1;
  for (int i = 1; i < 9; ++i) again += fleet.ask(i).status == 200;
  EXPECT_EQ(again, 2);
}

TEST(Replicas, ABudgetSpentAcrossTheReplicasStaysSpentWhileRedisIsDown) {
  TempDir dir;
  RedisServer redis(dir);
  Mock mock(dir);
  // $0.05 a minute, and one request costs about that: the first spends the budget.
  Fleet fleet(dir, config_for(mock.port(), redis, ", admin: true", "",
                              ", budget: { usd_per_minute: 0.05 }"));
  const auto first = fleet.ask(0);
  ASSERT_EQ(first.status, 200);
  const long long cost = first.json_body()["usage"]["prompt_tokens"].get<long long>() * 1000;
  ASSERT_TRUE(eventually([&] { return spent_micro(redis) == cost; }));
  for (int i = 0; i < kReplicas; ++i) EXPECT_EQ(fleet.ask(i).status, 429) << i;
  // Each replica heard from Redis that the budget is spent. Left to count alone — two of them
  // have spent nothing themselves — they go on refusing.
  redis.kill();
  for (int i = 0; i < 2 * kReplicas; ++i) {
    const auto r = fleet.ask(i);
    EXPECT_EQ(r.status, 429) << i << r.body;
    EXPECT_EQ(r.json_body()["error"]["code"], "budget_exceeded") << i;
  }
  EXPECT_EQ(chat_requests(mock), 1);
  const auto health =
      fleet.clients[1]->request("GET", "/admin/health", "", {{"authorization", "Bearer sk-app"}});
  EXPECT_EQ(health.json_body()["limits"]["counted_in"], "this replica: Redis does not answer")
      << health.body;
}

TEST(Replicas, ABreakerOpenedOnOneReplicaKeepsTheOthersOffTheTarget) {
  TempDir dir;
  RedisServer redis(dir);
  Mock bad(dir, "bad"), good(dir, "good");
  set_mock_defaults(bad, {{"status", "500"}});
  const std::string config =
      "server:\n  workers: 2\n"
      "providers:\n  bad: { type: openai, base_url: \"http://127.0.0.1:" +
      std::to_string(bad.port()) +
      "/v1\" }\n"
      "  good: { type: openai, base_url: \"http://127.0.0.1:" +
      std::to_string(good.port()) +
      "/v1\" }\n"
      "models:\n  first: { provider: bad }\n  second: { provider: good }\n"
      "routes:\n  pair: { targets: [first, second] }\n"
      "resilience:\n  retry: { attempts: 1 }\n"
      "  breaker: { consecutive_failures: 1, cooldown: 60s }\n"
      "redis:\n  url: " +
      redis.url() + "\n";
  Gateway a(dir, config), b(dir, config);
  ASSERT_TRUE(redis_connected(a, 4) && redis_connected(b, 4));
  HttpClient client_a(a.port()), client_b(b.port());
  const auto first = client_a.post_json("/v1/chat/completions", chat_body("pair"));
  ASSERT_EQ(first.status, 200);
  EXPECT_EQ(first.header("x-switchyard-attempts"), "2");
  EXPECT_EQ(chat_requests(bad), 1);
  // Replica b never saw the failure, yet learns of it and goes straight to the second target.
  EXPECT_TRUE(eventually([&] {
    return client_b.get("/admin/health").json_body()["targets"][0]["breaker"] == "open";
  }));
  const auto second = client_b.post_json("/v1/chat/completions", chat_body("pair"));
  EXPECT_EQ(second.status, 200);
  EXPECT_EQ(second.header("x-switchyard-attempts"), "1");
  EXPECT_EQ(second.header("x-switchyard-provider"), "good");
  EXPECT_EQ(chat_requests(bad), 1);
}

}  // namespace
}  // namespace switchyard::testing
