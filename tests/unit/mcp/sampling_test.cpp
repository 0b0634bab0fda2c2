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
  EXPECT_EQ(refusal_of({{"messages", {{{"role", "user"}, {"content", {{"type", "tool_use"}}}}}},
                        {"maxTokens", 5}}),
            "a tool_use block in a user message");
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

TEST(SamplingRequest, ToolsToolUsesAndToolResultsBecomeTheChatApisOwn) {
  const Json chat = chat_for(Json::parse(R"({
      "messages": [
        {"role": "user", "content": {"type": "text", "text": "Weather in Paris?"}},
        {"role": "assistant", "content": [
          {"type": "tool_use", "id": "call_1", "name": "get_weather", "input": {"city": "Paris"}}]},
        {"role": "user", "content": [
          {"type": "tool_result", "toolUseId": "call_1",
           "content": [{"type": "text", "text": "18C"}]},
          {"type": "text", "text": "And tomorrow?"}]}],
      "tools": [{"name": "get_weather", "description": "Weather by city",
                 "inputSchema": {"type": "object", "properties": {"city": {"type": "string"}}}}],
      "toolChoice": {"mode": "auto"},
      "maxTokens": 50})"));
  EXPECT_EQ(chat["messages"], Json::parse(R"([
      {"role": "user", "content": "Weather in Paris?"},
      {"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function",
        "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]},
      {"role": "tool", "tool_call_id": "call_1", "content": "18C"},
      {"role": "user", "content": "And tomorrow?"}])"));
  EXPECT_EQ(chat["tools"], Json::parse(R"([{"type": "function", "function": {
      "name": "get_weather", "description": "Weather by city",
      "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}])"));
  EXPECT_EQ(chat["tool_choice"], "auto");
}

TEST(SamplingResult, ToolCallsBecomeToolUses) {
  const auto result = sampling_result_of(R"({"model":"m","choices":[{"finish_reason":"tool_calls",
      "message":{"role":"assistant","content":null,"tool_calls":[
        {"id":"call_1","type":"function","function":{"name":"get_weather",
         "arguments":"{\"city\":\"Paris\"}"}},
        {"id":"call_2","type":"function","function":{"name":"get_weather",
         "arguments":"{\"city\":\"Oslo\"}"}}]}}]})");
  ASSERT_TRUE(result) << result.error();
  EXPECT_EQ(Json::parse(*result), Json::parse(R"({"role":"assistant","model":"m",
      "stopReason":"toolUse","content":[
        {"type":"tool_use","id":"call_1","name":"get_weather","input":{"city":"Paris"}},
        {"type":"tool_use","id":"call_2","name":"get_weather","input":{"city":"Oslo"}}]})"));
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
