// A provider's published rpm limit, kept by the gateway: the request over it goes to the next
// target instead of collecting a 429, and only when no target has room does the client get one.
#include <gtest/gtest.h>

#include "harness.hpp"

namespace switchyard::testing {
namespace {

std::string limited_config(int first, int second, int first_rpm) {
  return "providers:\n"
         "  first: { type: openai, base_url: \"http://127.0.0.1:" +
         std::to_string(first) + "/v1\", rate_limit: { rpm: " + std::to_string(first_rpm) +
         " } }\n"
         "  second: { type: openai, base_url: \"http://127.0.0.1:" +
         std::to_string(second) +
         "/v1\" }\n"
         "models:\n"
         "  m-first: { provider: first }\n"
         "  m-second: { provider: second }\n"
         "routes:\n"
         "  chain: { targets: [m-first, m-second] }\n";
}

TEST(RateLimit, SpillsTheRequestOverAProvidersRpmToTheNextTargetWithoutA429) {
  TempDir dir;
  Mock first(dir, "first");
  Mock second(dir, "second");
  Gateway gw(dir, limited_config(first.port(), second.port(), 3));
  HttpClient client(gw.port());
  for (int i = 0; i < 5; ++i) {
    const auto r = client.post_json("/v1/chat/completions", chat_body("chain"));
    ASSERT_EQ(r.status, 200) << i << ": " << r.body;
    EXPECT_EQ(r.header("x-switchyard-provider"), i < 3 ? "first" : "second") << i;
    EXPECT_EQ(r.header("x-switchyard-attempts"), "1") << i;
  }
  EXPECT_EQ(chat_requests(first), 3);
  EXPECT_EQ(chat_requests(second), 2);
  HttpClient admin(gw.port());
  EXPECT_EQ(admin.get("/admin/health").json_body()["counters"]["rate_limit_skips"], 2);
}

TEST(RateLimit, Answers429WithRetryAfterWhenNoTargetHasRoom) {
  TempDir dir;
  Mock first(dir, "first");
  Mock second(dir, "second");
  Gateway gw(dir, limited_config(first.port(), second.port(), 2));
  HttpClient client(gw.port());
  for (int i = 0; i < 2; ++i)
    ASSERT_EQ(client.post_json("/v1/chat/completions", chat_body("m-first")).status, 200);
  const auto r = client.post_json("/v1/chat/completions", chat_body("m-first"));
  EXPECT_EQ(r.status, 429) << r.body;
  EXPECT_EQ(r.json_body()["error"]["code"], "rate_limit_exceeded");
  EXPECT_EQ(r.header("x-switchyard-attempts"), "0");
  // 2 rpm: the next slot is 30 s away.
  const int retry_after = std::stoi(r.header("retry-after"));
  EXPECT_GE(retry_after, 29);
  EXPECT_LE(retry_after, 30);
  EXPECT_EQ(chat_requests(first), 2);
}

}  // namespace
}  // namespace switchyard::testing
