// The `mcp:` section: the servers the gateway federates and how its sessions are signed, and the
// message for each mistake.
#include <gtest/gtest.h>

#include "config_messages.hpp"
#include "switchyard/config/config.hpp"

namespace switchyard::config {
namespace {

constexpr std::string_view kMinimal = R"(providers:
  p: { type: openai, base_url: https://api.example.com }
models:
  m: { provider: p }
)";

LoadResult load_mcp(std::string_view mcp) {
  return load_yaml(std::string(kMinimal) + std::string(mcp));
}

// One stdio server whose `key` is `value` (YAML), after `head` (sections it names).
LoadResult with_server(std::string_view key, std::string_view value, std::string_view head = "") {
  return load_yaml(std::string(kMinimal) + std::string(head) + R"(mcp:
  servers:
    everything:
      transport: stdio
      command: x
      )" + std::string(key) +
                   ": " + std::string(value) + "\n");
}

TEST(ConfigMcp, IsOffWithoutTheSection) {
  const auto result = load_yaml(kMinimal);
  ASSERT_TRUE(result.config) << joined(result);
  EXPECT_FALSE(result.config->mcp.enabled);
}

TEST(ConfigMcp, ReadsStdioAndHttpServers) {
  const auto result = load_mcp(R"(mcp:
  session_secret: "0123456789abcdef0123456789abcdef"
  allowed_origins: ["https://app.example.com"]
  max_message: 1MiB
  list_timeout: 2s
  page_size: 50
  readiness: any
  servers:
    everything:
      transport: stdio
      command: npx
      args: ["-y", "server-everything"]
      env: { LOG: debug }
      timeout: 90s
      rpm: 120
      max_concurrency: 4
    remote:
      transport: http
      url: https://mcp.example.com/mcp
      headers: { Authorization: "Bearer t" }
    local:
      transport: http
      url: http://127.0.0.1:3001/mcp
)");
  ASSERT_TRUE(result.config) << joined(result);
  const Mcp& mcp = result.config->mcp;
  EXPECT_TRUE(mcp.enabled);
  EXPECT_EQ(mcp.max_message, 1024u * 1024u);
  EXPECT_EQ(mcp.list_timeout, Millis(2'000));
  EXPECT_EQ(mcp.page_size, 50u);
  EXPECT_EQ(mcp.readiness, Mcp::Readiness::any);
  EXPECT_EQ(mcp.allowed_origins, std::vector<std::string>{"https://app.example.com"});
  ASSERT_EQ(mcp.servers.size(), 3u);
  const McpServer* everything = mcp.find_server("everything");
  ASSERT_NE(everything, nullptr);
  EXPECT_EQ(everything->transport, McpServer::Transport::stdio);
  EXPECT_EQ(everything->command, "npx");
  EXPECT_EQ(everything->args, (std::vector<std::string>{"-y", "server-everything"}));
  EXPECT_EQ(everything->env.at(0), (std::pair<std::string, std::string>{"LOG", "debug"}));
  EXPECT_EQ(everything->timeout, Millis(90'000));
  EXPECT_EQ(everything->rpm, 120u);
  EXPECT_EQ(everything->max_concurrency, 4u);
  const McpServer* remote = mcp.find_server("remote");
  ASSERT_NE(remote, nullptr);
  EXPECT_EQ(remote->transport, McpServer::Transport::http);
  EXPECT_TRUE(remote->url.tls);
  EXPECT_EQ(remote->url.host, "mcp.example.com");
  EXPECT_EQ(remote->url.path, "/mcp");
  EXPECT_EQ(remote->headers.at(0).second, "Bearer t");
  ASSERT_NE(mcp.find_server("local"), nullptr);  // plain http is fine on loopback
}

TEST(ConfigMcp, AKeyNamesItsServersToolsAndLimits) {
  auto with_servers = [](std::string_view servers) {
    return load_mcp(R"(mcp:
  servers:
    everything: { transport: stdio, command: x }
keys:
  app:
    sha256: 0000000000000000000000000000000000000000000000000000000000000000
    mcp:
      servers: )" + std::string(servers) +
                    R"(
      tools: { allow: ["everything__*"], deny: ["*__get-env"] }
      rpm: 30
      max_concurrency: 2
)");
  };
  EXPECT_EQ(joined(with_servers("[everythin]")),
            "test.yaml:12:17: keys.app.mcp.servers[0]: unknown MCP server 'everythin'\n");
  const auto result = with_servers("[everything]");
  ASSERT_TRUE(result.config) << joined(result);
  const McpAccess& access = result.config->keys.at(0).mcp;
  EXPECT_EQ(access.servers, std::vector<std::string>{"everything"});
  EXPECT_EQ(access.allow_tools, std::vector<std::string>{"everything__*"});
  EXPECT_EQ(access.deny_tools, std::vector<std::string>{"*__get-env"});
  EXPECT_EQ(access.rpm, 30u);
  EXPECT_EQ(access.max_concurrency, 2u);
}

TEST(ConfigMcp, AServersSamplingNamesRoutesOrModels) {
  const auto with_sampling = [](std::string_view sampling) {
    return with_server("sampling", sampling, "routes:\n  cheap: { targets: [m] }\n");
  };
  const auto result = with_sampling("{ route: cheap, models: { claude: m, gpt: cheap } }");
  ASSERT_TRUE(result.config) << joined(result);
  const McpServer::Sampling& sampling = result.config->mcp.servers.at(0).sampling;
  EXPECT_EQ(sampling.route, "cheap");
  const std::vector<std::pair<std::string, std::string>> models{{"claude", "m"}, {"gpt", "cheap"}};
  EXPECT_EQ(sampling.models, models);
  EXPECT_EQ(joined(with_sampling("{ route: dear, models: { claude: nowhere } }")),
            "test.yaml:12:26: mcp.servers.everything.sampling.route: no route or model named "
            "'dear'\n"
            "test.yaml:12:50: mcp.servers.everything.sampling.models.claude: no route or model "
            "named 'nowhere'\n");
  EXPECT_EQ(joined(with_sampling("{ models: { claude: m } }")),
            "test.yaml:12:17: mcp.servers.everything.sampling: missing required key 'route'\n");
}

TEST(ConfigMcp, AServersRootsAreFileUrisByName) {
  const auto with_roots = [](std::string_view roots) { return with_server("roots", roots); };
  const auto result = with_roots("{ data: file:///srv/data, home: \"file:///home/app\" }");
  ASSERT_TRUE(result.config) << joined(result);
  const std::vector<std::pair<std::string, std::string>> roots{{"data", "file:///srv/data"},
                                                               {"home", "file:///home/app"}};
  EXPECT_EQ(result.config->mcp.servers.at(0).roots, roots);
  EXPECT_EQ(joined(with_roots("{ web: https://example.com/ }")),
            "test.yaml:10:21: mcp.servers.everything.roots.web: a root is a file:// URI\n");
}

TEST(ConfigMcp, AnEmptySecretIsNoneAndTheProcessMakesItsOwn) {
  const auto result = load_mcp("mcp:\n  session_secret: \"\"\n  previous_session_secret: \"\"\n");
  ASSERT_TRUE(result.config) << joined(result);
  EXPECT_TRUE(result.config->mcp.session_secret.empty());
}

TEST(ConfigMcp, ReportsEachMistakeWithItsPosition) {
  const auto result = load_mcp(R"(mcp:
  session_secret: short
  servers:
    Bad__Name: { transport: stdio, command: x }
    no-command: { transport: stdio }
    mixed: { transport: stdio, command: x, url: "https://a.example.com" }
    pigeon: { transport: carrier }
    remote: { transport: http, url: "http://mcp.example.com/mcp" }
)");
  EXPECT_EQ(joined(result),
            "test.yaml:6:19: mcp.session_secret: a session secret has at least 32 characters\n"
            "test.yaml:8:5: mcp.servers.Bad__Name: a server name is 1 to 32 lower-case letters, "
            "digits and '-'\n"
            "test.yaml:9:17: mcp.servers.no-command: missing required key 'command'\n"
            "test.yaml:10:44: mcp.servers.mixed.url: not used by transport stdio\n"
            "test.yaml:11:26: mcp.servers.pigeon.transport: expected one of stdio, http, sse, got "
            "'carrier'\n"
            "test.yaml:12:37: mcp.servers.remote.url: plain http to mcp.example.com would send the "
            "server's credentials in the clear (use https)\n");
}

}  // namespace
}  // namespace switchyard::config
