// Which sessions count as open in a process: those that made a request there lately.
#include "switchyard/mcp/active_sessions.hpp"

#include <gtest/gtest.h>

namespace switchyard::mcp {
namespace {

using Clock = ActiveSessions::Clock;

Session session(std::string nonce, std::string key = "app") {
  Session s;
  s.nonce = std::move(nonce);
  s.key = std::move(key);
  s.version = "2025-11-25";
  return s;
}

TEST(ActiveSessions, ASessionCountsWhileItMadeARequestWithinTheWindowTheLatestFirst) {
  ActiveSessions sessions;
  const auto t0 = Clock::now();
  sessions.seen(session("a"), t0);
  sessions.seen(session("b", "ops"), t0 + std::chrono::minutes(1));
  sessions.seen(session("a"), t0 + std::chrono::minutes(2));
  auto listed = sessions.list(t0 + std::chrono::minutes(3));
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[0].session.nonce, "a");
  EXPECT_EQ(listed[0].requests, 2u);
  EXPECT_EQ(listed[1].session.key, "ops");
  // "b" went quiet for longer than the window; "a" did not yet.
  EXPECT_EQ(sessions.count(t0 + std::chrono::minutes(1) + ActiveSessions::kActive +
                           std::chrono::seconds(1)),
            1u);
  EXPECT_EQ(sessions.count(t0 + std::chrono::minutes(2) + ActiveSessions::kActive +
                           std::chrono::seconds(1)),
            0u);
}

TEST(ActiveSessions, AnEndedSessionIsGoneAtOnceAndAQuietOneAfterTheWindow) {
  ActiveSessions sessions;
  const auto t0 = Clock::now();
  sessions.seen(session("a"), t0);
  sessions.seen(session("b"), t0);
  sessions.ended("a");
  EXPECT_EQ(sessions.count(t0), 1u);
  // Long after, only the session that is still making requests.
  sessions.seen(session("c"), t0 + ActiveSessions::kActive + std::chrono::minutes(2));
  const auto listed = sessions.list(t0 + ActiveSessions::kActive + std::chrono::minutes(2));
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].session.nonce, "c");
}

}  // namespace
}  // namespace switchyard::mcp
