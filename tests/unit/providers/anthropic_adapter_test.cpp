// Golden tests of the Anthropic Messages adapter (docs/providers.md, "Anthropic" and
// "Error classes"): OpenAI requests in, Messages bodies out; Messages responses, event streams
// and error bodies in, OpenAI out.
// Fixtures: tests/data/providers/anthropic/{encode,decode,stream}.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <variant>

#include "provider_golden.hpp"
#include "switchyard/api/chat_request.hpp"
#include "switchyard/providers/adapter.hpp"
#include "switchyard/upstream/sse.hpp"

namespace switchyard {
namespace {

using nlohmann::json;
using providers::ErrorClass;
using providers::ProviderError;
using State = providers::ChatStream::State;

testing::CallFixture anthropic_call() {
  testing::CallFixture f;
  f.provider.name = "anthropic-test";
  f.provider.type = config::ProviderType::anthropic;
  f.provider.base_url = {true, "api.anthropic.com", 443, "", "api.anthropic.com"};
  f.provider.api_key = "sk-ant-test";
  f.provider.api_version = "2023-06-01";
  f.model.name = "claude";
  f.model.provider = "anthropic-test";
  f.model.upstream = "claude-sonnet-4-5";
  f.quoted_upstream = "\"claude-sonnet-4-5\"";
  return f;
}

::testing::AssertionResult same_json(const json& actual, const json& expected) {
  if (actual == expected) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "actual:\n"
                                       << actual.dump(2) << "\nexpected:\n"
                                       << expected.dump(2);
}

// Each payload of an OpenAI SSE text, parsed; "[DONE]" stays a string.
json payloads(const std::string& sse) {
  json out = json::array();
  for (const auto& p : testing::sse_payloads(sse))
    out.push_back(p == "[DONE]" ? json(p) : json::parse(p));
  return out;
}

// The adapter as make_adapter() builds it for an Anthropic provider. The provider lives in the
// fixture, which outlives the adapter that refers to it.
class AnthropicTest : public ::testing::Test {
 protected:
  struct Encoded {
    std::optional<ProviderError> error;
    std::string head;
    std::string body;
    json sent;  // the body, parsed (null when there is none)
  };

  void rebuild_adapter() { adapter_ = providers::make_adapter(f_.provider); }

  Encoded encode(const std::string& request) {
    Encoded e;
    auto parsed = api::parse_chat_request(request);
    auto* chat = parsed ? &*parsed : nullptr;
    if (chat == nullptr) {
      ADD_FAILURE() << "not a valid chat request: " << parsed.error().message;
      return e;
    }
    f_.stream = chat->stream();
    f_.include_usage = chat->include_usage();
    e.error = error_of(adapter_->encode_chat(*chat, f_.call(), e.head, e.body));
    if (!e.error) e.sent = json::parse(e.body);
    return e;
  }
  Encoded encode(const json& request) { return encode(request.dump()); }

  // The body sent for `request`, or null (with a failure) when the adapter refused it.
  json sent(const json& request) {
    Encoded e = encode(request);
    EXPECT_FALSE(e.error) << e.error->error.message;
    return e.sent;
  }

  ProviderError refusal(const json& request) {
    Encoded e = encode(request);
    if (!e.error) {
      ADD_FAILURE() << "accepted: " << e.body;
      return {};
    }
    return *e.error;
  }

  void expect_golden_encoding(const std::string& name) {
    const Encoded e = encode(testing::read_fixture("anthropic/encode/" + name + ".request.json"));
    ASSERT_FALSE(e.error) << e.error->error.message;
    EXPECT_TRUE(same_json(
        e.sent, testing::read_json_fixture("anthropic/encode/" + name + ".expected.json")));
  }

  // A Messages response decoded into what the client receives.
  json decoded(const std::string& body, providers::Usage* usage_out = nullptr) {
    std::string text = body;
    providers::Usage usage;
    const auto error = error_of(adapter_->decode_chat(text, f_.call(), usage));
    EXPECT_FALSE(error) << error->error.message;
    if (usage_out != nullptr) *usage_out = usage;
    return error ? json() : json::parse(text);
  }

  testing::StreamRun stream(const std::string& upstream, bool include_usage = false,
                            std::size_t split = 0) {
    f_.stream = true;
    f_.include_usage = include_usage;
    return testing::run_stream(*adapter_, f_.call(), upstream, split);
  }
  std::string stream_fixture(const std::string& name) {
    return testing::read_fixture("anthropic/stream/" + name + ".sse");
  }

  testing::CallFixture f_ = anthropic_call();
  std::unique_ptr<providers::Adapter> adapter_ = providers::make_adapter(f_.provider);
};

class AnthropicEncode : public AnthropicTest {
 protected:
  static json user_says(const std::string& text) {
    return {{"model", "claude"},
            {"messages", json::array({{{"role", "user"}, {"content", text}}})}};
  }
  static json with_tools() {
    json r = user_says("Weather?");
    r["tools"] =
        json::array({{{"type", "function"},
                      {"function",
                       {{"name", "get_weather"},
                        {"parameters", {{"type", "object"}, {"properties", json::object()}}}}}}});
    return r;
  }
};
class AnthropicDecode : public AnthropicTest {};
class AnthropicStream : public AnthropicTest {};
class AnthropicError : public AnthropicTest {};

// ---------------------------------------------------------------------------------------------
// Encode: OpenAI chat request → POST /v1/messages

TEST_F(AnthropicEncode, TranslatesAPlainRequest) {
  expect_golden_encoding("plain");
}

TEST_F(AnthropicEncode, JoinsSystemAndDeveloperMessagesAndMergesSameRoleTurns) {
  expect_golden_encoding("multi_turn");
}

TEST_F(AnthropicEncode, KeepsAFinalAssistantTurnAsAPrefillWithoutTrailingWhitespace) {
  json r = user_says("Write a haiku.");
  r["messages"].push_back({{"role", "assistant"}, {"content", "Autumn moon: \n"}});
  const json body = sent(r);
  ASSERT_EQ(body["messages"].size(), 2u);
  EXPECT_TRUE(
      same_json(body["messages"][1],
                {{"role", "assistant"},
                 {"content", json::array({{{"type", "text"}, {"text", "Autumn moon:"}}})}}));
}

TEST_F(AnthropicEncode, TranslatesDataUrlAndHttpsImages) {
  expect_golden_encoding("images");
}

TEST_F(AnthropicEncode, RefusesAnImageOfAMediaTypeAnthropicDoesNotTake) {
  json r = user_says("");
  r["messages"][0]["content"] = json::array(
      {{{"type", "image_url"}, {"image_url", {{"url", "data:image/bmp;base64,Qk0="}}}}});
  const ProviderError e = refusal(r);
  EXPECT_EQ(e.error_class, ErrorClass::final);
  EXPECT_EQ(e.error.status, 400);
  EXPECT_EQ(e.error.param, "messages[0].content[0].image_url.url");
}

TEST_F(AnthropicEncode, RefusesAnImageUrlThatIsNeitherDataNorHttp) {
  json r = user_says("");
  r["messages"][0]["content"] =
      json::array({{{"type", "text"}, {"text", "Look"}},
                   {{"type", "image_url"}, {"image_url", {{"url", "ftp://example.com/a.png"}}}}});
  const ProviderError e = refusal(r);
  EXPECT_EQ(e.error_class, ErrorClass::final);
  EXPECT_EQ(e.error.param, "messages[0].content[1].image_url.url");
}

TEST_F(AnthropicEncode, FallsOverOnAudioAndFileParts) {
  for (const json& part :
       {json{{"type", "input_audio"}, {"input_audio", {{"data", "UklGRg=="}, {"format", "wav"}}}},
        json{{"type", "file"}, {"file", {{"file_id", "file-abc"}}}}}) {
    json r = user_says("");
    r["messages"][0]["content"] = json::array({part});
    const ProviderError e = refusal(r);
    EXPECT_EQ(e.error_class, ErrorClass::fall_over) << part.dump();
    EXPECT_EQ(e.error.code, "unsupported_parameter");
    EXPECT_EQ(e.error.param, "messages[0].content[0].type");
  }
}

TEST_F(AnthropicEncode, TranslatesToolsAndAutoToolChoice) {
  expect_golden_encoding("tools");
}

TEST_F(AnthropicEncode, MapsEachToolChoice) {
  const std::vector<std::pair<json, json>> cases = {
      {"auto", {{"type", "auto"}}},
      {"required", {{"type", "any"}}},
      {"none", {{"type", "none"}}},
      {{{"type", "function"}, {"function", {{"name", "get_weather"}}}},
       {{"type", "tool"}, {"name", "get_weather"}}},
  };
  for (const auto& [choice, expected] : cases) {
    json r = with_tools();
    r["tool_choice"] = choice;
    EXPECT_TRUE(same_json(sent(r)["tool_choice"], expected)) << choice.dump();
  }
}

TEST_F(AnthropicEncode, TurnsParallelToolCallsFalseIntoDisableParallelToolUse) {
  const std::vector<std::pair<json, json>> cases = {
      {nullptr, {{"type", "auto"}, {"disable_parallel_tool_use", true}}},
      {"required", {{"type", "any"}, {"disable_parallel_tool_use", true}}},
      {{{"type", "function"}, {"function", {{"name", "get_weather"}}}},
       {{"type", "tool"}, {"name", "get_weather"}, {"disable_parallel_tool_use", true}}},
      {"none", {{"type", "none"}}},
  };
  for (const auto& [choice, expected] : cases) {
    json r = with_tools();
    if (!choice.is_null()) r["tool_choice"] = choice;
    r["parallel_tool_calls"] = false;
    EXPECT_TRUE(same_json(sent(r)["tool_choice"], expected)) << choice.dump();
  }
  json r = with_tools();
  r["parallel_tool_calls"] = true;
  EXPECT_FALSE(sent(r).contains("tool_choice"));
}

TEST_F(AnthropicEncode, OmitsToolChoiceWithoutTools) {
  json r = user_says("Hi");
  r["tool_choice"] = "required";
  r["parallel_tool_calls"] = false;
  r["tools"] = json::array();
  const json body = sent(r);
  EXPECT_FALSE(body.contains("tools"));
  EXPECT_FALSE(body.contains("tool_choice"));
}

TEST_F(AnthropicEncode, MergesConsecutiveToolResultsIntoOneUserTurn) {
  expect_golden_encoding("tool_results");
}

TEST_F(AnthropicEncode, RefusesToolCallArgumentsThatAreNotAJsonObject) {
  for (const char* arguments : {"{\"city\": \"Oslo\"", "[1, 2]"}) {
    json r = user_says("Weather?");
    r["messages"].push_back(
        {{"role", "assistant"},
         {"content", nullptr},
         {"tool_calls",
          json::array({{{"id", "toolu_01"},
                        {"type", "function"},
                        {"function", {{"name", "get_weather"}, {"arguments", arguments}}}}})}});
    r["messages"].push_back({{"role", "tool"}, {"tool_call_id", "toolu_01"}, {"content", "5C"}});
    const ProviderError e = refusal(r);
    EXPECT_EQ(e.error_class, ErrorClass::final) << arguments;
    EXPECT_EQ(e.error.status, 400);
    EXPECT_EQ(e.error.param, "messages[1].tool_calls[0].function.arguments");
  }
}

TEST_F(AnthropicEncode, TranslatesJsonSchemaIntoOutputConfig) {
  expect_golden_encoding("json_schema");
}

TEST_F(AnthropicEncode, AsksForAnyObjectForJsonObjectAndNothingForText) {
  json r = user_says("JSON please");
  r["response_format"] = {{"type", "json_object"}};
  EXPECT_TRUE(same_json(sent(r)["output_config"],
                        {{"format", {{"type", "json_schema"}, {"schema", {{"type", "object"}}}}}}));
  r["response_format"] = {{"type", "text"}};
  EXPECT_FALSE(sent(r).contains("output_config"));
}

TEST_F(AnthropicEncode, TurnsStopIntoStopSequencesWithoutWhitespaceOnes) {
  expect_golden_encoding("stop");
  json r = user_says("Count.");
  r["stop"] = "###";
  EXPECT_TRUE(same_json(sent(r)["stop_sequences"], json::array({"###"})));
  r["stop"] = " ";
  EXPECT_FALSE(sent(r).contains("stop_sequences"));
}

TEST_F(AnthropicEncode, TakesMaxTokensFromTheClientThenTheModelThenTheDefault) {
  json r = user_says("Hi");
  EXPECT_EQ(sent(r)["max_tokens"], 4096);
  f_.model.max_tokens = 8192;
  EXPECT_EQ(sent(r)["max_tokens"], 8192);
  r["max_tokens"] = 50;
  EXPECT_EQ(sent(r)["max_tokens"], 50);
  r["max_completion_tokens"] = 100;
  EXPECT_EQ(sent(r)["max_tokens"], 100);
  r["max_completion_tokens"] = 0;
  EXPECT_EQ(refusal(r).error.param, "max_completion_tokens");
}

TEST_F(AnthropicEncode, ClampsTemperatureToAnthropicsRange) {
  json r = user_says("Hi");
  r["temperature"] = 1.7;
  EXPECT_EQ(sent(r)["temperature"], 1.0);
  r["temperature"] = 0.3;
  EXPECT_EQ(sent(r)["temperature"], 0.3);
  r["temperature"] = 0;
  EXPECT_EQ(sent(r)["temperature"], 0);
}

TEST_F(AnthropicEncode, DropsOpenAiOnlyFields) {
  expect_golden_encoding("openai_only_fields");
}

TEST_F(AnthropicEncode, AsksForAStreamWhenTheClientStreams) {
  json r = user_says("Hi");
  r["stream"] = true;
  r["stream_options"] = {{"include_usage", true}};
  const json body = sent(r);
  EXPECT_EQ(body["stream"], true);
  EXPECT_FALSE(body.contains("stream_options"));
  r["stream"] = false;
  EXPECT_FALSE(sent(r).contains("stream"));
}

TEST_F(AnthropicEncode, WritesTheMessagesPathAndAnthropicHeaders) {
  const Encoded e = encode(user_says("Hi"));
  ASSERT_FALSE(e.error);
  EXPECT_TRUE(e.head.starts_with("POST /v1/messages HTTP/1.1\r\n")) << e.head;
  EXPECT_NE(e.head.find("\r\nx-api-key: sk-ant-test\r\n"), std::string::npos) << e.head;
  EXPECT_NE(e.head.find("\r\nanthropic-version: 2023-06-01\r\n"), std::string::npos) << e.head;
  EXPECT_NE(e.head.find("\r\nContent-Length: " + std::to_string(e.body.size()) + "\r\n"),
            std::string::npos)
      << e.head;
  EXPECT_EQ(e.head.find("Authorization"), std::string::npos) << e.head;
  EXPECT_TRUE(e.head.ends_with("\r\n\r\n"));
}

TEST_F(AnthropicEncode, AppendsOnlyMessagesToABasePathEndingInV1) {
  f_.provider.base_url.path = "/proxy/v1";
  f_.provider.api_version = "2024-01-01";
  rebuild_adapter();
  const Encoded e = encode(user_says("Hi"));
  EXPECT_TRUE(e.head.starts_with("POST /proxy/v1/messages HTTP/1.1\r\n")) << e.head;
  EXPECT_NE(e.head.find("\r\nanthropic-version: 2024-01-01\r\n"), std::string::npos) << e.head;
}

TEST_F(AnthropicEncode, SendsNoApiKeyHeaderWhenTheProviderHasNoKey) {
  f_.provider.api_key.clear();
  rebuild_adapter();
  const Encoded e = encode(user_says("Hi"));
  EXPECT_EQ(e.head.find("x-api-key"), std::string::npos) << e.head;
}

TEST_F(AnthropicEncode, FallsOverWhenMoreThanOneChoiceIsAsked) {
  json r = user_says("Hi");
  r["n"] = 2;
  const ProviderError e = refusal(r);
  EXPECT_EQ(e.error_class, ErrorClass::fall_over);
  EXPECT_EQ(e.error.status, 400);
  EXPECT_EQ(e.error.code, "unsupported_parameter");
  EXPECT_EQ(e.error.param, "n");
}

TEST_F(AnthropicEncode, FallsOverOnLogprobsAndAudioOutput) {
  const std::vector<std::pair<std::string, json>> cases = {
      {"logprobs", true},
      {"top_logprobs", 3},
      {"modalities", json::array({"text", "audio"})},
      {"audio", {{"voice", "alloy"}, {"format", "wav"}}},
  };
  for (const auto& [key, value] : cases) {
    json r = user_says("Hi");
    r[key] = value;
    const ProviderError e = refusal(r);
    EXPECT_EQ(e.error_class, ErrorClass::fall_over) << key;
    EXPECT_EQ(e.error.param, key);
  }
}

TEST_F(AnthropicEncode, FallsOverWhenOnlySystemMessagesRemain) {
  const json r = {{"model", "claude"},
                  {"messages", json::array({{{"role", "system"}, {"content", "Be brief."}}})}};
  EXPECT_EQ(refusal(r).error_class, ErrorClass::fall_over);
}

// ---------------------------------------------------------------------------------------------
// Decode: a 2xx Messages response → chat.completion

TEST_F(AnthropicDecode, JoinsTextBlocksAndDropsThinking) {
  EXPECT_TRUE(same_json(decoded(testing::read_fixture("anthropic/decode/text.response.json")),
                        testing::read_json_fixture("anthropic/decode/text.expected.json")));
}

TEST_F(AnthropicDecode, TranslatesParallelToolCallsWithCompactArguments) {
  EXPECT_TRUE(same_json(decoded(testing::read_fixture("anthropic/decode/tool_calls.response.json")),
                        testing::read_json_fixture("anthropic/decode/tool_calls.expected.json")));
}

TEST_F(AnthropicDecode, ReportsNullContentForAToolOnlyAnswer) {
  EXPECT_TRUE(same_json(decoded(testing::read_fixture("anthropic/decode/tool_only.response.json")),
                        testing::read_json_fixture("anthropic/decode/tool_only.expected.json")));
}

TEST_F(AnthropicDecode, CountsCacheTokensIntoPromptTokens) {
  providers::Usage usage;
  EXPECT_TRUE(same_json(
      decoded(testing::read_fixture("anthropic/decode/cache_usage.response.json"), &usage),
      testing::read_json_fixture("anthropic/decode/cache_usage.expected.json")));
  EXPECT_TRUE(usage.reported);
  EXPECT_EQ(usage.prompt, 21u + 188u + 2048u);
  EXPECT_EQ(usage.completion, 393u);
  EXPECT_EQ(usage.cached, 2048u);
  EXPECT_EQ(usage.total, 2257u + 393u);
}

TEST_F(AnthropicDecode, MapsEveryStopReason) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"end_turn", "stop"},
      {"stop_sequence", "stop"},
      {"pause_turn", "stop"},
      {"max_tokens", "length"},
      {"model_context_window_exceeded", "length"},
      {"tool_use", "tool_calls"},
      {"refusal", "content_filter"},
      {"something_new", "stop"},
  };
  for (const auto& [stop_reason, finish_reason] : cases) {
    const json body = {{"id", "msg_1"},
                       {"type", "message"},
                       {"role", "assistant"},
                       {"content", json::array({{{"type", "text"}, {"text", "x"}}})},
                       {"stop_reason", stop_reason},
                       {"usage", {{"input_tokens", 1}, {"output_tokens", 1}}}};
    EXPECT_EQ(decoded(body.dump())["choices"][0]["finish_reason"], finish_reason) << stop_reason;
  }
}

TEST_F(AnthropicDecode, FailsRetryablyOnABodyThatIsNotJson) {
  std::string body = "<html>502 Bad Gateway</html>";
  providers::Usage usage;
  const auto e = error_of(adapter_->decode_chat(body, f_.call(), usage));
  ASSERT_TRUE(e);
  EXPECT_EQ(e->error_class, ErrorClass::retryable);
  EXPECT_EQ(e->error.status, 502);
  EXPECT_EQ(e->error.code, "bad_upstream_response");
}

TEST_F(AnthropicDecode, FailsRetryablyOnABodyThatIsNotAMessage) {
  std::string body = R"({"type":"completion","completion":"Hi"})";
  providers::Usage usage;
  const auto e = error_of(adapter_->decode_chat(body, f_.call(), usage));
  ASSERT_TRUE(e);
  EXPECT_EQ(e->error_class, ErrorClass::retryable);
  EXPECT_EQ(e->error.code, "bad_upstream_response");
}

TEST_F(AnthropicDecode, ClassifiesAnErrorBodyDespiteASuccessStatus) {
  std::string body =
      R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})";
  providers::Usage usage;
  const auto e = error_of(adapter_->decode_chat(body, f_.call(), usage));
  ASSERT_TRUE(e);
  EXPECT_EQ(e->error_class, ErrorClass::retryable);
  EXPECT_EQ(e->error.status, 503);
  EXPECT_EQ(e->error.code, "upstream_overloaded");
}

// ---------------------------------------------------------------------------------------------
// Stream: Messages events → chat.completion.chunk events

TEST_F(AnthropicStream, TranslatesTextDeltasIntoContentChunks) {
  const auto run = stream(stream_fixture("text"));
  EXPECT_EQ(run.state, State::done);
  EXPECT_TRUE(same_json(payloads(run.out),
                        testing::read_json_fixture("anthropic/stream/text.expected.json")));
  EXPECT_TRUE(run.usage.reported);
  EXPECT_EQ(run.usage.prompt, 35u);
  EXPECT_EQ(run.usage.completion, 15u);
  EXPECT_EQ(run.usage.cached, 10u);
  EXPECT_EQ(run.usage.total, 50u);
}

TEST_F(AnthropicStream, AddsTheUsageChunkWhenAskedFor) {
  const auto run = stream(stream_fixture("text"), /*include_usage=*/true);
  EXPECT_EQ(run.state, State::done);
  EXPECT_TRUE(same_json(payloads(run.out),
                        testing::read_json_fixture("anthropic/stream/text_usage.expected.json")));
}

TEST_F(AnthropicStream, NumbersToolCallsWithItsOwnCounterPastAThinkingBlock) {
  const auto run = stream(stream_fixture("tool_calls"));
  EXPECT_EQ(run.state, State::done);
  EXPECT_TRUE(same_json(payloads(run.out),
                        testing::read_json_fixture("anthropic/stream/tool_calls.expected.json")));
}

TEST_F(AnthropicStream, SendsPingsAsKeepAliveCommentsOnlyAfterTheFirstToken) {
  const auto run = stream(stream_fixture("ping"));
  EXPECT_EQ(run.state, State::done);
  EXPECT_TRUE(same_json(payloads(run.out),
                        testing::read_json_fixture("anthropic/stream/ping.expected.json")));
  // Five pings upstream: three before the first token say nothing, two after it keep the
  // client's connection alive.
  const auto first_token = run.out.find(R"("content":"Hel")");
  const auto first_ping = run.out.find(": ping\n\n");
  ASSERT_NE(first_token, std::string::npos);
  EXPECT_GT(first_ping, first_token);
  EXPECT_NE(run.out.find(": ping\n\n", first_ping + 1), std::string::npos);
  EXPECT_EQ(run.out.find(": ping\n\n", run.out.find(": ping\n\n", first_ping + 1) + 1),
            std::string::npos);
}

TEST_F(AnthropicStream, SaysNothingUntilTheFirstToken) {
  f_.stream = true;
  const auto call = f_.call();
  auto s = adapter_->chat_stream(call);
  upstream::SseParser sse;
  std::string out;
  sse.feed(
      "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\","
      "\"usage\":{\"input_tokens\":3,\"output_tokens\":1}}}\n\n"
      "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,"
      "\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n"
      "event: ping\ndata: {\"type\":\"ping\"}\n\n");
  EXPECT_EQ(providers::pump(*s, sse, out, false), State::open);
  EXPECT_FALSE(s->said_something());
  EXPECT_TRUE(s->usage().reported);
  EXPECT_EQ(s->usage().prompt, 3u);
  sse.feed(
      "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,"
      "\"delta\":{\"type\":\"text_delta\",\"text\":\"Hi\"}}\n\n");
  EXPECT_EQ(providers::pump(*s, sse, out, false), State::open);
  EXPECT_TRUE(s->said_something());
}

TEST_F(AnthropicStream, FailsRetryablyOnAMidStreamOverloadedErrorKeepingWhatWasSent) {
  for (const std::size_t split : {0, 1, 7}) {
    f_.stream = true;
    const auto call = f_.call();
    auto s = adapter_->chat_stream(call);
    upstream::SseParser sse;
    std::string out;
    const std::string upstream = stream_fixture("overloaded");
    auto state = State::open;
    const std::size_t step = split == 0 ? upstream.size() : split;
    for (std::size_t at = 0; at < upstream.size() && state == State::open; at += step) {
      sse.feed(std::string_view(upstream).substr(at, step));
      state = providers::pump(*s, sse, out, false);
      sse.discard_consumed();
    }
    EXPECT_EQ(state, State::failed) << split;
    EXPECT_EQ(s->error().error_class, ErrorClass::retryable);
    EXPECT_EQ(s->error().error.status, 503);
    EXPECT_EQ(s->error().error.code, "upstream_overloaded");
    EXPECT_NE(s->error().error.message.find("Overloaded"), std::string::npos);
    EXPECT_TRUE(s->said_something()) << "the client already has the first token";
    EXPECT_TRUE(same_json(payloads(out),
                          testing::read_json_fixture("anthropic/stream/overloaded.expected.json")));
  }
}

TEST_F(AnthropicStream, ClassifiesAnErrorEventBeforeAnyOutput) {
  const auto run = stream(
      "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"rate_limit_error\","
      "\"message\":\"Number of request tokens has exceeded your per-minute rate limit\"}}\n\n");
  EXPECT_EQ(run.state, State::failed);
  EXPECT_EQ(run.error.error_class, ErrorClass::retryable);
  EXPECT_EQ(run.error.error.status, 429);
  EXPECT_TRUE(run.out.empty()) << run.out;
}

TEST_F(AnthropicStream, FailsWhenTheStreamEndsBeforeMessageStop) {
  const auto run = stream(stream_fixture("truncated"));
  EXPECT_EQ(run.state, State::failed);
  EXPECT_EQ(run.error.error_class, ErrorClass::retryable);
  EXPECT_EQ(run.error.error.code, "bad_upstream_response");
  EXPECT_NE(run.error.error.message.find("before message_stop"), std::string::npos);
  EXPECT_TRUE(same_json(payloads(run.out),
                        testing::read_json_fixture("anthropic/stream/truncated.expected.json")));
}

TEST_F(AnthropicStream, FailsOnAnEventThatIsNotJson) {
  std::string upstream = stream_fixture("text");
  upstream.insert(upstream.find("event: content_block_stop"),
                  "event: content_block_delta\ndata: {\"type\": oops\n\n");
  const auto run = stream(upstream);
  EXPECT_EQ(run.state, State::failed);
  EXPECT_EQ(run.error.error.code, "bad_upstream_response");
}

TEST_F(AnthropicStream, IgnoresUnknownEventsAndComments) {
  const std::string plain = stream_fixture("text");
  std::string upstream = plain;
  upstream.insert(upstream.find("event: content_block_stop"),
                  ": a proxy's comment\n\n"
                  "event: content_block_citation\ndata: {\"type\":\"content_block_citation\"}\n\n");
  EXPECT_EQ(stream(upstream).out, stream(plain).out);
}

TEST_F(AnthropicStream, ProducesTheSameOutputWholeByteByByteAndInSevenByteSlices) {
  for (const char* name : {"text", "tool_calls", "ping", "overloaded", "truncated"}) {
    const std::string upstream = stream_fixture(name);
    const auto whole = stream(upstream, true, 0);
    for (const std::size_t split : {1, 7}) {
      const auto run = stream(upstream, true, split);
      EXPECT_EQ(run.out, whole.out) << name << " split " << split;
      EXPECT_EQ(run.state, whole.state) << name << " split " << split;
      EXPECT_EQ(run.usage.total, whole.usage.total) << name << " split " << split;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Errors: a non-2xx response → class and OpenAI error

std::string anthropic_error(const std::string& type, const std::string& message) {
  return json{{"type", "error"},
              {"error", {{"type", type}, {"message", message}}},
              {"request_id", "req_011CSHoEeqs5C35K2UUqR7Fy"}}
      .dump();
}

TEST_F(AnthropicError, InvalidRequestIsFinal) {
  const auto e = adapter_->decode_error(
      400, anthropic_error("invalid_request_error", "max_tokens: Field required"));
  EXPECT_EQ(e.error_class, ErrorClass::final);
  EXPECT_EQ(e.error.status, 400);
  EXPECT_EQ(e.error.type, "invalid_request_error");
  EXPECT_NE(e.error.message.find("max_tokens: Field required"), std::string::npos);
  EXPECT_FALSE(e.context_length);
}

TEST_F(AnthropicError, PromptTooLongFallsOverAsContextLength) {
  const auto e = adapter_->decode_error(
      400, anthropic_error("invalid_request_error",
                           "prompt is too long: 208656 tokens > 200000 maximum"));
  EXPECT_EQ(e.error_class, ErrorClass::fall_over);
  EXPECT_TRUE(e.context_length);
  EXPECT_EQ(e.error.code, "context_length_exceeded");
}

TEST_F(AnthropicError, AuthenticationErrorFallsOverAsInvalidApiKey) {
  const auto e =
      adapter_->decode_error(401, anthropic_error("authentication_error", "invalid x-api-key"));
  EXPECT_EQ(e.error_class, ErrorClass::fall_over);
  EXPECT_EQ(e.error.status, 401);
  EXPECT_EQ(e.error.code, "invalid_api_key");
}

TEST_F(AnthropicError, BillingErrorFallsOverAsInsufficientQuota) {
  const auto e = adapter_->decode_error(
      402, anthropic_error("billing_error", "Your credit balance is too low to access the API."));
  EXPECT_EQ(e.error_class, ErrorClass::fall_over);
  EXPECT_EQ(e.error.code, "insufficient_quota");
}

TEST_F(AnthropicError, NotFoundFallsOver) {
  const auto e =
      adapter_->decode_error(404, anthropic_error("not_found_error", "model: claude-nope"));
  EXPECT_EQ(e.error_class, ErrorClass::fall_over);
  EXPECT_EQ(e.error.status, 404);
}

TEST_F(AnthropicError, RateLimitIsRetryable) {
  const auto e = adapter_->decode_error(
      429, anthropic_error("rate_limit_error", "Number of requests has exceeded your rate limit"));
  EXPECT_EQ(e.error_class, ErrorClass::retryable);
  EXPECT_EQ(e.error.status, 429);
  EXPECT_EQ(e.error.code, "rate_limit_exceeded");
}

TEST_F(AnthropicError, ApiErrorIsRetryable) {
  const auto e = adapter_->decode_error(500, anthropic_error("api_error", "Internal server error"));
  EXPECT_EQ(e.error_class, ErrorClass::retryable);
  EXPECT_EQ(e.error.type, "server_error");
}

TEST_F(AnthropicError, OverloadedIsRetryable) {
  const auto e = adapter_->decode_error(529, anthropic_error("overloaded_error", "Overloaded"));
  EXPECT_EQ(e.error_class, ErrorClass::retryable);
  EXPECT_EQ(e.error.status, 503);
  EXPECT_EQ(e.error.code, "upstream_overloaded");
}

TEST_F(AnthropicError, KeepsABodyThatIsNotJsonAsTheMessage) {
  const auto e = adapter_->decode_error(502, "<html><body>502 Bad Gateway</body></html>");
  EXPECT_EQ(e.error_class, ErrorClass::retryable);
  EXPECT_NE(e.error.message.find("502 Bad Gateway"), std::string::npos);
}

}  // namespace
}  // namespace switchyard
