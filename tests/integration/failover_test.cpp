// A route's targets in order: what moves the gateway to the next one, and what it tells the
// client when none could serve.
#include <gtest/gtest.h>

#include <ctime>

#include "harness.hpp"

namespace switchyard::testing {
namespace {

struct Upstream {
  std::string name;
  int port;
  std::string extra;  // more provider keys, indented by 4
};

std::string route_config(const std::vector<Upstream>& upstreams) {
  std::string text = "providers:\n";
  for (const auto& u : upstreams) {
    text += "  " + u.name +
            ":\n    type: openai\n    base_url: http://127.0.0.1:" + std::to_string(u.port) +
            "/v1\n    api_key: sk-" + u.name +
            "-secret-key\n    forward_headers: [\"x-mock-*\"]\n" + u.extra;
  }
  text += "models:\n";
  std::string targets;
  for (const auto& u : upstreams) {
    text += "  m-" + u.name + ": { provider: " + u.name + ", name: upstream-" + u.name + " }\n";
    targets += (targets.empty() ? "" : ", ") + ("m-" + u.name);
  }
  text += "routes:\n  chain: { targets: [" + targets + "] }\n";
  return text;
}

TEST(Failover, MovesToTheNextTargetWhenTheFirstRefusesConnections) {
  TempDir dir;
  Mock second(dir, "second");
  Gateway gw(dir, route_config({{"first", closed_port()}, {"second", second.port()}}));
  HttpClient client(gw.port());
  const auto r =
      client.post_json("/v1/chat/completions", chat_body("chain"), {{"x-request-id", "refused"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("x-switchyard-provider"), "second");
  EXPECT_EQ(r.header("x-switchyard-model"), "m-second");
  EXPECT_EQ(r.header("x-switchyard-attempts"), "2");
  const auto log = gw.request_log("refused");
  ASSERT_EQ(log["attempts"].size(), 2u);
  EXPECT_EQ(log["attempts"][0]["outcome"], "connect_failed");
  EXPECT_EQ(log["attempts"][1]["outcome"], "ok");
}

TEST(Failover, MovesOnAfterA500AndA429) {
  for (const char* status : {"500", "503", "429"}) {
    TempDir dir;
    Mock first(dir, {"first", {"--status", status}});
    Mock second(dir, "second");
    Gateway gw(dir, route_config({{"first", first.port()}, {"second", second.port()}}));
    HttpClient client(gw.port());
    const auto r = client.post_json("/v1/chat/completions", chat_body("chain"));
    ASSERT_EQ(r.status, 200) << status << ": " << r.body;
    EXPECT_EQ(r.header("x-switchyard-provider"), "second") << status;
    // A 5xx is retried once on the same target (the default retry budget, attempts: 2); a 429
    // goes straight to a target that is not rate limited.
    const int tries = std::string(status) == "429" ? 1 : 2;
    EXPECT_EQ(first.stats()["requests"]["POST /v1/chat/completions"], tries) << status;
    EXPECT_EQ(r.header("x-switchyard-attempts"), std::to_string(tries + 1)) << status;
  }
}

TEST(Failover, MovesOnWhenTheFirstTargetTimesOut) {
  TempDir dir;
  Mock first(dir, {"first", {"--delay-ms", "5000"}});
  Mock second(dir, "second");
  Gateway gw(dir, route_config({{"first", first.port(), "    timeouts: { first_byte: 300ms }\n"},
                                {"second", second.port()}}));
  HttpClient client(gw.port());
  const auto started = std::chrono::steady_clock::now();
  const auto r = client.post_json("/v1/chat/completions", chat_body("chain"),
                                  {{"x-request-id", "slow-first"}});
  const auto took = std::chrono::steady_clock::now() - started;
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("x-switchyard-provider"), "second");
  EXPECT_LT(took, 3s);
  EXPECT_EQ(gw.request_log("slow-first")["attempts"][0]["outcome"], "timeout");
}

TEST(Failover, FailsOverWhenAStreamDropsBeforeItsFirstEvent) {
  TempDir dir;
  Mock first(dir, {"first", {"--drop-after", "0"}});
  Mock second(dir, "second");
  Gateway gw(dir, route_config({{"first", first.port()}, {"second", second.port()}}));
  HttpClient client(gw.port());
  const auto r = client.post_json("/v1/chat/completions", chat_body("chain", true));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("x-switchyard-provider"), "second");
  EXPECT_EQ(sse_data(r.body).back(), "[DONE]");
}

TEST(Failover, FailsOverWhenAStreamOpensWithAnErrorEvent) {
  TempDir dir;
  Mock first(dir, {"first", {"--error-event-after", "0"}});
  Mock second(dir, "second");
  Gateway gw(dir, route_config({{"first", first.port()}, {"second", second.port()}}));
  HttpClient client(gw.port());
  const auto r = client.post_json("/v1/chat/completions", chat_body("chain", true));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("x-switchyard-provider"), "second");
}

TEST(Failover, FailsOverOnAMalformedUpstreamBody) {
  TempDir dir;
  Mock first(dir, {"first", {"--malformed"}});
  Mock second(dir, "second");
  Gateway gw(dir, route_config({{"first", first.port()}, {"second", second.port()}}));
  HttpClient client(gw.port());
  const auto r = client.post_json("/v1/chat/completions", chat_body("chain"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("x-switchyard-provider"), "second");
  EXPECT_NO_THROW(r.json_body());
}

TEST(Failover, RelaysTheClientsOwnMistakeWithoutTryingAnotherTarget) {
  TempDir dir;
  Mock first(dir, "first");
  Mock second(dir, "second");
  Gateway gw(dir, route_config({{"first", first.port()}, {"second", second.port()}}));
  HttpClient client(gw.port());
  const auto r = client.post_json("/v1/chat/completions", chat_body("chain"),
                                  {{"x-mock-status", "400"}, {"x-mock-target", "first"}});
  EXPECT_EQ(r.status, 400);
  // In OpenAI's shape whatever the provider's was, saying which provider refused.
  const auto upstream = json::parse(first.requests()[0]["response_body"].get<std::string>());
  const auto error = r.json_body()["error"];
  EXPECT_EQ(error["message"], "first: " + upstream["error"]["message"].get<std::string>());
  EXPECT_EQ(error["type"], "invalid_request_error");
  EXPECT_EQ(r.header("x-switchyard-attempts"), "1");
  EXPECT_EQ(second.stats()["requests"].value("POST /v1/chat/completions", 0), 0);
}

TEST(Failover, ReportsEveryTargetTriedWhenAllFailAndNeverTheKeys) {
  TempDir dir;
  Mock first(dir, {"first", {"--status", "500"}});
  Mock second(dir, {"second", {"--status", "502"}});
  Gateway gw(dir, route_config({{"first", first.port()}, {"second", second.port()}}));
  HttpClient client(gw.port());
  const auto r = client.post_json("/v1/chat/completions", chat_body("chain"));
  EXPECT_EQ(r.status, 502);
  EXPECT_EQ(r.header("x-switchyard-attempts"), "4");  // each target tried twice
  const auto error = r.json_body()["error"];
  EXPECT_EQ(error["type"], "server_error");
  EXPECT_EQ(error["code"], "upstream_error");
  EXPECT_TRUE(error.contains("param"));
  const std::string message = error["message"];
  EXPECT_NE(message.find("chain"), std::string::npos) << message;
  EXPECT_NE(message.find("m-first via first: HTTP 500"), std::string::npos) << message;
  EXPECT_NE(message.find("m-second via second: HTTP 502"), std::string::npos) << message;
  EXPECT_EQ(r.body.find("secret-key"), std::string::npos);
}

TEST(Failover, Answers429WithRetryAfterWhenEveryTargetIsRateLimited) {
  TempDir dir;
  Mock first(dir, {"first", {"--status", "429", "--retry-after", "7"}});
  Mock second(dir, {"second", {"--status", "429", "--retry-after", "3"}});
  Gateway gw(dir, route_config({{"first", first.port()}, {"second", second.port()}}));
  HttpClient client(gw.port());
  const auto r = client.post_json("/v1/chat/completions", chat_body("chain"));
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.header("retry-after"), "3");
  EXPECT_EQ(r.json_body()["error"]["code"], "rate_limit_exceeded");
}

TEST(Failover, ReadsRetryAfterGivenAsAnHttpDate) {
  TempDir dir;
  // 40 s from now, as an IMF-fixdate.
  const std::time_t later = std::time(nullptr) + 40;
  char date[64];
  std::strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", std::gmtime(&later));
  Mock only(dir, {"first", {"--status", "429", "--retry-after", date}});
  Gateway gw(dir, route_config({{"first", only.port()}}));
  HttpClient client(gw.port());
  const auto r = client.post_json("/v1/chat/completions", chat_body("chain"));
  EXPECT_EQ(r.status, 429);
  const int seconds = std::stoi(r.header("retry-after"));
  EXPECT_GE(seconds, 35);
  EXPECT_LE(seconds, 41);
}

TEST(Failover, Answers503WhenNoTargetCanBeReachedAnd504OnTimeouts) {
  TempDir dir;
  Gateway unreachable(dir, route_config({{"first", closed_port()}}));
  HttpClient c1(unreachable.port());
  const auto r1 = c1.post_json("/v1/chat/completions", chat_body("chain"));
  EXPECT_EQ(r1.status, 503);
  EXPECT_EQ(r1.json_body()["error"]["code"], "upstream_unavailable");

  Mock slow(dir, {"slow", {"--delay-ms", "3000"}});
  Gateway timing_out(
      dir, route_config({{"slow", slow.port(), "    timeouts: { first_byte: 200ms }\n"}}));
  HttpClient c2(timing_out.port());
  const auto r2 = c2.post_json("/v1/chat/completions", chat_body("chain"));
  EXPECT_EQ(r2.status, 504);
  EXPECT_EQ(r2.json_body()["error"]["code"], "upstream_timeout");
}

TEST(Failover, RetriesAStalePooledConnectionTransparently) {
  TempDir dir;
  Mock mock(dir, "only");
  Gateway gw(dir, route_config({{"only", mock.port()}}) + "server:\n  workers: 1\n");
  HttpClient client(gw.port());
  ASSERT_EQ(client.post_json("/v1/chat/completions", chat_body("chain")).status, 200);
  // The upstream restarts on the same port: the pooled connection is now dead.
  const int port = mock.port();
  mock.process().signal(SIGKILL);
  mock.process().wait_exit(5000ms);
  Mock again(dir, {"again", {}, port});
  const auto r = client.post_json("/v1/chat/completions", chat_body("chain"));
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("x-switchyard-attempts"), "1");
}

}  // namespace
}  // namespace switchyard::testing
