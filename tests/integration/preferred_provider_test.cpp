// A client's preferred provider — header x-switchyard-provider or body
// metadata.preferred_provider — moves that provider's targets to the front of the route's plan;
// a provider the route does not have is ignored, and the response says which. Neither reaches
// an upstream.
#include <gtest/gtest.h>

#include "harness.hpp"

namespace switchyard::testing {
namespace {

std::string two_provider_config(int first, int second) {
  std::string text = "providers:\n";
  for (const auto& [name, port] : {std::pair{"first", first}, std::pair{"second", second}})
    text += std::string("  ") + name +
            ": { type: openai, base_url: \"http://127.0.0.1:" + std::to_string(port) +
            "/v1\", forward_headers: [\"x-*\"] }\n";
  return text +
         "models:\n"
         "  m-first: { provider: first }\n"
         "  m-second: { provider: second }\n"
         "routes:\n"
         "  chain: { targets: [m-first, m-second] }\n";
}

class Preferred : public ::testing::Test {
 protected:
  TempDir dir_;
  Mock first_{dir_, "first"};
  Mock second_{dir_, "second"};
  Gateway gw_{dir_, two_provider_config(first_.port(), second_.port())};
};

TEST_F(Preferred, AHeaderMovesThatProvidersTargetsToTheFront) {
  HttpClient client(gw_.port());
  const auto r = client.post_json("/v1/chat/completions", chat_body("chain"),
                                  {{"x-switchyard-provider", "second"}, {"x-request-id", "pref"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("x-switchyard-provider"), "second");
  EXPECT_EQ(r.header("x-switchyard-preferred-provider"), "applied");
  EXPECT_EQ(gw_.request_log("pref")["preferred_provider"], "applied");
  const auto seen = second_.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_FALSE(seen[0]["headers"].contains("x-switchyard-provider")) << seen[0]["headers"].dump();
  EXPECT_TRUE(first_.requests().empty());
}

TEST_F(Preferred, TheBodysMetadataWorksTooAndIsNotForwarded) {
  HttpClient client(gw_.port());
  auto body = chat_body("chain");
  body["metadata"] = {{"preferred_provider", "second"}};
  const auto r = client.post_json("/v1/chat/completions", body);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("x-switchyard-provider"), "second");
  const auto seen = second_.requests();
  ASSERT_EQ(seen.size(), 1u);
  const auto sent = json::parse(seen[0]["body"].get<std::string>());
  EXPECT_FALSE(sent.contains("metadata")) << sent.dump();
}

TEST_F(Preferred, AProviderTheRouteDoesNotHaveIsIgnoredAndSaidSo) {
  HttpClient client(gw_.port());
  const auto r = client.post_json("/v1/chat/completions", chat_body("chain"),
                                  {{"x-switchyard-provider", "elsewhere"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("x-switchyard-provider"), "first");
  EXPECT_EQ(r.header("x-switchyard-preferred-provider"), "ignored");
  // An explicit model is never rerouted by a preference.
  const auto alias = client.post_json("/v1/chat/completions", chat_body("m-first"),
                                      {{"x-switchyard-provider", "second"}});
  ASSERT_EQ(alias.status, 200) << alias.body;
  EXPECT_EQ(alias.header("x-switchyard-provider"), "first");
  EXPECT_EQ(alias.header("x-switchyard-preferred-provider"), "ignored");
}

}  // namespace
}  // namespace switchyard::testing
