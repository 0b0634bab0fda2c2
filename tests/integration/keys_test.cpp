// Gateway keys: with `keys:` configured, a request needs a known key, a key may be limited to
// some routes, /admin/ needs an admin key, and no key (the client's or the provider's) ever
// shows up in the log or reaches an upstream.
#include <gtest/gtest.h>

#include "harness.hpp"

namespace switchyard::testing {
namespace {

std::string keyed_config(int port) {
  return "providers:\n"
         "  local:\n"
         "    type: openai\n"
         "    base_url: http://127.0.0.1:" +
         std::to_string(port) +
         "/v1\n"
         "    api_key: sk-provider-secret\n"
         "models:\n"
         "  small: { provider: local }\n"
         "  large: { provider: local }\n"
         "routes:\n"
         "  default: { targets: [small] }\n"
         "keys:\n"
         "  team-a: { sha256: " +
         hash_key("sk-gw-team-a") +
         ", routes: [default] }\n"
         "  ops: { sha256: " +
         hash_key("sk-gw-ops") + ", admin: true }\n";
}

class Keys : public ::testing::Test {
 protected:
  TempDir dir_;
  Mock mock_{dir_, "alpha"};
  Gateway gw_{dir_, keyed_config(mock_.port())};
};

TEST_F(Keys, RefusesRequestsWithoutAKnownKeyInOpenAiShape) {
  HttpClient client(gw_.port());
  const auto none = client.post_json("/v1/chat/completions", chat_body("default"));
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(none.json_body()["error"]["code"], "invalid_api_key");
  const auto wrong = client.post_json("/v1/chat/completions", chat_body("default"),
                                      {{"authorization", "Bearer sk-gw-guess"}});
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(wrong.json_body()["error"]["code"], "invalid_api_key");
  EXPECT_EQ(wrong.body.find("sk-gw-guess"), std::string::npos);
  EXPECT_EQ(client.get("/v1/models").status, 401);
  EXPECT_EQ(mock_.stats()["requests"].value("POST /v1/chat/completions", 0), 0);
  // The probes stay open for load balancers.
  EXPECT_EQ(client.get("/healthz").status, 200);
  EXPECT_EQ(client.get("/readyz").status, 200);
}

TEST_F(Keys, ServesAKnownKeyAndLogsItsNameNeverTheKey) {
  HttpClient client(gw_.port());
  const auto r =
      client.post_json("/v1/chat/completions", chat_body("default"),
                       {{"authorization", "Bearer sk-gw-team-a"}, {"x-request-id", "keyed"}});
  ASSERT_EQ(r.status, 200) << r.body;
  const auto line = gw_.request_log("keyed");
  EXPECT_EQ(line["key"], "team-a");
  // The upstream got the provider's key, not the client's.
  const auto seen = mock_.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0]["headers"]["authorization"], "Bearer sk-provider-secret");
  for (const auto& l : gw_.log_lines()) {
    const std::string text = l.dump();
    EXPECT_EQ(text.find("sk-gw-team-a"), std::string::npos) << text;
    EXPECT_EQ(text.find("sk-provider-secret"), std::string::npos) << text;
  }
}

TEST_F(Keys, KeepsAKeyToItsRoutes) {
  HttpClient client(gw_.port());
  const auto other = client.post_json("/v1/chat/completions", chat_body("large"),
                                      {{"authorization", "Bearer sk-gw-team-a"}});
  EXPECT_EQ(other.status, 403) << other.body;
  EXPECT_EQ(other.json_body()["error"]["code"], "permission_denied");
  EXPECT_EQ(mock_.stats()["requests"].value("POST /v1/chat/completions", 0), 0);
  // A key without a list may use everything.
  const auto any = client.post_json("/v1/chat/completions", chat_body("large"),
                                    {{"authorization", "Bearer sk-gw-ops"}});
  EXPECT_EQ(any.status, 200) << any.body;
}

TEST_F(Keys, ListsOnlyWhatAKeyMayUse) {
  HttpClient client(gw_.port());
  auto ids = [&](const std::string& key) {
    const auto r = client.request("GET", "/v1/models", {}, {{"authorization", "Bearer " + key}});
    EXPECT_EQ(r.status, 200) << r.body;
    std::vector<std::string> out;
    const auto list = r.json_body();  // named: a temporary would die before the loop runs
    for (const auto& m : list["data"]) out.push_back(m["id"]);
    return out;
  };
  EXPECT_EQ(ids("sk-gw-team-a"), (std::vector<std::string>{"default"}));
  EXPECT_EQ(ids("sk-gw-ops"), (std::vector<std::string>{"default", "small", "large"}));
}

TEST_F(Keys, OpensTheAdminApiToAdminKeysOnly) {
  HttpClient client(gw_.port());
  EXPECT_EQ(client.get("/admin/health").status, 401);
  const auto user =
      client.request("GET", "/admin/health", {}, {{"authorization", "Bearer sk-gw-team-a"}});
  EXPECT_EQ(user.status, 403);
  EXPECT_EQ(user.json_body()["error"]["code"], "permission_denied");
  const auto admin =
      client.request("GET", "/admin/health", {}, {{"authorization", "Bearer sk-gw-ops"}});
  EXPECT_EQ(admin.status, 200);
  EXPECT_TRUE(admin.json_body().contains("targets"));
}

}  // namespace
}  // namespace switchyard::testing
