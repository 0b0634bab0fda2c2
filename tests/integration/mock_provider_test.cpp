// switchyard-mock's own behaviour where the gateway's tests lean on it being exact: delays
// spread over a share of requests, a slow-loris upstream, defaults changed at run time, and
// connections cut before or after the response head.
#include <gtest/gtest.h>

#include <string_view>

#include "harness.hpp"

namespace switchyard::testing {
namespace {

using Clock = std::chrono::steady_clock;

std::string raw_request(const std::string& method, const std::string& target,
                        const std::string& extra_headers, const std::string& body = {}) {
  return method + " " + target + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" +
         extra_headers + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

TEST(MockProvider, DelaysExactlyTheScriptedShareOfRequestsSpreadEvenly) {
  TempDir dir;
  Mock mock(dir, "spread");
  HttpClient client(mock.port());
  std::vector<int> slow;
  for (int k = 1; k <= 20; ++k) {
    const auto started = Clock::now();
    const auto r = client.post_json("/v1/chat/completions", chat_body("m"),
                                    {{"x-mock-delay-ms", "300"}, {"x-mock-delay-percent", "10"}});
    ASSERT_EQ(r.status, 200) << r.body;
    // An undelayed answer takes a millisecond or two; a delayed one at least the delay.
    if (Clock::now() - started >= 250ms) slow.push_back(k);
  }
  EXPECT_EQ(slow, (std::vector<int>{10, 20}));

  // A reset starts the count again: the 10th request after it is the next slow one.
  reset_mock(mock);
  set_mock_defaults(mock, {{"delay-ms", "300"}, {"delay-percent", "10"}});
  slow.clear();
  for (int k = 1; k <= 10; ++k) {
    const auto started = Clock::now();
    ASSERT_EQ(client.get("/v1/models").status, 200);
    if (Clock::now() - started >= 250ms) slow.push_back(k);
  }
  EXPECT_EQ(slow, std::vector<int>{10});
}

TEST(MockProvider, TricklesTheWholeResponseHeadIncludedAByteAtATime) {
  TempDir dir;
  Mock mock(dir, "loris");
  RawConnection raw(mock.port());
  raw.send(raw_request("GET", "/v1/models", "x-mock-trickle-ms: 40\r\n"));
  // Within 200 ms at most six bytes (one at once, then one every 40 ms), all of the status line.
  const std::string start = raw.receive(200ms);
  ASSERT_FALSE(start.empty());
  EXPECT_LE(start.size(), 6u) << start;
  EXPECT_TRUE(std::string_view("HTTP/1.1 200 OK\r\n").starts_with(start)) << start;
  raw.close();

  // Byte by byte, it is still the same response.
  HttpClient client(mock.port());
  const auto whole = client.get("/v1/models");
  const auto started = Clock::now();
  const auto trickled = client.request("GET", "/v1/models", {}, {{"x-mock-trickle-ms", "1"}});
  EXPECT_GE(Clock::now() - started, std::chrono::milliseconds(trickled.body.size()));
  EXPECT_EQ(trickled.status, 200);
  EXPECT_EQ(trickled.body, whole.body);

  const auto stream = client.post_json("/v1/chat/completions", chat_body("m", true),
                                       {{"x-mock-trickle-ms", "1"}, {"x-mock-chunks", "2"}});
  ASSERT_EQ(stream.status, 200);
  EXPECT_EQ(sse_data(stream.body).back(), "[DONE]");
}

TEST(MockProvider, DefaultsSetAtRunTimeApplyToRequestsWithoutScriptHeaders) {
  TempDir dir;
  Mock mock(dir, "flaky");
  HttpClient client(mock.port());
  ASSERT_EQ(client.get("/v1/models").status, 200);

  set_mock_defaults(mock, {{"status", "503"}, {"retry-after", "7"}});
  const auto models = client.get("/v1/models");
  EXPECT_EQ(models.status, 503);
  EXPECT_EQ(models.header("retry-after"), "7");
  EXPECT_EQ(client.post_json("/v1/chat/completions", chat_body("m")).status, 503);
  // A header still overrides the defaults for its request.
  EXPECT_EQ(
      client.post_json("/v1/chat/completions", chat_body("m"), {{"x-mock-status", "200"}}).status,
      200);

  // All or nothing: one bad directive and none of them is applied.
  const auto refused =
      client.post_json("/_mock/defaults", {{"status", "429"}, {"delay-ms", "soon"}});
  EXPECT_EQ(refused.status, 400);
  EXPECT_NE(refused.body.find("bad value for delay-ms: 'soon'"), std::string::npos) << refused.body;
  EXPECT_EQ(client.post_json("/_mock/defaults", {{"colour", "red"}}).status, 400);
  EXPECT_EQ(client.post_json("/_mock/defaults", json::array({"status"})).status, 400);
  EXPECT_EQ(client.get("/v1/models").status, 503);

  // On top of the current defaults: {} changes nothing, a new directive keeps the old ones.
  set_mock_defaults(mock, json::object());
  set_mock_defaults(mock, {{"error-message", "down for maintenance"}});
  const auto still = client.get("/v1/models");
  EXPECT_EQ(still.status, 503);
  EXPECT_NE(still.body.find("down for maintenance"), std::string::npos) << still.body;

  // Recovery: by directive, or by a reset back to the command line's defaults.
  set_mock_defaults(mock, {{"status", "200"}});
  EXPECT_EQ(client.get("/v1/models").status, 200);
  set_mock_defaults(mock, {{"status", "500"}});
  reset_mock(mock);
  EXPECT_EQ(client.get("/v1/models").status, 200);
  EXPECT_EQ(mock.stats()["requests"]["GET /v1/models"], 1);
}

TEST(MockProvider, AResetRestoresTheCommandLineDefaultsNotNone) {
  TempDir dir;
  Mock mock(dir, {"down", {"--status", "502"}});
  HttpClient client(mock.port());
  EXPECT_EQ(client.get("/v1/models").status, 502);
  set_mock_defaults(mock, {{"status", "200"}});
  EXPECT_EQ(client.get("/v1/models").status, 200);
  reset_mock(mock);
  EXPECT_EQ(client.get("/v1/models").status, 502);
}

TEST(MockProvider, CutsAStreamBeforeItsHeadOnlyWithDropBeforeHead) {
  TempDir dir;
  Mock mock(dir, "cutter");
  const std::string body = chat_body("m", true).dump();

  RawConnection before_head(mock.port());
  before_head.send(
      raw_request("POST", "/v1/chat/completions", "x-mock-drop-before-head: 1\r\n", body));
  EXPECT_EQ(before_head.receive(3000ms), "");

  // drop-after 0 on a stream cuts after the 200 head and the role chunk.
  RawConnection after_head(mock.port());
  after_head.send(raw_request("POST", "/v1/chat/completions", "x-mock-drop-after: 0\r\n", body));
  const std::string head = after_head.receive(3000ms);
  EXPECT_TRUE(head.starts_with("HTTP/1.1 200 OK\r\n")) << head;
  EXPECT_NE(head.find("\"role\":\"assistant\""), std::string::npos) << head;
  EXPECT_EQ(head.find("[DONE]"), std::string::npos) << head;

  // Without a stream, drop-after 0 already cuts before the head; so does drop-before-head.
  const std::string plain = chat_body("m").dump();
  for (const char* directive : {"x-mock-drop-after: 0\r\n", "x-mock-drop-before-head: 1\r\n"}) {
    RawConnection raw(mock.port());
    raw.send(raw_request("POST", "/v1/chat/completions", directive, plain));
    EXPECT_EQ(raw.receive(3000ms), "") << directive;
  }
  RawConnection models(mock.port());
  models.send(raw_request("GET", "/v1/models", "x-mock-drop-before-head: 1\r\n"));
  EXPECT_EQ(models.receive(3000ms), "");

  const auto seen = mock.requests();
  ASSERT_EQ(seen.size(), 5u);
  for (const auto& request : seen) EXPECT_FALSE(request["completed"].get<bool>()) << request;
}

}  // namespace
}  // namespace switchyard::testing
