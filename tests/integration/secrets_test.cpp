// Secret hygiene: the configured provider keys, gateway keys, Redis password and collector
// credentials appear in no output of a run — log, stderr, response bodies and headers, /metrics,
// the admin API, exported spans — whatever the run went through: answers, failovers, a provider
// refusing its key, bad client keys, streams, reloads.
#include <gtest/gtest.h>

#include "harness.hpp"
#include "otlp_receiver.hpp"

namespace switchyard::testing {
namespace {

TEST(Secrets, NoConfiguredSecretAppearsInAnyOutput) {
  TempDir dir;
  const std::string good_key = "sk-good-provider-key-9f8e7d6c5b4a";
  const std::string wrong_key = "sk-wrong-provider-key-1a2b3c4d5e6f";
  const std::string admin_key = "sy-admin-secret-0a1b2c3d4e5f";
  const std::string team_key = "sy-team-secret-6a7b8c9d0e1f";
  const std::string redis_password = "redis-pass-5e4d3c2b1a";
  const std::string collector_token = "otlp-token-7c6b5a4d3e2f";
  Mock accepting(dir, Mock::Options{"accepting", {"--api-key", good_key}});
  RedisServer redis(dir, RedisServer::Options{redis_password});
  OtlpReceiver collector;
  const std::string config =
      "server:\n  workers: 2\n"
      "providers:\n"
      "  refused:\n    type: openai\n    base_url: http://127.0.0.1:" +
      std::to_string(accepting.port()) + "/v1\n    api_key: " + wrong_key +
      "\n"
      "  good:\n    type: openai\n    base_url: http://127.0.0.1:" +
      std::to_string(accepting.port()) + "/v1\n    api_key: ${GOOD_KEY}\n" +
      "models:\n  first: { provider: refused, name: m1, input: 1, output: 1 }\n"
      "  second: { provider: good, name: m2, input: 1, output: 1 }\n"
      "routes:\n  default: { targets: [first, second], retry: { attempts: 1 } }\n"
      "  only-refused: { targets: [first] }\n"
      "keys:\n"
      "  ops: { sha256: " +
      hash_key(admin_key) + ", admin: true }\n  team: { sha256: " + hash_key(team_key) +
      " }\n"
      "redis: { url: \"redis://:" +
      redis_password + "@127.0.0.1:" + std::to_string(redis.port()) +
      "\" }\n"
      "cache: { backend: redis }\n"
      "tracing:\n  endpoint: " +
      collector.endpoint() + "\n  interval: 100ms\n  headers: { authorization: \"Bearer " +
      collector_token + "\" }\n";
  Gateway gw(dir, config, {{"GOOD_KEY", good_key}});
  HttpClient client(gw.port());
  const std::vector<std::pair<std::string, std::string>> team{
      {"authorization", "Bearer " + team_key},
      {"traceparent", "00-" + std::string(32, 'a') + "-" + std::string(16, 'b') + "-01"}};
  const std::vector<std::pair<std::string, std::string>> ops{
      {"authorization", "Bearer " + admin_key}};

  std::string seen;  // every byte the gateway sent anyone but the upstreams
  auto keep = [&](const Response& r) {
    for (const auto& [name, value] : r.headers) seen += name + ": " + value + "\n";
    seen += r.body + "\n";
    return r;
  };
  json ask = chat_body("default");
  ask["temperature"] = 0;
  EXPECT_EQ(keep(client.post_json("/v1/chat/completions", ask, team)).status, 200);
  EXPECT_EQ(keep(client.post_json("/v1/chat/completions", ask, team)).status, 200);  // cached
  EXPECT_EQ(
      keep(client.post_json("/v1/chat/completions", chat_body("default", true, true), team)).status,
      200);
  const auto refused =
      keep(client.post_json("/v1/chat/completions", chat_body("only-refused"), team));
  EXPECT_EQ(refused.status, 401) << refused.body;
  EXPECT_EQ(keep(client.post_json("/v1/chat/completions", ask,
                                  {{"authorization", "Bearer " + team_key + "x"}}))
                .status,
            401);
  EXPECT_EQ(keep(client.request("GET", "/admin/config", "", team)).status, 403);
  for (const std::string path : {"/admin/config", "/admin/health", "/admin/routes", "/admin/spend",
                                 "/admin/cache", "/admin/reload"})
    EXPECT_EQ(keep(client.request("GET", path, "", ops)).status, 200) << path;
  EXPECT_EQ(keep(client.request("POST", "/admin/explain", ask.dump(), ops)).status, 200);
  EXPECT_EQ(keep(client.request("POST", "/admin/reload", "", ops)).status, 200);
  EXPECT_EQ(keep(client.get("/metrics")).status, 200);
  ASSERT_TRUE(collector.wait_for([](const auto& r) { return otlp_spans(r).size() >= 6; }));

  // The secrets were really in use: the provider got its key, the collector its token.
  EXPECT_EQ(collector.received()[0].header("authorization"), "Bearer " + collector_token);
  EXPECT_NE(accepting.requests(50).dump().find(good_key), std::string::npos);

  gw.process().signal(SIGTERM);
  EXPECT_EQ(gw.process().wait_exit(std::chrono::seconds(10)), 0);
  for (const auto& r : collector.received()) seen += r.body + "\n";
  seen += gw.process().out() + gw.process().err();
  for (const auto& secret : {good_key, wrong_key, admin_key, team_key, redis_password,
                             collector_token, hash_key(admin_key), hash_key(team_key)}) {
    EXPECT_EQ(seen.find(secret), std::string::npos) << "leaked: " << secret;
    // Nor a long enough piece of one (an upstream echoing the key half-masked).
    EXPECT_EQ(seen.find(secret.substr(0, secret.size() - 4)), std::string::npos) << secret;
  }
}

}  // namespace
}  // namespace switchyard::testing
