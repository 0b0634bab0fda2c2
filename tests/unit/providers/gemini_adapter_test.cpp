// The Gemini adapter against golden files (tests/data/providers/gemini): OpenAI requests
// translated to generateContent bodies and heads, Gemini responses and SSE streams translated
// back to OpenAI completions and chunks (whatever the byte split), Gemini's error bodies
// classified, and embeddings both ways.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "provider_golden.hpp"
#include "switchyard/api/chat_request.hpp"
#include "switchyard/api/embeddings_request.hpp"
#include "switchyard/providers/adapter.hpp"
#include "switchyard/upstream/sse.hpp"

namespace switchyard::providers {
namespace {

using nlohmann::json;
using switchyard::testing::CallFixture;
using switchyard::testing::read_fixture;
using switchyard::testing::read_json_fixture;
using switchyard::testing::run_stream;
using switchyard::testing::sse_payloads;
using State = ChatStream::State;

CallFixture fixture(std::string base_path = "", std::string api_key = "g-key") {
  CallFixture f;
  f.provider.name = "gem";
  f.provider.type = config::ProviderType::gemini;
  f.provider.base_url.path = std::move(base_path);
  f.provider.base_url.authority = "generativelanguage.googleapis.com";
  f.provider.api_key = std::move(api_key);
  f.provider.api_version = "v1beta";
  f.model.name = "flash";
  f.model.upstream = "gemini-2.5-flash";
  f.quoted_upstream = "\"gemini-2.5-flash\"";
  return f;
}

struct Encoded {
  std::optional<ProviderError> error;
  std::string head;
  std::string body;
};

Encoded encode(const CallFixture& f, const std::string& client_body) {
  const auto adapter = make_adapter(f.provider);
  auto parsed = api::parse_chat_request(client_body);
  EXPECT_TRUE(parsed.has_value()) << client_body;
  Encoded e;
  if (!parsed.has_value()) return e;
  e.error = error_of(adapter->encode_chat(*parsed, f.call(), e.head, e.body));
  return e;
}

// The Gemini body for encode/<name>.request.json, compared as JSON with <name>.expected.json.
void expect_golden_body(const std::string& name) {
  SCOPED_TRACE(name);
  const auto e = encode(fixture(), read_fixture("gemini/encode/" + name + ".request.json"));
  ASSERT_FALSE(e.error) << e.error->error.message;
  EXPECT_EQ(json::parse(e.body), read_json_fixture("gemini/encode/" + name + ".expected.json"));
}

ProviderError encode_error(const std::string& client_body) {
  const auto e = encode(fixture(), client_body);
  EXPECT_TRUE(e.error) << e.body;
  return e.error.value_or(ProviderError{});
}

const std::string kHello = R"({"model":"flash","messages":[{"role":"user","content":"Hello"}]})";

TEST(GeminiEncode, SendsAPlainUserMessageAsOneUserTurn) {
  expect_golden_body("plain");
}

TEST(GeminiEncode, JoinsSystemPromptsMergesRepeatedRolesAndDropsOpenAiOnlyHints) {
  expect_golden_body("multi_turn");
}

TEST(GeminiEncode, SendsDataUrlsInlineAndOtherUrlsAsFileDataWithAGuessedType) {
  expect_golden_body("images");
}

TEST(GeminiEncode, DeclaresToolsWithTheirFullJsonSchemaAndForcesANamedOne) {
  expect_golden_body("tools_named");
}

TEST(GeminiEncode, ReplaysToolCallsAndAnswersEachResultUnderItsCallsFunctionName) {
  expect_golden_body("tool_results");
}

TEST(GeminiEncode, GivesGemini3TheValidatorSkippingSignatureOnTheFirstReplayedCallOnly) {
  const std::string body = R"({"model":"flash","messages":[
    {"role":"user","content":"Weather in Oslo and Bergen?"},
    {"role":"assistant","content":null,"tool_calls":[
      {"id":"a","type":"function","function":{"name":"w","arguments":"{\"city\":\"Oslo\"}"}},
      {"id":"b","type":"function","function":{"name":"w","arguments":"{\"city\":\"Bergen\"}"}}]},
    {"role":"tool","tool_call_id":"a","content":"5C"},
    {"role":"tool","tool_call_id":"b","content":"7C"}]})";
  auto f = fixture();
  f.model.upstream = "models/gemini-3-pro-preview";
  const auto three = encode(f, body);
  ASSERT_FALSE(three.error);
  const auto parts = json::parse(three.body)["contents"][1]["parts"];
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[0]["thoughtSignature"], "skip_thought_signature_validator");
  EXPECT_FALSE(parts[1].contains("thoughtSignature"));

  // Gemini 2.5 validates nothing: nothing is added.
  const auto older = encode(fixture(), body);
  ASSERT_FALSE(older.error);
  EXPECT_EQ(older.body.find("thoughtSignature"), std::string::npos);
}

TEST(GeminiEncode, AsksForJsonAndPrefersMaxCompletionTokens) {
  expect_golden_body("json_object");
}

TEST(GeminiEncode, PassesAJsonSchemaWholeAsResponseJsonSchema) {
  expect_golden_body("json_schema");
}

TEST(GeminiEncode, GivesReasoningEffortTheThinkingBudgetGooglesOwnEndpointGivesIt) {
  for (const auto& [effort, budget] : {std::pair{"low", 1024}, std::pair{"medium", 8192},
                                       std::pair{"high", 24576}, std::pair{"none", 0}}) {
    const auto e =
        encode(fixture(), R"({"model":"flash","reasoning_effort":")" + std::string(effort) +
                              R"(","messages":[{"role":"user","content":"Hi"}]})");
    ASSERT_FALSE(e.error) << e.error->error.message;
    EXPECT_EQ(json::parse(e.body)["generationConfig"]["thinkingConfig"],
              (json{{"thinkingBudget", budget}}))
        << effort;
  }
  const auto unknown = encode(fixture(), R"({"model":"flash","reasoning_effort":"extreme",)"
                                         R"("messages":[{"role":"user","content":"Hi"}]})");
  EXPECT_FALSE(json::parse(unknown.body)["generationConfig"].contains("thinkingConfig"));
}

TEST(GeminiEncode, SendsAStopStringAsAOneElementList) {
  expect_golden_body("stop");
}

TEST(GeminiEncode, TranslatesStopListsCandidatesSeedTopKAndLogprobs) {
  expect_golden_body("sampling");
}

TEST(GeminiEncode, MapsEachToolChoiceWordToAFunctionCallingMode) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"auto", "AUTO"}, {"none", "NONE"}, {"required", "ANY"}};
  for (const auto& [word, mode] : cases) {
    const auto e = encode(fixture(), R"({"model":"flash","messages":[{"role":"user","content":"x"}],
      "tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":")" +
                                         word + "\"}");
    ASSERT_FALSE(e.error);
    EXPECT_EQ(json::parse(e.body)["toolConfig"],
              json::parse(R"({"functionCallingConfig":{"mode":")" + mode + "\"}}"))
        << word;
  }
}

TEST(GeminiEncode, LeavesToolConfigOutWhenNoToolsAreDeclared) {
  const auto e = encode(fixture(), R"({"model":"flash","messages":[{"role":"user","content":"x"}],
    "tools":[],"tool_choice":"none"})");
  ASSERT_FALSE(e.error);
  EXPECT_EQ(json::parse(e.body),
            json::parse(R"({"contents":[{"role":"user","parts":[{"text":"x"}]}]})"));
}

TEST(GeminiEncode, AsksForTheModelsConfiguredMaxTokensWhenTheClientNamesNoLimit) {
  auto f = fixture();
  f.model.max_tokens = 2048;
  const auto e = encode(f, kHello);
  ASSERT_FALSE(e.error);
  EXPECT_EQ(json::parse(e.body)["generationConfig"], json::parse(R"({"maxOutputTokens":2048})"));
}

TEST(GeminiEncode, SendsALoneSystemPromptAsTheUsersTurn) {
  const auto e =
      encode(fixture(), R"({"model":"flash","messages":[{"role":"system","content":"Hi"}]})");
  ASSERT_FALSE(e.error);
  EXPECT_EQ(json::parse(e.body),
            json::parse(R"({"contents":[{"role":"user","parts":[{"text":"Hi"}]}]})"));
}

TEST(GeminiEncode, RefusesAToolResultForACallNoAssistantMade) {
  const auto error = encode_error(R"({"model":"flash","messages":[{"role":"user","content":"x"},
    {"role":"assistant","tool_calls":[{"id":"call_1","type":"function","function":{"name":"f","arguments":"{}"}}]},
    {"role":"tool","tool_call_id":"call_2","content":"5"}]})");
  EXPECT_EQ(error.error_class, ErrorClass::final);
  EXPECT_EQ(error.error.status, 400);
  EXPECT_EQ(error.error.param, "messages[2].tool_call_id");
  EXPECT_NE(error.error.message.find("call_2"), std::string::npos);
}

TEST(GeminiEncode, RefusesToolCallArgumentsThatAreNotAJsonObject) {
  for (const std::string arguments : {R"({\"a\":)", "[1]", "7"}) {
    const auto error = encode_error(R"({"model":"flash","messages":[{"role":"user","content":"x"},
      {"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":")" +
                                    arguments + R"("}}]}]})");
    EXPECT_EQ(error.error_class, ErrorClass::final) << arguments;
    EXPECT_EQ(error.error.param, "messages[1].tool_calls[0].function.arguments");
  }
}

TEST(GeminiEncode, RefusesImageUrlsGeminiCannotFetchOrDecode) {
  for (const std::string url :
       {"ftp://host/a.png", "data:image/png,rawbytes", "data:;base64,AAAA"}) {
    const auto error = encode_error(
        R"({"model":"flash","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":")" +
        url + R"("}}]}]})");
    EXPECT_EQ(error.error_class, ErrorClass::final) << url;
    EXPECT_EQ(error.error.param, "messages[0].content[0].image_url.url");
  }
}

TEST(GeminiEncode, LeavesWhatGeminiCannotExpressToAnotherProvider) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"model":"flash","messages":[{"role":"user","content":"x"}],"tools":[{"type":"custom","custom":{"name":"c"}}]})",
       "tools[0].type"},
      {R"({"model":"flash","messages":[{"role":"user","content":[{"type":"file","file":{"file_id":"file-1"}}]}]})",
       "messages[0].content[0].file.file_id"},
      {R"({"model":"flash","messages":[{"role":"user","content":"x"}],"functions":[{"name":"f"}]})",
       "functions"},
      {R"({"model":"flash","messages":[{"role":"user","content":"x"}],"audio":{"voice":"alloy","format":"wav"}})",
       "audio"},
  };
  for (const auto& [body, param] : cases) {
    const auto error = encode_error(body);
    EXPECT_EQ(error.error_class, ErrorClass::fall_over) << body;
    EXPECT_EQ(error.error.code, "unsupported_parameter") << body;
    EXPECT_EQ(error.error.param, param);
  }
}

TEST(GeminiEncode, RefusesParametersOfTheWrongType) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"("temperature":"hot")", "temperature"},
      {R"("max_tokens":1.5)", "max_tokens"},
      {R"("stop":[1])", "stop"},
      {R"("response_format":{"type":"yaml"})", "response_format.type"},
      {R"("tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":"sometimes")",
       "tool_choice"},
  };
  for (const auto& [member, param] : cases) {
    const auto error = encode_error(
        R"({"model":"flash","messages":[{"role":"user","content":"x"}],)" + member + "}");
    EXPECT_EQ(error.error_class, ErrorClass::final) << member;
    EXPECT_EQ(error.error.param, param);
  }
}

TEST(GeminiHead, PostsToGenerateContentWithTheKeyHeaderAndTheBodysLength) {
  const auto e = encode(fixture(), kHello);
  ASSERT_FALSE(e.error);
  EXPECT_EQ(e.head,
            "POST /v1beta/models/gemini-2.5-flash:generateContent HTTP/1.1\r\n"
            "Host: generativelanguage.googleapis.com\r\nContent-Type: application/json\r\n"
            "User-Agent: switchyard/" SWITCHYARD_VERSION
            "\r\nx-goog-api-key: g-key\r\n"
            "Accept: application/json\r\nContent-Length: " +
                std::to_string(e.body.size()) + "\r\nx-request-id: req_test\r\n\r\n");
}

TEST(GeminiHead, StreamsFromStreamGenerateContentAsServerSentEvents) {
  auto f = fixture();
  f.stream = true;
  const auto e = encode(f, kHello);
  EXPECT_TRUE(e.head.starts_with(
      "POST /v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse HTTP/1.1\r\n"));
  EXPECT_NE(e.head.find("Accept: text/event-stream\r\n"), std::string::npos);
}

TEST(GeminiHead, LeavesTheVersionOutWhenTheBaseUrlEndsInOne) {
  for (const std::string base : {"/v1beta", "/v1", "/proxy/v1beta"}) {
    const auto e = encode(fixture(base), kHello);
    EXPECT_TRUE(e.head.starts_with("POST " + base + "/models/gemini-2.5-flash:generateContent "))
        << e.head;
  }
}

TEST(GeminiHead, PutsTheConfiguredVersionUnderAnyOtherBasePath) {
  auto f = fixture("/gemini");
  f.provider.api_version = "v1";
  EXPECT_TRUE(encode(f, kHello).head.starts_with(
      "POST /gemini/v1/models/gemini-2.5-flash:generateContent "));
  f.provider.api_version.clear();
  EXPECT_TRUE(encode(f, kHello).head.starts_with("POST /gemini/v1beta/models/"));
}

TEST(GeminiHead, EncodesTheModelNameAndAcceptsItWithAModelsPrefix) {
  auto f = fixture();
  f.model.upstream = "models/tuned model";
  EXPECT_TRUE(
      encode(f, kHello).head.starts_with("POST /v1beta/models/tuned%20model:generateContent "));
}

TEST(GeminiHead, SendsNoKeyHeaderWithoutAKey) {
  const auto e = encode(fixture("", ""), kHello);
  EXPECT_EQ(e.head.find("x-goog-api-key"), std::string::npos);
  EXPECT_FALSE(e.body.empty());
}

// decode/<name>.response.json through decode_chat, compared with <name>.expected.json.
Usage expect_golden_decode(const std::string& name) {
  SCOPED_TRACE(name);
  const auto f = fixture();
  const auto adapter = make_adapter(f.provider);
  std::string body = read_fixture("gemini/decode/" + name + ".response.json");
  Usage usage;
  const auto error = error_of(adapter->decode_chat(body, f.call(), usage));
  EXPECT_FALSE(error) << error->error.message;
  EXPECT_EQ(json::parse(body), read_json_fixture("gemini/decode/" + name + ".expected.json"));
  return usage;
}

std::optional<ProviderError> decode(std::string body, std::string* out = nullptr) {
  const auto f = fixture();
  Usage usage;
  auto error = error_of(make_adapter(f.provider)->decode_chat(body, f.call(), usage));
  if (out) *out = body;
  return error;
}

TEST(GeminiDecode, JoinsTextPartsAndLeavesThoughtsOut) {
  expect_golden_decode("text");
}

TEST(GeminiDecode, GivesParallelFunctionCallsIdsOfTheirOwn) {
  expect_golden_decode("parallel_calls");
}

TEST(GeminiDecode, OrdersCandidatesByIndexAndKeepsGivenCallIds) {
  expect_golden_decode("two_candidates");
}

TEST(GeminiDecode, NumbersCandidatesByPositionWhenNoIndexTellsThemApart) {
  std::string out;
  ASSERT_FALSE(decode(R"({"candidates":[{"content":{"parts":[{"text":"a"}]},"finishReason":"STOP"},
    {"content":{"parts":[{"text":"b"}]},"finishReason":"MAX_TOKENS"}]})",
                      &out));
  const auto choices = json::parse(out)["choices"];
  ASSERT_EQ(choices.size(), 2u);
  EXPECT_EQ(choices[0]["message"]["content"], "a");
  EXPECT_EQ(choices[1]["message"]["content"], "b");
  EXPECT_EQ(choices[1]["finish_reason"], "length");
}

TEST(GeminiDecode, CountsThoughtsAsCompletionTokensAndReportsCachedOnes) {
  const Usage usage = expect_golden_decode("thoughts_and_cache");
  EXPECT_TRUE(usage.reported);
  EXPECT_EQ(usage.prompt, 2000u);
  EXPECT_EQ(usage.completion, 310u);
  EXPECT_EQ(usage.reasoning, 300u);
  EXPECT_EQ(usage.cached, 1500u);
  EXPECT_EQ(usage.total, 2315u);
}

TEST(GeminiDecode, AnswersABlockedPromptWithAnEmptyFilteredChoice) {
  expect_golden_decode("blocked_prompt");
}

TEST(GeminiDecode, MapsEveryFinishReasonGroup) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"STOP", "stop"},
      {"FINISH_REASON_UNSPECIFIED", "stop"},
      {"MALFORMED_FUNCTION_CALL", "stop"},
      {"UNEXPECTED_TOOL_CALL", "stop"},
      {"TOO_MANY_TOOL_CALLS", "stop"},
      {"OTHER", "stop"},
      {"NO_IMAGE", "stop"},
      {"SOMETHING_NEW", "stop"},
      {"MAX_TOKENS", "length"},
      {"SAFETY", "content_filter"},
      {"BLOCKLIST", "content_filter"},
      {"PROHIBITED_CONTENT", "content_filter"},
      {"SPII", "content_filter"},
      {"LANGUAGE", "content_filter"},
      {"RECITATION", "content_filter"},
      {"IMAGE_SAFETY", "content_filter"},
      {"IMAGE_PROHIBITED_CONTENT", "content_filter"},
      {"IMAGE_RECITATION", "content_filter"},
      {"IMAGE_OTHER", "content_filter"},
  };
  for (const auto& [gemini, openai] : cases) {
    std::string out;
    ASSERT_FALSE(decode(
        R"({"candidates":[{"content":{"parts":[{"text":"x"}]},"finishReason":")" + gemini + "\"}]}",
        &out));
    EXPECT_EQ(json::parse(out)["choices"][0]["finish_reason"], openai) << gemini;
  }
  std::string out;
  ASSERT_FALSE(decode(R"({"candidates":[{"content":{"parts":[{"functionCall":{"name":"f"}}]},
    "finishReason":"MAX_TOKENS"}]})",
                      &out));
  EXPECT_EQ(json::parse(out)["choices"][0]["finish_reason"], "tool_calls");
}

TEST(GeminiDecode, CallsABodyThatIsNoGenerateContentResponseABadResponse) {
  for (const std::string body :
       {"<html>502</html>", "[]", "{}", R"({"candidates":5})",
        R"({"candidates":[{"content":{"parts":[{"functionCall":{}}]}}]})"}) {
    const auto error = decode(body);
    ASSERT_TRUE(error) << body;
    EXPECT_EQ(error->error_class, ErrorClass::retryable) << body;
    EXPECT_EQ(error->error.status, 502) << body;
    EXPECT_EQ(error->error.code, "bad_upstream_response") << body;
  }
}

TEST(GeminiDecode, ClassifiesAnErrorEnvelopeInASuccessfulBody) {
  const auto error = decode(read_fixture("gemini/errors/resource_exhausted.json"));
  ASSERT_TRUE(error);
  EXPECT_EQ(error->error_class, ErrorClass::retryable);
  EXPECT_EQ(error->error.status, 429);
}

// The chunk payloads of a stream's output, each parsed ("[DONE]" stays a string).
json payloads(const std::string& out) {
  json all = json::array();
  for (const auto& p : sse_payloads(out)) all.push_back(p == "[DONE]" ? json(p) : json::parse(p));
  return all;
}

testing::StreamRun stream(const std::string& name, std::size_t split, bool include_usage = false) {
  auto f = fixture();
  f.stream = true;
  f.include_usage = include_usage;
  return run_stream(*make_adapter(f.provider), f.call(),
                    read_fixture("gemini/stream/" + name + ".sse"), split);
}

// Runs stream/<name>.sse whole, byte by byte and 7 bytes at a time: the same chunks each time,
// those of <expected>.expected.json. Returns the whole run.
testing::StreamRun expect_golden_stream(const std::string& name, State state,
                                        bool include_usage = false, std::string expected = {}) {
  if (expected.empty()) expected = name;
  const json want = read_json_fixture("gemini/stream/" + expected + ".expected.json");
  testing::StreamRun whole;
  for (const std::size_t split : {0, 1, 7}) {
    SCOPED_TRACE(name + " split " + std::to_string(split));
    auto run = stream(name, split, include_usage);
    EXPECT_EQ(run.state, state);
    EXPECT_EQ(payloads(run.out), want);
    if (split == 0) {
      whole = std::move(run);
    } else {
      EXPECT_EQ(run.out, whole.out);
      EXPECT_EQ(run.error.error.message, whole.error.error.message);
    }
  }
  return whole;
}

TEST(GeminiStream, SendsTextPartsAsChunksAndSkipsThoughtsAndEmptyParts) {
  const auto run = expect_golden_stream("text", State::done);
  EXPECT_TRUE(run.usage.reported);
  EXPECT_EQ(run.usage.total, 12u);
}

TEST(GeminiStream, AddsTheLatestUsageBeforeDoneWhenAskedFor) {
  expect_golden_stream("text", State::done, true, "text_usage");
}

TEST(GeminiStream, SendsEachFunctionCallAsOneCompleteToolCallDelta) {
  expect_golden_stream("function_call", State::done);
}

TEST(GeminiStream, KeepsChoicesApartByCandidateIndex) {
  expect_golden_stream("two_choices", State::done);
}

TEST(GeminiStream, EndsABlockedPromptWithContentFilter) {
  expect_golden_stream("blocked_prompt", State::done);
  expect_golden_stream("blocked_prompt", State::done, true, "blocked_prompt_usage");
}

TEST(GeminiStream, FailsWithTheClassifiedErrorGeminiWritesAsRawJsonWithoutData) {
  const auto run = expect_golden_stream("raw_error", State::failed);
  EXPECT_EQ(run.error.error_class, ErrorClass::retryable);
  EXPECT_EQ(run.error.error.status, 429);
  EXPECT_EQ(run.error.error.code, "rate_limit_exceeded");
  EXPECT_EQ(run.error.error.retry_after_s, 8);
  EXPECT_NE(run.error.error.message.find("Resource has been exhausted"), std::string::npos);
}

TEST(GeminiStream, FailsWithTheClassifiedErrorOfADataErrorEvent) {
  const auto run = expect_golden_stream("data_error", State::failed);
  EXPECT_EQ(run.error.error_class, ErrorClass::retryable);
  EXPECT_EQ(run.error.error.status, 502);
  EXPECT_EQ(run.error.error.code, "upstream_error");
}

TEST(GeminiStream, FailsWhenTheStreamEndsWithoutAFinishReason) {
  const auto run = expect_golden_stream("no_finish", State::failed);
  EXPECT_EQ(run.error.error_class, ErrorClass::retryable);
  EXPECT_EQ(run.error.error.code, "bad_upstream_response");
  EXPECT_NE(run.error.error.message.find("without a finishReason"), std::string::npos);
}

TEST(GeminiStream, FailsOnADataPayloadThatIsNotJson) {
  auto f = fixture();
  const auto run =
      run_stream(*make_adapter(f.provider), f.call(), "data: {\"candidates\":[\r\n\r\n", 0);
  EXPECT_EQ(run.state, State::failed);
  EXPECT_EQ(run.error.error.code, "bad_upstream_response");
  EXPECT_TRUE(run.out.empty());
}

TEST(GeminiStream, FailsOnAnEmptyBody) {
  auto f = fixture();
  const auto run = run_stream(*make_adapter(f.provider), f.call(), "", 0);
  EXPECT_EQ(run.state, State::failed);
  EXPECT_EQ(run.error.error.code, "bad_upstream_response");
}

TEST(GeminiStream, SaysNothingWithTheRoleChunkAloneAndSomethingWithText) {
  const auto f = fixture();
  const auto adapter = make_adapter(f.provider);
  const auto call = f.call();
  const auto s = adapter->chat_stream(call);
  upstream::SseParser sse;
  std::string out;
  sse.feed(
      ": keep-alive\n\ndata: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"\"}]}}]}\n\n");
  EXPECT_EQ(pump(*s, sse, out, false), State::open);
  EXPECT_FALSE(s->said_something());
  EXPECT_EQ(sse_payloads(out).size(), 1u);
  sse.discard_consumed();
  sse.feed("data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Hi\"}]}}]}\n\n");
  EXPECT_EQ(pump(*s, sse, out, false), State::open);
  EXPECT_TRUE(s->said_something());
  EXPECT_EQ(sse_payloads(out).size(), 2u);
}

ProviderError decode_error(int status, const std::string& body) {
  return make_adapter(fixture().provider)->decode_error(status, body);
}

ProviderError decode_error_fixture(int status, const std::string& name) {
  return decode_error(status, read_fixture("gemini/errors/" + name + ".json"));
}

TEST(GeminiErrors, TurnsTheBadKeyBadRequestIntoAFallOverWithInvalidApiKey) {
  const auto e = decode_error_fixture(400, "api_key_invalid");
  EXPECT_EQ(e.error_class, ErrorClass::fall_over);
  EXPECT_EQ(e.error.status, 401);
  EXPECT_EQ(e.error.code, "invalid_api_key");
  EXPECT_NE(e.error.message.find("API key not valid"), std::string::npos);
}

TEST(GeminiErrors, SendsAnOverlongPromptToALargerContextModel) {
  const auto e = decode_error_fixture(400, "context_length");
  EXPECT_EQ(e.error_class, ErrorClass::fall_over);
  EXPECT_TRUE(e.context_length);
  EXPECT_EQ(e.error.code, "context_length_exceeded");
}

TEST(GeminiErrors, RelaysAnyOtherBadRequestAsTheClientsOwnMistake) {
  const auto e = decode_error_fixture(400, "invalid_argument");
  EXPECT_EQ(e.error_class, ErrorClass::final);
  EXPECT_EQ(e.error.status, 400);
  EXPECT_FALSE(e.context_length);
  EXPECT_NE(e.error.message.find("contents.parts must not be empty"), std::string::npos);
}

TEST(GeminiErrors, FallsOverOnPermissionDeniedAndUnknownModels) {
  const auto denied = decode_error_fixture(403, "permission_denied");
  EXPECT_EQ(denied.error_class, ErrorClass::fall_over);
  EXPECT_EQ(denied.error.status, 403);
  const auto missing = decode_error_fixture(404, "not_found");
  EXPECT_EQ(missing.error_class, ErrorClass::fall_over);
  EXPECT_EQ(missing.error.status, 404);
  EXPECT_EQ(missing.error.code, "model_not_found");
}

TEST(GeminiErrors, RetriesResourceExhaustedAfterItsRetryDelay) {
  const auto e = decode_error_fixture(429, "resource_exhausted");
  EXPECT_EQ(e.error_class, ErrorClass::retryable);
  EXPECT_EQ(e.error.status, 429);
  EXPECT_EQ(e.error.code, "rate_limit_exceeded");
  EXPECT_EQ(e.error.retry_after_s, 23);
}

TEST(GeminiErrors, RetriesInternalAndUnavailable) {
  const auto internal = decode_error_fixture(500, "internal");
  EXPECT_EQ(internal.error_class, ErrorClass::retryable);
  EXPECT_EQ(internal.error.status, 502);
  const auto unavailable = decode_error_fixture(503, "unavailable");
  EXPECT_EQ(unavailable.error_class, ErrorClass::retryable);
  EXPECT_EQ(unavailable.error.status, 503);
  EXPECT_EQ(unavailable.error.code, "upstream_overloaded");
}

TEST(GeminiErrors, ReadsAnErrorWrappedInAnArrayAsTheStreamingEndpointsSendIt) {
  const auto e = decode_error_fixture(429, "array_wrapped");
  EXPECT_EQ(e.error_class, ErrorClass::retryable);
  EXPECT_NE(e.error.message.find("Resource has been exhausted"), std::string::npos);
}

TEST(GeminiErrors, QuotesABodyThatIsNotJsonShortened) {
  const auto e =
      decode_error(502, "<html><body>Bad Gateway</body></html>" + std::string(1000, ' '));
  EXPECT_EQ(e.error_class, ErrorClass::retryable);
  EXPECT_NE(e.error.message.find("Bad Gateway"), std::string::npos);
  EXPECT_LT(e.error.message.size(), 700u);
  EXPECT_NE(decode_error(500, "").error.message.find("HTTP 500"), std::string::npos);
}

struct EncodedEmbeddings {
  std::optional<ProviderError> error;
  std::string head;
  std::string body;
};

EncodedEmbeddings encode_embeddings(const std::string& client_body) {
  const auto f = fixture();
  auto parsed = api::parse_embeddings_request(client_body);
  EncodedEmbeddings e;
  EXPECT_TRUE(parsed.has_value()) << client_body;
  if (!parsed.has_value()) return e;
  auto embed = f;
  embed.model.upstream = "gemini-embedding-001";
  e.error = error_of(
      make_adapter(embed.provider)->encode_embeddings(*parsed, embed.call(), e.head, e.body));
  return e;
}

TEST(GeminiEmbeddings, AsksBatchEmbedContentsForOneEmbeddingPerInput) {
  const auto e = encode_embeddings(read_fixture("gemini/embeddings/request.json"));
  ASSERT_FALSE(e.error);
  EXPECT_EQ(json::parse(e.body), read_json_fixture("gemini/embeddings/request.expected.json"));
  EXPECT_TRUE(e.head.starts_with(
      "POST /v1beta/models/gemini-embedding-001:batchEmbedContents HTTP/1.1\r\n"));
  EXPECT_NE(e.head.find("Content-Length: " + std::to_string(e.body.size()) + "\r\n"),
            std::string::npos);
}

TEST(GeminiEmbeddings, TakesASingleStringAsOneRequest) {
  const auto e = encode_embeddings(R"({"model":"embed","input":"one"})");
  ASSERT_FALSE(e.error);
  EXPECT_EQ(json::parse(e.body), json::parse(R"({"requests":[{"model":"models/gemini-embedding-001",
    "content":{"parts":[{"text":"one"}]}}]})"));
}

TEST(GeminiEmbeddings, LeavesTokenIdInputsToAnotherProvider) {
  for (const std::string input : {"[1,2,3]", "[[1,2],[3]]"}) {
    const auto e = encode_embeddings(R"({"model":"embed","input":)" + input + "}");
    ASSERT_TRUE(e.error) << input;
    EXPECT_EQ(e.error->error_class, ErrorClass::fall_over);
    EXPECT_EQ(e.error->error.param, "input");
  }
}

std::string decode_embeddings(bool base64) {
  const auto f = fixture();
  auto call = f.call();
  call.embeddings_base64 = base64;
  std::string body = read_fixture("gemini/embeddings/response.json");
  Usage usage;
  const auto error = error_of(make_adapter(f.provider)->decode_embeddings(body, call, usage));
  EXPECT_FALSE(error);
  return body;
}

TEST(GeminiEmbeddings, WritesOpenAisEmbeddingListOfFloats) {
  EXPECT_EQ(json::parse(decode_embeddings(false)),
            read_json_fixture("gemini/embeddings/float.expected.json"));
}

TEST(GeminiEmbeddings, WritesLittleEndianFloat32Base64WhenTheClientAskedForIt) {
  EXPECT_EQ(json::parse(decode_embeddings(true)),
            read_json_fixture("gemini/embeddings/base64.expected.json"));
}

TEST(GeminiEmbeddings, CallsAResponseWithoutEmbeddingsABadResponse) {
  const auto f = fixture();
  for (const std::string bad :
       {R"({"embedding":{"values":[1]}})", R"({"embeddings":[{"values":["x"]}]})", "not json"}) {
    std::string body = bad;
    Usage usage;
    const auto error = error_of(make_adapter(f.provider)->decode_embeddings(body, f.call(), usage));
    ASSERT_TRUE(error) << bad;
    EXPECT_EQ(error->error.code, "bad_upstream_response");
  }
}

}  // namespace
}  // namespace switchyard::providers
