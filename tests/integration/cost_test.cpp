// What a request cost: the serving model's prices applied to the usage its provider reported,
// in x-switchyard-cost (JSON answers) and in the log line (streams too).
#include <gtest/gtest.h>

#include "harness.hpp"

namespace switchyard::testing {
namespace {

// USD per 1M tokens: input 1000, cached input 250, output 4000 — large enough that a few tokens
// make a readable number.
std::string priced_config(int port) {
  return "providers:\n"
         "  local:\n"
         "    type: openai\n"
         "    base_url: http://127.0.0.1:" +
         std::to_string(port) +
         "/v1\n"
         "    forward_headers: [\"x-mock-*\"]\n"
         "models:\n"
         "  priced: { provider: local, input: 1000, cached_input: 250, output: 4000 }\n"
         "  unpriced: { provider: local }\n";
}

double expected_cost(const json& usage) {
  const double prompt = usage["prompt_tokens"];
  const double completion = usage["completion_tokens"];
  const double cached =
      usage.value("prompt_tokens_details", json::object()).value("cached_tokens", 0);
  return ((prompt - cached) * 1000 + cached * 250 + completion * 4000) / 1e6;
}

// The usage object of an SSE stream's usage chunk; null when no chunk carried one.
json stream_usage(const std::string& sse_body) {
  json usage;
  for (const auto& payload : sse_data(sse_body)) {
    if (payload == "[DONE]") continue;
    const json chunk = json::parse(payload);
    if (chunk.value("usage", json()).is_object()) usage = chunk["usage"];
  }
  return usage;
}

TEST(Cost, AJsonAnswerSaysWhatItCostInAHeaderAndTheLog) {
  TempDir dir;
  Mock mock(dir, "alpha");
  Gateway gw(dir, priced_config(mock.port()));
  HttpClient client(gw.port());
  const auto r = client.post_json("/v1/chat/completions", chat_body("priced"),
                                  {{"x-mock-cached-tokens", "4"}, {"x-request-id", "cost-json"}});
  ASSERT_EQ(r.status, 200) << r.body;
  const auto usage = r.json_body()["usage"];
  ASSERT_EQ(usage["prompt_tokens_details"]["cached_tokens"], 4) << usage.dump();
  const double cost = expected_cost(usage);
  ASSERT_GT(cost, 0);
  EXPECT_NEAR(std::stod(r.header("x-switchyard-cost")), cost, 1e-9)
      << r.header("x-switchyard-cost");
  const auto line = gw.request_log("cost-json");
  EXPECT_NEAR(line["cost_usd"].get<double>(), cost, 1e-9) << line.dump();
  EXPECT_EQ(line["prompt_tokens"], usage["prompt_tokens"]);
}

TEST(Cost, AStreamReportsItsCostInTheLog) {
  TempDir dir;
  Mock mock(dir, "alpha");
  Gateway gw(dir, priced_config(mock.port()));
  HttpClient client(gw.port());
  const auto r = client.post_json("/v1/chat/completions", chat_body("priced", true, true),
                                  {{"x-request-id", "cost-stream"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(r.header("x-switchyard-cost").empty());  // the head left before the usage came
  const json usage = stream_usage(r.body);
  ASSERT_TRUE(usage.is_object()) << r.body;
  const auto line = gw.request_log("cost-stream");
  EXPECT_NEAR(line["cost_usd"].get<double>(), expected_cost(usage), 1e-9) << line.dump();
}

TEST(Cost, AStreamWhoseClientAskedNoUsageIsCostedWithoutShowingIt) {
  TempDir dir;
  Mock mock(dir, "alpha");
  Gateway gw(dir, priced_config(mock.port()));
  HttpClient client(gw.port());
  const auto r = client.post_json("/v1/chat/completions", chat_body("priced", true, false),
                                  {{"x-request-id", "cost-quiet"}});
  ASSERT_EQ(r.status, 200) << r.body;
  // The gateway asked the upstream for the usage ...
  const auto seen = mock.requests();
  ASSERT_EQ(seen.size(), 1u);
  const auto sent = json::parse(seen[0]["body"].get<std::string>());
  EXPECT_EQ(sent["stream_options"]["include_usage"], true) << sent.dump();
  // ... the client did not get it, and the stream is otherwise whole ...
  const auto data = sse_data(r.body);
  ASSERT_FALSE(data.empty());
  EXPECT_EQ(data.back(), "[DONE]");
  for (const auto& payload : data) {
    if (payload == "[DONE]") continue;
    const auto chunk = json::parse(payload);
    EXPECT_TRUE(!chunk.contains("usage") || chunk["usage"].is_null()) << payload;
  }
  // ... and the log has its cost, from the usage the upstream sent.
  const json usage = stream_usage(seen[0]["response_body"].get<std::string>());
  ASSERT_TRUE(usage.is_object());
  const auto line = gw.request_log("cost-quiet");
  EXPECT_NEAR(line["cost_usd"].get<double>(), expected_cost(usage), 1e-9) << line.dump();
}

TEST(Cost, AnUnpricedModelCostsZero) {
  TempDir dir;
  Mock mock(dir, "alpha");
  Gateway gw(dir, priced_config(mock.port()));
  HttpClient client(gw.port());
  const auto r = client.post_json("/v1/chat/completions", chat_body("unpriced"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("x-switchyard-cost"), "0");
}

}  // namespace
}  // namespace switchyard::testing
