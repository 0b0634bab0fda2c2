// What a session id carries from initialize to every later request, and what a server's request
// needs the client to have offered.
#include "switchyard/mcp/session.hpp"

#include <gtest/gtest.h>

namespace switchyard::mcp {
namespace {

TEST(McpSession, ItsIdCarriesVersionKeyViewAndWhatTheClientOffers) {
  const SessionSigner signer("a-secret-of-at-least-thirty-two-chars!", "");
  const Session opened =
      Session::open("2025-06-18", "team-a", "everything", Session::kSampling | Session::kRoots);
  const auto read = Session::read(opened.id(signer), signer, std::chrono::hours(1));
  ASSERT_TRUE(read);
  EXPECT_EQ(read->version, "2025-06-18");
  EXPECT_EQ(read->key, "team-a");
  EXPECT_EQ(read->server, "everything");
  EXPECT_EQ(read->nonce, opened.nonce);
  EXPECT_EQ(read->features, Session::kSampling | Session::kRoots);
  // An id of a gateway from before features were kept reads as offering nothing.
  const std::string older = signer.sign(R"({"v":"2025-11-25","k":"","s":"","t":)" +
                                        std::to_string(opened.issued) + R"(,"n":"x"})");
  ASSERT_TRUE(Session::read(older, signer, std::chrono::hours(1)));
  EXPECT_EQ(Session::read(older, signer, std::chrono::hours(1))->features, 0u);
  EXPECT_TRUE(Session::read(older, signer, std::chrono::hours(1))->upstream.empty());
}

TEST(McpSession, ItsIdCarriesItsSessionsWithServers) {
  const SessionSigner signer("a-secret-of-at-least-thirty-two-chars!", "");
  Session opened = Session::open("2025-11-25", "", "", 0);
  opened.upstream = {{"remote", "0f8e-41"}, {"github", "s-2"}};
  const auto read = Session::read(opened.id(signer), signer, std::chrono::hours(1));
  ASSERT_TRUE(read);
  EXPECT_EQ(read->upstream, opened.upstream);
}

TEST(McpSession, SamplingWithToolsNeedsTheClientsSamplingTools) {
  EXPECT_EQ(Session::feature_for("sampling/createMessage", R"({"messages":[]})"),
            Session::kSampling);
  EXPECT_EQ(Session::feature_for("sampling/createMessage", R"({"tools":[]})"),
            Session::kSampling | Session::kSamplingTools);
  EXPECT_EQ(Session::feature_for("elicitation/create", "{}"), Session::kElicitation);
  EXPECT_EQ(Session::feature_for("roots/list", ""), Session::kRoots);
  EXPECT_EQ(Session::feature_for("tools/call", "{}"), 0u);
}

TEST(McpSession, EachProcessHasOneTagForTheIdsItMakes) {
  EXPECT_FALSE(process_tag().empty());
  EXPECT_EQ(&process_tag(), &process_tag());
}

}  // namespace
}  // namespace switchyard::mcp
