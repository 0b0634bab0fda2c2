// Which servers and tools a gateway key reaches through /mcp.
#include "switchyard/mcp/access.hpp"

#include <gtest/gtest.h>

namespace switchyard::mcp {
namespace {

TEST(GlobMatch, StarMatchesAnyRunAndQuestionMarkOneCharacter) {
  EXPECT_TRUE(glob_match("*", ""));
  EXPECT_TRUE(glob_match("everything__*", "everything__echo"));
  EXPECT_TRUE(glob_match("*__get-*", "second__get-sum"));
  EXPECT_TRUE(glob_match("a?c", "abc"));
  EXPECT_TRUE(glob_match("*a*b*c", "xxaybzzc"));
  EXPECT_FALSE(glob_match("a?c", "ac"));
  EXPECT_FALSE(glob_match("everything__*", "second__echo"));
  EXPECT_FALSE(glob_match("*__echo", "everything__echoes"));
  EXPECT_FALSE(glob_match("", "x"));
}

TEST(McpAccess, WithoutRulesEveryServerAndToolIsReachable) {
  const config::McpAccess open;
  EXPECT_TRUE(may_call_tool(open, "everything", "echo"));
}

TEST(McpAccess, AToolMustBeAllowedAndNotDenied) {
  config::McpAccess access;
  access.allow_tools = {"everything__*"};
  access.deny_tools = {"*__get-env"};
  EXPECT_TRUE(may_call_tool(access, "everything", "echo"));
  EXPECT_FALSE(may_call_tool(access, "everything", "get-env"));
  EXPECT_FALSE(may_call_tool(access, "second", "echo"));
}

TEST(McpAccess, AServerOutsideTheKeysListHasNoCallableTool) {
  config::McpAccess access;
  access.servers = {"second"};
  EXPECT_TRUE(access.may_use_server("second"));
  EXPECT_FALSE(access.may_use_server("everything"));
  EXPECT_FALSE(may_call_tool(access, "everything", "echo"));
  EXPECT_TRUE(may_call_tool(access, "second", "echo"));
}

}  // namespace
}  // namespace switchyard::mcp
