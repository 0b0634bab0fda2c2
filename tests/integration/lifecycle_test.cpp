// Connections over time: pooling, streams cut from either side, shutdown, config checking.
#include <gtest/gtest.h>
#include <signal.h>

#include <thread>

#include "harness.hpp"

namespace switchyard::testing {
namespace {

std::string config_for(int mock_port, const std::string& server = "  workers: 2\n",
                       const std::string& provider = "") {
  return "server:\n" + server +
         "providers:\n  local:\n    type: openai\n    base_url: http://127.0.0.1:" +
         std::to_string(mock_port) + "/v1\n    forward_headers: [\"x-mock-*\"]\n" + provider +
         "models:\n  small: { provider: local }\n";
}

std::string stream_request(const std::string& extra_headers) {
  const std::string body = chat_body("small", true).dump();
  return "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" +
         extra_headers + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

TEST(Pool, ServesAThousandSequentialRequestsOverOneUpstreamConnection) {
  TempDir dir;
  Mock mock(dir, "pool");
  Gateway gw(dir, config_for(mock.port()));
  HttpClient client(gw.port());
  for (int i = 0; i < 1000; ++i) {
    const auto r = client.post_json("/v1/chat/completions", chat_body("small", i % 10 == 0));
    ASSERT_EQ(r.status, 200) << i << ": " << r.body;
  }
  const auto stats = mock.stats();
  EXPECT_EQ(stats["requests"]["POST /v1/chat/completions"], 1000);
  // One connection from the gateway's worker, one for this stats request.
  EXPECT_EQ(stats["connections_accepted"], 2);
}

TEST(Streams, AClientHangingUpClosesTheUpstreamConnectionAtOnce) {
  TempDir dir;
  Mock mock(dir, "slow");
  Gateway gw(dir, config_for(mock.port()));
  RawConnection raw(gw.port());
  raw.send(stream_request("x-mock-chunks: 100\r\nx-mock-chunk-delay-ms: 100\r\n"));
  const auto first = raw.receive(3000ms, "\"content\":\"\"");
  ASSERT_NE(first.find("200 OK"), std::string::npos) << first;
  raw.close();
  // The stream had ten seconds to run; the upstream connection goes well before.
  EXPECT_TRUE(eventually([&] { return mock.stats()["connections_open"] == 1; }, 1500ms))
      << mock.stats().dump();
  const auto seen = mock.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_TRUE(seen[0]["aborted"].get<bool>());
  EXPECT_FALSE(seen[0]["completed"].get<bool>());
}

TEST(Streams, AClientHangingUpBeforeAnyResponseCancelsTheUpstreamRequest) {
  TempDir dir;
  Mock mock(dir, "slow");
  Gateway gw(dir, config_for(mock.port()));
  const std::string body = chat_body("small").dump();
  RawConnection raw(gw.port());
  raw.send(
      "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nx-mock-delay-ms: 5000\r\n"
      "x-request-id: hung-up\r\nContent-Length: " +
      std::to_string(body.size()) + "\r\n\r\n" + body);
  ASSERT_TRUE(eventually([&] { return mock.stats()["connections_open"] == 2; }, 2000ms));
  raw.close();
  EXPECT_TRUE(eventually([&] { return mock.stats()["connections_open"] == 1; }, 1500ms));
  const auto log = gw.request_log("hung-up");
  EXPECT_EQ(log["status"], 499);
  EXPECT_EQ(log["client_gone"], true);
}

TEST(Streams, AnUpstreamDroppingMidStreamEndsItWithAnErrorEventAndNoDone) {
  TempDir dir;
  Mock mock(dir, "flaky");
  Gateway gw(dir, config_for(mock.port()));
  HttpClient client(gw.port());
  const auto r = client.post_json(
      "/v1/chat/completions", chat_body("small", true),
      {{"x-mock-chunks", "5"}, {"x-mock-drop-after", "2"}, {"x-request-id", "dropped"}});
  ASSERT_EQ(r.status, 200);
  const auto events = sse_data(r.body);
  ASSERT_GE(events.size(), 2u);
  EXPECT_NE(events.back(), "[DONE]");
  const auto error = json::parse(events.back());
  EXPECT_EQ(error["error"]["type"], "server_error");
  EXPECT_EQ(error["error"]["code"], "stream_interrupted");
  EXPECT_FALSE(error.contains("choices"));
  for (const auto& e : events) EXPECT_NE(e, "[DONE]");
  EXPECT_EQ(gw.request_log("dropped")["stream_end"], "interrupted");
}

TEST(Streams, AnUpstreamEndingWithoutDoneIsReportedNotPassedOffAsComplete) {
  TempDir dir;
  Mock mock(dir, "nodone");
  Gateway gw(dir, config_for(mock.port()));
  HttpClient client(gw.port());
  const auto r =
      client.post_json("/v1/chat/completions", chat_body("small", true), {{"x-mock-no-done", "1"}});
  ASSERT_EQ(r.status, 200);
  const auto events = sse_data(r.body);
  EXPECT_EQ(json::parse(events.back())["error"]["code"], "stream_interrupted");
}

TEST(Streams, AnUpstreamErrorEventMidStreamEndsTheStreamWithItsMessage) {
  TempDir dir;
  Mock mock(dir, "erring");
  Gateway gw(dir, config_for(mock.port()));
  HttpClient client(gw.port());
  const auto r = client.post_json("/v1/chat/completions", chat_body("small", true),
                                  {{"x-mock-error-event-after", "2"}});
  ASSERT_EQ(r.status, 200);
  const auto relayed = sse_data(r.body);
  const auto upstream = sse_data(mock.requests()[0]["response_body"].get<std::string>());
  ASSERT_EQ(relayed.size(), upstream.size());
  // Every chunk before the error as the upstream sent it; then the error, as the gateway says it.
  for (std::size_t i = 0; i + 1 < relayed.size(); ++i)
    EXPECT_EQ(json::parse(relayed[i])["choices"], json::parse(upstream[i])["choices"]);
  const auto error = json::parse(relayed.back())["error"];
  const auto upstream_error = json::parse(upstream.back())["error"];
  EXPECT_EQ(error["code"], "stream_interrupted");
  EXPECT_NE(error["message"].get<std::string>().find(upstream_error["message"].get<std::string>()),
            std::string::npos);
  EXPECT_EQ(std::count(relayed.begin(), relayed.end(), "[DONE]"), 0);
}

TEST(Streams, AnUpstreamSilentMidStreamPastTheIdleTimeoutEndsItWithAnErrorEvent) {
  TempDir dir;
  Mock mock(dir, "stalling");
  Gateway gw(dir, config_for(mock.port(), "  workers: 1\n", "    timeouts: { idle: 300ms }\n"));
  HttpClient client(gw.port());
  const auto start = std::chrono::steady_clock::now();
  // A token every second. The wait for the first one is the first-byte timeout's (30 s by
  // default); between tokens, the idle timeout's.
  const auto r = client.post_json(
      "/v1/chat/completions", chat_body("small", true),
      {{"x-mock-chunks", "3"}, {"x-mock-chunk-delay-ms", "1000"}, {"x-request-id", "stalled"}});
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_EQ(r.status, 200);
  EXPECT_GE(took, 1000ms);
  EXPECT_LT(took, 1900ms);  // cut 300 ms after the first token, not at the second one
  const auto events = sse_data(r.body);
  ASSERT_EQ(events.size(), 3u) << r.body;  // the role, the first token, the error
  EXPECT_FALSE(json::parse(events[1])["choices"][0]["delta"]["content"].get<std::string>().empty());
  const auto error = json::parse(events.back())["error"];
  EXPECT_EQ(error["code"], "stream_interrupted");
  EXPECT_NE(error["message"].get<std::string>().find("idle"), std::string::npos) << error;
  EXPECT_EQ(gw.request_log("stalled")["stream_end"], "interrupted");
  // The silent upstream connection is closed, not returned to the pool.
  EXPECT_TRUE(eventually([&] { return mock.stats()["connections_open"] == 1; }, 1500ms))
      << mock.stats().dump();
}

TEST(Streams, AClientThatStopsReadingHoldsTheUpstreamBackInBoundedMemory) {
  TempDir dir;
  Mock mock(dir, "bulk");
  Gateway gw(dir, config_for(mock.port(), "  workers: 1\n"));
  ASSERT_EQ(
      HttpClient(gw.port()).post_json("/v1/chat/completions", chat_body("small", true)).status,
      200);
  const long before = resident_bytes(gw.process().pid());

  // 100,000 events, tens of megabytes; this client's receive buffer is 16 KiB and it reads
  // nothing for a while. What the gateway has not relayed must stay in the socket buffers
  // (the upstream is read only as fast as the client takes it), not in the gateway's memory.
  RawConnection slow(gw.port(), 16 * 1024);
  slow.send(stream_request("x-mock-chunks: 100000\r\n"));
  ASSERT_TRUE(eventually([&] { return chat_requests(mock) == 2; }, 2000ms));
  // Nothing to wait for: the check is that memory does not grow while time passes.
  std::this_thread::sleep_for(1500ms);
  const long stalled = resident_bytes(gw.process().pid());

  const std::string received = slow.receive(30000ms, "data: [DONE]");
  ASSERT_NE(received.find("data: [DONE]"), std::string::npos) << received.size();
  // Every event arrived, in a stream far larger than what the gateway was allowed to grow by.
  std::size_t chunks = 0;
  for (std::size_t at = received.find("chat.completion.chunk"); at != std::string::npos;
       at = received.find("chat.completion.chunk", at + 1))
    ++chunks;
  EXPECT_GE(chunks, 100000u);
  constexpr long kBound = 8L << 20;
  EXPECT_GT(static_cast<long>(received.size()), 2 * kBound);
  EXPECT_LT(stalled - before, kBound) << "before " << before << ", while stalled " << stalled;
}

TEST(Shutdown, SigtermLetsARunningStreamFinishThenExitsZero) {
  TempDir dir;
  Mock mock(dir, "drain");
  Gateway gw(dir, config_for(mock.port(), "  workers: 2\n  drain_timeout: 10s\n"));
  RawConnection streaming(gw.port());
  streaming.send(stream_request("x-mock-chunks: 10\r\nx-mock-chunk-delay-ms: 100\r\n"));
  ASSERT_NE(streaming.receive(3000ms, "\"content\":\"\"").find("200 OK"), std::string::npos);
  HttpClient idle(gw.port());
  ASSERT_EQ(idle.get("/healthz").status, 200);

  gw.process().signal(SIGTERM);
  const auto rest = streaming.receive(5000ms, "data: [DONE]");
  EXPECT_NE(rest.find("data: [DONE]"), std::string::npos) << rest;
  EXPECT_EQ(gw.process().wait_exit(5000ms), 0);
  EXPECT_THROW(HttpClient late(gw.port()), std::exception);
}

TEST(Shutdown, CutsStreamsThatOutliveTheDrainTimeout) {
  TempDir dir;
  Mock mock(dir, "endless");
  Gateway gw(dir, config_for(mock.port(), "  workers: 1\n  drain_timeout: 300ms\n"));
  RawConnection streaming(gw.port());
  streaming.send(stream_request("x-mock-chunks: 100\r\nx-mock-chunk-delay-ms: 100\r\n"));
  ASSERT_NE(streaming.receive(3000ms, "\"content\":\"\"").find("200 OK"), std::string::npos);
  gw.process().signal(SIGTERM);
  EXPECT_EQ(gw.process().wait_exit(4000ms), 0);
  EXPECT_TRUE(eventually([&] { return mock.stats()["connections_open"] == 1; }, 2000ms));
}

TEST(CheckConfig, AcceptsTheShippedConfigs) {
  for (const char* file : {"config/demo.yaml", "config/example.yaml"}) {
    const auto r = run_program(SWITCHYARD_BIN,
                               {"--check-config", std::string(SWITCHYARD_SOURCE_DIR) + "/" + file});
    EXPECT_EQ(r.exit_code, 0) << file << ": " << r.err;
  }
}

TEST(CheckConfig, PrintsEachProblemAsFileLineColumnAndFails) {
  TempDir dir;
  const auto file = dir / "broken.yaml";
  write_file(file,
             "server:\n"
             "  workers: many\n"
             "  colour: blue\n"
             "providers:\n"
             "  p: { type: openai, base_url: \"ftp://example.com\" }\n"
             "  q: { type: openai, base_url: \"http://api.example.com/v1\" }\n"
             "models:\n"
             "  a: { provider: nope }\n"
             "routes:\n"
             "  r: { targets: [a, missing] }\n"
             "  a: { targets: [a] }\n");
  const auto r = run_program(SWITCHYARD_BIN, {"--check-config", file.string()});
  EXPECT_EQ(r.exit_code, 1);
  const std::string f = file.string();
  for (const std::string& expected : {f + ":2:12: ", f + ":3:3: unknown key 'colour'",
                                      f + ":5:", f + ":6:", f + ":8:", f + ":10:", f + ":11:"}) {
    EXPECT_NE(r.err.find(expected), std::string::npos) << expected << " not in:\n" << r.err;
  }
}

TEST(CheckConfig, NamesAMissingEnvironmentVariable) {
  TempDir dir;
  const auto file = dir / "env.yaml";
  write_file(file,
             "providers:\n  p: { type: openai, base_url: \"https://api.example.com/v1\", "
             "api_key: \"${SWITCHYARD_TEST_SURELY_UNSET_KEY}\" }\n"
             "models:\n  a: { provider: p }\n");
  const auto r = run_program(SWITCHYARD_BIN, {"--check-config", file.string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(file.string() + ":2:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("SWITCHYARD_TEST_SURELY_UNSET_KEY"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace switchyard::testing
