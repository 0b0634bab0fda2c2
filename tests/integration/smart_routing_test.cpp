// Complexity routing, budgets and the external classifier, end to end: which mock a request
// reaches, what the response headers and the log line say, and what /admin/explain predicts.
#include <gtest/gtest.h>

#include "harness.hpp"

namespace switchyard::testing {
namespace {

std::string tiers_config(const Mock& cheap, const Mock& strong, const std::string& extra_routes,
                         const std::string& auto_extra = {}) {
  auto provider = [](const char* name, const Mock& m) {
    return "  " + std::string(name) +
           ": { type: openai, base_url: \"http://127.0.0.1:" + std::to_string(m.port()) +
           "/v1\" }\n";
  };
  return "providers:\n" + provider("cheap", cheap) + provider("strong", strong) +
         "models:\n"
         "  small: { provider: cheap, input: 0.1, output: 0.4 }\n"
         "  large: { provider: strong, input: 1000, output: 3000 }\n"
         "routes:\n"
         "  fast: { targets: [small] }\n" +
         extra_routes +
         "  auto:\n"
         "    complexity:\n"
         "      simple: fast\n"
         "      complex: smart\n"
         "      max_simple_tokens: 500\n" +
         auto_extra;
}

json long_chat(const std::string& model) {
  std::string text;
  for (int i = 0; i < 120; ++i) text += "Summarise the quarterly revenue figures in detail. ";
  json body = chat_body(model);
  body["messages"][1]["content"] = text;
  return body;
}

json tool_chat(const std::string& model) {
  json body = chat_body(model);
  body["tools"] =
      json::array({{{"type", "function"},
                    {"function",
                     {{"name", "get_weather"},
                      {"parameters", {{"type", "object"}, {"properties", json::object()}}}}}}});
  return body;
}

TEST(SmartRouting, AutoSendsAShortToolFreePromptToTheCheapTierAndTheRestToTheStrongOne) {
  TempDir dir;
  Mock cheap(dir, "cheap");
  Mock strong(dir, "strong");
  Gateway gw(dir, tiers_config(cheap, strong, "  smart: { targets: [large] }\n"));
  HttpClient client(gw.port());

  const auto simple = client.post_json("/v1/chat/completions", chat_body("auto"));
  ASSERT_EQ(simple.status, 200) << simple.body;
  EXPECT_EQ(simple.header("x-switchyard-provider"), "cheap");
  EXPECT_EQ(simple.header("x-switchyard-route"), "fast");
  EXPECT_EQ(simple.header("x-switchyard-complexity"), "simple");
  EXPECT_EQ(simple.json_body()["model"], "auto");

  const auto long_one = client.post_json("/v1/chat/completions", long_chat("auto"));
  ASSERT_EQ(long_one.status, 200) << long_one.body;
  EXPECT_EQ(long_one.header("x-switchyard-provider"), "strong");
  EXPECT_EQ(long_one.header("x-switchyard-complexity"), "complex");

  const auto with_tools = client.post_json("/v1/chat/completions", tool_chat("auto"));
  ASSERT_EQ(with_tools.status, 200) << with_tools.body;
  EXPECT_EQ(with_tools.header("x-switchyard-provider"), "strong");

  EXPECT_EQ(chat_requests(cheap), 1);
  EXPECT_EQ(chat_requests(strong), 2);

  const json line = gw.request_log(long_one.header("x-request-id"));
  EXPECT_EQ(line["model"], "auto");
  EXPECT_EQ(line["route"], "smart");
  EXPECT_EQ(line["complexity"], "complex");
  const std::string reason = line["routing_reason"];
  EXPECT_NE(reason.find("estimated prompt tokens >= 500"), std::string::npos) << reason;
  EXPECT_EQ(gw.request_log(with_tools.header("x-request-id"))["routing_reason"], "complex (tools)");
}

TEST(SmartRouting, ANamedRouteOrModelIsNeverReroutedByComplexity) {
  TempDir dir;
  Mock cheap(dir, "cheap");
  Mock strong(dir, "strong");
  Gateway gw(dir, tiers_config(cheap, strong, "  smart: { targets: [large] }\n"));
  HttpClient client(gw.port());
  const auto r = client.post_json("/v1/chat/completions", long_chat("small"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("x-switchyard-provider"), "cheap");
  EXPECT_EQ(r.header("x-switchyard-complexity"), "");
  const auto tools = client.post_json("/v1/chat/completions", tool_chat("fast"));
  EXPECT_EQ(tools.header("x-switchyard-provider"), "cheap");
  EXPECT_EQ(chat_requests(strong), 0);
}

TEST(SmartRouting, ARouteOverItsBudgetHandsOverToItsThenRoute) {
  TempDir dir;
  Mock cheap(dir, "cheap");
  Mock strong(dir, "strong");
  // Each answer of `large` costs a few cents at these prices (mock usage: body bytes / 4 prompt
  // tokens), so a 10-cent day is spent after a handful.
  Gateway gw(dir, tiers_config(cheap, strong,
                               "  smart: { targets: [large], budget: { usd_per_day: 0.1, then: "
                               "fast } }\n"));
  HttpClient client(gw.port());
  double spent = 0;
  int strong_answers = 0;
  while (spent < 0.1) {
    const auto r = client.post_json("/v1/chat/completions", chat_body("smart"));
    ASSERT_EQ(r.status, 200) << r.body;
    ASSERT_EQ(r.header("x-switchyard-provider"), "strong") << "after $" << spent;
    spent += std::stod(r.header("x-switchyard-cost"));
    ++strong_answers;
    ASSERT_LT(strong_answers, 50) << "the budget never ran out";
  }
  // Spent: the next request is served by `then`, and says why in the log.
  const auto after = client.post_json("/v1/chat/completions", chat_body("smart"));
  ASSERT_EQ(after.status, 200) << after.body;
  EXPECT_EQ(after.header("x-switchyard-provider"), "cheap");
  EXPECT_EQ(after.header("x-switchyard-route"), "fast");
  EXPECT_EQ(chat_requests(strong), strong_answers);
  EXPECT_EQ(chat_requests(cheap), 1);
  const json line = gw.request_log(after.header("x-request-id"));
  const std::string reason = line["routing_reason"];
  EXPECT_NE(reason.find("route 'smart' spent its budget"), std::string::npos) << reason;
  EXPECT_NE(reason.find("'fast' serves"), std::string::npos) << reason;
}

TEST(SmartRouting, ARouteOverItsBudgetWithoutThenAnswers429WithRetryAfter) {
  TempDir dir;
  Mock cheap(dir, "cheap");
  Mock strong(dir, "strong");
  Gateway gw(dir, tiers_config(cheap, strong,
                               "  smart: { targets: [large], budget: { usd_per_minute: 0.000001 "
                               "} }\n"));
  HttpClient client(gw.port());
  ASSERT_EQ(client.post_json("/v1/chat/completions", chat_body("smart")).status, 200);
  const auto r = client.post_json("/v1/chat/completions", chat_body("smart"));
  EXPECT_EQ(r.status, 429) << r.body;
  EXPECT_EQ(r.json_body()["error"]["code"], "budget_exceeded");
  const std::string message = r.json_body()["error"]["message"];
  EXPECT_NE(message.find("per minute"), std::string::npos) << message;
  const int retry_after = std::stoi(r.header("retry-after"));
  EXPECT_GE(retry_after, 1);
  EXPECT_LE(retry_after, 60);
  EXPECT_EQ(r.header("x-switchyard-attempts"), "0");
  EXPECT_EQ(chat_requests(strong), 1);
  const json line = gw.request_log(r.header("x-request-id"));
  EXPECT_EQ(line["status"], 429);
  EXPECT_EQ(line["route"], "smart");
}

std::string with_judge(const std::string& timeout) {
  return "      classifier: { model: judge, timeout: " + timeout + ", threshold: 0.5 }\n";
}

std::string judged_config(const Mock& cheap, const Mock& strong, const Mock& judge,
                          const std::string& timeout) {
  std::string config =
      tiers_config(cheap, strong, "  smart: { targets: [large] }\n", with_judge(timeout));
  // The judge is one more provider and model.
  const auto at = config.find("models:\n");
  config.insert(at, "  judging: { type: openai, base_url: \"http://127.0.0.1:" +
                        std::to_string(judge.port()) + "/v1\" }\n");
  config.insert(config.find("routes:\n"), "  judge: { provider: judging, name: tiny-judge }\n");
  return config;
}

TEST(SmartRouting, TheClassifiersScoreSendsAShortHardPromptToTheStrongTier) {
  TempDir dir;
  Mock cheap(dir, "cheap");
  Mock strong(dir, "strong");
  Mock judge(dir, "judge");
  set_mock_defaults(judge, {{"content", "0.9"}});
  Gateway gw(dir, judged_config(cheap, strong, judge, "2s"));
  HttpClient client(gw.port());
  const auto r = client.post_json("/v1/chat/completions", chat_body("auto"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("x-switchyard-provider"), "strong");
  EXPECT_EQ(chat_requests(judge), 1);
  // The judge was asked about the user's message, as its own upstream model.
  const json asked = judge.requests(1)[0];
  const std::string sent = asked["body"].dump();
  EXPECT_NE(sent.find("tiny-judge"), std::string::npos) << sent;
  EXPECT_NE(sent.find("Say hello"), std::string::npos) << sent;
  EXPECT_EQ(gw.request_log(r.header("x-request-id"))["routing_reason"],
            "complex (classifier score 0.90 >= 0.50)");
  // A long prompt is complex without asking.
  ASSERT_EQ(client.post_json("/v1/chat/completions", long_chat("auto")).status, 200);
  EXPECT_EQ(chat_requests(judge), 1);
}

TEST(SmartRouting, AClassifierTimeoutFallsBackToTheHeuristicAndIsCounted) {
  TempDir dir;
  Mock cheap(dir, "cheap");
  Mock strong(dir, "strong");
  Mock judge(dir, "judge");
  set_mock_defaults(judge, {{"content", "0.9"}, {"delay-ms", "2000"}});
  Gateway gw(dir, judged_config(cheap, strong, judge, "50ms"));
  HttpClient client(gw.port());
  const auto started = std::chrono::steady_clock::now();
  const auto r = client.post_json("/v1/chat/completions", chat_body("auto"));
  const auto took = std::chrono::steady_clock::now() - started;
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("x-switchyard-provider"), "cheap");
  EXPECT_LT(took, 1500ms);
  const std::string reason = gw.request_log(r.header("x-request-id"))["routing_reason"];
  EXPECT_EQ(reason.rfind("simple (classifier timed out; ", 0), 0u) << reason;
  HttpClient admin(gw.port());
  const json counters = admin.get("/admin/health").json_body()["counters"];
  EXPECT_EQ(counters["classifier_calls"], 1);
  EXPECT_EQ(counters["classifier_fallbacks"], 1);
}

TEST(SmartRouting, ExplainShowsTheChoiceAndPlanWithoutCallingAnyProvider) {
  TempDir dir;
  Mock cheap(dir, "cheap");
  Mock strong(dir, "strong");
  Mock judge(dir, "judge");
  Gateway gw(dir, judged_config(cheap, strong, judge, "50ms"));
  HttpClient client(gw.port());
  const auto r = client.post_json("/admin/explain", long_chat("auto"));
  ASSERT_EQ(r.status, 200) << r.body;
  const json explained = r.json_body();
  EXPECT_EQ(explained["route"], "smart");
  EXPECT_EQ(explained["complexity"]["decision"], "complex");
  EXPECT_GE(explained["complexity"]["signals"]["estimated_prompt_tokens"], 500);
  EXPECT_EQ(explained["complexity"]["signals"]["tools"], false);
  EXPECT_EQ(explained["complexity"]["classifier"]["model"], "judge");
  ASSERT_EQ(explained["plan"].size(), 1u);
  EXPECT_EQ(explained["plan"][0]["provider"], "strong");
  EXPECT_EQ(explained["plan"][0]["breaker"], "closed");

  const auto simple = client.post_json("/admin/explain", chat_body("auto"));
  ASSERT_EQ(simple.status, 200) << simple.body;
  EXPECT_EQ(simple.json_body()["route"], "fast");
  const std::string reason = simple.json_body()["reason"];
  EXPECT_NE(reason.find("not asked by explain"), std::string::npos) << reason;

  EXPECT_EQ(client.post_json("/admin/explain", chat_body("nope")).status, 404);
  EXPECT_EQ(client.request("POST", "/admin/explain", "{").status, 400);
  EXPECT_EQ(chat_requests(cheap) + chat_requests(strong) + chat_requests(judge), 0);
}

TEST(SmartRouting, AnEmbeddingsRequestToAClassifierRouteIsRefused) {
  TempDir dir;
  Mock cheap(dir, "cheap");
  Mock strong(dir, "strong");
  Gateway gw(dir, tiers_config(cheap, strong, "  smart: { targets: [large] }\n"));
  HttpClient client(gw.port());
  const auto r = client.post_json("/v1/embeddings", {{"model", "auto"}, {"input", "hello"}});
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(r.json_body()["error"]["code"], "model_not_supported");
}

TEST(SmartRouting, AProviderTpmLimitSpillsToTheNextTarget) {
  TempDir dir;
  Mock first(dir, "first");
  Mock second(dir, "second");
  const std::string config =
      "providers:\n"
      "  first: { type: openai, base_url: \"http://127.0.0.1:" +
      std::to_string(first.port()) +
      "/v1\", rate_limit: { tpm: 1000 } }\n"
      "  second: { type: openai, base_url: \"http://127.0.0.1:" +
      std::to_string(second.port()) +
      "/v1\" }\n"
      "models:\n"
      "  a: { provider: first }\n"
      "  b: { provider: second }\n"
      "routes:\n"
      "  chain: { targets: [a, b] }\n";
  // Each answer uses about 360 tokens (the mock's prompt count, body bytes / 4, plus 300
  // completion tokens).
  set_mock_defaults(first, {{"chunks", "300"}});
  Gateway gw(dir, config);
  HttpClient client(gw.port());
  // Each request reserves its estimated prompt (about 30 tokens) plus max_tokens 400 before it
  // is sent, corrected to the reported usage after.
  json body = chat_body("chain");
  body["max_tokens"] = 400;
  std::vector<std::string> served;
  for (int i = 0; i < 3; ++i) {
    const auto r = client.post_json("/v1/chat/completions", body);
    ASSERT_EQ(r.status, 200) << r.body;
    served.push_back(r.header("x-switchyard-provider"));
  }
  // 1000 → 640 left after the first answer, 280 after the second: the third's 430 do not fit.
  EXPECT_EQ(served[0], "first");
  EXPECT_EQ(served[1], "first");
  EXPECT_EQ(served[2], "second");
}

}  // namespace
}  // namespace switchyard::testing
