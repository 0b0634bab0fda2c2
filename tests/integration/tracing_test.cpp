// Spans exported over OTLP/HTTP JSON to a collector on loopback (tests/integration/otlp_receiver):
// the request's server span under the client's span, one client span per upstream attempt whose
// id is the parent the upstream was told about, GenAI attributes; an MCP call's attributes and
// its server's part and a span per server a list waited for; sampling; a dead collector.
#include <gtest/gtest.h>

#include <map>

#include "harness.hpp"
#include "otlp_receiver.hpp"

namespace switchyard::testing {
namespace {

std::string config_for(int first, int second, const std::string& tracing) {
  return "server:\n  workers: 2\n"
         "providers:\n"
         "  one:\n    type: openai\n    base_url: http://127.0.0.1:" +
         std::to_string(first) +
         "/v1\n"
         "  two:\n    type: openai\n    base_url: http://127.0.0.1:" +
         std::to_string(second) +
         "/v1\n"
         "models:\n"
         "  small: { provider: one, name: small-v1, input: 1.0, output: 2.0 }\n"
         "  large: { provider: two, name: large-v1, input: 3.0, output: 4.0 }\n"
         "routes:\n"
         "  default: { targets: [small, large], retry: { attempts: 1 } }\n"
         "tracing:\n" +
         tracing;
}

std::string tracing_to(const OtlpReceiver& collector, const std::string& more = "") {
  return "  endpoint: " + collector.endpoint() + "\n  interval: 100ms\n" + more;
}

const json* find_span(const std::vector<json>& spans, const std::string& id) {
  for (const auto& s : spans)
    if (s["spanId"] == id) return &s;
  return nullptr;
}

TEST(Tracing, SpansReachTheCollectorLinkedToTheClientsTraceAndToWhatTheUpstreamsWereSent) {
  TempDir dir;
  Mock first(dir, "first"), second(dir, "second");
  set_mock_defaults(first, {{"status", "503"}});
  OtlpReceiver collector;
  Gateway gw(dir, config_for(first.port(), second.port(),
                             tracing_to(collector, "  headers: { x-collector-token: t0k3n }\n")));
  HttpClient client(gw.port());
  const std::string trace = "4bf92f3577b34da6a3ce929d0e0e4736";
  const std::string client_span = "00f067aa0ba902b7";
  const auto response =
      client.post_json("/v1/chat/completions", chat_body("default"),
                       {{"traceparent", "00-" + trace + "-" + client_span + "-01"}});
  ASSERT_EQ(response.status, 200) << response.body;

  ASSERT_TRUE(collector.wait_for([](const auto& r) { return otlp_spans(r).size() >= 3; }))
      << gw.process().out();
  const auto received = collector.received();
  EXPECT_EQ(received[0].target, "/v1/traces");
  EXPECT_EQ(received[0].header("content-type"), "application/json");
  EXPECT_EQ(received[0].header("x-collector-token"), "t0k3n");
  const auto spans = otlp_spans(received);
  ASSERT_EQ(spans.size(), 3u);
  for (const auto& s : spans) {
    EXPECT_EQ(s["traceId"], trace);
    EXPECT_EQ(s["resource"]["service.name"], "switchyard");
  }

  const json& server = spans[0];
  EXPECT_EQ(server["kind"], 2);
  EXPECT_EQ(server["name"], "POST /v1/chat/completions");
  EXPECT_EQ(server["parentSpanId"], client_span);
  EXPECT_EQ(server["attrs"]["http.response.status_code"], 200);
  EXPECT_EQ(server["attrs"]["gen_ai.request.model"], "default");
  EXPECT_EQ(server["attrs"]["gen_ai.response.model"], "large-v1");
  const json usage = response.json_body()["usage"];
  EXPECT_EQ(server["attrs"]["gen_ai.usage.input_tokens"], usage["prompt_tokens"]);
  EXPECT_EQ(server["attrs"]["gen_ai.usage.output_tokens"], usage["completion_tokens"]);
  EXPECT_EQ(server["attrs"]["switchyard.request_id"], response.header("x-request-id"));

  // Each upstream got a traceparent naming its attempt's span, a child of the server span.
  for (Mock* mock : {&first, &second}) {
    const std::string sent = mock->requests(1).back()["headers"]["traceparent"];
    ASSERT_EQ(sent.substr(3, 32), trace);
    const json* attempt = find_span(spans, sent.substr(36, 16));
    ASSERT_NE(attempt, nullptr) << sent;
    EXPECT_EQ((*attempt)["parentSpanId"], server["spanId"]);
    EXPECT_EQ((*attempt)["kind"], 3);
    EXPECT_EQ((*attempt)["attrs"]["gen_ai.system"], "openai");
    EXPECT_EQ((*attempt)["attrs"]["gen_ai.operation.name"], "chat");
    EXPECT_GE((*attempt)["startTimeUnixNano"].get<std::string>(),
              server["startTimeUnixNano"].get<std::string>());
  }
  const json* failed = find_span(
      spans, std::string(first.requests(1).back()["headers"]["traceparent"]).substr(36, 16));
  EXPECT_EQ((*failed)["name"], "chat small-v1");
  EXPECT_EQ((*failed)["attrs"]["http.response.status_code"], 503);
  EXPECT_EQ((*failed)["attrs"]["error.type"], "retryable");
  EXPECT_EQ((*failed)["status"]["code"], 2);
  const json* served = find_span(
      spans, std::string(second.requests(1).back()["headers"]["traceparent"]).substr(36, 16));
  EXPECT_EQ((*served)["attrs"]["gen_ai.response.model"], "large-v1");
  EXPECT_EQ((*served)["attrs"]["gen_ai.usage.input_tokens"], usage["prompt_tokens"]);
}

TEST(Tracing, AnMcpRequestHasItsMethodToolAndSessionAndSpansForTheServersPart) {
  TempDir dir;
  Mock first(dir, "first"), second(dir, "second");
  OtlpReceiver collector;
  const auto server_at = [](const std::string& name, int port) {
    return "    " + name + ": { transport: http, url: \"http://127.0.0.1:" + std::to_string(port) +
           "/mcp\" }\n";
  };
  Gateway gw(dir, config_for(first.port(), second.port(), tracing_to(collector)) +
                      "mcp:\n  servers:\n" + server_at("mock", first.port()) +
                      server_at("other", second.port()) + server_at("down", closed_port()));
  HttpClient client(gw.port());
  const auto opened = mcp_initialize(client);
  ASSERT_EQ(opened.status, 200) << opened.body;
  auto headers = mcp_headers(opened.header("mcp-session-id"));
  headers.emplace_back("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  const auto called = client.post_json(
      "/mcp",
      mcp_request(2, "tools/call", {{"name", "mock__echo"}, {"arguments", {{"message", "hi"}}}}),
      headers);
  ASSERT_EQ(called.status, 200) << called.body;

  ASSERT_TRUE(collector.wait_for([](const auto& r) {
    for (const auto& s : otlp_spans(r))
      if (s["attrs"].value("gen_ai.tool.name", "") == "echo") return true;
    return false;
  })) << gw.process().out();
  const auto spans = otlp_spans(collector.received());
  const json* server = nullptr;
  for (const auto& s : spans)
    if (s["attrs"].value("gen_ai.tool.name", "") == "echo") server = &s;
  EXPECT_EQ((*server)["attrs"]["mcp.method.name"], "tools/call");
  EXPECT_EQ((*server)["attrs"]["switchyard.mcp_server"], "mock");
  EXPECT_FALSE((*server)["attrs"]["mcp.session.id"].get<std::string>().empty());
  // What the server was told is the parent: the gateway's span for the server's part.
  json call_at_server;
  for (const auto& r : first.requests())
    if (std::string(r["body"]).find("tools/call") != std::string::npos) call_at_server = r;
  const std::string sent = call_at_server["headers"]["traceparent"];
  const json* call = find_span(spans, sent.substr(36, 16));
  ASSERT_NE(call, nullptr) << sent;
  EXPECT_EQ((*call)["name"], "mcp.call");
  EXPECT_EQ((*call)["kind"], 3);
  EXPECT_EQ((*call)["parentSpanId"], (*server)["spanId"]);
  EXPECT_EQ(json::parse(std::string(call_at_server["body"]))["params"]["_meta"]["traceparent"],
            sent);

  // A list at /mcp waits for every server's: a span each, under the servers' part, in error for
  // the server that is down.
  const auto listed = client.post_json("/mcp", mcp_request(3, "tools/list"), headers);
  ASSERT_EQ(listed.status, 200) << listed.body;
  std::map<std::string, json> lists;
  ASSERT_TRUE(collector.wait_for([&lists](const auto& r) {
    for (const auto& s : otlp_spans(r))
      if (s["name"] == "mcp.list") lists[s["attrs"]["switchyard.mcp_server"]] = s;
    return lists.size() == 3;
  })) << gw.process().out();
  const auto spans_now = otlp_spans(collector.received());
  const json* parent = find_span(spans_now, std::string(lists["mock"]["parentSpanId"]));
  ASSERT_NE(parent, nullptr);
  EXPECT_EQ((*parent)["name"], "mcp.call");
  EXPECT_EQ((*parent)["attrs"]["mcp.method.name"], "tools/list");
  for (const char* name : {"mock", "other", "down"}) {
    EXPECT_EQ(lists[name]["parentSpanId"], (*parent)["spanId"]) << name;
    EXPECT_EQ(lists[name]["kind"], 3) << name;
    EXPECT_EQ(lists[name]["status"].value("code", 0), std::string(name) == "down" ? 2 : 1) << name;
  }
}

TEST(Tracing, SamplingFollowsTheClientsFlagAndTheConfiguredRatio) {
  TempDir dir;
  Mock first(dir, "first"), second(dir, "second");
  OtlpReceiver collector;
  Gateway gw(dir, config_for(first.port(), second.port(), tracing_to(collector, "  sample: 0\n")));
  HttpClient client(gw.port());
  // The client's unsampled trace and the traces starting here (ratio 0) are not exported, but
  // still propagated; the client's sampled trace is.
  const std::string unsampled = "00-11111111111111111111111111111111-2222222222222222-00";
  ASSERT_EQ(
      client.post_json("/v1/chat/completions", chat_body("default"), {{"traceparent", unsampled}})
          .status,
      200);
  EXPECT_EQ(std::string(first.requests(1).back()["headers"]["traceparent"]).substr(0, 36),
            unsampled.substr(0, 36));
  ASSERT_EQ(client.post_json("/v1/chat/completions", chat_body("default")).status, 200);
  const std::string sampled = "00-33333333333333333333333333333333-4444444444444444-01";
  ASSERT_EQ(
      client.post_json("/v1/chat/completions", chat_body("default"), {{"traceparent", sampled}})
          .status,
      200);
  ASSERT_TRUE(collector.wait_for([](const auto& r) { return !otlp_spans(r).empty(); }));
  // Give a wrongly exported trace the time to arrive.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  for (const auto& span : otlp_spans(collector.received()))
    EXPECT_EQ(span["traceId"], "33333333333333333333333333333333");
}

TEST(Tracing, ACollectorThatIsDownNeverHoldsUpARequest) {
  TempDir dir;
  Mock first(dir, "first"), second(dir, "second");
  Gateway gw(dir, config_for(first.port(), second.port(),
                             "  endpoint: http://127.0.0.1:" + std::to_string(closed_port()) +
                                 "/v1/traces\n  interval: 50ms\n"));
  HttpClient client(gw.port());
  for (int i = 0; i < 20; ++i) {
    const auto response = client.post_json("/v1/chat/completions", chat_body("default"));
    ASSERT_EQ(response.status, 200);
    EXPECT_LT(std::stol(response.header("x-switchyard-overhead-us")), 50'000);
  }
  // Counted as failed once the exporter gave up on them.
  for (int i = 0; i < 100; ++i) {
    const auto metrics = client.get("/metrics").body;
    if (metrics.find("switchyard_trace_spans_total{result=\"failed\"} 40") != std::string::npos)
      return;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ADD_FAILURE() << client.get("/metrics").body;
}

}  // namespace
}  // namespace switchyard::testing
