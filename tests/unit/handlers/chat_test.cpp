// The chat handler against a scripted upstream and a fake client: the body is read and checked
// before anything goes upstream, the route is chosen, and the answer comes back with what the
// gateway adds.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "../testing/serving.hpp"

namespace switchyard::testing {
namespace {

using Json = nlohmann::json;

constexpr std::string_view kConfig = R"(
providers:
  one: { type: openai, base_url: "${UPSTREAM}/v1", api_key: key-one }
  two: { type: openai, base_url: "${BACKUP}/v1", api_key: key-two }
models:
  first: { provider: one, name: up-first }
  second: { provider: two, name: up-second }
routes:
  r: { targets: [first, second] }
)";

class ChatHandlerTest : public Serving {
 protected:
  void SetUp() override { setup(std::string(kConfig)); }
};

TEST_F(ChatHandlerTest, ServesARouteAndRecordsIt) {
  upstream.script(Reply::completion("hello"));
  const auto served = chat(R"({"model":"r","messages":[{"role":"user","content":"hi"}]})");

  EXPECT_EQ(served.sink.status(), 200);
  EXPECT_EQ(Json::parse(served.sink.body)["choices"][0]["message"]["content"], "hello");
  EXPECT_EQ(served.sink.header("x-switchyard-route"), "r");
  EXPECT_EQ(served.record.route, "r");
  EXPECT_EQ(served.record.provider, "one");
  ASSERT_EQ(upstream.seen().size(), 1u);
}

TEST_F(ChatHandlerTest, AModelAliasIsServedDirectly) {
  backup.script(Reply::completion("from second"));
  const auto served = chat(R"({"model":"second","messages":[{"role":"user","content":"hi"}]})");

  EXPECT_EQ(served.sink.status(), 200);
  EXPECT_EQ(served.sink.header("x-switchyard-provider"), "two");
  EXPECT_TRUE(upstream.seen().empty());
}

TEST_F(ChatHandlerTest, RefusesABodyThatIsNotJsonBeforeAnythingGoesUpstream) {
  const auto served = chat(R"({"model":"r","messages":)");

  EXPECT_EQ(served.sink.status(), 400);
  const auto error = Json::parse(served.sink.body)["error"];
  EXPECT_EQ(error["type"], "invalid_request_error");
  EXPECT_EQ(served.sink.header("x-switchyard-attempts"), "0");
  EXPECT_TRUE(upstream.seen().empty());
  EXPECT_TRUE(backup.seen().empty());
}

TEST_F(ChatHandlerTest, RefusesAnUnknownModelWithOpenAIsNotFound) {
  const auto served = chat(R"({"model":"nope","messages":[{"role":"user","content":"hi"}]})");

  EXPECT_EQ(served.sink.status(), 404);
  EXPECT_EQ(Json::parse(served.sink.body)["error"]["code"], "model_not_found");
  EXPECT_TRUE(upstream.seen().empty());
}

TEST_F(ChatHandlerTest, RefusesAMalformedDeadlineHeader) {
  const auto served = chat(R"({"model":"r","messages":[{"role":"user","content":"hi"}]})",
                           {{"x-switchyard-deadline", "soon"}});

  EXPECT_EQ(served.sink.status(), 400);
  EXPECT_NE(served.sink.body.find("x-switchyard-deadline"), std::string::npos);
  EXPECT_TRUE(upstream.seen().empty());
}

TEST_F(ChatHandlerTest, TheClientsDeadlineBoundsTheWholeRequest) {
  Reply slow = Reply::completion("too late");
  slow.delay = std::chrono::milliseconds(2000);
  upstream.script(std::move(slow));
  const auto started = std::chrono::steady_clock::now();
  const auto served = chat(R"({"model":"r","messages":[{"role":"user","content":"hi"}]})",
                           {{"x-switchyard-deadline", "100ms"}});

  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(1500));
  EXPECT_EQ(served.sink.status(), 504);
  EXPECT_EQ(Json::parse(served.sink.body)["error"]["code"], "deadline_exceeded");
  EXPECT_TRUE(backup.seen().empty());
}

TEST_F(ChatHandlerTest, APreferredProviderGoesFirst) {
  backup.script(Reply::completion("preferred"));
  const auto served = chat(R"({"model":"r","messages":[{"role":"user","content":"hi"}]})",
                           {{"x-switchyard-provider", "two"}});

  EXPECT_EQ(served.sink.status(), 200);
  EXPECT_EQ(served.sink.header("x-switchyard-provider"), "two");
  EXPECT_TRUE(upstream.seen().empty());
}

TEST_F(ChatHandlerTest, WatchesTheClientWhileDispatching) {
  Reply slow = Reply::completion("late");
  slow.delay = std::chrono::milliseconds(2000);
  upstream.script(std::move(slow));
  // The client hangs up 20 ms in: the upstream request is abandoned, nothing else is tried.
  client_hangs_up_after = std::chrono::milliseconds(20);
  const auto started = std::chrono::steady_clock::now();
  const auto served = chat(R"({"model":"r","messages":[{"role":"user","content":"hi"}]})");

  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(1500));
  EXPECT_FALSE(served.sink.committed());
  EXPECT_TRUE(served.sink.closing);         // the connection is not kept for another request
  EXPECT_EQ(served.sink.watched, nullptr);  // and stopped watching once it was over
  EXPECT_TRUE(backup.seen().empty());
  ASSERT_EQ(served.record.attempts.size(), 1u);
  EXPECT_EQ(served.record.attempts[0].outcome, "client_gone");
}

}  // namespace
}  // namespace switchyard::testing
