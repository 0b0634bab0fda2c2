// A gateway key's own limits: requests and tokens per minute refused with 429 and OpenAI's
// x-ratelimit-* headers, and a spend budget refused with 429 budget_exceeded — before any
// upstream is asked.
#include <gtest/gtest.h>

#include "harness.hpp"

namespace switchyard::testing {
namespace {

std::string quota_config(int port, const std::string& limits) {
  return "providers:\n"
         "  local: { type: openai, base_url: \"http://127.0.0.1:" +
         std::to_string(port) +
         "/v1\" }\n"
         "models:\n"
         "  small: { provider: local, input: 1000, output: 1000 }\n"
         "keys:\n"
         "  team-a: { sha256: " +
         hash_key("sk-gw-team-a") + ", " + limits + " }\n";
}

const std::vector<std::pair<std::string, std::string>> kTeamA{
    {"authorization", "Bearer sk-gw-team-a"}};

TEST(KeyCounts, AKeyOverItsRpmGets429WithOpenAiRateLimitHeaders) {
  TempDir dir;
  Mock mock(dir, "alpha");
  Gateway gw(dir, quota_config(mock.port(), "rpm: 2"));
  HttpClient client(gw.port());
  const auto first = client.post_json("/v1/chat/completions", chat_body("small"), kTeamA);
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(first.header("x-ratelimit-limit-requests"), "2");
  EXPECT_EQ(first.header("x-ratelimit-remaining-requests"), "1");
  ASSERT_EQ(client.post_json("/v1/chat/completions", chat_body("small"), kTeamA).status, 200);
  const auto refused = client.post_json("/v1/chat/completions", chat_body("small"), kTeamA);
  EXPECT_EQ(refused.status, 429) << refused.body;
  const json error = refused.json_body()["error"];
  EXPECT_EQ(error["type"], "requests");
  EXPECT_EQ(error["code"], "rate_limit_exceeded");
  const std::string message = error["message"];
  EXPECT_NE(message.find("key 'team-a'"), std::string::npos) << message;
  EXPECT_EQ(refused.header("x-ratelimit-remaining-requests"), "0");
  EXPECT_FALSE(refused.header("x-ratelimit-reset-requests").empty());
  // 2 per minute: the next slot is 30 s away.
  const int retry_after = std::stoi(refused.header("retry-after"));
  EXPECT_GE(retry_after, 29);
  EXPECT_LE(retry_after, 30);
  EXPECT_EQ(chat_requests(mock), 2);
  EXPECT_EQ(gw.request_log(refused.header("x-request-id"))["key"], "team-a");
}

TEST(KeyCounts, ARequestLargerThanTheKeysTpmIsRefusedAsTooLarge) {
  TempDir dir;
  Mock mock(dir, "alpha");
  Gateway gw(dir, quota_config(mock.port(), "tpm: 200"));
  HttpClient client(gw.port());
  json body = chat_body("small");
  body["max_tokens"] = 500;
  const auto r = client.post_json("/v1/chat/completions", body, kTeamA);
  EXPECT_EQ(r.status, 429) << r.body;
  EXPECT_EQ(r.json_body()["error"]["type"], "tokens");
  EXPECT_EQ(r.header("x-should-retry"), "false");
  EXPECT_EQ(r.header("x-ratelimit-limit-tokens"), "200");
  EXPECT_EQ(r.header("retry-after"), "");
  // Within the limit it is served, and the tokens it used are what remains short of.
  body["max_tokens"] = 20;
  const auto ok = client.post_json("/v1/chat/completions", body, kTeamA);
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(chat_requests(mock), 1);
}

TEST(KeyCounts, AKeyOverItsBudgetGets429BudgetExceeded) {
  TempDir dir;
  Mock mock(dir, "alpha");
  Gateway gw(dir, quota_config(mock.port(), "budget: { usd_per_hour: 0.01 }"));
  HttpClient client(gw.port());
  // At $1000 per 1M tokens, one answer costs well over a cent.
  const auto first = client.post_json("/v1/chat/completions", chat_body("small"), kTeamA);
  ASSERT_EQ(first.status, 200) << first.body;
  ASSERT_GT(std::stod(first.header("x-switchyard-cost")), 0.01);
  const auto refused = client.post_json("/v1/chat/completions", chat_body("small"), kTeamA);
  EXPECT_EQ(refused.status, 429) << refused.body;
  EXPECT_EQ(refused.json_body()["error"]["code"], "budget_exceeded");
  const std::string message = refused.json_body()["error"]["message"];
  EXPECT_NE(message.find("per hour"), std::string::npos) << message;
  const int retry_after = std::stoi(refused.header("retry-after"));
  EXPECT_GT(retry_after, 3000);
  EXPECT_LE(retry_after, 3600);
  EXPECT_EQ(chat_requests(mock), 1);
}

}  // namespace
}  // namespace switchyard::testing
