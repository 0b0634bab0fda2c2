// Configuration reloads while traffic flows: the file watched (in-place writes and
// rename-on-save), SIGHUP, POST /admin/reload; an invalid file changes nothing.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <thread>

#include "harness.hpp"

namespace switchyard::testing {
namespace {

// One provider at `port`, model `small`, route `default` and the given extra routes.
std::string config_for(int port, const std::string& routes = "", int workers = 2) {
  return "server:\n  workers: " + std::to_string(workers) +
         "\n"
         "providers:\n  local:\n    type: openai\n    base_url: http://127.0.0.1:" +
         std::to_string(port) +
         "/v1\n    forward_headers: [\"x-mock-*\"]\n"
         "models:\n  small: { provider: local }\n"
         "routes:\n  default: { targets: [small] }\n" +
         routes;
}

int status_of(HttpClient& client, const std::string& model) {
  return client.post_json("/v1/chat/completions", chat_body(model)).status;
}

bool has_event(Gateway& gw, const std::string& event, const std::string& text = "") {
  for (const auto& line : gw.log_lines())
    if (line.value("event", "") == event &&
        line.value("message", "").find(text) != std::string::npos)
      return true;
  return false;
}

TEST(Reload, SighupServesANewRouteAndKeepsTheOthers) {
  TempDir dir;
  Mock mock(dir);
  Gateway gw(dir, config_for(mock.port()));
  HttpClient client(gw.port());
  EXPECT_EQ(status_of(client, "fresh"), 404);
  // Written in place and not announced: only the signal makes the gateway look.
  gw.edit_config(config_for(mock.port(), "  fresh: { targets: [small] }\n"),
                 Gateway::Save::in_place);
  gw.process().signal(SIGHUP);
  EXPECT_TRUE(eventually([&] { return status_of(client, "fresh") == 200; }, 2000ms));
  EXPECT_EQ(status_of(client, "default"), 200);
  EXPECT_TRUE(has_event(gw, "reloaded", "routes added: fresh"));
}

TEST(Reload, AnInvalidFileKeepsTheOldConfigServingAndSaysWhereItIsWrong) {
  TempDir dir;
  Mock mock(dir);
  Gateway gw(dir, config_for(mock.port()));
  HttpClient client(gw.port());
  gw.edit_config(config_for(mock.port(), "  broken: { targets: [no-such-model] }\n"));
  const auto r = client.request("POST", "/admin/reload");
  EXPECT_EQ(r.status, 422) << r.body;
  const auto body = r.json_body();
  EXPECT_EQ(body["error"]["code"], "reload_failed");
  const std::string where = gw.config_path().string() + ":";
  EXPECT_NE(body["error"]["message"].get<std::string>().find(where), std::string::npos) << r.body;
  EXPECT_NE(body["error"]["message"].get<std::string>().find("no-such-model"), std::string::npos);
  // The old routes keep serving; the new one never appears.
  EXPECT_EQ(status_of(client, "default"), 200);
  EXPECT_EQ(status_of(client, "broken"), 404);
  const auto status = client.get("/admin/reload").json_body();
  EXPECT_FALSE(status["last_reload"]["ok"].get<bool>());
  EXPECT_EQ(status["generation"], 1);
  EXPECT_GE(status["reloads"]["failed"].get<int>(), 1);
  EXPECT_TRUE(eventually([&] { return has_event(gw, "reload_error", "no-such-model"); }));

  // Fixed, the next reload succeeds and says so.
  gw.edit_config(config_for(mock.port(), "  fixed: { targets: [small] }\n"));
  const auto ok = client.request("POST", "/admin/reload");
  EXPECT_EQ(ok.status, 200) << ok.body;
  EXPECT_TRUE(ok.json_body()["last_reload"]["ok"].get<bool>());
  EXPECT_EQ(status_of(client, "fixed"), 200);
}

TEST(Reload, EditingTheFileUnderLoadFailsNoRequestAndTheNewRouteIsLiveWithinASecond) {
  TempDir dir;
  Mock mock(dir);
  Gateway gw(dir, config_for(mock.port()));
  std::atomic<bool> stop{false};
  std::atomic<int> served{0}, failed{0};
  std::vector<std::thread> load;
  for (int i = 0; i < 4; ++i) {
    load.emplace_back([&, i] {
      HttpClient client(gw.port());
      while (!stop) {
        const auto r = client.post_json("/v1/chat/completions", chat_body("default", i % 2 == 1));
        (r.status == 200 ? served : failed)++;
      }
    });
  }
  ASSERT_TRUE(eventually([&] { return served > 50; }));

  HttpClient probe(gw.port());
  const auto edited = std::chrono::steady_clock::now();
  gw.edit_config(config_for(mock.port(), "  fresh: { targets: [small] }\n"));  // rename-on-save
  const bool live = eventually([&] { return status_of(probe, "fresh") == 200; }, 3000ms);
  const auto took = std::chrono::steady_clock::now() - edited;
  // Then in place, as other editors save.
  gw.edit_config(config_for(mock.port(),
                            "  fresh: { targets: [small] }\n  newer: { targets: "
                            "[small] }\n"),
                 Gateway::Save::in_place);
  EXPECT_TRUE(eventually([&] { return status_of(probe, "newer") == 200; }, 3000ms));
  const int before = served;
  ASSERT_TRUE(eventually([&] { return served > before + 50; }));
  stop = true;
  for (auto& t : load) t.join();

  EXPECT_TRUE(live);
  EXPECT_LT(took, 1000ms);
  EXPECT_EQ(failed, 0) << "of " << served << " requests";
  EXPECT_TRUE(has_event(gw, "reloaded", "(file)"));
}

TEST(Reload, AStreamInFlightFinishesOnTheConfigItStartedWith) {
  TempDir dir;
  Mock mock(dir);
  Gateway gw(dir, config_for(mock.port()));
  std::thread streaming([&] {
    HttpClient client(gw.port());
    const auto r = client.post_json("/v1/chat/completions", chat_body("default", true),
                                    {{"x-mock-chunks", "10"}, {"x-mock-chunk-delay-ms", "100"}});
    EXPECT_EQ(r.status, 200);
    const auto events = sse_data(r.body);
    ASSERT_FALSE(events.empty());
    EXPECT_EQ(events.back(), "[DONE]");
    EXPECT_EQ(events.size(), 13u) << r.body;  // role, 10 pieces, finish, [DONE]
  });
  ASSERT_TRUE(eventually([&] { return mock.stats()["requests"].size() > 0; }));
  // The route the stream uses goes away under it.
  std::string without = config_for(mock.port());
  const std::string route = "  default: { targets: [small] }\n";
  without.replace(without.find(route), route.size(), "  other: { targets: [small] }\n");
  gw.edit_config(without);
  HttpClient client(gw.port());
  EXPECT_TRUE(eventually([&] { return status_of(client, "default") == 404; }, 2000ms));
  streaming.join();
}

TEST(Reload, ConnectionsToAnUnchangedProviderSurviveAReload) {
  TempDir dir;
  Mock mock(dir);
  Gateway gw(dir, config_for(mock.port(), "", 1));
  HttpClient client(gw.port());
  ASSERT_EQ(status_of(client, "default"), 200);
  gw.edit_config(config_for(mock.port(), "  fresh: { targets: [small] }\n", 1));
  ASSERT_TRUE(eventually([&] { return status_of(client, "fresh") == 200; }, 2000ms));
  for (int i = 0; i < 5; ++i) ASSERT_EQ(status_of(client, "default"), 200);
  // One upstream connection from the gateway throughout, plus this stats request's own.
  EXPECT_EQ(mock.stats()["connections_accepted"], 2);
}

TEST(Reload, ChangingTheServerSectionSaysItNeedsARestart) {
  TempDir dir;
  Mock mock(dir);
  Gateway gw(dir, config_for(mock.port()));
  HttpClient client(gw.port());
  gw.edit_config(config_for(mock.port(), "", 3));
  EXPECT_TRUE(eventually([&] { return has_event(gw, "reload_restart_needed", "server"); }));
  EXPECT_EQ(status_of(client, "default"), 200);
}

}  // namespace
}  // namespace switchyard::testing
