// The gateway as the client of an MCP server over Streamable HTTP (switchyard-mock's /mcp, which
// serves POSTs only): what reaches the server while a client session is open.
#include <gtest/gtest.h>

#include "harness.hpp"

namespace switchyard::testing {
namespace {

TEST(McpUpstream, AClientStreamAtAServerThatServesNoneCostsNoNewSessions) {
  TempDir dir;
  Mock mock(dir, "mcp");
  const std::string at = "http://127.0.0.1:" + std::to_string(mock.port());
  Gateway gw(dir,
             "server:\n  workers: 1\n"
             "providers:\n  one: { type: openai, base_url: \"" +
                 at +
                 "/v1\" }\n"
                 "models:\n  small: { provider: one, name: small-v1 }\n"
                 "routes:\n  default: { targets: [small] }\n"
                 "mcp:\n  servers:\n    mock: { transport: http, url: \"" +
                 at + "/mcp\" }\n");
  HttpClient client(gw.port());
  const auto opened = mcp_initialize(client);
  ASSERT_EQ(opened.status, 200) << opened.body;
  const std::string session = opened.header("mcp-session-id");
  // The client's stream, held open: the gateway asks the server for the stream of the client's
  // session, and the mock refuses every GET (404).
  RawConnection stream(gw.port());
  stream.send(
      "GET /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n"
      "Mcp-Session-Id: " +
      session + "\r\n\r\n");
  EXPECT_NE(stream.receive(std::chrono::milliseconds(2'000)).find("200 OK"), std::string::npos);
  // The gateway's session and the client's, each initialized once; GETs backed off.
  const json requests = mock.stats()["requests"];
  EXPECT_EQ(requests.value("POST /mcp", 0), 4) << requests.dump();
  EXPECT_LE(requests.value("GET /mcp", 0), 6) << requests.dump();
  // A call in the client's session still goes through.
  const auto called = client.post_json(
      "/mcp",
      mcp_request(2, "tools/call", {{"name", "mock__echo"}, {"arguments", {{"message", "hi"}}}}),
      mcp_headers(session));
  EXPECT_EQ(called.status, 200);
  EXPECT_NE(called.body.find("\"hi\""), std::string::npos) << called.body;
}

}  // namespace
}  // namespace switchyard::testing
