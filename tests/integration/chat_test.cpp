// Chat completions through the real gateway to the real mock: what the client gets, what the
// upstream gets.
#include <gtest/gtest.h>

#include "harness.hpp"

namespace switchyard::testing {
namespace {

std::string one_provider_config(int mock_port, const std::string& extra_provider = "") {
  return "server:\n  workers: 2\n"
         "providers:\n"
         "  local:\n"
         "    type: openai\n"
         "    base_url: http://127.0.0.1:" +
         std::to_string(mock_port) +
         "/v1\n"
         "    api_key: sk-upstream-secret-123\n"
         "    forward_headers: [\"x-mock-*\", \"openai-beta\"]\n" +
         extra_provider +
         "models:\n"
         "  small: { provider: local, name: mock-small-2024 }\n"
         "routes:\n"
         "  default: { targets: [small] }\n";
}

// What the gateway relays: the upstream's bytes, with only `model` saying what the client asked
// for instead of the upstream's name.
std::string as_relayed(std::string upstream_body, const std::string& requested) {
  const std::string from = "\"model\":\"mock-small-2024\"";
  const std::string to = "\"model\":\"" + requested + "\"";
  for (auto at = upstream_body.find(from); at != std::string::npos;
       at = upstream_body.find(from, at + to.size())) {
    upstream_body.replace(at, from.size(), to);
  }
  return upstream_body;
}

class Chat : public ::testing::Test {
 protected:
  TempDir dir_;
  Mock mock_{dir_, "alpha"};
  Gateway gateway_{dir_, one_provider_config(mock_.port())};
};

TEST_F(Chat, RelaysJsonResponseByteForByteWithRoutingHeaders) {
  HttpClient client(gateway_.port());
  const auto r = client.post_json("/v1/chat/completions", chat_body("default"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("content-type"), "application/json");
  EXPECT_EQ(r.header("x-switchyard-route"), "default");
  EXPECT_EQ(r.header("x-switchyard-provider"), "local");
  EXPECT_EQ(r.header("x-switchyard-model"), "small");
  EXPECT_EQ(r.header("x-switchyard-attempts"), "1");
  EXPECT_FALSE(r.header("x-request-id").empty());

  const auto seen = mock_.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(r.body, as_relayed(seen[0]["response_body"], "default"));
  EXPECT_EQ(r.json_body()["choices"][0]["message"]["content"], "Hello from alpha.");
}

TEST(ChatResponseModel, CanReportTheUpstreamModelAndThenRelaysEveryByte) {
  TempDir dir;
  Mock mock(dir, "alpha");
  Gateway gateway(dir,
                  "server:\n  response_model: upstream\n" +
                      one_provider_config(mock.port()).substr(std::string("server:\n").size()));
  HttpClient client(gateway.port());
  const auto r = client.post_json("/v1/chat/completions", chat_body("default"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, mock.requests()[0]["response_body"].get<std::string>());
  EXPECT_EQ(r.json_body()["model"], "mock-small-2024");
}

TEST_F(Chat, ForwardsTheBodyWithOnlyTheModelRewritten) {
  HttpClient client(gateway_.port());
  auto body = chat_body("default");
  body["unknown_future_field"] = {{"nested", {1, 2.5, "x"}}};
  body["metadata"] = {{"k", "v"}};
  ASSERT_EQ(client.post_json("/v1/chat/completions", body).status, 200);

  const auto seen = mock_.requests();
  ASSERT_EQ(seen.size(), 1u);
  auto forwarded = json::parse(seen[0]["body"].get<std::string>());
  EXPECT_EQ(forwarded["model"], "mock-small-2024");
  forwarded["model"] = "default";
  EXPECT_EQ(forwarded, body);
  EXPECT_EQ(seen[0]["path"], "/v1/chat/completions");
}

TEST_F(Chat, SendsTheProviderKeyNeverTheClientsCredentials) {
  HttpClient client(gateway_.port());
  const auto r = client.post_json("/v1/chat/completions", chat_body("default"),
                                  {{"Authorization", "Bearer client-key-should-stay"},
                                   {"x-api-key", "client-x-api-key"},
                                   {"X-Mock-Content", "scripted"},
                                   {"OpenAI-Beta", "assistants=v2"},
                                   {"x-not-forwarded", "1"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json_body()["choices"][0]["message"]["content"], "scripted");

  const auto headers = mock_.requests()[0]["headers"];
  EXPECT_EQ(headers["authorization"], "Bearer sk-upstream-secret-123");
  EXPECT_FALSE(headers.contains("x-api-key"));
  EXPECT_FALSE(headers.contains("x-not-forwarded"));
  EXPECT_EQ(headers["openai-beta"], "assistants=v2");
  EXPECT_EQ(headers["x-mock-content"], "scripted");
}

TEST_F(Chat, KeepsTheClientsRequestIdAndPassesItUpstream) {
  HttpClient client(gateway_.port());
  const auto r = client.post_json("/v1/chat/completions", chat_body("default"),
                                  {{"x-request-id", "client-chosen-42"}});
  EXPECT_EQ(r.header("x-request-id"), "client-chosen-42");
  EXPECT_EQ(mock_.requests()[0]["headers"]["x-request-id"], "client-chosen-42");

  const auto generated = client.get("/v1/models").header("x-request-id");
  EXPECT_EQ(generated.rfind("req_", 0), 0u) << generated;
  const auto unsafe = client.post_json("/v1/chat/completions", chat_body("default"),
                                       {{"x-request-id", "has spaces and \"quotes\""}});
  EXPECT_EQ(unsafe.header("x-request-id").rfind("req_", 0), 0u);
}

TEST_F(Chat, RelaysAStreamEventByEventByteForByte) {
  HttpClient client(gateway_.port());
  const auto r = client.post_json("/v1/chat/completions", chat_body("default", true, true),
                                  {{"x-mock-chunks", "5"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("content-type"), "text/event-stream");
  EXPECT_EQ(r.header("transfer-encoding"), "chunked");
  EXPECT_EQ(r.header("x-switchyard-provider"), "local");

  const auto seen = mock_.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(r.body, as_relayed(seen[0]["response_body"], "default"));
  const auto events = sse_data(r.body);
  ASSERT_GE(events.size(), 3u);
  EXPECT_EQ(events.back(), "[DONE]");
  // include_usage honoured: the chunk before [DONE] carries usage and no choices.
  const auto usage = json::parse(events[events.size() - 2]);
  EXPECT_TRUE(usage["choices"].empty());
  EXPECT_GT(usage["usage"]["total_tokens"].get<int>(), 0);
  std::string content;
  for (std::size_t i = 0; i + 2 < events.size(); ++i) {
    const auto chunk = json::parse(events[i]);
    if (!chunk["choices"].empty() && chunk["choices"][0]["delta"].contains("content"))
      content += chunk["choices"][0]["delta"]["content"].get<std::string>();
  }
  EXPECT_EQ(content, "Hello from alpha.");
}

TEST_F(Chat, StreamsWithoutUsageWhenTheClientDidNotAskForIt) {
  HttpClient client(gateway_.port());
  const auto r = client.post_json("/v1/chat/completions", chat_body("default", true));
  ASSERT_EQ(r.status, 200);
  for (const auto& e : sse_data(r.body)) {
    if (e == "[DONE]") continue;
    EXPECT_FALSE(json::parse(e).contains("usage") && json::parse(e)["choices"].empty()) << e;
  }
}

TEST_F(Chat, AcceptsAModelAliasAndThePathWithoutV1) {
  HttpClient client(gateway_.port());
  const auto r = client.post_json("/chat/completions", chat_body("small"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("x-switchyard-route"), "small");
  EXPECT_EQ(r.header("x-switchyard-model"), "small");
}

TEST_F(Chat, ServesPipelinedRequestsInOrder) {
  const std::string body = chat_body("default").dump();
  std::string two;
  for (const char* id : {"first", "second"}) {
    two +=
        "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        "x-request-id: " +
        std::string(id) + "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  }
  RawConnection raw(gateway_.port());
  raw.send(two);
  std::string got;
  eventually([&] {
    got += raw.receive(200ms);
    return got.find("x-request-id: second") != std::string::npos &&
           got.rfind("Hello from alpha.") > got.find("x-request-id: second");
  });
  const auto first = got.find("x-request-id: first");
  const auto second = got.find("x-request-id: second");
  ASSERT_NE(first, std::string::npos) << got;
  ASSERT_NE(second, std::string::npos) << got;
  EXPECT_LT(first, second);
}

TEST_F(Chat, ListsRoutesAndModelsInOpenAIShape) {
  HttpClient client(gateway_.port());
  const auto r = client.get("/v1/models");
  ASSERT_EQ(r.status, 200);
  const auto list = r.json_body();
  EXPECT_EQ(list["object"], "list");
  std::map<std::string, std::string> owners;
  for (const auto& m : list["data"]) {
    EXPECT_EQ(m["object"], "model");
    EXPECT_TRUE(m["created"].is_number_integer());
    owners[m["id"]] = m["owned_by"];
  }
  EXPECT_EQ(owners,
            (std::map<std::string, std::string>{{"default", "switchyard"}, {"small", "local"}}));
}

TEST_F(Chat, AnswersHealthAndReadiness) {
  HttpClient client(gateway_.port());
  EXPECT_EQ(client.get("/healthz").status, 200);
  const auto ready = client.get("/readyz");
  EXPECT_EQ(ready.status, 200);
  EXPECT_EQ(ready.json_body()["status"], "ready");
}

TEST_F(Chat, LogsOneJsonLinePerRequestWithoutSecrets) {
  HttpClient client(gateway_.port());
  const auto r = client.post_json(
      "/v1/chat/completions", chat_body("default"),
      {{"x-request-id", "log-me"}, {"Authorization", "Bearer client-secret-in-header"}});
  ASSERT_EQ(r.status, 200);
  const auto line = gateway_.request_log("log-me");
  ASSERT_TRUE(line.is_object());
  EXPECT_EQ(line["status"], 200);
  EXPECT_EQ(line["model"], "default");
  EXPECT_EQ(line["route"], "default");
  EXPECT_EQ(line["provider"], "local");
  EXPECT_EQ(line["upstream_model"], "mock-small-2024");
  ASSERT_EQ(line["attempts"].size(), 1u);
  EXPECT_EQ(line["attempts"][0]["outcome"], "ok");
  EXPECT_GT(line["duration_ms"].get<double>(), 0.0);
  const std::string all = gateway_.process().out() + gateway_.process().err();
  EXPECT_EQ(all.find("sk-upstream-secret-123"), std::string::npos);
  EXPECT_EQ(all.find("client-secret-in-header"), std::string::npos);
}

}  // namespace
}  // namespace switchyard::testing
