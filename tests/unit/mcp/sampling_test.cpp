// A server's sampling/createMessage as the chat completion a route serves, and the completion's
// answer as the sampling result.
#include "switchyard/mcp/sampling.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace switchyard::mcp {
namespace {

using Json = nlohmann::json;

config::McpServer::Sampling route(std::string name) {
  config::McpServer::Sampling sampling;
  sampling.route = std::move(name);
  return sampling;
}

Json chat_for(const Json& params, const config::McpServer::Sampling& sampling = route("cheap")) {
  const auto chat = chat_request_of(params.dump(), sampling);
  EXPECT_TRUE(chat) << chat.error();
  return chat ? Json::parse(*chat) : Json();
}

std::string refusal_of(const Json& params) {
  const auto chat = chat_request_of(params.dump(), route("cheap"));
  EXPECT_FALSE(chat);
  return chat ? std::string() : chat.error();
}

TEST(SamplingRequest, BecomesAChatCompletionOfTheServersRoute) {
  const Json chat = chat_for({
      {"messages",
       {{{"role", "user"}, {"content", {{"type", "text"}, {"text", "Capital of France?"}}}},
        {{"role", "assistant"}, {"content", {{"type", "text"}, {"text", "Paris."}}}}}},
      {"systemPrompt", "Be brief."},
      {"maxTokens", 100},
      {"temperature", 0.2},
      {"stopSequences", {"\n\n"}},
  });
  EXPECT_EQ(chat, Json::parse(R"({"model":"cheap","messages":[
      {"role":"system","content":"Be brief."},
      {"role":"user","content":"Capital of France?"},
      {"role":"assistant","content":"Paris."}],
      "max_tokens":100,"temperature":0.2,"stop":["\n\n"]})"));
}

TEST(SamplingRequest, ImagesAndAudioBecomeContentParts) {
  const Json chat = chat_for({
      {"messages",
       {{{"role", "user"},
         {"content",
          {{{"type", "text"}, {"text", "What is this?"}},
           {{"type", "image"}, {"data", "iVBORw0KGgo="}, {"mimeType", "image/png"}},
           {{"type", "audio"}, {"data", "UklGRg=="}, {"mimeType", "audio/wav"}}}}}}},
      {"maxTokens", 10},
  });
  EXPECT_EQ(chat["messages"][0]["content"], Json::parse(R"([
      {"type":"text","text":"What is this?"},
      {"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}},
      {"type":"input_audio","input_audio":{"data":"UklGRg==","format":"wav"}}])"));
}

TEST(SamplingRequest, TheFirstHintNamingAConfiguredModelPicksItsRoute) {
  auto sampling = route("cheap");
  sampling.models = {{"claude", "smart"}, {"flash", "fast"}};
  const Json params = {
      {"messages", {{{"role", "user"}, {"content", {{"type", "text"}, {"text", "hi"}}}}}},
      {"maxTokens", 5},
      {"modelPreferences", {{"hints", {{{"name", "gemini"}}, {{"name", "claude-3-sonnet"}}}}}},
  };
  EXPECT_EQ(chat_for(params, sampling)["model"], "smart");
  Json unhinted = params;
  unhinted["modelPreferences"]["hints"] = {{{"name", "gemini"}}};
  EXPECT_EQ(chat_for(unhinted, sampling)["model"], "cheap");
}

TEST(SamplingRequest, WhatAChatCompletionCannotCarryIsRefused) {
  const Json text = {{"role", "user"}, {"content", {{"type", "text"}, {"text", "hi"}}}};
  EXPECT_EQ(refusal_of({{"messages", {text}}}),
            "sampling/createMessage needs maxTokens, a positive integer");
  EXPECT_EQ(refusal_of({{"messages", Json::array()}, {"maxTokens", 5}}),
            "sampling/createMessage needs messages");
  EXPECT_EQ(refusal_of({{"messages", {text}}, {"maxTokens", 5}, {"tools", Json::array()}}),
            "tool use in sampling is not served by the gateway's routes");
  EXPECT_EQ(
      refusal_of({{"messages",
                   {{{"role", "user"},
                     {"content", {{"type", "audio"}, {"data", "x"}, {"mimeType", "audio/ogg"}}}}}},
                  {"maxTokens", 5}}),
      "a route cannot be asked audio of type audio/ogg (only wav and mp3)");
  EXPECT_EQ(refusal_of({{"messages", {{{"role", "system"}, {"content", text["content"]}}}},
                        {"maxTokens", 5}}),
            "a message's role is user or assistant");
  EXPECT_EQ(refusal_of(Json::array()), "sampling/createMessage needs params");
}

TEST(SamplingResult, IsTheCompletionsTextModelAndStopReason) {
  const auto result = sampling_result_of(R"({"id":"c1","model":"gpt-4o-mini","choices":[
      {"index":0,"message":{"role":"assistant","content":"Paris."},"finish_reason":"length"}]})");
  ASSERT_TRUE(result) << result.error();
  EXPECT_EQ(Json::parse(*result), Json::parse(R"({"role":"assistant",
      "content":{"type":"text","text":"Paris."},"model":"gpt-4o-mini","stopReason":"maxTokens"})"));
  const auto ended = sampling_result_of(
      R"({"model":"m","choices":[{"message":{"content":"x"},"finish_reason":"stop"}]})");
  ASSERT_TRUE(ended);
  EXPECT_EQ(Json::parse(*ended)["stopReason"], "endTurn");
}

TEST(SamplingResult, ACompletionWithoutTextIsNoResult) {
  EXPECT_FALSE(sampling_result_of("not json"));
  EXPECT_FALSE(sampling_result_of(R"({"choices":[]})"));
  EXPECT_FALSE(sampling_result_of(R"({"choices":[{"message":{"content":null,
      "tool_calls":[]}}]})"));
}

}  // namespace
}  // namespace switchyard::mcp
