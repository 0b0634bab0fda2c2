// The translation layer end to end: the real gateway in front of the mock's Anthropic, Gemini,
// Azure-style and OpenAI endpoints. What the client gets is OpenAI's shape whoever served;
// what the upstream gets is its own wire format, with its own credentials and nothing else.
#include <gtest/gtest.h>

#include "harness.hpp"

namespace switchyard::testing {
namespace {

std::string config_for(const Mock& anthropic, const Mock& gemini, const Mock& openai) {
  auto url = [](const Mock& m) { return "http://127.0.0.1:" + std::to_string(m.port()); };
  return "server:\n  workers: 1\n"
         "providers:\n"
         "  anth:\n    type: anthropic\n    base_url: " +
         url(anthropic) +
         "\n    api_key: anth-secret-key\n    forward_headers: [\"x-mock-*\"]\n"
         "  gem:\n    type: gemini\n    base_url: " +
         url(gemini) +
         "\n    api_key: gem-secret-key\n    forward_headers: [\"x-mock-*\"]\n"
         "  oai:\n    type: openai\n    base_url: " +
         url(openai) +
         "/v1\n    api_key: oai-secret-key\n    forward_headers: [\"x-mock-*\"]\n"
         "  azure:\n    type: azure\n    base_url: " +
         url(openai) +
         "\n    api_key: azure-secret-key\n    forward_headers: [\"x-mock-*\"]\n"
         "models:\n"
         "  claude: { provider: anth, name: claude-test-1, max_tokens: 321 }\n"
         "  flash: { provider: gem, name: gemini-test-flash }\n"
         "  gpt: { provider: oai, name: gpt-test }\n"
         "  azgpt: { provider: azure, name: my-deployment }\n"
         "  gem-embed: { provider: gem, name: text-embedding-test }\n"
         "  oai-embed: { provider: oai, name: embed-test }\n"
         "routes:\n"
         "  smart: { targets: [claude, flash] }\n"
         "  embed: { targets: [gem-embed] }\n";
}

class Providers : public ::testing::Test {
 protected:
  TempDir dir_;
  Mock anthropic_{dir_, Mock::Options{"anth", {"--api-key", "anth-secret-key"}}};
  Mock gemini_{dir_, Mock::Options{"gem", {"--api-key", "gem-secret-key"}}};
  Mock openai_{
      dir_, Mock::Options{"oai", {"--api-key", "oai-secret-key", "--api-key", "azure-secret-key"}}};
  Gateway gateway_{dir_, config_for(anthropic_, gemini_, openai_)};

  json only_request(Mock& mock) {
    const auto seen = mock.requests();
    EXPECT_EQ(seen.size(), 1u) << seen.dump();
    return seen.empty() ? json::object() : seen[0];
  }
};

std::string streamed_text(const std::string& body) {
  std::string text;
  for (const auto& data : sse_data(body)) {
    if (data == "[DONE]") continue;
    const auto chunk = json::parse(data);
    for (const auto& choice : chunk.value("choices", json::array())) {
      const auto& delta = choice["delta"];
      if (delta.contains("content") && delta["content"].is_string())
        text += delta["content"].get<std::string>();
    }
  }
  return text;
}

TEST_F(Providers, AnthropicAnswersInOpenAiShapeAndGetsItsOwnWireFormat) {
  HttpClient client(gateway_.port());
  auto body = chat_body("claude");
  body["messages"] = json::array(
      {{{"role", "system"}, {"content", "Be brief."}}, {{"role", "user"}, {"content", "Hi"}}});
  body.erase("max_tokens");  // Anthropic requires one: the model's configured default goes
  const auto r = client.post_json("/v1/chat/completions", body);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("x-switchyard-provider"), "anth");
  EXPECT_EQ(r.header("x-switchyard-upstream-model"), "claude-test-1");
  const auto answer = r.json_body();
  EXPECT_EQ(answer["object"], "chat.completion");
  EXPECT_EQ(answer["model"], "claude");
  EXPECT_EQ(answer["choices"][0]["message"]["content"], "Hello from anth.");
  EXPECT_EQ(answer["choices"][0]["finish_reason"], "stop");
  EXPECT_GT(answer["usage"]["prompt_tokens"].get<int>(), 0);

  const auto seen = only_request(anthropic_);
  EXPECT_EQ(seen["headers"]["x-api-key"], "anth-secret-key");
  EXPECT_EQ(seen["headers"]["anthropic-version"], "2023-06-01");
  EXPECT_FALSE(seen["headers"].contains("authorization"));
  const auto sent = json::parse(seen["body"].get<std::string>());
  EXPECT_EQ(sent["model"], "claude-test-1");
  EXPECT_EQ(sent["system"], "Be brief.");
  EXPECT_EQ(sent["max_tokens"], 321);
  EXPECT_EQ(sent["messages"].size(), 1u);
}

TEST_F(Providers, AnthropicStreamsAsOpenAiChunksEndingInOneDone) {
  HttpClient client(gateway_.port());
  const auto r = client.post_json("/v1/chat/completions", chat_body("claude", true, true));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("content-type"), "text/event-stream");
  const auto events = sse_data(r.body);
  ASSERT_GE(events.size(), 3u);
  EXPECT_EQ(events.back(), "[DONE]");
  EXPECT_EQ(std::count(events.begin(), events.end(), "[DONE]"), 1);
  EXPECT_EQ(streamed_text(r.body), "Hello from anth.");
  const auto usage = json::parse(events[events.size() - 2]);
  EXPECT_TRUE(usage["choices"].empty());
  EXPECT_GT(usage["usage"]["completion_tokens"].get<int>(), 0);
}

TEST_F(Providers, GeminiAnswersJsonAndStreamsAndTheGatewayAddsDone) {
  HttpClient client(gateway_.port());
  const auto r = client.post_json("/v1/chat/completions", chat_body("flash"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json_body()["choices"][0]["message"]["content"], "Hello from gem.");
  EXPECT_EQ(r.json_body()["model"], "flash");

  const auto s = client.post_json("/v1/chat/completions", chat_body("flash", true));
  ASSERT_EQ(s.status, 200) << s.body;
  EXPECT_EQ(streamed_text(s.body), "Hello from gem.");
  EXPECT_EQ(sse_data(s.body).back(), "[DONE]");

  const auto seen = gemini_.requests();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_NE(
      seen[0]["target"].get<std::string>().find("/v1beta/models/gemini-test-flash:generateContent"),
      std::string::npos);
  EXPECT_NE(seen[1]["target"].get<std::string>().find(":streamGenerateContent?alt=sse"),
            std::string::npos);
  EXPECT_EQ(seen[1]["headers"]["x-goog-api-key"], "gem-secret-key");
  EXPECT_FALSE(seen[1]["headers"].contains("authorization"));
}

TEST_F(Providers, FailsOverFromAnthropicToGeminiOnAScripted529) {
  HttpClient client(gateway_.port());
  const auto r = client.post_json("/v1/chat/completions", chat_body("smart"),
                                  {{"x-mock-target", "anth"}, {"x-mock-status", "529"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("x-switchyard-provider"), "gem");
  // Overloaded is worth one more try at the same target before moving on.
  EXPECT_EQ(r.header("x-switchyard-attempts"), "3");
  EXPECT_EQ(r.json_body()["choices"][0]["message"]["content"], "Hello from gem.");
  const auto line = gateway_.request_log(r.header("x-request-id"));
  for (int i : {0, 1}) {
    EXPECT_EQ(line["attempts"][i]["provider"], "anth");
    EXPECT_EQ(line["attempts"][i]["status"], 529);
    EXPECT_EQ(line["attempts"][i]["outcome"], "retryable");
  }
}

TEST_F(Providers, FailsOverWhenThePromptIsTooLongForTheFirstModel) {
  HttpClient client(gateway_.port());
  const auto r = client.post_json(
      "/v1/chat/completions", chat_body("smart"),
      {{"x-mock-target", "anth"},
       {"x-mock-status", "400"},
       {"x-mock-error-message", "prompt is too long: 208656 tokens > 200000 maximum"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("x-switchyard-provider"), "gem");
  const auto line = gateway_.request_log(r.header("x-request-id"));
  EXPECT_EQ(line["attempts"][0]["outcome"], "fall_over");
}

TEST_F(Providers, RelaysTheClientsOwnMistakeInOpenAiShapeWithoutFailingOver) {
  HttpClient client(gateway_.port());
  const auto r = client.post_json("/v1/chat/completions", chat_body("smart"),
                                  {{"x-mock-target", "anth"},
                                   {"x-mock-status", "400"},
                                   {"x-mock-error-message", "messages: roles must alternate"}});
  ASSERT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(r.header("x-switchyard-attempts"), "1");
  const auto error = r.json_body()["error"];
  EXPECT_EQ(error["type"], "invalid_request_error");
  EXPECT_EQ(error["message"], "anth: messages: roles must alternate");
  EXPECT_TRUE(error.contains("param"));
  EXPECT_TRUE(error.contains("code"));
  EXPECT_TRUE(gemini_.requests().empty());
}

TEST_F(Providers, AnthropicMidStreamErrorEndsTheStreamWithAnErrorEventAndNoDone) {
  HttpClient client(gateway_.port());
  const auto r = client.post_json("/v1/chat/completions", chat_body("claude", true),
                                  {{"x-mock-error-event-after", "1"}});
  ASSERT_EQ(r.status, 200) << r.body;
  const auto events = sse_data(r.body);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(std::count(events.begin(), events.end(), "[DONE]"), 0);
  const auto last = json::parse(events.back());
  ASSERT_TRUE(last.contains("error")) << r.body;
  EXPECT_EQ(last["error"]["type"], "server_error");
  const auto line = gateway_.request_log(r.header("x-request-id"));
  EXPECT_EQ(line["stream_end"], "upstream_error");
}

TEST_F(Providers, GeminiStreamThatStopsWithoutAFinishReasonIsReportedAsBroken) {
  HttpClient client(gateway_.port());
  const auto r = client.post_json("/v1/chat/completions", chat_body("flash", true),
                                  {{"x-mock-no-done", "true"}});
  ASSERT_EQ(r.status, 200) << r.body;
  const auto events = sse_data(r.body);
  EXPECT_EQ(std::count(events.begin(), events.end(), "[DONE]"), 0);
  EXPECT_TRUE(json::parse(events.back()).contains("error")) << r.body;
}

TEST_F(Providers, AGeminiBadKeyIsAnAuthenticationFailureThatFallsOver) {
  TempDir dir;
  Mock wrong_key{dir, Mock::Options{"gem", {"--api-key", "another-key"}}};
  Gateway gateway{dir, config_for(anthropic_, wrong_key, openai_)};
  HttpClient client(gateway.port());
  const auto alone = client.post_json("/v1/chat/completions", chat_body("flash"));
  EXPECT_EQ(alone.status, 401) << alone.body;
  EXPECT_EQ(alone.json_body()["error"]["code"], "invalid_api_key");
  EXPECT_EQ(alone.body.find("gem-secret-key"), std::string::npos);
}

TEST_F(Providers, ToolCallsRoundTripThroughAnthropic) {
  HttpClient client(gateway_.port());
  json tools =
      json::array({{{"type", "function"},
                    {"function",
                     {{"name", "get_weather"},
                      {"parameters", {{"type", "object"}, {"properties", json::object()}}}}}}});
  auto body = chat_body("claude");
  body["tools"] = tools;
  const auto first = client.post_json("/v1/chat/completions", body);
  ASSERT_EQ(first.status, 200) << first.body;
  const auto message = first.json_body()["choices"][0]["message"];
  EXPECT_EQ(first.json_body()["choices"][0]["finish_reason"], "tool_calls");
  ASSERT_EQ(message["tool_calls"].size(), 1u);
  const auto call = message["tool_calls"][0];
  EXPECT_EQ(call["function"]["name"], "get_weather");
  EXPECT_EQ(json::parse(call["function"]["arguments"].get<std::string>())["location"], "Oslo");

  body["messages"].push_back(message);
  body["messages"].push_back({{"role", "tool"}, {"tool_call_id", call["id"]}, {"content", "5C"}});
  const auto second = client.post_json("/v1/chat/completions", body);
  ASSERT_EQ(second.status, 200) << second.body;
  EXPECT_EQ(second.json_body()["choices"][0]["message"]["content"], "Tool result: 5C");
}

TEST_F(Providers, AzureGetsTheDeploymentPathApiVersionAndApiKey) {
  HttpClient client(gateway_.port());
  const auto r = client.post_json("/v1/chat/completions", chat_body("azgpt"));
  ASSERT_EQ(r.status, 200) << r.body;
  const auto seen = only_request(openai_);
  EXPECT_EQ(seen["target"],
            "/openai/deployments/my-deployment/chat/completions?api-version=2024-10-21");
  EXPECT_EQ(seen["headers"]["api-key"], "azure-secret-key");
  EXPECT_FALSE(seen["headers"].contains("authorization"));
}

TEST_F(Providers, EmbeddingsAreTheSameVectorsThroughGeminiAndAnOpenAiPassthrough) {
  HttpClient client(gateway_.port());
  const json request = {{"model", "embed"}, {"input", {"alpha", "beta"}}};
  const auto via_gemini = client.post_json("/v1/embeddings", request);
  ASSERT_EQ(via_gemini.status, 200) << via_gemini.body;
  auto direct_request = request;
  direct_request["model"] = "oai-embed";
  const auto via_openai = client.post_json("/v1/embeddings", direct_request);
  ASSERT_EQ(via_openai.status, 200) << via_openai.body;
  const auto a = via_gemini.json_body();
  const auto b = via_openai.json_body();
  EXPECT_EQ(a["object"], "list");
  EXPECT_EQ(a["model"], "embed");
  ASSERT_EQ(a["data"].size(), 2u);
  for (std::size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(a["data"][i]["index"], i);
    EXPECT_EQ(a["data"][i]["embedding"], b["data"][i]["embedding"]);
  }
  EXPECT_NE(only_request(gemini_)["target"].get<std::string>().find(
                "/v1beta/models/text-embedding-test:batchEmbedContents"),
            std::string::npos);
}

TEST_F(Providers, RejectsABadEmbeddingsRequestBeforeAskingAnyone) {
  HttpClient client(gateway_.port());
  const auto r = client.post_json("/v1/embeddings", {{"model", "embed"}, {"input", ""}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.json_body()["error"]["param"], "input");
  EXPECT_EQ(r.header("x-switchyard-attempts"), "0");
}

TEST_F(Providers, AProviderWithoutEmbeddingsIsSkippedWithAClearError) {
  HttpClient client(gateway_.port());
  const auto r = client.post_json("/v1/embeddings", {{"model", "claude"}, {"input", "x"}});
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(r.json_body()["error"]["code"], "unsupported_parameter");
  EXPECT_TRUE(anthropic_.requests().empty());
}

}  // namespace
}  // namespace switchyard::testing
