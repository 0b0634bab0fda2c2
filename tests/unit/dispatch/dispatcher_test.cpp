// The dispatcher against scripted upstreams and a fake client: what reaches the upstream, what
// the client gets, and what is tried next after each kind of failure.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "../testing/serving.hpp"

namespace switchyard::testing {
namespace {

using Json = nlohmann::json;

constexpr std::string_view kBody =
    R"({"model":"r","messages":[{"role":"user","content":"Say hi"}]})";
constexpr std::string_view kStreamBody =
    R"({"model":"r","stream":true,"messages":[{"role":"user","content":"Say hi"}]})";

// Two OpenAI-compatible providers, one model each; route `r` tries `first` then `second`.
std::string two_targets(std::string_view route_extra = "") {
  return R"(
providers:
  one: { type: openai, base_url: "${UPSTREAM}/v1", api_key: key-one }
  two: { type: openai, base_url: "${BACKUP}/v1", api_key: key-two }
models:
  first: { provider: one, name: up-first, input: 1.0, output: 2.0 }
  second: { provider: two, name: up-second }
routes:
  r: { targets: [first, second])" +
         std::string(route_extra) + R"( }
resilience:
  retry: { attempts: 2, backoff_base: 1ms, backoff_cap: 2ms }
)";
}

class DispatcherTest : public Serving {};

TEST_F(DispatcherTest, RelaysTheAnswerWithTheClientsModelAndSaysWhoServedIt) {
  setup(two_targets());
  upstream.script(Reply::completion("hi there", "up-first-2025"));
  const auto served = dispatch(std::string(kBody), "r");

  EXPECT_EQ(served.sink.status(), 200);
  const auto answer = Json::parse(served.sink.body);
  EXPECT_EQ(answer["model"], "r");
  EXPECT_EQ(answer["choices"][0]["message"]["content"], "hi there");
  EXPECT_EQ(served.sink.header("x-switchyard-provider"), "one");
  EXPECT_EQ(served.sink.header("x-switchyard-model"), "first");
  EXPECT_EQ(served.sink.header("x-switchyard-attempts"), "1");
  // 10 prompt tokens at $1/M and 5 completion tokens at $2/M.
  EXPECT_EQ(served.sink.header("x-switchyard-cost"), "0.00002");

  ASSERT_EQ(upstream.seen().size(), 1u);
  const auto& sent = upstream.seen()[0];
  EXPECT_EQ(sent.target, "/v1/chat/completions");
  EXPECT_EQ(sent.headers.at("authorization"), "Bearer key-one");
  EXPECT_EQ(Json::parse(sent.body)["model"], "up-first");
  EXPECT_TRUE(backup.seen().empty());
  EXPECT_EQ(served.record.provider, "one");
  EXPECT_EQ(served.record.prompt_tokens, 10u);
}

TEST_F(DispatcherTest, RetriesTheSameTargetAfterAServerError) {
  setup(two_targets());
  upstream.script(Reply::error(503, "busy"));
  upstream.script(Reply::completion("second time lucky"));
  const auto served = dispatch(std::string(kBody), "r");

  EXPECT_EQ(served.sink.status(), 200);
  EXPECT_EQ(served.sink.header("x-switchyard-provider"), "one");
  EXPECT_EQ(served.sink.header("x-switchyard-attempts"), "2");
  EXPECT_EQ(upstream.seen().size(), 2u);
  EXPECT_TRUE(backup.seen().empty());
  ASSERT_EQ(served.record.attempts.size(), 2u);
  EXPECT_EQ(served.record.attempts[0].status, 503);
  EXPECT_EQ(served.record.attempts[1].outcome, "ok");
}

TEST_F(DispatcherTest, FallsOverToTheNextTargetWhenRateLimited) {
  setup(two_targets());
  upstream.script(Reply::error(429, "slow down"));
  backup.script(Reply::completion("from the backup"));
  const auto served = dispatch(std::string(kBody), "r");

  EXPECT_EQ(served.sink.status(), 200);
  EXPECT_EQ(served.sink.header("x-switchyard-provider"), "two");
  EXPECT_EQ(Json::parse(served.sink.body)["choices"][0]["message"]["content"], "from the backup");
  EXPECT_EQ(upstream.seen().size(), 1u);
  ASSERT_EQ(backup.seen().size(), 1u);
  // The backup gets its own key, never the first provider's.
  EXPECT_EQ(backup.seen()[0].headers.at("authorization"), "Bearer key-two");
}

TEST_F(DispatcherTest, RetriesAConnectionDroppedBeforeAnyAnswer) {
  setup(two_targets());
  Reply dropped;
  dropped.drop = true;
  upstream.script(std::move(dropped));
  upstream.script(Reply::completion("ok"));
  const auto served = dispatch(std::string(kBody), "r");

  EXPECT_EQ(served.sink.status(), 200);
  EXPECT_EQ(served.sink.header("x-switchyard-attempts"), "2");
  ASSERT_EQ(served.record.attempts.size(), 2u);
  EXPECT_EQ(served.record.attempts[0].status, 0);
}

TEST_F(DispatcherTest, FailsOverFromAnUpstreamWhoseResponseIsNotValidHttp) {
  setup(two_targets());
  // Two lengths that disagree: which one frames the body is anybody's guess.
  for (int i = 0; i < 2; ++i) {
    Reply lying;
    lying.raw = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-length: 3\r\n\r\n{}";
    upstream.script(std::move(lying));
  }
  backup.script(Reply::completion("from the backup"));
  const auto served = dispatch(std::string(kBody), "r");

  EXPECT_EQ(served.sink.status(), 200);
  EXPECT_EQ(served.sink.header("x-switchyard-provider"), "two");
  EXPECT_EQ(served.sink.header("x-switchyard-attempts"), "3");
  ASSERT_EQ(served.record.attempts.size(), 3u);
  EXPECT_EQ(served.record.attempts[0].outcome, "bad_response");
  EXPECT_NE(served.record.attempts[0].detail.find("invalid HTTP response"), std::string::npos)
      << served.record.attempts[0].detail;
}

TEST_F(DispatcherTest, ReadsAChunkedAnswerWhoseLengthFieldLies) {
  setup(two_targets());
  // A transfer coding beside a length: the coding frames the body (RFC 9112 §6.3).
  const std::string body = Reply::completion("chunked wins").body;
  char size[20];
  std::snprintf(size, sizeof size, "%zx", body.size());
  Reply both;
  both.raw =
      "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 5\r\n"
      "transfer-encoding: chunked\r\n\r\n" +
      std::string(size) + "\r\n" + body + "\r\n0\r\n\r\n";
  upstream.script(std::move(both));
  const auto served = dispatch(std::string(kBody), "r");

  EXPECT_EQ(served.sink.status(), 200) << served.sink.body;
  EXPECT_EQ(Json::parse(served.sink.body)["choices"][0]["message"]["content"], "chunked wins");
  EXPECT_EQ(served.sink.header("x-switchyard-attempts"), "1");
}

TEST_F(DispatcherTest, RelaysTheClientsOwnMistakeWithoutTryingElsewhere) {
  setup(two_targets());
  upstream.script(Reply{400, R"({"error":{"message":"'messages' is too short","type":)"
                             R"("invalid_request_error","param":"messages","code":null}})"});
  const auto served = dispatch(std::string(kBody), "r");

  EXPECT_EQ(served.sink.status(), 400);
  const auto error = Json::parse(served.sink.body)["error"];
  EXPECT_EQ(error["type"], "invalid_request_error");
  EXPECT_NE(error["message"].get<std::string>().find("too short"), std::string::npos);
  EXPECT_EQ(upstream.seen().size(), 1u);
  EXPECT_TRUE(backup.seen().empty());
}

TEST_F(DispatcherTest, SaysWhatWasTriedWhenEveryTargetFails) {
  setup(two_targets());
  for (int i = 0; i < 2; ++i) upstream.script(Reply::error(500, "boom key-one"));
  for (int i = 0; i < 2; ++i) backup.script(Reply::error(502, "bad gateway"));
  const auto served = dispatch(std::string(kBody), "r");

  EXPECT_EQ(served.sink.status(), 502);
  const auto message = Json::parse(served.sink.body)["error"]["message"].get<std::string>();
  EXPECT_NE(message.find("first via one"), std::string::npos) << message;
  EXPECT_NE(message.find("second via two"), std::string::npos) << message;
  // An upstream that echoes its key does not pass it on.
  EXPECT_EQ(message.find("key-one"), std::string::npos) << message;
  EXPECT_EQ(upstream.seen().size(), 2u);
  EXPECT_EQ(backup.seen().size(), 2u);
  EXPECT_EQ(served.sink.header("x-switchyard-attempts"), "4");
}

TEST_F(DispatcherTest, RelaysAStreamChunkByChunk) {
  setup(two_targets());
  upstream.script(Reply::stream({"Hel", "lo"}));
  const auto served = dispatch(std::string(kStreamBody), "r");

  EXPECT_EQ(served.sink.status(), 200);
  EXPECT_TRUE(served.sink.streamed);
  EXPECT_TRUE(served.sink.ended);
  EXPECT_EQ(served.sink.content_type, "text/event-stream");
  EXPECT_NE(served.sink.body.find(R"("content":"Hel")"), std::string::npos);
  EXPECT_NE(served.sink.body.find(R"("model":"r")"), std::string::npos);
  EXPECT_EQ(served.sink.body.find("upstream-model"), std::string::npos);
  EXPECT_NE(served.sink.body.find("data: [DONE]"), std::string::npos);
  EXPECT_EQ(served.record.stream_end, "done");
}

TEST_F(DispatcherTest, EndsABrokenStreamWithAnErrorInsteadOfDone) {
  setup(two_targets());
  Reply cut = Reply::stream({"Hel", "lo"});
  cut.events.resize(2);  // the role chunk and "Hel", then the connection closes
  cut.cut = true;
  upstream.script(std::move(cut));
  const auto served = dispatch(std::string(kStreamBody), "r");

  EXPECT_TRUE(served.sink.ended);
  EXPECT_NE(served.sink.body.find(R"("content":"Hel")"), std::string::npos);
  EXPECT_NE(served.sink.body.find(R"("error")"), std::string::npos) << served.sink.body;
  EXPECT_EQ(served.sink.body.find("[DONE]"), std::string::npos);
  EXPECT_EQ(served.record.stream_end, "interrupted");
  // Nothing is switched once the client has bytes: no failover.
  EXPECT_TRUE(backup.seen().empty());
}

TEST_F(DispatcherTest, AClientGoneMidStreamEndsTheRelayWithoutTryingElsewhere) {
  setup(two_targets());
  upstream.script(Reply::stream({"one", "two", "three", "four"}));
  client_takes_chunks = 2;
  const auto served = dispatch(std::string(kStreamBody), "r");

  EXPECT_TRUE(served.sink.failed());
  EXPECT_EQ(served.sink.chunks.size(), 2u);
  EXPECT_EQ(served.sink.body.find("[DONE]"), std::string::npos);
  EXPECT_EQ(served.record.stream_end, "client_gone");
  EXPECT_EQ(upstream.seen().size(), 1u);
  EXPECT_TRUE(backup.seen().empty());
}

TEST_F(DispatcherTest, AStreamThatDiesBeforeSayingAnythingIsReplaced) {
  setup(two_targets());
  Reply preamble_only = Reply::stream({"never"});
  preamble_only.events.resize(1);  // only the role chunk
  preamble_only.cut = true;
  upstream.script(std::move(preamble_only));
  upstream.script(Reply::stream({"second"}));
  const auto served = dispatch(std::string(kStreamBody), "r");

  EXPECT_EQ(served.sink.status(), 200);
  EXPECT_NE(served.sink.body.find(R"("content":"second")"), std::string::npos);
  EXPECT_EQ(served.sink.body.find("never"), std::string::npos);
  EXPECT_NE(served.sink.body.find("[DONE]"), std::string::npos);
}

TEST_F(DispatcherTest, HedgesASlowTargetWithTheNextOne) {
  setup(two_targets(", hedge: { after: 20ms }"));
  Reply slow = Reply::completion("slow");
  slow.delay = std::chrono::milliseconds(2000);
  upstream.script(std::move(slow));
  backup.script(Reply::completion("fast"));
  const auto started = std::chrono::steady_clock::now();
  const auto served = dispatch(std::string(kBody), "r");

  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(1500));
  EXPECT_EQ(served.sink.status(), 200);
  EXPECT_EQ(served.sink.header("x-switchyard-provider"), "two");
  EXPECT_TRUE(served.record.hedged);
  ASSERT_EQ(served.record.attempts.size(), 2u);
}

}  // namespace
}  // namespace switchyard::testing
