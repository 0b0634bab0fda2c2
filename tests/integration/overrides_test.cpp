// Route and model overrides in Redis: edited with `switchyard routes|models ...`, validated,
// announced, and live on every replica within a second.
#include <gtest/gtest.h>

#include "harness.hpp"

namespace switchyard::testing {
namespace {

std::string config_for(int mock_port, const RedisServer& redis, const std::string& routes = "") {
  return "server:\n  workers: 2\n"
         "providers:\n  local:\n    type: openai\n    base_url: http://127.0.0.1:" +
         std::to_string(mock_port) +
         "/v1\n"
         "models:\n  small: { provider: local, name: small-v1 }\n"
         "  large: { provider: local, name: large-v1 }\n"
         "routes:\n  default: { targets: [small] }\n" +
         routes + "redis:\n  url: " + redis.url() + "\n";
}

int status_of(HttpClient& client, const std::string& model) {
  return client.post_json("/v1/chat/completions", chat_body(model)).status;
}

// `switchyard <kind> <args...> --config FILE`.
RunResult cli(const Gateway& gw, const std::string& kind, std::vector<std::string> args) {
  args.insert(args.begin(), kind);
  args.push_back("--config");
  args.push_back(gw.config_path().string());
  return run_program(SWITCHYARD_BIN, args);
}

TEST(Overrides, ARouteSetThroughTheCliIsLiveOnThreeReplicasWithinASecond) {
  TempDir dir;
  RedisServer redis(dir);
  Mock mock(dir);
  std::vector<std::unique_ptr<Gateway>> replicas;
  std::vector<std::unique_ptr<HttpClient>> clients;
  for (int i = 0; i < 3; ++i) {
    replicas.push_back(std::make_unique<Gateway>(dir, config_for(mock.port(), redis)));
    ASSERT_TRUE(redis_connected(*replicas.back(), 4));
    clients.push_back(std::make_unique<HttpClient>(replicas.back()->port()));
    EXPECT_EQ(status_of(*clients.back(), "fresh"), 404);
  }
  // The subscriptions are up once the replicas say so in their reload status... or shortly.
  const auto set = cli(*replicas[0], "routes", {"set", "fresh", R"({"targets":["large"]})"});
  const auto written = std::chrono::steady_clock::now();
  ASSERT_EQ(set.exit_code, 0) << set.err;
  EXPECT_NE(set.out.find("routes fresh: set"), std::string::npos) << set.out;
  for (auto& client : clients) {
    EXPECT_TRUE(eventually([&] { return status_of(*client, "fresh") == 200; }, 3000ms));
  }
  EXPECT_LT(std::chrono::steady_clock::now() - written, 1000ms);
  const auto r = clients[2]->post_json("/v1/chat/completions", chat_body("fresh"));
  EXPECT_EQ(r.header("x-switchyard-model"), "large");

  const auto got = cli(*replicas[1], "routes", {"get", "fresh"});
  EXPECT_EQ(got.exit_code, 0);
  EXPECT_EQ(json::parse(got.out), json::parse(R"({"targets":["large"]})"));
  const auto listed = cli(*replicas[1], "routes", {"list"});
  EXPECT_NE(listed.out.find("fresh\t"), std::string::npos) << listed.out;
}

TEST(Overrides, TheCliRefusesAnInvalidOverrideWithTheReasonAndWritesNothing) {
  TempDir dir;
  RedisServer redis(dir);
  Mock mock(dir);
  Gateway gw(dir, config_for(mock.port(), redis));
  const auto set = cli(gw, "routes", {"set", "fresh", R"({"targets":["no-such-model"]})"});
  EXPECT_EQ(set.exit_code, 1);
  EXPECT_NE(set.err.find("redis:routes.fresh:1:13: routes.fresh: unknown model 'no-such-model'"),
            std::string::npos)
      << set.err;
  const auto bad_json = cli(gw, "routes", {"set", "fresh", R"({"targets": [)"});
  EXPECT_EQ(bad_json.exit_code, 1);
  EXPECT_NE(bad_json.err.find("invalid JSON"), std::string::npos) << bad_json.err;
  // Removing a route the file's other parts need is refused too.
  const auto del = cli(gw, "models", {"delete", "small"});
  EXPECT_EQ(del.exit_code, 1);
  EXPECT_NE(del.err.find("routes.default: unknown model 'small'"), std::string::npos) << del.err;
  EXPECT_EQ(cli(gw, "routes", {"list"}).out, "");
  EXPECT_EQ(cli(gw, "models", {"list"}).out, "");
}

TEST(Overrides, AnInvalidOverrideWrittenBehindTheCliIsNotApplied) {
  TempDir dir;
  RedisServer redis(dir);
  Mock mock(dir);
  Gateway gw(dir, config_for(mock.port(), redis));
  ASSERT_TRUE(redis_connected(gw, 4));
  HttpClient client(gw.port());
  ASSERT_EQ(cli(gw, "routes", {"set", "fresh", R"({"targets":["small"]})"}).exit_code, 0);
  ASSERT_TRUE(eventually([&] { return status_of(client, "fresh") == 200; }));
  // Straight into Redis: one good change and one bad one, announced together.
  const std::string port = std::to_string(redis.port());
  run_program("redis-cli", {"-p", port, "HSET", "switchyard:routes", "other",
                            R"({"targets":["small"]})", "broken", R"({"targets":["nope"]})"});
  run_program("redis-cli", {"-p", port, "PUBLISH", "switchyard:config", "routes"});
  ASSERT_TRUE(eventually(
      [&] { return !client.get("/admin/reload").json_body()["last_reload"]["ok"].get<bool>(); }));
  const auto status = client.get("/admin/reload").json_body();
  EXPECT_EQ(status["last_reload"]["trigger"], "redis");
  EXPECT_NE(status["last_reload"]["errors"][0].get<std::string>().find("redis:routes.broken"),
            std::string::npos)
      << status.dump();
  // Never half-applied: the good one is not live either, and what served before still does.
  EXPECT_EQ(status_of(client, "other"), 404);
  EXPECT_EQ(status_of(client, "fresh"), 200);
  EXPECT_EQ(status_of(client, "default"), 200);
}

TEST(Overrides, DeleteHidesAFileRouteAndResetBringsItBack) {
  TempDir dir;
  RedisServer redis(dir);
  Mock mock(dir);
  Gateway gw(dir, config_for(mock.port(), redis, "  spare: { targets: [large] }\n"));
  ASSERT_TRUE(redis_connected(gw, 4));
  HttpClient client(gw.port());
  ASSERT_EQ(status_of(client, "spare"), 200);
  const auto del = cli(gw, "routes", {"delete", "spare"});
  ASSERT_EQ(del.exit_code, 0) << del.err;
  EXPECT_TRUE(eventually([&] { return status_of(client, "spare") == 404; }));
  const auto reset = cli(gw, "routes", {"reset", "spare"});
  ASSERT_EQ(reset.exit_code, 0) << reset.err;
  EXPECT_TRUE(eventually([&] { return status_of(client, "spare") == 200; }));
}

TEST(Overrides, AReplicaStartingLaterServesTheOverridesFromItsFirstRequest) {
  TempDir dir;
  RedisServer redis(dir);
  Mock mock(dir);
  {
    Gateway first(dir, config_for(mock.port(), redis));
    ASSERT_EQ(
        cli(first, "models", {"set", "tiny", R"({"provider":"local","name":"tiny-v9"})"}).exit_code,
        0);
    ASSERT_EQ(cli(first, "routes", {"set", "fresh", R"({"targets":["tiny"]})"}).exit_code, 0);
  }
  Gateway later(dir, config_for(mock.port(), redis));
  HttpClient client(later.port());
  const auto r = client.post_json("/v1/chat/completions", chat_body("fresh"));
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("x-switchyard-upstream-model"), "tiny-v9");
}

}  // namespace
}  // namespace switchyard::testing
