// A Messages request at each kind of provider (docs/providers.md, "The Messages door"): Anthropic
// gets the client's bytes and version, and its answers go back as they came but for `model`;
// every other provider gets the chat equivalent, and its answers come back in Anthropic's terms.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "provider_golden.hpp"
#include "switchyard/api/messages_request.hpp"
#include "switchyard/providers/adapter.hpp"
#include "switchyard/upstream/sse.hpp"

namespace switchyard {
namespace {

using nlohmann::json;
using providers::ErrorClass;
using State = providers::ChatStream::State;

testing::CallFixture provider(config::ProviderType type) {
  testing::CallFixture f;
  f.provider.name = "up";
  f.provider.type = type;
  f.provider.base_url = {true, "upstream.test", 443, "", "upstream.test"};
  f.provider.api_key = "sk-provider";
  f.model.name = "alias";
  f.model.upstream = "upstream-model";
  f.quoted_upstream = "\"upstream-model\"";
  return f;
}

api::MessagesRequest parsed(std::string_view body) {
  auto r = api::parse_messages_request(body, api::MessagesBody::message);
  EXPECT_TRUE(r) << body;
  return std::move(*r);
}

constexpr std::string_view kHello =
    R"({"model":"alias","max_tokens":64,"messages":[{"role":"user","content":"Hi"}]})";

TEST(MessagesAtAnthropic, SendsTheClientsBytesWithItsVersionAndNothingOfItsOwn) {
  auto f = provider(config::ProviderType::anthropic);
  f.provider.api_version = "2023-06-01";
  const auto adapter = providers::make_adapter(f.provider);
  const auto request = parsed(kHello);
  auto call = f.call();
  call.anthropic_version = "2026-10-21";
  std::string head, body;
  ASSERT_TRUE(adapter->encode_messages(request, call, head, body));
  EXPECT_TRUE(body.empty()) << "the client's body goes as it is, model replaced on the wire";
  EXPECT_TRUE(head.starts_with("POST /v1/messages HTTP/1.1\r\n")) << head;
  EXPECT_NE(head.find("\r\nanthropic-version: 2026-10-21\r\n"), std::string::npos) << head;
  EXPECT_EQ(head.find("2023-06-01"), std::string::npos) << head;
  EXPECT_NE(head.find("\r\nx-api-key: sk-provider\r\n"), std::string::npos) << head;
  const std::size_t length = kHello.size() - std::string_view("\"alias\"").size() +
                             std::string_view("\"upstream-model\"").size();
  EXPECT_NE(head.find("\r\nContent-Length: " + std::to_string(length) + "\r\n"), std::string::npos)
      << head;

  // Without the client's version, the provider's; counting goes to count_tokens.
  call.anthropic_version = {};
  call.count_tokens = true;
  ASSERT_TRUE(adapter->encode_messages(request, call, head, body));
  EXPECT_TRUE(head.starts_with("POST /v1/messages/count_tokens HTTP/1.1\r\n")) << head;
  EXPECT_NE(head.find("\r\nanthropic-version: 2023-06-01\r\n"), std::string::npos) << head;
}

TEST(MessagesAtAnthropic, RelaysTheMessageByteForByteButForModel) {
  const auto f = provider(config::ProviderType::anthropic);
  const auto adapter = providers::make_adapter(f.provider);
  const std::string upstream =
      R"({"id":"msg_1","type":"message","role":"assistant","model":"upstream-model",)"
      R"("content":[{"type":"thinking","thinking":"hmm","signature":"sig"},{"type":"text","text":"Hi"}],)"
      R"("stop_reason":"end_turn","stop_sequence":null,)"
      R"("usage":{"input_tokens":10,"cache_read_input_tokens":5,"output_tokens":3}})";
  std::string body = upstream;
  providers::Usage usage;
  ASSERT_TRUE(adapter->decode_messages(body, f.call(), usage));
  std::string expected = upstream;
  expected.replace(expected.find("\"upstream-model\""), 16, "\"client-model\"");
  EXPECT_EQ(body, expected);
  EXPECT_EQ(usage.prompt, 15u);
  EXPECT_EQ(usage.cached, 5u);
  EXPECT_EQ(usage.completion, 3u);
}

TEST(MessagesAtAnthropic, RelaysTheEventStreamAsItCameButForMessageStartsModel) {
  const auto f = provider(config::ProviderType::anthropic);
  const auto adapter = providers::make_adapter(f.provider);
  const std::string start =
      "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\","
      "\"type\":\"message\",\"role\":\"assistant\",\"model\":\"upstream-model\",\"content\":[],"
      "\"usage\":{\"input_tokens\":7,\"output_tokens\":1}}}\n\n";
  const std::string rest =
      "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,"
      "\"content_block\":{\"type\":\"thinking\",\"thinking\":\"\"}}\n\n"
      "event: ping\ndata: {\"type\": \"ping\"}\n\n"
      "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,"
      "\"delta\":{\"type\":\"thinking_delta\",\"thinking\":\"hm\"}}\n\n"
      "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n"
      "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":"
      "\"end_turn\"},\"usage\":{\"output_tokens\":4}}\n\n"
      "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
  for (std::size_t split : {0, 7}) {
    SCOPED_TRACE(split);
    const auto call = f.call();  // outlives the stream, as the dispatcher's does
    auto stream = adapter->messages_stream(call);
    upstream::SseParser sse;
    std::string out;
    const std::string all = start + rest;
    State state = State::open;
    const std::size_t step = split == 0 ? all.size() : split;
    for (std::size_t at = 0; at < all.size() && state == State::open; at += step) {
      sse.feed(all.substr(at, step));
      state = providers::pump(*stream, sse, out, false);
      sse.discard_consumed();
    }
    EXPECT_EQ(state, State::done);
    std::string expected = start + rest;
    expected.replace(expected.find("\"upstream-model\""), 16, "\"client-model\"");
    EXPECT_EQ(out, expected);
    EXPECT_EQ(stream->usage().prompt, 7u);
    EXPECT_EQ(stream->usage().completion, 4u);
  }
}

TEST(MessagesAtAnthropic, PreambleSaysNothingAndAnErrorEventFailsTheStream) {
  const auto f = provider(config::ProviderType::anthropic);
  const auto adapter = providers::make_adapter(f.provider);
  const auto call = f.call();
  auto stream = adapter->messages_stream(call);
  upstream::SseParser sse;
  std::string out;
  sse.feed(
      "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"model\":\"x\"}}\n\n"
      "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,"
      "\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n");
  EXPECT_EQ(providers::pump(*stream, sse, out, false), State::open);
  EXPECT_FALSE(stream->said_something()) << "a target dying now may still be replaced";
  sse.discard_consumed();
  sse.feed(
      "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\","
      "\"message\":\"Overloaded\"}}\n\n");
  EXPECT_EQ(providers::pump(*stream, sse, out, false), State::failed);
  EXPECT_EQ(out.find("overloaded_error"), std::string::npos) << "the gateway says it its own way";
  EXPECT_EQ(stream->error().error.status, 503);
}

TEST(MessagesAtAnthropic, AMalformedEventOrAnEndBeforeMessageStopFailsTheStream) {
  const auto f = provider(config::ProviderType::anthropic);
  const auto adapter = providers::make_adapter(f.provider);
  const auto call = f.call();
  for (const std::string& tail :
       {std::string("event: content_block_delta\ndata: {not json\n\n"), std::string()}) {
    SCOPED_TRACE(tail);
    auto stream = adapter->messages_stream(call);
    upstream::SseParser sse;
    std::string out;
    sse.feed("event: message_start\ndata: {\"type\":\"message_start\",\"message\":{}}\n\n" + tail);
    EXPECT_EQ(providers::pump(*stream, sse, out, /*upstream_ended=*/true), State::failed);
    EXPECT_EQ(stream->error().error_class, ErrorClass::retryable);
    EXPECT_EQ(out.find("content_block_delta"), std::string::npos) << "nothing malformed relayed";
  }
}

TEST(MessagesElsewhere, OpenAiGetsTheChatEquivalentWithItsModel) {
  const auto f = provider(config::ProviderType::openai);
  const auto adapter = providers::make_adapter(f.provider);
  const auto request = parsed(kHello);
  std::string head, body;
  ASSERT_TRUE(adapter->encode_messages(request, f.call(), head, body));
  const auto sent = json::parse(body);
  EXPECT_EQ(sent["model"], "upstream-model");
  EXPECT_EQ(sent["messages"], json::parse(R"([{"role":"user","content":"Hi"}])"));
  EXPECT_EQ(sent["max_tokens"], 64);
  EXPECT_NE(head.find("\r\nContent-Length: " + std::to_string(body.size()) + "\r\n"),
            std::string::npos)
      << head;
}

TEST(MessagesElsewhere, WhatTheChatEquivalentLeavesOutFallsOverAndMalformedIsFinal) {
  const auto f = provider(config::ProviderType::gemini);
  const auto adapter = providers::make_adapter(f.provider);
  std::string head, body;
  const auto document = parsed(
      R"({"model":"alias","max_tokens":8,"messages":[{"role":"user","content":[)"
      R"({"type":"document","source":{"type":"text","media_type":"text/plain","data":"x"}}]}]})");
  auto refused = adapter->encode_messages(document, f.call(), head, body);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().error_class, ErrorClass::fall_over);
  EXPECT_NE(refused.error().error.message.find("'document'"), std::string::npos)
      << refused.error().error.message;

  const auto malformed =
      parsed(R"({"model":"alias","max_tokens":8,"messages":[{"role":"robot","content":"x"}]})");
  refused = adapter->encode_messages(malformed, f.call(), head, body);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().error_class, ErrorClass::final);
}

TEST(MessagesElsewhere, GeminiAnswersComeBackAsAnthropicMessagesAndEvents) {
  const auto f = provider(config::ProviderType::gemini);
  const auto adapter = providers::make_adapter(f.provider);
  std::string body = R"({"candidates":[{"content":{"role":"model","parts":[{"text":"Hello"}]},)"
                     R"("finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":9,)"
                     R"("candidatesTokenCount":2,"totalTokenCount":11}})";
  providers::Usage usage;
  ASSERT_TRUE(adapter->decode_messages(body, f.call(), usage));
  const auto message = json::parse(body);
  EXPECT_EQ(message["type"], "message");
  EXPECT_EQ(message["model"], "client-model");
  EXPECT_EQ(message["content"], json::parse(R"([{"type":"text","text":"Hello"}])"));
  EXPECT_EQ(message["stop_reason"], "end_turn");
  EXPECT_EQ(message["usage"]["input_tokens"], 9);
  EXPECT_EQ(message["usage"]["output_tokens"], 2);

  auto call = f.call();
  call.stream = true;
  call.include_usage = true;
  const std::string upstream =
      "data: "
      "{\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":\"Hel\"}]}}]}\n\n"
      "data: {\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":\"lo\"}]},"
      "\"finishReason\":\"STOP\"}],\"usageMetadata\":{\"promptTokenCount\":9,"
      "\"candidatesTokenCount\":2,\"totalTokenCount\":11}}\n\n";
  auto stream = adapter->messages_stream(call);
  upstream::SseParser sse;
  sse.feed(upstream);
  std::string out;
  EXPECT_EQ(providers::pump(*stream, sse, out, true), State::done);
  std::vector<std::string> types;
  std::string text;
  upstream::SseParser events;
  events.feed(out);
  while (auto e = events.next()) {
    const auto data = json::parse(e->data);
    EXPECT_EQ(e->name, data["type"].get<std::string>());
    types.push_back(data["type"]);
    if (data["type"] == "content_block_delta") text += data["delta"]["text"].get<std::string>();
  }
  EXPECT_EQ(types,
            (std::vector<std::string>{"message_start", "content_block_start", "content_block_delta",
                                      "content_block_delta", "content_block_stop", "message_delta",
                                      "message_stop"}));
  EXPECT_EQ(text, "Hello");
}

}  // namespace
}  // namespace switchyard
