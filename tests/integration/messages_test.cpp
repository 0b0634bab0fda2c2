// The Messages door end to end: the real gateway in front of the mock's Anthropic, OpenAI and
// Gemini endpoints, driven as Claude Code and Anthropic's SDKs drive it. An Anthropic upstream gets
// the client's bytes but for `model`, and the client gets the upstream's bytes but for `model`;
// every other provider is translated both ways; the cache, complexity routing, keys, errors and
// the log treat a Messages request like its chat equivalent.
#include <gtest/gtest.h>

#include "harness.hpp"

namespace switchyard::testing {
namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

std::string config_for(const Mock& anthropic, const Mock& openai, const Mock& gemini,
                       const std::string& extra = {}) {
  auto provider = [](const char* name, const char* type, const Mock& m, const char* path) {
    return "  " + std::string(name) + ":\n    type: " + type +
           "\n    base_url: http://127.0.0.1:" + std::to_string(m.port()) + path +
           "\n    api_key: " + name + "-secret-key\n    forward_headers: [\"x-mock-*\"]\n";
  };
  return "server:\n  workers: 1\n"
         "providers:\n" +
         provider("anth", "anthropic", anthropic, "") + provider("oai", "openai", openai, "/v1") +
         provider("gem", "gemini", gemini, "") +
         "models:\n"
         "  claude-sonnet-4-5-20250929: { provider: anth, name: claude-upstream-x }\n"
         "  gpt: { provider: oai, name: gpt-upstream }\n"
         "  flash: { provider: gem, name: gemini-upstream }\n"
         "routes:\n"
         "  chat-first: { targets: [gpt, claude-sonnet-4-5-20250929] }\n"
         "  auto:\n"
         "    complexity:\n"
         "      simple: gpt\n"
         "      complex: flash\n"
         "      max_simple_tokens: 500\n" +
         extra;
}

const Headers kAnthropicHeaders = {{"anthropic-version", "2023-06-01"},
                                   {"content-type", "application/json"}};

Headers with(Headers headers, const Headers& more) {
  headers.insert(headers.end(), more.begin(), more.end());
  return headers;
}

// `text` with the value of its first "model" member replaced by `model` (as JSON text).
std::string with_model(std::string text, const std::string& model) {
  const auto key = text.find("\"model\"");
  const auto open = text.find('"', text.find(':', key));
  const auto close = text.find('"', open + 1);
  return text.replace(open, close - open + 1, "\"" + model + "\"");
}

json messages_body(const std::string& model, const std::string& question, bool stream = false) {
  return {{"model", model},
          {"max_tokens", 100},
          {"temperature", 0},
          {"stream", stream},
          {"messages", json::array({{{"role", "user"}, {"content", question}}})}};
}

class MessagesDoor : public ::testing::Test {
 protected:
  TempDir dir_;
  Mock anthropic_{dir_, Mock::Options{"anth", {"--api-key", "anth-secret-key"}}};
  Mock openai_{dir_, Mock::Options{"oai", {"--api-key", "oai-secret-key"}}};
  Mock gemini_{dir_, Mock::Options{"gem", {"--api-key", "gem-secret-key"}}};
};

TEST_F(MessagesDoor, ClaudeCodeRequestReachesAnthropicByteIdenticalButForModel) {
  Gateway gw(dir_, config_for(anthropic_, openai_, gemini_));
  HttpClient client(gw.port());
  const std::string fixture =
      read_file(fs::path(SWITCHYARD_TEST_DATA) / "requests" / "claude_code_messages.json");
  const std::string beta =
      "claude-code-20250219,interleaved-thinking-2025-05-14,fine-grained-tool-streaming-2025-05-14";
  const auto r = client.request(
      "POST", "/v1/messages", fixture,
      with(kAnthropicHeaders,
           {{"anthropic-beta", beta}, {"x-app", "cli"}, {"x-api-key", "sk-ant-client-own"}}));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("x-switchyard-provider"), "anth");

  const auto seen = anthropic_.requests();
  ASSERT_EQ(seen.size(), 1u) << seen.dump();
  const auto& upstream = seen[0];
  EXPECT_EQ(upstream["body"].get<std::string>(), with_model(fixture, "claude-upstream-x"));
  const auto& headers = upstream["headers"];
  EXPECT_EQ(headers["anthropic-version"], "2023-06-01");
  EXPECT_EQ(headers["anthropic-beta"], beta);
  // The upstream's own key, never the client's; nothing the provider was not told to take.
  EXPECT_EQ(headers["x-api-key"], "anth-secret-key");
  EXPECT_FALSE(headers.contains("x-app"));
  EXPECT_FALSE(headers.contains("authorization"));
  // And the answer comes back as Anthropic sent it, but for the model the client asked for.
  EXPECT_EQ(r.body,
            with_model(upstream["response_body"].get<std::string>(), "claude-sonnet-4-5-20250929"));
}

TEST_F(MessagesDoor, JsonAnswerFromAnthropicIsRelayedByteForByteButForModel) {
  Gateway gw(dir_, config_for(anthropic_, openai_, gemini_));
  HttpClient client(gw.port());
  const auto r = client.post_json("/v1/messages", messages_body("claude-sonnet-4-5-20250929", "Hi"),
                                  kAnthropicHeaders);
  ASSERT_EQ(r.status, 200) << r.body;
  const auto seen = anthropic_.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(r.body,
            with_model(seen[0]["response_body"].get<std::string>(), "claude-sonnet-4-5-20250929"));
  EXPECT_EQ(r.json_body()["type"], "message");
}

TEST_F(MessagesDoor, WhatOnlyAnthropicCanTakeFallsOverFromAnOpenAiTarget) {
  Gateway gw(dir_, config_for(anthropic_, openai_, gemini_));
  HttpClient client(gw.port());
  std::string fixture =
      read_file(fs::path(SWITCHYARD_TEST_DATA) / "requests" / "claude_code_messages.json");
  fixture = with_model(fixture, "chat-first");
  const auto r = client.request("POST", "/v1/messages", fixture, kAnthropicHeaders);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("x-switchyard-provider"), "anth");
  EXPECT_TRUE(openai_.requests().empty()) << "the OpenAI target cannot take a document block";
  const auto line = gw.request_log(r.header("x-request-id"));
  ASSERT_EQ(line["attempts"].size(), 2u) << line.dump();
  EXPECT_EQ(line["attempts"][0]["outcome"], "fall_over");
}

TEST_F(MessagesDoor, OpenAiTargetGetsTheChatEquivalentAndTheClientAnAnthropicMessage) {
  Gateway gw(dir_, config_for(anthropic_, openai_, gemini_));
  HttpClient client(gw.port());
  auto body = messages_body("gpt", "What is 2+2?");
  body["system"] = "Be brief.";
  body["stop_sequences"] = json::array({"END"});
  const auto r =
      client.post_json("/v1/messages", body, with(kAnthropicHeaders, {{"x-mock-content", "4"}}));
  ASSERT_EQ(r.status, 200) << r.body;
  const auto answer = r.json_body();
  EXPECT_EQ(answer["type"], "message");
  EXPECT_EQ(answer["model"], "gpt");
  EXPECT_EQ(answer["content"], json::parse(R"([{"type":"text","text":"4"}])"));
  EXPECT_EQ(answer["stop_reason"], "end_turn");
  const auto upstream = json::parse(openai_.requests()[0]["body"].get<std::string>());
  EXPECT_EQ(upstream["model"], "gpt-upstream");
  EXPECT_EQ(upstream["messages"], json::parse(R"([{"role":"system","content":"Be brief."},
                                                  {"role":"user","content":"What is 2+2?"}])"));
  EXPECT_EQ(upstream["stop"], json::array({"END"}));
  EXPECT_EQ(upstream["max_tokens"], 100);
}

TEST_F(MessagesDoor, SameQuestionThroughEitherDoorIsOneCacheEntry) {
  Gateway gw(dir_, config_for(anthropic_, openai_, gemini_, "cache:\n  ttl: 1h\n"));
  HttpClient client(gw.port());
  auto chat = chat_body("gpt");
  chat["messages"] = json::array({{{"role", "user"}, {"content", "Capital of France?"}}});
  chat["max_tokens"] = 100;
  chat["temperature"] = 0;
  const auto first = client.post_json("/v1/chat/completions", chat);
  ASSERT_EQ(first.header("x-switchyard-cache"), "miss") << first.body;

  const auto json_hit = client.post_json("/v1/messages", messages_body("gpt", "Capital of France?"),
                                         kAnthropicHeaders);
  ASSERT_EQ(json_hit.status, 200) << json_hit.body;
  EXPECT_EQ(json_hit.header("x-switchyard-cache"), "hit");
  EXPECT_EQ(json_hit.json_body()["content"][0]["text"],
            first.json_body()["choices"][0]["message"]["content"]);
  const auto stream_hit = client.post_json(
      "/v1/messages", messages_body("gpt", "Capital of France?", true), kAnthropicHeaders);
  EXPECT_EQ(stream_hit.header("x-switchyard-cache"), "hit");
  const auto events = sse_data(stream_hit.body);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(json::parse(events.front())["type"], "message_start");
  EXPECT_EQ(json::parse(events.back())["type"], "message_stop");
  EXPECT_EQ(openai_.requests().size(), 1u);

  // And the other way: a Messages answer (from an Anthropic upstream) serves a chat client.
  const auto miss = client.post_json(
      "/v1/messages", messages_body("claude-sonnet-4-5-20250929", "Capital of Italy?", true),
      kAnthropicHeaders);
  ASSERT_EQ(miss.header("x-switchyard-cache"), "miss") << miss.body;
  chat["model"] = "claude-sonnet-4-5-20250929";
  chat["messages"][0]["content"] = "Capital of Italy?";
  const auto chat_hit = client.post_json("/v1/chat/completions", chat);
  EXPECT_EQ(chat_hit.header("x-switchyard-cache"), "hit") << chat_hit.body;
  EXPECT_EQ(chat_hit.json_body()["choices"][0]["message"]["content"], "Hello from anth.");
  EXPECT_EQ(anthropic_.requests().size(), 1u);
}

TEST_F(MessagesDoor, ComplexityRoutesAMessagesRequestLikeItsChatEquivalent) {
  Gateway gw(dir_, config_for(anthropic_, openai_, gemini_));
  HttpClient client(gw.port());
  const auto simple =
      client.post_json("/v1/messages", messages_body("auto", "Hi"), kAnthropicHeaders);
  ASSERT_EQ(simple.status, 200) << simple.body;
  EXPECT_EQ(simple.header("x-switchyard-complexity"), "simple");
  EXPECT_EQ(simple.header("x-switchyard-provider"), "oai");
  auto tools = messages_body("auto", "Hi");
  tools["tools"] =
      json::parse(R"([{"name":"get_weather","input_schema":{"type":"object","properties":{}}}])");
  const auto complex = client.post_json("/v1/messages", tools, kAnthropicHeaders);
  ASSERT_EQ(complex.status, 200) << complex.body;
  EXPECT_EQ(complex.header("x-switchyard-complexity"), "complex");
  EXPECT_EQ(complex.header("x-switchyard-provider"), "gem");
}

TEST_F(MessagesDoor, ExplainShowsHowAMessagesRequestWouldBeRouted) {
  Gateway gw(dir_, config_for(anthropic_, openai_, gemini_));
  HttpClient client(gw.port());
  auto tools = messages_body("auto", "Hi");
  tools["tools"] =
      json::parse(R"([{"name":"get_weather","input_schema":{"type":"object","properties":{}}}])");
  const auto r = client.post_json("/admin/explain", tools, kAnthropicHeaders);
  ASSERT_EQ(r.status, 200) << r.body;
  const auto explained = r.json_body();
  EXPECT_EQ(explained["api"], "messages");
  EXPECT_EQ(explained["route"], "flash");
  EXPECT_EQ(explained["complexity"]["decision"], "complex") << explained.dump();
  EXPECT_TRUE(openai_.requests().empty() && gemini_.requests().empty()) << "nothing is sent";
}

TEST_F(MessagesDoor, UpstreamDyingMidStreamEndsWithAnErrorEventNotMessageStop) {
  Gateway gw(dir_, config_for(anthropic_, openai_, gemini_));
  HttpClient client(gw.port());
  for (const std::string model : {"claude-sonnet-4-5-20250929", "gpt"}) {
    const auto r = client.post_json(
        "/v1/messages", messages_body(model, "Stream please", true),
        with(kAnthropicHeaders, {{"x-mock-chunks", "4"}, {"x-mock-drop-after", "2"}}));
    ASSERT_EQ(r.status, 200) << model << ": " << r.body;
    EXPECT_NE(r.body.find("text_delta"), std::string::npos) << model << ": " << r.body;
    EXPECT_EQ(r.body.find("message_stop"), std::string::npos) << model << ": " << r.body;
    const auto events = sse_data(r.body);
    const auto last = json::parse(events.back());
    EXPECT_EQ(last["type"], "error") << model;
    EXPECT_EQ(last["error"]["type"], "api_error") << model;
    EXPECT_NE(r.body.find("event: error\n"), std::string::npos) << model;
  }
}

TEST_F(MessagesDoor, ErrorsAreAnthropicShapedWithAnthropicsStatuses) {
  Gateway gw(dir_, config_for(anthropic_, openai_, gemini_));
  HttpClient client(gw.port());
  const auto unknown =
      client.post_json("/v1/messages", messages_body("nope", "Hi"), kAnthropicHeaders);
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(unknown.json_body()["type"], "error");
  EXPECT_EQ(unknown.json_body()["error"]["type"], "not_found_error");
  auto no_limit = messages_body("gpt", "Hi");
  no_limit.erase("max_tokens");
  const auto bad = client.post_json("/v1/messages", no_limit, kAnthropicHeaders);
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.json_body()["error"]["type"], "invalid_request_error");
  EXPECT_EQ(bad.json_body()["error"]["message"], "max_tokens: Field required");
  // Every target overloaded: 529, as Anthropic says it.
  const auto overloaded =
      client.post_json("/v1/messages", messages_body("claude-sonnet-4-5-20250929", "Hi"),
                       with(kAnthropicHeaders, {{"x-mock-status", "503"}}));
  EXPECT_EQ(overloaded.status, 529) << overloaded.body;
  EXPECT_EQ(overloaded.json_body()["error"]["type"], "overloaded_error");
  // The same mistakes through the OpenAI door keep OpenAI's shape.
  const auto openai = client.post_json("/v1/chat/completions", chat_body("nope"));
  EXPECT_EQ(openai.json_body()["error"]["code"], "model_not_found");
}

TEST_F(MessagesDoor, GatewayKeyIsTakenFromXApiKey) {
  Gateway gw(dir_, config_for(anthropic_, openai_, gemini_,
                              "keys:\n  app: { sha256: " + hash_key("sk-gw-app") + " }\n"));
  HttpClient client(gw.port());
  const auto body = messages_body("gpt", "Hi");
  const auto ok =
      client.post_json("/v1/messages", body, with(kAnthropicHeaders, {{"x-api-key", "sk-gw-app"}}));
  EXPECT_EQ(ok.status, 200) << ok.body;
  const auto wrong = client.post_json("/v1/messages", body,
                                      with(kAnthropicHeaders, {{"x-api-key", "sk-gw-wrong"}}));
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(wrong.json_body()["error"]["type"], "authentication_error");
  EXPECT_EQ(wrong.body.find("sk-gw-wrong"), std::string::npos);
  const auto none = client.post_json("/v1/messages", body, kAnthropicHeaders);
  EXPECT_EQ(none.status, 401);
  // The key went no further than the gateway.
  for (const auto& seen : openai_.requests())
    EXPECT_EQ(seen["headers"].dump().find("sk-gw-app"), std::string::npos);
}

TEST_F(MessagesDoor, LogLineNamesTheEndpointRouteAndProvider) {
  Gateway gw(dir_, config_for(anthropic_, openai_, gemini_));
  HttpClient client(gw.port());
  const auto r = client.post_json("/v1/messages", messages_body("flash", "Hi"), kAnthropicHeaders);
  ASSERT_EQ(r.status, 200) << r.body;
  const auto line = gw.request_log(r.header("x-request-id"));
  EXPECT_EQ(line["path"], "/v1/messages");
  EXPECT_EQ(line["route"], "flash");
  EXPECT_EQ(line["provider"], "gem");
  EXPECT_EQ(line["status"], 200);
  EXPECT_GT(line["prompt_tokens"].get<int>(), 0) << line.dump();
}

}  // namespace
}  // namespace switchyard::testing
