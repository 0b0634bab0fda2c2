// A chaos matrix: one fault of the upstream at a time — refused, erroring, rate limited, slow,
// cut, lying — behind a route of two targets, and for each what the client sees, how many
// requests each upstream got, and that the gateway decided within a bound much shorter than the
// slow path would take.
#include <gtest/gtest.h>

#include <csignal>

#include "harness.hpp"

namespace switchyard::testing {
namespace {

using SteadyClock = std::chrono::steady_clock;

struct Upstream {
  std::string name;
  int port;
  std::string provider_extra;  // more provider keys, indented by 4
  std::string model_extra;     // more model keys, ", key: value" inside the flow mapping
};

// Small backoffs keep retries fast; the breaker is off (a window nobody reaches, no run of
// failures) so only what the case scripts decides, never an earlier case's failures.
constexpr std::string_view kResilience =
    "resilience:\n"
    "  retry: { backoff_base: 10ms, backoff_cap: 50ms }\n"
    "  breaker: { consecutive_failures: 0, min_requests: 1000 }\n";

// Providers named as the upstreams, a model `m-NAME` on each, and route `chain` over them in
// order. `route_extra` goes inside the route's flow mapping (", retry: {...}").
std::string chaos_config(const std::vector<Upstream>& upstreams,
                         const std::string& route_extra = "",
                         std::string_view resilience = kResilience) {
  std::string text(resilience);
  text += "providers:\n";
  for (const auto& u : upstreams) {
    text += "  " + u.name +
            ":\n    type: openai\n    base_url: http://127.0.0.1:" + std::to_string(u.port) +
            "/v1\n    api_key: sk-" + u.name +
            "-secret-key\n    forward_headers: [\"x-mock-*\"]\n" + u.provider_extra;
  }
  text += "models:\n";
  std::string targets;
  for (const auto& u : upstreams) {
    text += "  m-" + u.name + ": { provider: " + u.name + ", name: upstream-" + u.name +
            u.model_extra + " }\n";
    targets += (targets.empty() ? "" : ", ") + ("m-" + u.name);
  }
  text += "routes:\n  chain: { targets: [" + targets + "]" + route_extra + " }\n";
  return text;
}

struct Stopwatch {
  SteadyClock::time_point started = SteadyClock::now();
  std::chrono::milliseconds elapsed() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - started);
  }
};

// The `data:` payloads of a relayed stream, split into what a client would make of them.
struct StreamSeen {
  int content_chunks = 0;
  std::string content;
  bool done = false;          // a `data: [DONE]` arrived
  std::optional<json> error;  // the last payload, when it is an error event
};

StreamSeen read_stream(const std::string& body) {
  StreamSeen seen;
  for (const auto& data : sse_data(body)) {
    if (data == "[DONE]") {
      seen.done = true;
      continue;
    }
    const json event = json::parse(data, nullptr, false);
    if (event.is_discarded()) continue;
    if (event.contains("error")) {
      seen.error = event["error"];
      continue;
    }
    if (!event.contains("choices") || event["choices"].empty()) continue;
    const auto& delta = event["choices"][0].value("delta", json::object());
    if (delta.contains("content") && delta["content"].is_string() &&
        !delta["content"].get<std::string>().empty()) {
      ++seen.content_chunks;
      seen.content += delta["content"].get<std::string>();
    }
  }
  return seen;
}

// --- Transport faults ---------------------------------------------------------------------

TEST(Chaos, FailsOverAtOnceWhenThePrimaryRefusesConnections) {
  TempDir dir;
  Mock fallback(dir, "fallback");
  Gateway gw(dir, chaos_config({{"primary", closed_port()}, {"fallback", fallback.port()}}));
  HttpClient client(gw.port());
  const Stopwatch clock;
  const auto r =
      client.post_json("/v1/chat/completions", chat_body("chain"), {{"x-request-id", "refused"}});
  const auto took = clock.elapsed();
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("x-switchyard-provider"), "fallback");
  // Nobody listening is not retried where there is somewhere else to go.
  EXPECT_EQ(r.header("x-switchyard-attempts"), "2");
  EXPECT_EQ(chat_requests(fallback), 1);
  EXPECT_LT(took, 1s);
  const auto log = gw.request_log("refused");
  ASSERT_EQ(log["attempts"].size(), 2u) << log.dump();
  EXPECT_EQ(log["attempts"][0]["provider"], "primary");
  EXPECT_EQ(log["attempts"][0]["outcome"], "connect_failed");
  EXPECT_EQ(log["attempts"][1]["outcome"], "ok");
}

TEST(Chaos, RetriesAConnectionResetBeforeTheHeadThenFailsOver) {
  TempDir dir;
  Mock primary(dir, {"primary", {"--drop-before-head"}});
  Mock fallback(dir, "fallback");
  Gateway gw(dir, chaos_config({{"primary", primary.port()}, {"fallback", fallback.port()}}));
  HttpClient client(gw.port());
  const Stopwatch clock;
  const auto r =
      client.post_json("/v1/chat/completions", chat_body("chain"), {{"x-request-id", "reset"}});
  const auto took = clock.elapsed();
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("x-switchyard-provider"), "fallback");
  EXPECT_EQ(r.header("x-switchyard-attempts"), "3");
  EXPECT_EQ(chat_requests(primary), 2);
  EXPECT_EQ(chat_requests(fallback), 1);
  EXPECT_NO_THROW(r.json_body());
  EXPECT_LT(took, 1s);
  const auto log = gw.request_log("reset");
  ASSERT_EQ(log["attempts"].size(), 3u) << log.dump();
  EXPECT_EQ(log["attempts"][0]["outcome"], "connection_closed");
  EXPECT_EQ(log["attempts"][1]["outcome"], "connection_closed");
}

TEST(Chaos, RetriesAStreamResetBeforeTheHeadThenStreamsFromTheFallback) {
  TempDir dir;
  Mock primary(dir, {"primary", {"--drop-before-head"}});
  Mock fallback(dir, "fallback");
  Gateway gw(dir, chaos_config({{"primary", primary.port()}, {"fallback", fallback.port()}}));
  HttpClient client(gw.port());
  const Stopwatch clock;
  const auto r = client.post_json("/v1/chat/completions", chat_body("chain", true));
  const auto took = clock.elapsed();
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("x-switchyard-provider"), "fallback");
  EXPECT_EQ(r.header("x-switchyard-attempts"), "3");
  const auto seen = read_stream(r.body);
  EXPECT_TRUE(seen.done) << r.body;
  EXPECT_FALSE(seen.error) << r.body;
  EXPECT_EQ(seen.content, "Hello from fallback.");
  EXPECT_EQ(chat_requests(primary), 2);
  EXPECT_EQ(chat_requests(fallback), 1);
  EXPECT_LT(took, 1s);
}

TEST(Chaos, RetriesAMalformedBodyThenFailsOver) {
  TempDir dir;
  Mock primary(dir, {"primary", {"--malformed"}});
  Mock fallback(dir, "fallback");
  Gateway gw(dir, chaos_config({{"primary", primary.port()}, {"fallback", fallback.port()}}));
  HttpClient client(gw.port());
  const Stopwatch clock;
  const auto r =
      client.post_json("/v1/chat/completions", chat_body("chain"), {{"x-request-id", "malformed"}});
  const auto took = clock.elapsed();
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("x-switchyard-provider"), "fallback");
  EXPECT_EQ(r.header("x-switchyard-attempts"), "3");
  ASSERT_NO_THROW(r.json_body()) << r.body;
  EXPECT_EQ(r.json_body()["choices"][0]["message"]["content"], "Hello from fallback.");
  EXPECT_EQ(chat_requests(primary), 2);
  EXPECT_EQ(chat_requests(fallback), 1);
  EXPECT_LT(took, 1s);
  const auto log = gw.request_log("malformed");
  ASSERT_EQ(log["attempts"].size(), 3u) << log.dump();
  EXPECT_EQ(log["attempts"][0]["status"], 200);
  EXPECT_NE(log["attempts"][0]["outcome"], "ok");
}

TEST(Chaos, RetriesAResetOnAPooledConnectionWithinTheSameRetryBudget) {
  TempDir dir;
  Mock primary(dir, "primary");
  Mock fallback(dir, "fallback");
  Gateway gw(dir, chaos_config({{"primary", primary.port()}, {"fallback", fallback.port()}}) +
                      "server:\n  workers: 1\n");
  HttpClient client(gw.port());
  // A healthy primary first, so the gateway holds a kept-alive connection to it ...
  ASSERT_EQ(client.post_json("/v1/chat/completions", chat_body("chain")).status, 200);
  ASSERT_EQ(chat_requests(primary), 1);
  // ... which is alive, reads the next request and then cuts it, as does every later one.
  set_mock_defaults(primary, {{"drop-before-head", true}});
  const auto r = client.post_json("/v1/chat/completions", chat_body("chain"),
                                  {{"x-request-id", "pooled-reset"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("x-switchyard-provider"), "fallback");
  // Two tries of the primary (attempts: 2), then the fallback: no more reached the primary than
  // the retry budget allows, and the header counts every request that went upstream.
  const int upstream_requests = chat_requests(primary) - 1 + chat_requests(fallback);
  EXPECT_EQ(chat_requests(primary) - 1, 2);
  EXPECT_EQ(chat_requests(fallback), 1);
  EXPECT_EQ(r.header("x-switchyard-attempts"), "3");
  EXPECT_EQ(r.header("x-switchyard-attempts"), std::to_string(upstream_requests));
  EXPECT_EQ(gw.request_log("pooled-reset")["attempts"].size(), 3u);
}

TEST(Chaos, RetriesARefusedConnectionOnlyOnTheLastTarget) {
  TempDir dir;
  Gateway gw(dir, chaos_config({{"primary", closed_port()}, {"fallback", closed_port()}}));
  HttpClient client(gw.port());
  const Stopwatch clock;
  const auto r = client.post_json("/v1/chat/completions", chat_body("chain"),
                                  {{"x-request-id", "all-refused"}});
  const auto took = clock.elapsed();
  EXPECT_EQ(r.status, 503) << r.body;
  EXPECT_EQ(r.json_body()["error"]["code"], "upstream_unavailable");
  EXPECT_EQ(r.header("x-switchyard-attempts"), "3");
  EXPECT_LT(took, 1s);
  const auto log = gw.request_log("all-refused");
  ASSERT_EQ(log["attempts"].size(), 3u) << log.dump();
  EXPECT_EQ(log["attempts"][0]["provider"], "primary");
  EXPECT_EQ(log["attempts"][1]["provider"], "fallback");
  EXPECT_EQ(log["attempts"][2]["provider"], "fallback");
}

// --- Error statuses -----------------------------------------------------------------------

class ChaosServerError : public ::testing::TestWithParam<int> {};

TEST_P(ChaosServerError, IsRetriedOnceOnTheSameTargetThenFailsOver) {
  const std::string status = std::to_string(GetParam());
  TempDir dir;
  Mock primary(dir, {"primary", {"--status", status}});
  Mock fallback(dir, "fallback");
  Gateway gw(dir, chaos_config({{"primary", primary.port()}, {"fallback", fallback.port()}}));
  HttpClient client(gw.port());
  const Stopwatch clock;
  const auto r = client.post_json("/v1/chat/completions", chat_body("chain"),
                                  {{"x-request-id", "status-" + status}});
  const auto took = clock.elapsed();
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("x-switchyard-provider"), "fallback");
  EXPECT_EQ(r.header("x-switchyard-attempts"), "3");
  EXPECT_EQ(r.json_body()["choices"][0]["message"]["content"], "Hello from fallback.");
  EXPECT_EQ(chat_requests(primary), 2);
  EXPECT_EQ(chat_requests(fallback), 1);
  EXPECT_LT(took, 1s);
  const auto log = gw.request_log("status-" + status);
  ASSERT_EQ(log["attempts"].size(), 3u) << log.dump();
  EXPECT_EQ(log["attempts"][0]["status"], GetParam());
  EXPECT_EQ(log["attempts"][1]["status"], GetParam());
  EXPECT_EQ(log["attempts"][2]["provider"], "fallback");
}

INSTANTIATE_TEST_SUITE_P(Statuses, ChaosServerError, ::testing::Values(500, 502, 503, 529),
                         [](const ::testing::TestParamInfo<int>& status) {
                           return "Http" + std::to_string(status.param);
                         });

TEST(Chaos, RetriesA503OnTheSameTargetNoSoonerThanItsRetryAfter) {
  TempDir dir;
  Mock primary(dir, {"primary", {"--status", "503", "--retry-after", "1"}});
  Mock fallback(dir, "fallback");
  Gateway gw(dir, chaos_config({{"primary", primary.port()}, {"fallback", fallback.port()}}));
  HttpClient client(gw.port());
  const Stopwatch clock;
  const auto r = client.post_json("/v1/chat/completions", chat_body("chain"));
  const auto took = clock.elapsed();
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("x-switchyard-provider"), "fallback");
  EXPECT_EQ(r.header("x-switchyard-attempts"), "3");
  EXPECT_EQ(chat_requests(primary), 2);
  EXPECT_EQ(chat_requests(fallback), 1);
  EXPECT_GE(took, 950ms);
  EXPECT_LT(took, 2500ms);
}

TEST(Chaos, FailsOverOnA429AndLeavesThePrimaryAloneForItsRetryAfter) {
  TempDir dir;
  Mock primary(dir, "primary");
  set_mock_defaults(primary, {{"status", "429"}, {"retry-after", "1"}});
  Mock fallback(dir, "fallback");
  Gateway gw(dir, chaos_config({{"primary", primary.port()}, {"fallback", fallback.port()}}));
  HttpClient client(gw.port());
  const Stopwatch clock;
  const auto first = client.post_json("/v1/chat/completions", chat_body("chain"));
  const auto took = clock.elapsed();
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(first.header("x-switchyard-provider"), "fallback");
  EXPECT_EQ(first.header("x-switchyard-attempts"), "2");
  EXPECT_EQ(chat_requests(primary), 1);
  EXPECT_EQ(chat_requests(fallback), 1);
  // Somewhere else to go beats waiting out the retry-after.
  EXPECT_LT(took, 800ms);

  // Within the second the primary asked for, nobody asks it again.
  const auto second = client.post_json("/v1/chat/completions", chat_body("chain"));
  ASSERT_EQ(second.status, 200) << second.body;
  EXPECT_EQ(second.header("x-switchyard-provider"), "fallback");
  EXPECT_EQ(second.header("x-switchyard-attempts"), "1");
  EXPECT_EQ(chat_requests(primary), 1);
  EXPECT_EQ(chat_requests(fallback), 2);

  // Once it is over, the primary (now well) serves again.
  reset_mock(primary);
  EXPECT_TRUE(eventually(
      [&] {
        return client.post_json("/v1/chat/completions", chat_body("chain"))
                   .header("x-switchyard-provider") == "primary";
      },
      3000ms));
}

TEST(Chaos, WaitsOutARetryAfterOnTheOnlyTargetThenAnswers429) {
  TempDir dir;
  Mock only(dir, {"primary", {"--status", "429", "--retry-after", "1"}});
  Gateway gw(dir, chaos_config({{"primary", only.port()}}, ", retry: { attempts: 2 }"));
  HttpClient client(gw.port());
  const Stopwatch clock;
  const auto r = client.post_json("/v1/chat/completions", chat_body("chain"));
  const auto took = clock.elapsed();
  EXPECT_EQ(r.status, 429) << r.body;
  EXPECT_EQ(r.header("retry-after"), "1");
  EXPECT_EQ(r.header("x-switchyard-attempts"), "2");
  EXPECT_EQ(r.json_body()["error"]["code"], "rate_limit_exceeded");
  EXPECT_EQ(chat_requests(only), 2);
  // The second try came after the second the upstream asked for, and not much later.
  EXPECT_GE(took, 950ms);
  EXPECT_LT(took, 2500ms);
}

TEST(Chaos, AnswersAtOnceWhenTheRetryAfterIsLongerThanItWouldWait) {
  TempDir dir;
  Mock only(dir, {"primary", {"--status", "429", "--retry-after", "60"}});
  const std::string resilience =
      "resilience:\n"
      "  retry: { backoff_base: 10ms, backoff_cap: 50ms, max_retry_after: 1s }\n"
      "  breaker: { consecutive_failures: 0, min_requests: 1000 }\n";
  Gateway gw(dir, chaos_config({{"primary", only.port()}}, "", resilience));
  HttpClient client(gw.port());
  const Stopwatch clock;
  const auto r = client.post_json("/v1/chat/completions", chat_body("chain"));
  const auto took = clock.elapsed();
  EXPECT_EQ(r.status, 429) << r.body;
  EXPECT_EQ(r.header("retry-after"), "60");
  EXPECT_EQ(r.header("x-switchyard-attempts"), "1");
  EXPECT_EQ(r.json_body()["error"]["code"], "rate_limit_exceeded");
  EXPECT_EQ(chat_requests(only), 1);
  EXPECT_LT(took, 500ms);
}

// --- Timeouts -----------------------------------------------------------------------------

TEST(Chaos, FailsOverWhenThePrimaryMissesItsFirstByteTimeout) {
  TempDir dir;
  Mock primary(dir, {"primary", {"--delay-ms", "3000"}});
  Mock fallback(dir, "fallback");
  Gateway gw(dir,
             chaos_config({{"primary", primary.port(), "    timeouts: { first_byte: 200ms }\n"},
                           {"fallback", fallback.port()}}));
  HttpClient client(gw.port());
  const Stopwatch clock;
  const auto r = client.post_json("/v1/chat/completions", chat_body("chain"),
                                  {{"x-request-id", "first-byte"}});
  const auto took = clock.elapsed();
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("x-switchyard-provider"), "fallback");
  EXPECT_EQ(r.header("x-switchyard-attempts"), "2");
  EXPECT_EQ(chat_requests(primary), 1);
  EXPECT_EQ(chat_requests(fallback), 1);
  EXPECT_GE(took, 200ms);
  EXPECT_LT(took, 1500ms);
  const auto log = gw.request_log("first-byte");
  ASSERT_EQ(log["attempts"].size(), 2u) << log.dump();
  EXPECT_EQ(log["attempts"][0]["outcome"], "timeout");
}

TEST(Chaos, FailsOverWhenAStreamSaysNothingWithinTheTotalTimeout) {
  TempDir dir;
  // Head and role chunk at once, then a second before each content chunk.
  Mock primary(dir, {"primary", {"--chunk-delay-ms", "1000"}});
  Mock fallback(dir, "fallback");
  Gateway gw(dir, chaos_config({{"primary", primary.port(), "    timeouts: { total: 300ms }\n"},
                                {"fallback", fallback.port()}}));
  HttpClient client(gw.port());
  const Stopwatch clock;
  const auto r = client.post_json("/v1/chat/completions", chat_body("chain", true),
                                  {{"x-request-id", "total-stream"}});
  const auto took = clock.elapsed();
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("x-switchyard-provider"), "fallback");
  EXPECT_EQ(r.header("x-switchyard-attempts"), "2");
  const auto seen = read_stream(r.body);
  EXPECT_EQ(seen.content, "Hello from fallback.");
  EXPECT_TRUE(seen.done) << r.body;
  EXPECT_EQ(chat_requests(primary), 1);
  EXPECT_EQ(chat_requests(fallback), 1);
  EXPECT_GE(took, 300ms);
  EXPECT_LT(took, 1500ms);
  EXPECT_EQ(gw.request_log("total-stream")["attempts"][0]["outcome"], "timeout");
}

TEST(Chaos, FailsOverWhenAJsonAnswerMissesTheTotalTimeout) {
  TempDir dir;
  // The first-byte timeout would wait; the total one bounds the attempt however it is spent.
  Mock primary(dir, {"primary", {"--delay-ms", "3000"}});
  Mock fallback(dir, "fallback");
  Gateway gw(dir, chaos_config({{"primary", primary.port(),
                                 "    timeouts: { first_byte: 10s, total: 300ms }\n"},
                                {"fallback", fallback.port()}}));
  HttpClient client(gw.port());
  const Stopwatch clock;
  const auto r = client.post_json("/v1/chat/completions", chat_body("chain"));
  const auto took = clock.elapsed();
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("x-switchyard-provider"), "fallback");
  EXPECT_EQ(chat_requests(primary), 1);
  EXPECT_EQ(chat_requests(fallback), 1);
  EXPECT_GE(took, 300ms);
  EXPECT_LT(took, 1500ms);
}

TEST(Chaos, InterruptsAStreamThatOutlivesTheTotalTimeoutAfterItBegan) {
  TempDir dir;
  // Content chunks at about 300, 600, 900... ms, 3 s in all; the attempt may last 750 ms.
  Mock primary(dir, {"primary", {"--chunk-delay-ms", "300", "--chunks", "10"}});
  Mock fallback(dir, "fallback");
  Gateway gw(dir, chaos_config({{"primary", primary.port(), "    timeouts: { total: 750ms }\n"},
                                {"fallback", fallback.port()}}));
  HttpClient client(gw.port());
  const Stopwatch clock;
  const auto r = client.post_json("/v1/chat/completions", chat_body("chain", true),
                                  {{"x-request-id", "total-mid-stream"}});
  const auto took = clock.elapsed();
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("x-switchyard-provider"), "primary");
  const auto seen = read_stream(r.body);
  // Two on time; a loaded machine may shift the cut by a chunk.
  EXPECT_GE(seen.content_chunks, 1) << r.body;
  EXPECT_LT(seen.content_chunks, 10) << r.body;
  ASSERT_TRUE(seen.error) << r.body;
  EXPECT_EQ((*seen.error)["code"], "stream_interrupted");
  EXPECT_NE((*seen.error)["message"].get<std::string>().find("timeout"), std::string::npos)
      << seen.error->dump();
  EXPECT_FALSE(seen.done) << r.body;
  EXPECT_EQ(chat_requests(primary), 1);
  EXPECT_EQ(chat_requests(fallback), 0);
  EXPECT_GE(took, 750ms);
  EXPECT_LT(took, 1500ms);
  EXPECT_EQ(gw.request_log("total-mid-stream")["attempts"][0]["outcome"], "interrupted");
}

TEST(Chaos, FailsOverFromASlowLorisUpstreamWithinTheTotalTimeout) {
  TempDir dir;
  // Every byte, head included, 20 ms apart: never silent long enough for the first-byte or
  // idle timeout, and seconds from a complete answer.
  Mock primary(dir, {"primary", {"--trickle-ms", "20"}});
  Mock fallback(dir, "fallback");
  Gateway gw(dir, chaos_config({{"primary", primary.port(), "    timeouts: { total: 500ms }\n"},
                                {"fallback", fallback.port()}}));
  HttpClient client(gw.port());
  const Stopwatch clock;
  const auto r = client.post_json("/v1/chat/completions", chat_body("chain"),
                                  {{"x-request-id", "slow-loris"}});
  const auto took = clock.elapsed();
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("x-switchyard-provider"), "fallback");
  EXPECT_EQ(r.header("x-switchyard-attempts"), "2");
  EXPECT_EQ(chat_requests(primary), 1);
  EXPECT_EQ(chat_requests(fallback), 1);
  EXPECT_GE(took, 500ms);
  EXPECT_LT(took, 2s);
  EXPECT_EQ(gw.request_log("slow-loris")["attempts"][0]["outcome"], "timeout");
}

TEST(Chaos, RetriesATimeoutOnlyOnTheLastTarget) {
  TempDir dir;
  Mock primary(dir, {"primary", {"--delay-ms", "3000"}});
  Mock fallback(dir, {"fallback", {"--delay-ms", "3000"}});
  const std::string slow = "    timeouts: { first_byte: 200ms }\n";
  Gateway gw(
      dir, chaos_config({{"primary", primary.port(), slow}, {"fallback", fallback.port(), slow}}));
  HttpClient client(gw.port());
  const Stopwatch clock;
  const auto r = client.post_json("/v1/chat/completions", chat_body("chain"));
  const auto took = clock.elapsed();
  EXPECT_EQ(r.status, 504) << r.body;
  EXPECT_EQ(r.json_body()["error"]["code"], "upstream_timeout");
  EXPECT_EQ(r.header("x-switchyard-attempts"), "3");
  EXPECT_EQ(chat_requests(primary), 1);
  EXPECT_EQ(chat_requests(fallback), 2);
  EXPECT_GE(took, 600ms);
  EXPECT_LT(took, 1500ms);
}

// --- Streams that break after they began --------------------------------------------------

TEST(Chaos, EndsAStreamCutAfterTwoChunksWithAnInterruptionErrorAndNoDone) {
  TempDir dir;
  Mock primary(dir, {"primary", {"--drop-after", "2"}});
  Mock fallback(dir, "fallback");
  Gateway gw(dir, chaos_config({{"primary", primary.port()}, {"fallback", fallback.port()}}));
  HttpClient client(gw.port());
  const Stopwatch clock;
  const auto r =
      client.post_json("/v1/chat/completions", chat_body("chain", true), {{"x-request-id", "cut"}});
  const auto took = clock.elapsed();
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("x-switchyard-provider"), "primary");
  EXPECT_EQ(r.header("x-switchyard-attempts"), "1");
  const auto seen = read_stream(r.body);
  EXPECT_EQ(seen.content_chunks, 2) << r.body;
  ASSERT_TRUE(seen.error) << r.body;
  EXPECT_EQ((*seen.error)["code"], "stream_interrupted");
  EXPECT_EQ((*seen.error)["type"], "server_error");
  EXPECT_FALSE(seen.done) << r.body;
  EXPECT_TRUE(json::parse(sse_data(r.body).back()).contains("error")) << "not the last event";
  // Once the client has content, a second stream would be a second answer.
  EXPECT_EQ(chat_requests(primary), 1);
  EXPECT_EQ(chat_requests(fallback), 0);
  EXPECT_LT(took, 1s);
  EXPECT_EQ(gw.request_log("cut")["attempts"][0]["outcome"], "interrupted");
}

TEST(Chaos, EndsAStreamWhoseUpstreamSendsAnErrorEventAfterTwoChunks) {
  TempDir dir;
  Mock primary(dir, {"primary", {"--error-event-after", "2", "--error-message", "engine melted"}});
  Mock fallback(dir, "fallback");
  Gateway gw(dir, chaos_config({{"primary", primary.port()}, {"fallback", fallback.port()}}));
  HttpClient client(gw.port());
  const Stopwatch clock;
  const auto r = client.post_json("/v1/chat/completions", chat_body("chain", true),
                                  {{"x-request-id", "error-event"}});
  const auto took = clock.elapsed();
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("x-switchyard-provider"), "primary");
  const auto seen = read_stream(r.body);
  EXPECT_EQ(seen.content_chunks, 2) << r.body;
  ASSERT_TRUE(seen.error) << r.body;
  EXPECT_EQ((*seen.error)["code"], "stream_interrupted");
  EXPECT_NE((*seen.error)["message"].get<std::string>().find("engine melted"), std::string::npos)
      << seen.error->dump();
  EXPECT_FALSE(seen.done) << r.body;
  EXPECT_EQ(chat_requests(primary), 1);
  EXPECT_EQ(chat_requests(fallback), 0);
  EXPECT_LT(took, 1s);
  EXPECT_EQ(gw.request_log("error-event")["attempts"][0]["outcome"], "upstream_error");
}

// --- The request's own bounds -------------------------------------------------------------

TEST(Chaos, AnswersDeadlineExceededWhenTheClientsDeadlinePasses) {
  TempDir dir;
  Mock primary(dir, {"primary", {"--delay-ms", "3000"}});
  Mock fallback(dir, {"fallback", {"--delay-ms", "3000"}});
  Gateway gw(dir, chaos_config({{"primary", primary.port()}, {"fallback", fallback.port()}}));
  HttpClient client(gw.port());
  const Stopwatch clock;
  const auto r = client.post_json("/v1/chat/completions", chat_body("chain"),
                                  {{"x-switchyard-deadline", "400ms"}});
  const auto took = clock.elapsed();
  EXPECT_EQ(r.status, 504) << r.body;
  const auto error = r.json_body()["error"];
  EXPECT_EQ(error["code"], "deadline_exceeded");
  // The SDKs would otherwise retry a request whose deadline is gone.
  EXPECT_EQ(r.header("x-should-retry"), "false");
  const std::string message = error["message"];
  EXPECT_NE(message.find("'chain'"), std::string::npos) << message;
  EXPECT_NE(message.find("m-primary via primary"), std::string::npos) << message;
  EXPECT_GE(took, 400ms);
  EXPECT_LT(took, 1s);
  EXPECT_EQ(chat_requests(primary), 1);
  EXPECT_EQ(chat_requests(fallback), 0);
}

TEST(Chaos, AnswersDeadlineExceededWhenTheRoutesDeadlinePasses) {
  TempDir dir;
  Mock primary(dir, {"primary", {"--delay-ms", "3000"}});
  Mock fallback(dir, {"fallback", {"--delay-ms", "3000"}});
  Gateway gw(dir, chaos_config({{"primary", primary.port()}, {"fallback", fallback.port()}},
                               ", deadline: 400ms"));
  HttpClient client(gw.port());
  const Stopwatch clock;
  const auto r = client.post_json("/v1/chat/completions", chat_body("chain"));
  const auto took = clock.elapsed();
  EXPECT_EQ(r.status, 504) << r.body;
  EXPECT_EQ(r.json_body()["error"]["code"], "deadline_exceeded");
  EXPECT_GE(took, 400ms);
  EXPECT_LT(took, 1s);
  EXPECT_EQ(chat_requests(primary), 1);
  EXPECT_EQ(chat_requests(fallback), 0);
}

TEST(Chaos, RefusesAnInvalidDeadlineHeaderBeforeAskingAnyUpstream) {
  TempDir dir;
  Mock primary(dir, "primary");
  Mock fallback(dir, "fallback");
  Gateway gw(dir, chaos_config({{"primary", primary.port()}, {"fallback", fallback.port()}}));
  HttpClient client(gw.port());
  for (const char* value : {"soon", "-5s", "0ms", "3 weeks"}) {
    const auto r = client.post_json("/v1/chat/completions", chat_body("chain"),
                                    {{"x-switchyard-deadline", value}});
    EXPECT_EQ(r.status, 400) << value << ": " << r.body;
    const auto error = r.json_body()["error"];
    EXPECT_EQ(error["code"], "invalid_header") << value;
    EXPECT_EQ(error["param"], "x-switchyard-deadline") << value;
    EXPECT_EQ(r.header("x-switchyard-attempts"), "0") << value;
  }
  EXPECT_EQ(chat_requests(primary), 0);
  EXPECT_EQ(chat_requests(fallback), 0);
}

TEST(Chaos, SkipsTargetsNoLargerThanOneWhoseContextThePromptOverflowed) {
  TempDir dir;
  Mock primary(dir, {"primary", {"--status", "400", "--error-code", "context_length_exceeded"}});
  Mock fallback(dir, "fallback");
  Mock wide(dir, "wide");
  Gateway gw(dir, chaos_config({{"primary", primary.port(), "", ", context: 1000"},
                                {"fallback", fallback.port(), "", ", context: 1000"},
                                {"wide", wide.port(), "", ", context: 8000"}}));
  HttpClient client(gw.port());
  const Stopwatch clock;
  const auto r =
      client.post_json("/v1/chat/completions", chat_body("chain"), {{"x-request-id", "context"}});
  const auto took = clock.elapsed();
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("x-switchyard-provider"), "wide");
  EXPECT_EQ(r.header("x-switchyard-model"), "m-wide");
  EXPECT_EQ(r.header("x-switchyard-attempts"), "2");
  // A refusal of this prompt is not retried where it was refused.
  EXPECT_EQ(chat_requests(primary), 1);
  EXPECT_EQ(chat_requests(fallback), 0);
  EXPECT_EQ(chat_requests(wide), 1);
  EXPECT_LT(took, 1s);
  const auto log = gw.request_log("context");
  ASSERT_EQ(log["attempts"].size(), 2u) << log.dump();
  EXPECT_EQ(log["attempts"][0]["status"], 400);
  EXPECT_EQ(log["attempts"][1]["provider"], "wide");
}

}  // namespace
}  // namespace switchyard::testing
