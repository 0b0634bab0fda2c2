// The OpenAI-compatible upstream format: which error statuses are worth another attempt, the
// exact request head sent upstream, and which client headers may travel with it.
#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "switchyard/config/config.hpp"
#include "switchyard/providers/openai.hpp"

namespace switchyard::providers::openai {
namespace {

config::Provider provider(std::string path, std::string authority, std::string api_key,
                          std::vector<std::string> forward_headers = {}) {
  config::Provider p;
  p.name = "test";
  p.base_url.tls = true;
  p.base_url.host = "api.example.com";
  p.base_url.port = 443;
  p.base_url.path = std::move(path);
  p.base_url.authority = std::move(authority);
  p.api_key = std::move(api_key);
  p.forward_headers = std::move(forward_headers);
  return p;
}

const char* name(ErrorClass c) {
  switch (c) {
    case ErrorClass::retryable:
      return "retryable";
    case ErrorClass::fall_over:
      return "fall_over";
    case ErrorClass::final:
      return "final";
  }
  return "?";
}

TEST(ClassifyStatus, RetriesTimeoutsConflictsRateLimitsAndServerErrors) {
  for (int status : {408, 409, 429, 500, 501, 502, 503, 504, 520, 529, 599})
    EXPECT_STREQ(name(classify_status(status)), "retryable") << status;
}

TEST(ClassifyStatus, FallsOverOnKeyQuotaAndUnknownModelErrors) {
  for (int status : {401, 402, 403, 404})
    EXPECT_STREQ(name(classify_status(status)), "fall_over") << status;
}

TEST(ClassifyStatus, RelaysOtherClientErrorsAsFinal) {
  for (int status : {400, 405, 406, 410, 411, 413, 415, 418, 422, 431, 451, 499})
    EXPECT_STREQ(name(classify_status(status)), "final") << status;
}

TEST(RequestEncoder, WritesTheExactHeadForAnOpenAiStyleProvider) {
  const RequestEncoder encoder(provider("/v1", "api.openai.com", "sk-test-123"));
  std::string head;
  encoder.chat_head(head, 1234, "req-abc", false, "");
  EXPECT_EQ(head,
            "POST /v1/chat/completions HTTP/1.1\r\n"
            "Host: api.openai.com\r\n"
            "Content-Type: application/json\r\n"
            "User-Agent: switchyard/" SWITCHYARD_VERSION
            "\r\n"
            "Authorization: Bearer sk-test-123\r\n"
            "Accept: application/json\r\n"
            "Content-Length: 1234\r\n"
            "x-request-id: req-abc\r\n"
            "\r\n");
}

TEST(RequestEncoder, AsksForAnEventStreamWhenStreaming) {
  const RequestEncoder encoder(provider("/v1", "api.openai.com", "k"));
  std::string head;
  encoder.chat_head(head, 2, "r", true, "");
  EXPECT_NE(head.find("\r\nAccept: text/event-stream\r\n"), std::string::npos) << head;
  EXPECT_EQ(head.find("application/json\r\nContent-Length"), std::string::npos) << head;
}

TEST(RequestEncoder, SendsNoAuthorizationWithoutAnApiKey) {
  const RequestEncoder encoder(provider("", "127.0.0.1:9001", ""));
  std::string head;
  encoder.chat_head(head, 0, "r1", true, "");
  EXPECT_EQ(head,
            "POST /chat/completions HTTP/1.1\r\n"
            "Host: 127.0.0.1:9001\r\n"
            "Content-Type: application/json\r\n"
            "User-Agent: switchyard/" SWITCHYARD_VERSION
            "\r\n"
            "Accept: text/event-stream\r\n"
            "Content-Length: 0\r\n"
            "x-request-id: r1\r\n"
            "\r\n");
}

TEST(RequestEncoder, UsesTheBasePathAndAuthorityAsConfigured) {
  const RequestEncoder encoder(provider("/api/openai/v1", "[::1]:8443", "k"));
  std::string head;
  encoder.chat_head(head, 5, "r", false, "");
  EXPECT_EQ(head.rfind("POST /api/openai/v1/chat/completions HTTP/1.1\r\nHost: [::1]:8443\r\n", 0),
            0u)
      << head;
}

TEST(RequestEncoder, PutsForwardedHeadersLastBeforeTheBlankLine) {
  const RequestEncoder encoder(provider("/v1", "api.openai.com", "k"));
  std::string head;
  encoder.chat_head(head, 8 * 1024 * 1024, "r", false,
                    "openai-beta: assistants=v2\r\nx-mock-fail: 503\r\n");
  const std::string tail =
      "Content-Length: 8388608\r\n"
      "x-request-id: r\r\n"
      "openai-beta: assistants=v2\r\n"
      "x-mock-fail: 503\r\n"
      "\r\n";
  ASSERT_GE(head.size(), tail.size());
  EXPECT_EQ(head.substr(head.size() - tail.size()), tail);
}

TEST(RequestEncoder, ReplacesWhateverTheBufferHeldBefore) {
  const RequestEncoder encoder(provider("/v1", "api.openai.com", "k"));
  std::string first, reused = "left over from the previous request\r\n\r\n";
  encoder.chat_head(first, 10, "r", true, "a: b\r\n");
  encoder.chat_head(reused, 10, "r", true, "a: b\r\n");
  EXPECT_EQ(reused, first);
  // A second head written into the same buffer is just the new head.
  encoder.chat_head(reused, 99, "s", false, "");
  std::string fresh;
  encoder.chat_head(fresh, 99, "s", false, "");
  EXPECT_EQ(reused, fresh);
}

TEST(ForwardsHeader, PassesHeadersNamedExactlyOrByPrefixPattern) {
  const auto p = provider("/v1", "h", "k", {"openai-beta", "x-mock-*"});
  EXPECT_TRUE(forwards_header(p, "openai-beta"));
  EXPECT_TRUE(forwards_header(p, "x-mock-fail"));
  EXPECT_TRUE(forwards_header(p, "x-mock-latency-ms"));
  EXPECT_FALSE(forwards_header(p, "openai-beta-2"));
  EXPECT_FALSE(forwards_header(p, "openai-bet"));
  EXPECT_FALSE(forwards_header(p, "x-mock"));
  EXPECT_FALSE(forwards_header(p, "x-mocks-fail"));
  EXPECT_FALSE(forwards_header(p, "user-agent"));
  EXPECT_FALSE(forwards_header(p, ""));
}

TEST(ForwardsHeader, PassesNothingWithoutPatterns) {
  const auto p = provider("/v1", "h", "k");
  for (const char* header : {"openai-beta", "x-mock-fail", "user-agent", "x-anything"})
    EXPECT_FALSE(forwards_header(p, header)) << header;
}

TEST(ForwardsHeader, NeverPassesCredentialsOrHopByHopHeadersWhateverThePatterns) {
  const std::vector<std::string> never = {
      "authorization",
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
  };
  // A catch-all prefix, every header named exactly, and prefixes that cover them.
  std::vector<std::string> exact = never;
  for (const auto& patterns :
       {std::vector<std::string>{"*"}, exact,
        std::vector<std::string>{"x-*", "a*", "c*", "p*", "t*", "h*", "k*", "u*", "e*"}}) {
    const auto p = provider("/v1", "h", "k", patterns);
    for (const auto& header : never)
      EXPECT_FALSE(forwards_header(p, header)) << header << " with " << patterns.front();
  }
}

}  // namespace
}  // namespace switchyard::providers::openai
