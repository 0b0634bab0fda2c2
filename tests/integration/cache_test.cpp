// The response cache: what hits, what never does, streams, client controls, and the Redis
// backend shared by replicas and surviving Redis going away.
#include <gtest/gtest.h>

#include "harness.hpp"

namespace switchyard::testing {
namespace {

// Two routes over one mock, cached with `cache` (a YAML block) unless it is empty.
std::string config_for(int port, const std::string& cache = "cache:\n  ttl: 1h\n",
                       const std::string& extra = "") {
  return "server:\n  workers: 2\n"
         "providers:\n  local:\n    type: openai\n    base_url: http://127.0.0.1:" +
         std::to_string(port) +
         "/v1\n    forward_headers: [\"x-mock-*\"]\n"
         "models:\n  small: { provider: local, name: small-v1 }\n"
         "  large: { provider: local, name: large-v1 }\n"
         "routes:\n  default: { targets: [small] }\n  other: { targets: [large] }\n" +
         extra + cache;
}

json ask(const std::string& model, const std::string& content = "What is 2+2?") {
  json body = chat_body(model);
  body["messages"] = json::array({{{"role", "user"}, {"content", content}}});
  body["temperature"] = 0;
  return body;
}

Response post(HttpClient& client, const json& body,
              const std::vector<std::pair<std::string, std::string>>& headers = {}) {
  return client.post_json("/v1/chat/completions", body, headers);
}

// The text of a streamed answer, from its chunks.
std::string streamed_text(const std::string& sse) {
  std::string text;
  for (const auto& data : sse_data(sse)) {
    if (data == "[DONE]") continue;
    const json chunk = json::parse(data);
    for (const auto& choice : chunk["choices"])
      if (choice["delta"].contains("content") && choice["delta"]["content"].is_string())
        text += choice["delta"]["content"].get<std::string>();
  }
  return text;
}

TEST(Cache, AnIdenticalRequestIsAnsweredFromTheCache) {
  TempDir dir;
  Mock mock(dir);
  Gateway gw(dir, config_for(mock.port()));
  HttpClient client(gw.port());
  const auto first = post(client, ask("default"));
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(first.header("x-switchyard-cache"), "miss");
  const auto second = post(client, ask("default"));
  ASSERT_EQ(second.status, 200);
  EXPECT_EQ(second.header("x-switchyard-cache"), "hit");
  EXPECT_EQ(second.header("x-switchyard-attempts"), "0");
  EXPECT_EQ(second.header("x-switchyard-provider"), "local");
  EXPECT_EQ(second.header("x-switchyard-model"), "small");
  EXPECT_EQ(second.body, first.body);
  EXPECT_EQ(chat_requests(mock), 1);
  EXPECT_EQ(gw.request_log(second.header("x-request-id"))["cache"], "hit");
}

TEST(Cache, KeyOrderAndNumberSpellingDoNotChangeTheKey) {
  TempDir dir;
  Mock mock(dir);
  Gateway gw(dir, config_for(mock.port()));
  HttpClient client(gw.port());
  ASSERT_EQ(post(client, ask("default")).status, 200);
  // ask() has max_tokens 64 and a user, which is not part of the key.
  const std::string reordered =
      R"({"user":"someone else","max_tokens":64.0,"temperature":0e3,)"
      R"("messages":[{"content":"What is 2+2?","role":"user"}],"model":"default"})";
  const auto r = client.request("POST", "/v1/chat/completions", reordered,
                                {{"content-type", "application/json"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("x-switchyard-cache"), "hit");
  // A different question is a different key.
  EXPECT_EQ(post(client, ask("default", "What is 3+3?")).header("x-switchyard-cache"), "miss");
  EXPECT_EQ(chat_requests(mock), 2);
}

TEST(Cache, RoutesShareAnswersOnlyWhenConfiguredTo) {
  TempDir dir;
  Mock mock(dir);
  {
    Gateway gw(dir, config_for(mock.port()));
    HttpClient client(gw.port());
    ASSERT_EQ(post(client, ask("default")).header("x-switchyard-cache"), "miss");
    EXPECT_EQ(post(client, ask("other")).header("x-switchyard-cache"), "miss");
  }
  Gateway gw(dir, config_for(mock.port(), "cache:\n  share_across_models: true\n"));
  HttpClient client(gw.port());
  ASSERT_EQ(post(client, ask("default")).header("x-switchyard-cache"), "miss");
  const auto shared = post(client, ask("other"));
  EXPECT_EQ(shared.header("x-switchyard-cache"), "hit");
  // Served by the model that answered first, and shown as the model this client asked for.
  EXPECT_EQ(shared.header("x-switchyard-model"), "small");
  EXPECT_EQ(shared.header("x-switchyard-route"), "other");
  EXPECT_EQ(shared.json_body()["model"], "other");
}

TEST(Cache, RequestsWithToolsAreNeverCached) {
  TempDir dir;
  Mock mock(dir);
  Gateway gw(dir, config_for(mock.port()));
  HttpClient client(gw.port());
  json body = ask("default");
  body["tools"] =
      json::array({{{"type", "function"},
                    {"function", {{"name", "add"}, {"parameters", {{"type", "object"}}}}}}});
  for (int i = 0; i < 2; ++i) {
    const auto r = post(client, body);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.header("x-switchyard-cache"), "bypass");
  }
  EXPECT_EQ(chat_requests(mock), 2);
}

TEST(Cache, OnlyDeterministicRequestsAreCachedUnlessConfiguredOtherwise) {
  TempDir dir;
  Mock mock(dir);
  json warm = ask("default");
  warm["temperature"] = 0.7;
  json unset = ask("default");
  unset.erase("temperature");
  {
    Gateway gw(dir, config_for(mock.port()));
    HttpClient client(gw.port());
    EXPECT_EQ(post(client, warm).header("x-switchyard-cache"), "bypass");
    EXPECT_EQ(post(client, warm).header("x-switchyard-cache"), "bypass");
    // Unset, the temperature is OpenAI's default of 1.
    EXPECT_EQ(post(client, unset).header("x-switchyard-cache"), "bypass");
  }
  Gateway gw(dir, config_for(mock.port(), "cache:\n  max_temperature: 1\n"));
  HttpClient client(gw.port());
  EXPECT_EQ(post(client, warm).header("x-switchyard-cache"), "miss");
  EXPECT_EQ(post(client, warm).header("x-switchyard-cache"), "hit");
  EXPECT_EQ(post(client, unset).header("x-switchyard-cache"), "miss");
  EXPECT_EQ(post(client, unset).header("x-switchyard-cache"), "hit");
}

TEST(Cache, AStreamedMissIsStoredAndAStreamedHitReplaysAValidStream) {
  TempDir dir;
  Mock mock(dir);
  Gateway gw(dir, config_for(mock.port()));
  HttpClient client(gw.port());
  json body = ask("default");
  body["stream"] = true;
  body["stream_options"] = {{"include_usage", true}};
  const auto first = post(client, body, {{"x-mock-chunks", "5"}});
  ASSERT_EQ(first.status, 200);
  EXPECT_EQ(first.header("x-switchyard-cache"), "miss");
  const auto second = post(client, body);
  ASSERT_EQ(second.status, 200);
  EXPECT_EQ(second.header("x-switchyard-cache"), "hit");
  EXPECT_EQ(second.header("content-type"), "text/event-stream");
  EXPECT_EQ(streamed_text(second.body), streamed_text(first.body));
  EXPECT_FALSE(streamed_text(first.body).empty());
  const auto events = sse_data(second.body);
  ASSERT_GE(events.size(), 4u);
  EXPECT_EQ(events.back(), "[DONE]");
  const json usage = json::parse(events[events.size() - 2]);
  EXPECT_TRUE(usage["choices"].empty());
  EXPECT_GT(usage["usage"]["completion_tokens"].get<int>(), 0);
  for (std::size_t i = 0; i + 1 < events.size(); ++i)
    EXPECT_EQ(json::parse(events[i])["object"], "chat.completion.chunk");
  // The same answer as JSON for a client that does not stream.
  const auto plain = post(client, ask("default"));
  EXPECT_EQ(plain.header("x-switchyard-cache"), "hit");
  EXPECT_EQ(plain.json_body()["choices"][0]["message"]["content"], streamed_text(first.body));
  EXPECT_EQ(chat_requests(mock), 1);
}

TEST(Cache, ACutStreamOrAnErrorIsNotStored) {
  TempDir dir;
  Mock mock(dir);
  Gateway gw(dir, config_for(mock.port()));
  HttpClient client(gw.port());
  json body = ask("default");
  body["stream"] = true;
  const auto cut = post(client, body, {{"x-mock-no-done", "1"}});
  EXPECT_EQ(cut.header("x-switchyard-cache"), "miss");
  EXPECT_EQ(post(client, ask("default"), {{"x-mock-status", "400"}}).status, 400);
  EXPECT_EQ(post(client, ask("default"), {{"x-mock-status", "500"}}).status, 502);
  const auto fresh = post(client, ask("default"));
  EXPECT_EQ(fresh.status, 200);
  EXPECT_EQ(fresh.header("x-switchyard-cache"), "miss");
  EXPECT_EQ(post(client, ask("default")).header("x-switchyard-cache"), "hit");
}

TEST(Cache, NoStoreAndNoCacheAreHonoured) {
  TempDir dir;
  Mock mock(dir);
  Gateway gw(dir, config_for(mock.port()));
  HttpClient client(gw.port());
  // no-store: answered, not kept.
  EXPECT_EQ(post(client, ask("default"), {{"x-switchyard-cache", "no-store"}})
                .header("x-switchyard-cache"),
            "miss");
  EXPECT_EQ(post(client, ask("default")).header("x-switchyard-cache"), "miss");
  EXPECT_EQ(chat_requests(mock), 2);
  // no-cache: not answered from the cache, but the fresh answer replaces the stored one.
  const auto fresh = post(client, ask("default"), {{"x-switchyard-cache", "no-cache"}});
  EXPECT_EQ(fresh.header("x-switchyard-cache"), "bypass");
  EXPECT_EQ(chat_requests(mock), 3);
  const auto hit = post(client, ask("default"));
  EXPECT_EQ(hit.header("x-switchyard-cache"), "hit");
  EXPECT_EQ(hit.json_body()["id"], fresh.json_body()["id"]);
  // Anything else is a mistake worth saying.
  const auto bad = post(client, ask("default"), {{"x-switchyard-cache", "sometimes"}});
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.json_body()["error"]["param"], "x-switchyard-cache");
}

TEST(Cache, ARouteKeepsItsAnswersForItsOwnTtl) {
  TempDir dir;
  Mock mock(dir);
  Gateway gw(dir, config_for(mock.port(), "cache:\n  ttl: 1h\n",
                             "  brief: { targets: [small], cache_ttl: 300ms }\n"
                             "  never: { targets: [small], cache_ttl: 0s }\n"));
  HttpClient client(gw.port());
  EXPECT_EQ(post(client, ask("never")).header("x-switchyard-cache"), "bypass");
  EXPECT_EQ(post(client, ask("never")).header("x-switchyard-cache"), "bypass");
  EXPECT_EQ(post(client, ask("brief")).header("x-switchyard-cache"), "miss");
  EXPECT_EQ(post(client, ask("brief")).header("x-switchyard-cache"), "hit");
  EXPECT_TRUE(eventually(
      [&] { return post(client, ask("brief")).header("x-switchyard-cache") == "miss"; }, 2000ms));
}

TEST(Cache, WithoutACacheSectionEveryAnswerIsFresh) {
  TempDir dir;
  Mock mock(dir);
  Gateway gw(dir, config_for(mock.port(), ""));
  HttpClient client(gw.port());
  EXPECT_EQ(post(client, ask("default")).header("x-switchyard-cache"), "bypass");
  EXPECT_EQ(post(client, ask("default")).header("x-switchyard-cache"), "bypass");
  EXPECT_EQ(chat_requests(mock), 2);
}

// ---- The Redis backend.

std::string redis_cache(const RedisServer& redis) {
  return "redis:\n  url: " + redis.url() + "\n  timeout: 100ms\ncache:\n  backend: redis\n";
}

// A gateway caching in a redis-server of its own, in front of a mock.
struct RedisCached {
  TempDir dir;
  RedisServer redis{dir};
  Mock mock{dir};
  Gateway gw{dir, config_for(mock.port(), redis_cache(redis))};
};

TEST(RedisCache, AnAnswerCachedThroughOneReplicaIsAHitOnAnother) {
  TempDir dir;
  RedisServer redis(dir);
  Mock mock(dir);
  Gateway a(dir, config_for(mock.port(), redis_cache(redis)));
  Gateway b(dir, config_for(mock.port(), redis_cache(redis)));
  ASSERT_TRUE(redis_connected(a, 4) && redis_connected(b, 4));
  HttpClient client_a(a.port()), client_b(b.port());
  ASSERT_EQ(post(client_a, ask("default")).status, 200);
  // The store is in the background: wait for it to land.
  const auto stored = [&] {
    const auto keys = run_program("redis-cli", {"-p", std::to_string(redis.port()), "--scan",
                                                "--pattern", "switchyard:cache:*"});
    return std::count(keys.out.begin(), keys.out.end(), '\n');
  };
  ASSERT_TRUE(eventually([&] { return stored() == 1; }));
  const auto r = post(client_b, ask("default"));
  EXPECT_EQ(r.header("x-switchyard-cache"), "hit");
  EXPECT_EQ(chat_requests(mock), 1);
}

// Anything that reaches the Redis server can write under the cache's keys: an entry read from
// there is validated, and one that is not a whole answer is a miss served upstream.
TEST(RedisCache, ADamagedEntryIsAMissServedUpstream) {
  RedisCached cached;
  // Named references, not a structured binding: clang 14 cannot capture one in a lambda.
  RedisServer& redis = cached.redis;
  Mock& mock = cached.mock;
  Gateway& gw = cached.gw;
  ASSERT_TRUE(redis_connected(gw, 4));
  HttpClient client(gw.port());
  const auto first = post(client, ask("default"));
  ASSERT_EQ(first.status, 200) << first.body;
  const auto cli = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"-p", std::to_string(redis.port())});
    return run_program("redis-cli", args).out;
  };
  std::string key;
  ASSERT_TRUE(eventually([&] {
    key = cli({"--scan", "--pattern", "switchyard:cache:*"});
    return !key.empty();
  }));
  key.erase(key.find('\n'));
  std::string entry = cli({"--raw", "get", key});
  ASSERT_GT(entry.size(), 20u);
  entry.resize(entry.size() - 20);  // the completion cut short
  cli({"set", key, entry});

  const auto r = post(client, ask("default"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("x-switchyard-cache"), "miss");
  EXPECT_EQ(json::parse(r.body)["choices"][0]["message"]["content"],
            json::parse(first.body)["choices"][0]["message"]["content"]);
  EXPECT_EQ(chat_requests(mock), 2);
}

TEST(RedisCache, RequestsKeepBeingServedWhileRedisIsDownAndTheCacheComesBack) {
  RedisCached cached;
  RedisServer& redis = cached.redis;
  Gateway& gw = cached.gw;
  ASSERT_TRUE(redis_connected(gw, 4));
  HttpClient client(gw.port());
  ASSERT_TRUE(eventually([&] {
    post(client, ask("default"));
    return post(client, ask("default")).header("x-switchyard-cache") == "hit";
  }));

  redis.kill();
  for (int i = 0; i < 20; ++i) {
    const auto started = std::chrono::steady_clock::now();
    const auto r = post(client, ask("default"));
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.header("x-switchyard-cache"), "miss");
    EXPECT_LT(std::chrono::steady_clock::now() - started, 1000ms);
  }

  redis.restart();  // empty
  EXPECT_TRUE(eventually(
      [&] {
        post(client, ask("default"));
        return post(client, ask("default")).header("x-switchyard-cache") == "hit";
      },
      10000ms));
}

}  // namespace
}  // namespace switchyard::testing
