// Hedged requests: when a route's first target has not answered within `hedge.after`, the next
// target is asked too; the first answer reaches the client and the other request is cut off.
#include <gtest/gtest.h>

#include "harness.hpp"

namespace switchyard::testing {
namespace {

using Clock = std::chrono::steady_clock;

// Mocks "primary" and "fallback" (forwarding x-mock-* headers), models m-primary (priced, so a
// wasted hedge has a cost) and m-fallback, and route "chain" over them with `hedge`.
std::string hedged_config(int primary, int fallback, const std::string& hedge) {
  std::string text = "providers:\n";
  for (const auto& [name, port] : {std::pair{"primary", primary}, std::pair{"fallback", fallback}})
    text += std::string("  ") + name +
            ":\n    type: openai\n    base_url: http://127.0.0.1:" + std::to_string(port) +
            "/v1\n    api_key: sk-" + name + "-key\n    forward_headers: [\"x-mock-*\"]\n";
  return text +
         "models:\n"
         "  m-primary: { provider: primary, name: upstream-primary, input: 1000, output: 1000 }\n"
         "  m-fallback: { provider: fallback, name: upstream-fallback, input: 1000, output: 1000 "
         "}\n"
         "routes:\n"
         "  chain:\n"
         "    targets: [m-primary, m-fallback]\n"
         "    hedge: " +
         hedge + "\n";
}

json admin_health(const Gateway& gw) {
  HttpClient client(gw.port());
  return client.get("/admin/health").json_body();
}

// Whether the mock's only logged request saw its client go away before the response was out.
bool cut_off(Mock& mock) {
  const auto log = mock.requests();
  return log.size() == 1 && log[0].value("aborted", false) && !log[0].value("completed", true);
}

std::vector<std::pair<std::string, std::string>> slow_on(const std::string& target,
                                                         const std::string& request_id) {
  return {{"x-mock-delay-ms", "3000"}, {"x-mock-target", target}, {"x-request-id", request_id}};
}

std::string stream_content(const std::string& body) {
  std::string text;
  for (const auto& data : sse_data(body)) {
    if (data == "[DONE]") continue;
    const auto chunk = json::parse(data);
    for (const auto& choice : chunk.value("choices", json::array()))
      text += choice["delta"].value("content", "");
  }
  return text;
}

TEST(Hedging, StartsTheNextTargetWhenTheFirstIsSlowAndTheFirstAnswerWins) {
  TempDir dir;
  Mock primary(dir, "primary");
  Mock fallback(dir, "fallback");
  Gateway gw(dir, hedged_config(primary.port(), fallback.port(), "{ after: 100ms }"));
  HttpClient client(gw.port());
  const auto started = Clock::now();
  const auto r =
      client.post_json("/v1/chat/completions", chat_body("chain"), slow_on("primary", "hedged"));
  const auto took = Clock::now() - started;
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_GE(took, 100ms);   // the hedge waited its delay
  EXPECT_LT(took, 1500ms);  // and did not wait for the primary
  EXPECT_EQ(r.header("x-switchyard-provider"), "fallback");
  EXPECT_EQ(r.header("x-switchyard-model"), "m-fallback");
  EXPECT_EQ(r.header("x-switchyard-attempts"), "2");
  EXPECT_EQ(r.json_body()["choices"][0]["message"]["content"], "Hello from fallback.");

  const auto log = gw.request_log("hedged");
  EXPECT_EQ(log.value("hedged", false), true) << log.dump();
  EXPECT_EQ(log["provider"], "fallback");
  ASSERT_EQ(log["attempts"].size(), 2u) << log.dump();
  EXPECT_EQ(log["attempts"][0]["provider"], "primary");
  EXPECT_EQ(log["attempts"][0]["outcome"], "hedge_lost");
  EXPECT_EQ(log["attempts"][1]["provider"], "fallback");
  EXPECT_EQ(log["attempts"][1]["outcome"], "ok");

  // The primary's request is cut off, not left to run (and bill) to its end.
  EXPECT_TRUE(eventually([&] { return cut_off(primary); }, 2000ms)) << primary.requests().dump();
  EXPECT_TRUE(eventually([&] { return admin_health(gw)["counters"]["hedges_wasted"] == 1; }));
  const auto counters = admin_health(gw)["counters"];
  EXPECT_EQ(counters["hedges"], 1);
  EXPECT_EQ(counters["hedge_wins"], 1);
  EXPECT_EQ(counters["hedges_wasted"], 1);
  EXPECT_GT(counters["hedge_waste_usd"].get<double>(), 0.0);
  EXPECT_EQ(counters["retries"], 0);
}

TEST(Hedging, DoesNotHedgeWhenTheFirstTargetAnswersInTime) {
  TempDir dir;
  Mock primary(dir, "primary");
  Mock fallback(dir, "fallback");
  Gateway gw(dir, hedged_config(primary.port(), fallback.port(), "{ after: 300ms }"));
  HttpClient client(gw.port());
  for (int i = 0; i < 5; ++i) {
    const auto id = "quick-" + std::to_string(i);
    const auto r = client.post_json("/v1/chat/completions", chat_body("chain", i % 2 == 1),
                                    {{"x-request-id", id}});
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.header("x-switchyard-provider"), "primary");
    EXPECT_EQ(r.header("x-switchyard-attempts"), "1");
    const auto log = gw.request_log(id);
    EXPECT_FALSE(log.contains("hedged")) << log.dump();
    EXPECT_EQ(log["attempts"].size(), 1u) << log.dump();
  }
  EXPECT_EQ(chat_requests(fallback), 0);
  const auto health = admin_health(gw);
  EXPECT_EQ(health["routes"][0]["hedge"], true);
  EXPECT_EQ(health["counters"]["hedges"], 0);
  EXPECT_EQ(health["counters"]["hedges_wasted"], 0);
}

TEST(Hedging, KeepsAConnectionToTheSpareTargetWarmSoTheHedgeSkipsTheHandshake) {
  TempDir dir;
  Mock primary(dir, "primary");
  Mock fallback(dir, "fallback");
  Gateway gw(dir, hedged_config(primary.port(), fallback.port(), "{ after: 100ms }"));
  HttpClient client(gw.port());
  ASSERT_EQ(client.post_json("/v1/chat/completions", chat_body("chain")).status, 200);
  // The spare was connected to ahead of need, without a request.
  ASSERT_TRUE(eventually([&] { return fallback.stats()["other_connections_open"] == 1; }));
  EXPECT_EQ(chat_requests(fallback), 0);
  // Every stats query is a connection of its own: one more each time.
  const int accepted = fallback.stats()["connections_accepted"];
  const auto r = client.post_json("/v1/chat/completions", chat_body("chain"),
                                  slow_on("primary", "warm-hedge"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("x-switchyard-provider"), "fallback");
  EXPECT_EQ(chat_requests(fallback), 1);
  // The hedge went over the warm connection: the only new ones are the two stats queries since
  // (chat_requests above and this one).
  EXPECT_EQ(fallback.stats()["connections_accepted"], accepted + 2);
}

TEST(Hedging, KeepsTheFirstTargetsAnswerWhenItArrivesBeforeTheHedges) {
  TempDir dir;
  Mock primary(dir, {"primary", {"--delay-ms", "300"}});
  Mock fallback(dir, {"fallback", {"--delay-ms", "3000"}});
  Gateway gw(dir, hedged_config(primary.port(), fallback.port(), "{ after: 100ms }"));
  HttpClient client(gw.port());
  const auto started = Clock::now();
  const auto r = client.post_json("/v1/chat/completions", chat_body("chain"),
                                  {{"x-request-id", "primary-wins"}});
  const auto took = Clock::now() - started;
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("x-switchyard-provider"), "primary");
  EXPECT_EQ(r.header("x-switchyard-attempts"), "2");
  EXPECT_GE(took, 300ms);
  EXPECT_LT(took, 2000ms);

  const auto log = gw.request_log("primary-wins");
  EXPECT_EQ(log.value("hedged", false), true) << log.dump();
  ASSERT_EQ(log["attempts"].size(), 2u) << log.dump();
  EXPECT_EQ(log["attempts"][0]["provider"], "primary");
  EXPECT_EQ(log["attempts"][0]["outcome"], "ok");
  EXPECT_EQ(log["attempts"][1]["provider"], "fallback");
  EXPECT_EQ(log["attempts"][1]["outcome"], "hedge_lost");

  EXPECT_EQ(chat_requests(fallback), 1);
  EXPECT_TRUE(eventually([&] { return cut_off(fallback); }, 2000ms)) << fallback.requests().dump();
  EXPECT_TRUE(eventually([&] { return admin_health(gw)["counters"]["hedges_wasted"] == 1; }));
  const auto counters = admin_health(gw)["counters"];
  EXPECT_EQ(counters["hedges"], 1);
  EXPECT_EQ(counters["hedge_wins"], 0);
}

TEST(Hedging, HedgesAStreamWhoseFirstTokenIsSlow) {
  TempDir dir;
  Mock primary(dir, "primary");
  Mock fallback(dir, "fallback");
  Gateway gw(dir, hedged_config(primary.port(), fallback.port(), "{ after: 100ms }"));
  HttpClient client(gw.port());
  const auto started = Clock::now();
  const auto r = client.post_json("/v1/chat/completions", chat_body("chain", true),
                                  slow_on("primary", "hedged-stream"));
  const auto took = Clock::now() - started;
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_LT(took, 1500ms);
  EXPECT_EQ(r.header("content-type").rfind("text/event-stream", 0), 0u) << r.header("content-type");
  EXPECT_EQ(r.header("x-switchyard-provider"), "fallback");
  EXPECT_EQ(r.header("x-switchyard-attempts"), "2");
  ASSERT_FALSE(sse_data(r.body).empty());
  EXPECT_EQ(sse_data(r.body).back(), "[DONE]");
  EXPECT_EQ(stream_content(r.body), "Hello from fallback.");

  const auto log = gw.request_log("hedged-stream");
  EXPECT_EQ(log.value("hedged", false), true) << log.dump();
  EXPECT_EQ(log.value("stream_end", ""), "done");
  ASSERT_EQ(log["attempts"].size(), 2u) << log.dump();
  EXPECT_EQ(log["attempts"][0]["outcome"], "hedge_lost");
  EXPECT_EQ(log["attempts"][1]["outcome"], "ok");
  EXPECT_TRUE(eventually([&] { return cut_off(primary); }, 2000ms)) << primary.requests().dump();
  EXPECT_TRUE(eventually([&] { return admin_health(gw)["counters"]["hedge_wins"] == 1; }));
}

TEST(Hedging, WaitsForTheInitialDelayThenForTheTargetsObservedP95) {
  TempDir dir;
  Mock primary(dir, "primary");
  Mock fallback(dir, "fallback");
  Gateway gw(dir, hedged_config(primary.port(), fallback.port(), "{ after: p95, initial: 1s }"));
  HttpClient client(gw.port());

  // Too few samples for a p95: a 400 ms answer is within the initial second.
  auto r = client.post_json("/v1/chat/completions", chat_body("chain"),
                            {{"x-mock-delay-ms", "400"}, {"x-mock-target", "primary"}});
  EXPECT_EQ(r.header("x-switchyard-provider"), "primary");
  EXPECT_EQ(r.header("x-switchyard-attempts"), "1");
  EXPECT_EQ(chat_requests(fallback), 0);

  // Nineteen answers at about 30 ms make twenty samples, enough for a p95, and that p95 about
  // 30 ms (the one 400 ms sample is above it). A twentieth would already be hedged at its p95,
  // half the time: its own 30 ms is the p95 give or take a histogram bucket.
  for (int i = 0; i < 19; ++i) {
    r = client.post_json("/v1/chat/completions", chat_body("chain"),
                         {{"x-mock-delay-ms", "30"}, {"x-mock-target", "primary"}});
    ASSERT_EQ(r.header("x-switchyard-provider"), "primary");
  }
  EXPECT_EQ(chat_requests(fallback), 0);
  ASSERT_TRUE(eventually(
      [&] { return admin_health(gw)["targets"][0]["window"]["requests"].get<int>() == 20; }));
  const auto p95 = admin_health(gw)["targets"][0]["window"]["ttfb_p95_ms"].get<int>();
  EXPECT_GE(p95, 25);
  EXPECT_LE(p95, 100);

  const auto started = Clock::now();
  r = client.post_json("/v1/chat/completions", chat_body("chain"), slow_on("primary", "p95"));
  const auto took = Clock::now() - started;
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("x-switchyard-provider"), "fallback");
  EXPECT_LT(took, 700ms);  // hedged at the p95, long before the initial second
  EXPECT_EQ(gw.request_log("p95").value("hedged", false), true);
}

}  // namespace
}  // namespace switchyard::testing
