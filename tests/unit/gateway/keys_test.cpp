// Gateway keys: read from config as hashes only, and recognised from an Authorization header.
#include <gtest/gtest.h>

#include "../config/config_messages.hpp"

#include "switchyard/config/config.hpp"
#include "switchyard/gateway/key_ring.hpp"

namespace switchyard::gateway {
namespace {

// The hashes of two keys, as `switchyard --hash-key` prints them.
const std::string kTeamA = sha256_hex("sk-team-a");
const std::string kOps = sha256_hex("sk-ops");

config::LoadResult load(const std::string& keys) {
  const std::string yaml = R"(providers:
  p: { type: openai, base_url: "http://127.0.0.1:9/v1" }
models:
  small: { provider: p }
  large: { provider: p }
routes:
  default: { targets: [small, large] }
keys:
)" + keys;
  return config::load_config_string(yaml, "test.yaml",
                                    [](const std::string&) { return std::nullopt; });
}

TEST(Keys, HashesAsSha256InLowerCaseHex) {
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex("").size(), 64u);
}

TEST(Keys, ReadsNamedHashesWithTheirRoutesAndAdminFlag) {
  std::string upper = kOps;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  const auto r = load("  team-a: { sha256: " + kTeamA + ", routes: [default, small] }\n" +
                      "  ops: { sha256: " + upper + ", admin: true }\n");
  ASSERT_TRUE(r.config) << config::joined(r);
  const auto& keys = r.config->keys;
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[0].name, "team-a");
  EXPECT_EQ(keys[0].sha256, kTeamA);
  EXPECT_EQ(keys[0].routes, (std::vector<std::string>{"default", "small"}));
  EXPECT_FALSE(keys[0].admin);
  EXPECT_EQ(keys[1].sha256, kOps);  // stored lower case
  EXPECT_TRUE(keys[1].admin);
  EXPECT_TRUE(keys[1].routes.empty());
}

TEST(Keys, RefusesAKeyInPlaceOfItsHashUnknownRoutesAndTwins) {
  const auto r = load(
      "  a: { sha256: sk-team-a }\n"
      "  b: { sha256: " +
      kTeamA +
      ", routes: [nowhere] }\n"
      "  c: { sha256: " +
      kTeamA +
      " }\n"
      "  d: { routes: [default] }\n");
  ASSERT_FALSE(r.config);
  const std::string text = config::joined(r);
  EXPECT_NE(text.find("test.yaml:9:16: keys.a.sha256: expected the 64 hex digits of a SHA-256"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("sk-team-a"), std::string::npos) << "a misplaced key is never echoed";
  EXPECT_NE(text.find("unknown route or model 'nowhere'"), std::string::npos) << text;
  EXPECT_NE(text.find("keys.c: the same key as keys.b"), std::string::npos) << text;
  EXPECT_NE(text.find("keys.d: missing required key 'sha256'"), std::string::npos) << text;
}

TEST(KeyRing, FindsAKeyByItsBearerHeaderOnly) {
  const auto r = load("  team-a: { sha256: " + kTeamA + ", routes: [small] }\n");
  ASSERT_TRUE(r.config) << config::joined(r);
  const KeyRing ring(r.config->keys);
  EXPECT_TRUE(ring.enabled());
  const auto* key = ring.find("Bearer sk-team-a");
  ASSERT_NE(key, nullptr);
  EXPECT_EQ(key->name, "team-a");
  EXPECT_EQ(ring.find("bearer  sk-team-a "), key);  // scheme case and padding do not matter
  EXPECT_EQ(ring.find("Bearer sk-team-b"), nullptr);
  EXPECT_EQ(ring.find("Basic sk-team-a"), nullptr);
  EXPECT_EQ(ring.find("sk-team-a"), nullptr);
  EXPECT_EQ(ring.find("Bearer "), nullptr);
  EXPECT_TRUE(key->may_use("small"));
  EXPECT_FALSE(key->may_use("large"));
  EXPECT_FALSE(KeyRing(std::vector<config::GatewayKey>{}).enabled());
}

}  // namespace
}  // namespace switchyard::gateway
