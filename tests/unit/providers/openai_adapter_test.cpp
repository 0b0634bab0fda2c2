// The OpenAI-compatible adapter: the exact request head, the zero-copy body (or the rewrite a
// quirk needs), Azure's paths and key header, responses and streams relayed with only `model`
// rewritten, errors in every OpenAI-style shape classified, and which client headers travel.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "provider_golden.hpp"
#include "switchyard/api/chat_request.hpp"
#include "switchyard/api/embeddings_request.hpp"
#include "switchyard/providers/adapter.hpp"

namespace switchyard::providers {
namespace {

using switchyard::testing::CallFixture;
using switchyard::testing::run_stream;
using switchyard::testing::sse_payloads;
using State = ChatStream::State;

CallFixture fixture(config::ProviderType type = config::ProviderType::openai,
                    std::string api_key = "sk-test", std::string path = "/v1") {
  CallFixture f;
  f.provider.name = "up";
  f.provider.type = type;
  f.provider.base_url.path = std::move(path);
  f.provider.base_url.authority = "api.example.com";
  f.provider.api_key = std::move(api_key);
  f.provider.api_version = type == config::ProviderType::azure ? "2024-10-21" : "";
  f.model.name = "small";
  f.model.upstream = "gpt-4o-mini";
  f.quoted_upstream = "\"gpt-4o-mini\"";
  return f;
}

api::ChatRequest parse(const std::string& body) {
  auto parsed = api::parse_chat_request(body);
  EXPECT_TRUE(parsed.has_value()) << body;
  return *parsed;
}

struct Encoded {
  std::string head;
  std::string body;
};

Encoded encode(const CallFixture& f, const std::string& client_body) {
  const auto adapter = make_adapter(f.provider);
  const auto chat = parse(client_body);
  Encoded e;
  EXPECT_FALSE(error_of(adapter->encode_chat(chat, f.call(), e.head, e.body)));
  return e;
}

const std::string kBody = R"({"model":"small","messages":[{"role":"user","content":"hi"}]})";

TEST(OpenAiEncode, WritesTheExactHeadAndLeavesTheBodyToTheZeroCopyPath) {
  const auto e = encode(fixture(), kBody);
  EXPECT_TRUE(e.body.empty());
  const std::size_t length =
      kBody.size() - std::string("\"small\"").size() + std::string("\"gpt-4o-mini\"").size();
  EXPECT_EQ(e.head,
            "POST /v1/chat/completions HTTP/1.1\r\nHost: api.example.com\r\n"
            "Content-Type: application/json\r\nUser-Agent: switchyard/" SWITCHYARD_VERSION
            "\r\nAuthorization: Bearer sk-test\r\nAccept: application/json\r\n"
            "Content-Length: " +
                std::to_string(length) + "\r\nx-request-id: req_test\r\n\r\n");
}

TEST(OpenAiEncode, AsksForAnEventStreamAndSendsNoAuthorizationWithoutAKey) {
  auto f = fixture(config::ProviderType::openai, "", "");
  f.stream = true;
  const auto e = encode(f, kBody);
  EXPECT_NE(e.head.find("POST /chat/completions HTTP/1.1\r\n"), std::string::npos);
  EXPECT_NE(e.head.find("Accept: text/event-stream\r\n"), std::string::npos);
  EXPECT_EQ(e.head.find("Authorization"), std::string::npos);
}

TEST(OpenAiEncode, PutsForwardedHeadersLastAndReplacesWhatTheBufferHeld) {
  const auto f = fixture();
  const auto adapter = make_adapter(f.provider);
  const auto chat = parse(kBody);
  std::string head = "stale bytes";
  std::string body;
  auto call = f.call();
  call.forwarded = "x-mock-status: 500\r\n";
  ASSERT_FALSE(error_of(adapter->encode_chat(chat, call, head, body)));
  EXPECT_TRUE(head.starts_with("POST "));
  EXPECT_TRUE(head.ends_with("x-request-id: req_test\r\nx-mock-status: 500\r\n\r\n"));
}

TEST(OpenAiEncode, AzureNamesTheDeploymentInThePathAndSendsTheKeyAsApiKey) {
  auto f = fixture(config::ProviderType::azure, "az-key", "");
  f.model.upstream = "my gpt4o";
  const auto e = encode(f, kBody);
  EXPECT_TRUE(e.head.starts_with(
      "POST /openai/deployments/my%20gpt4o/chat/completions?api-version=2024-10-21 HTTP/1.1\r\n"));
  EXPECT_NE(e.head.find("api-key: az-key\r\n"), std::string::npos);
  EXPECT_EQ(e.head.find("Authorization"), std::string::npos);
}

TEST(OpenAiEncode, AzureV1UsesOpenAiPathsUnderOpenAiV1) {
  auto f = fixture(config::ProviderType::azure, "az-key", "");
  f.provider.api_version = "v1";
  const auto e = encode(f, kBody);
  EXPECT_TRUE(e.head.starts_with("POST /openai/v1/chat/completions HTTP/1.1\r\n"));
}

TEST(OpenAiEncode, RenamesTheOutputLimitToTheFieldTheProviderTakes) {
  auto f = fixture();
  f.provider.max_tokens_field = config::MaxTokensField::max_completion_tokens;
  const auto e =
      encode(f, R"({"model":"small","max_tokens":64,"messages":[{"role":"user","content":"hi"}]})");
  const auto body = nlohmann::json::parse(e.body);
  EXPECT_EQ(body["max_completion_tokens"], 64);
  EXPECT_FALSE(body.contains("max_tokens"));
  EXPECT_EQ(body["model"], "gpt-4o-mini");
  EXPECT_NE(e.head.find("Content-Length: " + std::to_string(e.body.size()) + "\r\n"),
            std::string::npos);

  f.provider.max_tokens_field = config::MaxTokensField::max_tokens;
  const auto back = encode(
      f,
      R"({"model":"small","max_completion_tokens":9,"messages":[{"role":"user","content":"x"}]})");
  EXPECT_EQ(nlohmann::json::parse(back.body)["max_tokens"], 9);
  // Nothing to rename: the zero-copy path.
  EXPECT_TRUE(encode(f, kBody).body.empty());
}

TEST(OpenAiEncode, MistralGetsNineCharacterToolIdsThatStillPairUp) {
  auto f = fixture();
  f.provider.preset = config::Preset::mistral;
  const auto e = encode(f, R"({"model":"small","seed":7,"tool_choice":"required","messages":[
      {"role":"user","content":"weather?"},
      {"role":"assistant","content":null,"tool_calls":[
        {"id":"call_abc123XYZ","type":"function","function":{"name":"w","arguments":"{}"}},
        {"id":"abcDEF123","type":"function","function":{"name":"w","arguments":"{}"}}]},
      {"role":"tool","tool_call_id":"call_abc123XYZ","content":"5C"},
      {"role":"tool","tool_call_id":"abcDEF123","content":"6C"}]})");
  const auto body = nlohmann::json::parse(e.body);
  const std::string mapped = body["messages"][1]["tool_calls"][0]["id"];
  EXPECT_EQ(mapped.size(), 9u);
  EXPECT_TRUE(std::all_of(mapped.begin(), mapped.end(), [](char c) { return std::isalnum(c); }));
  EXPECT_EQ(body["messages"][2]["tool_call_id"], mapped);
  EXPECT_EQ(body["messages"][1]["tool_calls"][1]["id"], "abcDEF123");  // already fits
  EXPECT_EQ(body["messages"][3]["tool_call_id"], "abcDEF123");
  EXPECT_EQ(body["random_seed"], 7);
  EXPECT_FALSE(body.contains("seed"));
  EXPECT_EQ(body["tool_choice"], "any");
}

TEST(OpenAiEncode, EmbeddingsGoToTheEmbeddingsPathWithTheBodyUntouched) {
  const auto f = fixture();
  const auto adapter = make_adapter(f.provider);
  const std::string text = R"({"model":"small","input":["a","b"]})";
  auto parsed = api::parse_embeddings_request(text);
  ASSERT_TRUE(parsed.has_value());
  std::string head, body;
  ASSERT_FALSE(error_of(adapter->encode_embeddings(*parsed, f.call(), head, body)));
  EXPECT_TRUE(body.empty());
  EXPECT_TRUE(head.starts_with("POST /v1/embeddings HTTP/1.1\r\n"));
}

TEST(OpenAiDecode, ReportsTheRequestedModelAndKeepsEveryOtherByte) {
  const auto f = fixture();
  const auto adapter = make_adapter(f.provider);
  std::string body =
      "\n\n"
      R"({"id":"x","model":"gpt-4o-mini-2024-07-18","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":7,"total_tokens":12,"prompt_tokens_details":{"cached_tokens":2}}})";
  Usage usage;
  ASSERT_FALSE(error_of(adapter->decode_chat(body, f.call(), usage)));
  EXPECT_EQ(
      body,
      R"({"id":"x","model":"client-model","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":7,"total_tokens":12,"prompt_tokens_details":{"cached_tokens":2}}})");
  EXPECT_TRUE(usage.reported);
  EXPECT_EQ(usage.prompt, 5u);
  EXPECT_EQ(usage.completion, 7u);
  EXPECT_EQ(usage.cached, 2u);
}

TEST(OpenAiDecode, TreatsInvalidJsonAndErrorBodiesAsFailures) {
  const auto f = fixture();
  const auto adapter = make_adapter(f.provider);
  std::string broken = R"({"id":"chatcmpl-broken","choices":[)";
  Usage usage;
  auto error = error_of(adapter->decode_chat(broken, f.call(), usage));
  ASSERT_TRUE(error);
  EXPECT_EQ(error->error_class, ErrorClass::retryable);
  std::string in_body = R"({"error":{"message":"overloaded","type":"server_error"}})";
  error = error_of(adapter->decode_chat(in_body, f.call(), usage));
  ASSERT_TRUE(error);
  EXPECT_EQ(error->error_class, ErrorClass::retryable);
}

const std::string kStream =
    "data: {\"id\":\"c\",\"model\":\"gpt-x\",\"choices\":[{\"index\":0,\"delta\":{\"role\":"
    "\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}\n\n"
    ": keep-alive\n\n"
    "data: {\"id\":\"c\",\"model\":\"gpt-x\",\"choices\":[{\"index\":0,\"delta\":{\"content\":"
    "\"Hi\"},\"finish_reason\":null}]}\n\n"
    ": keep-alive\n\n"
    "data: {\"id\":\"c\",\"model\":\"gpt-x\",\"choices\":[{\"index\":0,\"delta\":{},"
    "\"finish_reason\":\"stop\"}]}\n\n"
    "data: {\"id\":\"c\",\"model\":\"gpt-x\",\"choices\":[],\"usage\":{\"prompt_tokens\":3,"
    "\"completion_tokens\":1,\"total_tokens\":4}}\n\n"
    "data: [DONE]\n\n";

TEST(OpenAiStream, RewritesModelInEveryChunkAndPassesKeepAlivesOnlyOnceStarted) {
  auto f = fixture();
  f.stream = true;
  f.include_usage = true;
  const auto adapter = make_adapter(f.provider);
  const auto whole = run_stream(*adapter, f.call(), kStream, 0);
  EXPECT_EQ(whole.state, State::done);
  for (std::size_t split : {1u, 7u}) {
    EXPECT_EQ(run_stream(*adapter, f.call(), kStream, split).out, whole.out) << split;
  }
  const auto payloads = sse_payloads(whole.out);
  ASSERT_EQ(payloads.size(), 5u);
  for (std::size_t i = 0; i + 1 < payloads.size(); ++i)
    EXPECT_EQ(nlohmann::json::parse(payloads[i])["model"], "client-model");
  EXPECT_EQ(payloads.back(), "[DONE]");
  // The keep-alive before the first token is held back; the one after goes to the client.
  EXPECT_EQ(whole.out.find(": keep-alive"), whole.out.rfind(": keep-alive"));
  EXPECT_LT(whole.out.find("\"Hi\""), whole.out.find(": keep-alive"));
  EXPECT_EQ(whole.usage.prompt, 3u);
  EXPECT_EQ(whole.usage.total, 4u);
}

TEST(OpenAiStream, FailsWhenTheUpstreamEndsWithoutDoneOrSendsAnErrorEvent) {
  auto f = fixture();
  f.stream = true;
  const auto adapter = make_adapter(f.provider);
  const std::string cut = kStream.substr(0, kStream.find("data: [DONE]"));
  const auto early = run_stream(*adapter, f.call(), cut, 0);
  EXPECT_EQ(early.state, State::failed);
  EXPECT_EQ(early.error.error_class, ErrorClass::retryable);

  const std::string errored =
      kStream.substr(0, kStream.find(": keep-alive")) +
      "data: {\"error\":{\"message\":\"boom\",\"type\":\"server_error\"}}\n\n";
  const auto failed = run_stream(*adapter, f.call(), errored, 3);
  EXPECT_EQ(failed.state, State::failed);
  EXPECT_NE(failed.error.error.message.find("boom"), std::string::npos);
}

TEST(OpenAiStream, StripsTheUsageChunkTheGatewayAskedForButNotTheClient) {
  auto f = fixture();
  f.stream = true;  // the client did not ask for usage
  const auto adapter = make_adapter(f.provider);
  const auto run = run_stream(*adapter, f.call(), kStream, 0);
  EXPECT_EQ(run.state, State::done);
  EXPECT_EQ(run.out.find("\"usage\""), std::string::npos) << run.out;
  EXPECT_EQ(sse_payloads(run.out).size(), 4u);  // role, "Hi", stop, [DONE]
  EXPECT_EQ(run.usage.prompt, 3u);              // still read, for the cost
  EXPECT_EQ(run.usage.completion, 1u);
  // Mistral was not asked (it refuses stream_options): whatever it sends is relayed.
  f.provider.preset = config::Preset::mistral;
  const auto mistral = make_adapter(f.provider);
  EXPECT_NE(run_stream(*mistral, f.call(), kStream, 0).out.find("\"usage\""), std::string::npos);
}

TEST(OpenAiEncode, AsksForStreamUsageTheClientDidNotAskFor) {
  auto f = fixture();
  f.stream = true;
  const std::string body =
      R"({"model":"small","stream":true,"messages":[{"role":"user","content":"hi"}]})";
  // Inserted without a DOM: every other byte is the client's.
  const auto e = encode(f, body);
  EXPECT_EQ(
      e.body,
      R"({"stream_options":{"include_usage":true},"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}]})");
  EXPECT_NE(e.head.find("Content-Length: " + std::to_string(e.body.size()) + "\r\n"),
            std::string::npos);
  // stream_options without include_usage: the member is set, the rest of it kept.
  const auto options = encode(
      f,
      R"({"model":"small","stream":true,"stream_options":{"include_usage":false,"x":1},"messages":[{"role":"user","content":"hi"}]})");
  const auto doc = nlohmann::json::parse(options.body);
  EXPECT_EQ(doc["stream_options"]["include_usage"], true);
  EXPECT_EQ(doc["stream_options"]["x"], 1);
  EXPECT_EQ(doc["model"], "gpt-4o-mini");
  // The client asked itself, or Mistral: the zero-copy path.
  f.include_usage = true;
  EXPECT_TRUE(encode(f, body).body.empty());
  f.include_usage = false;
  f.provider.preset = config::Preset::mistral;
  EXPECT_TRUE(encode(f, body).body.empty());
}

TEST(OpenAiEncode, LeavesTheGatewaysPreferredProviderOutOfMetadata) {
  const auto kept = nlohmann::json::parse(
      encode(
          fixture(),
          R"({"model":"small","metadata":{"preferred_provider":"up","team":"a"},"messages":[{"role":"user","content":"hi"}]})")
          .body);
  EXPECT_EQ(kept["metadata"], (nlohmann::json{{"team", "a"}}));
  EXPECT_EQ(kept["model"], "gpt-4o-mini");
  const auto gone = nlohmann::json::parse(
      encode(
          fixture(),
          R"({"model":"small","metadata":{"preferred_provider":"up"},"messages":[{"role":"user","content":"hi"}]})")
          .body);
  EXPECT_FALSE(gone.contains("metadata")) << gone.dump();
}

struct ErrorCase {
  int status;
  std::string body;
  ErrorClass expected;
  int client_status;
  std::string code;
};

TEST(OpenAiErrors, ClassifiesEveryShapeOfOpenAiStyleError) {
  const auto f = fixture();
  const auto adapter = make_adapter(f.provider);
  const std::vector<ErrorCase> cases = {
      {400,
       R"({"error":{"message":"This model's maximum context length is 128000 tokens. However, your messages resulted in 130000 tokens.","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}})",
       ErrorClass::fall_over, 400, "context_length_exceeded"},
      // DeepSeek: the same words, another code.
      {400,
       R"({"error":{"message":"This model's maximum context length is 65536 tokens.","type":"invalid_request_error","code":"invalid_request_error"}})",
       ErrorClass::fall_over, 400, "context_length_exceeded"},
      {400,
       R"({"error":{"message":"string too long","type":"invalid_request_error","param":"user","code":"string_above_max_length"}})",
       ErrorClass::final, 400, "string_above_max_length"},
      {400,
       R"({"error":{"message":"bad temperature","type":"invalid_request_error","param":"temperature","code":"invalid_value"}})",
       ErrorClass::final, 400, "invalid_value"},
      {401,
       R"({"error":{"message":"Incorrect API key provided: sk-te***","type":"invalid_request_error","code":"invalid_api_key"}})",
       ErrorClass::fall_over, 401, "invalid_api_key"},
      {402, R"({"error":{"message":"Insufficient Balance","type":"unknown_error"}})",
       ErrorClass::fall_over, 429, "insufficient_quota"},
      {429,
       R"({"error":{"message":"You exceeded your current quota","type":"insufficient_quota","code":"insufficient_quota"}})",
       ErrorClass::fall_over, 429, "insufficient_quota"},
      {429,
       R"({"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}})",
       ErrorClass::retryable, 429, "rate_limit_exceeded"},
      {404,
       R"({"error":{"message":"The model `x` does not exist","type":"invalid_request_error","code":"model_not_found"}})",
       ErrorClass::fall_over, 404, "model_not_found"},
      // Mistral and old vLLM: flat.
      {400,
       R"({"object":"error","message":"Prompt contains 40000 tokens, too large for model with 32768 maximum context length","type":"invalid_request_error","param":null,"code":null})",
       ErrorClass::fall_over, 400, "context_length_exceeded"},
      // OpenRouter: numeric code.
      {503, R"({"error":{"code":503,"message":"No instances available","metadata":{}}})",
       ErrorClass::retryable, 503, "upstream_overloaded"},
      {500, "<html>Internal Server Error</html>", ErrorClass::retryable, 502, "upstream_error"},
      {504, "", ErrorClass::retryable, 504, "upstream_timeout"},
      // Azure's content filter.
      {400,
       R"({"error":{"message":"The response was filtered due to the prompt triggering Azure OpenAI's content management policy.","type":null,"param":"prompt","code":"content_filter"}})",
       ErrorClass::fall_over, 400, "content_filter"},
  };
  for (const auto& c : cases) {
    const auto e = adapter->decode_error(c.status, c.body);
    EXPECT_EQ(e.error_class, c.expected) << c.body;
    EXPECT_EQ(e.error.status, c.client_status) << c.body;
    EXPECT_EQ(e.error.code, c.code) << c.body;
    EXPECT_TRUE(e.error.message.starts_with("up: ")) << e.error.message;
  }
}

config::Provider with_patterns(std::vector<std::string> patterns) {
  config::Provider p;
  p.forward_headers = std::move(patterns);
  return p;
}

TEST(ForwardsHeader, PassesHeadersNamedExactlyOrByPrefixPattern) {
  const auto p = with_patterns({"openai-beta", "x-mock-*"});
  EXPECT_TRUE(forwards_header(p, "openai-beta"));
  EXPECT_TRUE(forwards_header(p, "x-mock-fail"));
  EXPECT_FALSE(forwards_header(p, "openai-beta-2"));
  EXPECT_FALSE(forwards_header(p, "x-mock"));
  EXPECT_FALSE(forwards_header(p, "user-agent"));
  EXPECT_FALSE(forwards_header(with_patterns({}), "openai-beta"));
}

TEST(ForwardsHeader, NeverPassesCredentialsOrHopByHopHeadersWhateverThePatterns) {
  const std::vector<std::string> never = {"authorization",
                                          "proxy-authorization",
                                          "x-api-key",
                                          "api-key",
                                          "x-goog-api-key",
                                          "cookie",
                                          "host",
                                          "content-length",
                                          "content-type",
                                          "transfer-encoding",
                                          "connection",
                                          "keep-alive",
                                          "upgrade",
                                          "te",
                                          "trailer",
                                          "proxy-connection",
                                          "expect",
                                          "accept",
                                          "accept-encoding",
                                          "x-request-id",
                                          "anthropic-version"};
  for (const auto& patterns :
       {std::vector<std::string>{"*"}, never,
        std::vector<std::string>{"x-*", "a*", "c*", "p*", "t*", "h*", "k*", "u*", "e*"}}) {
    const auto p = with_patterns(patterns);
    for (const auto& header : never) EXPECT_FALSE(forwards_header(p, header)) << header;
    // The gateway's own controls stay with the gateway.
    for (const char* own : {"x-switchyard-provider", "x-switchyard-deadline"})
      EXPECT_FALSE(forwards_header(p, own)) << own;
  }
}

}  // namespace
}  // namespace switchyard::providers
