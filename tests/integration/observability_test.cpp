// What an operator sees: the request log line, x-switchyard-overhead-us, W3C trace context
// reaching the upstream, /metrics (checked by promtool), the admin API, and the log's format and
// file options.
#include <gtest/gtest.h>

#include <csignal>
#include <fstream>
#include <regex>
#include <thread>

#include "harness.hpp"

namespace switchyard::testing {
namespace {

// Two targets on two mocks: `first` fails over to `second`.
std::string config_for(int first, int second, const std::string& extra = "") {
  return "server:\n  workers: 2\n"
         "providers:\n"
         "  one:\n    type: openai\n    base_url: http://127.0.0.1:" +
         std::to_string(first) +
         "/v1\n    forward_headers: [\"x-mock-*\"]\n"
         "  two:\n    type: openai\n    base_url: http://127.0.0.1:" +
         std::to_string(second) +
         "/v1\n    forward_headers: [\"x-mock-*\"]\n"
         "models:\n"
         "  small: { provider: one, name: small-v1, input: 1.0, output: 2.0 }\n"
         "  large: { provider: two, name: large-v1, input: 3.0, output: 4.0 }\n"
         "routes:\n"
         "  default: { targets: [small, large], retry: { attempts: 1 } }\n" +
         extra;
}

bool is_hex(const std::string& s, std::size_t size) {
  return s.size() == size && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

// The traceparent the mock received with its last request.
std::string upstream_traceparent(Mock& mock) {
  const json requests = mock.requests(1);
  if (requests.empty()) return "";
  const json& headers = requests.back()["headers"];
  return headers.contains("traceparent") ? headers["traceparent"].get<std::string>() : "";
}

std::string scrape(Gateway& gw) {
  HttpClient client(gw.port());
  const auto response = client.get("/metrics");
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.header("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  return response.body;
}

// The value of the sample `series` (name and labels exactly as exposed), or -1.
double sample(const std::string& metrics, const std::string& series) {
  std::istringstream lines(metrics);
  for (std::string line; std::getline(lines, line);)
    if (line.size() > series.size() && line.compare(0, series.size(), series) == 0 &&
        line[series.size()] == ' ')
      return std::stod(line.substr(series.size() + 1));
  return -1;
}

TEST(Observability, TheRequestLineSaysWhatWasAskedWhatServedAndWhatItCost) {
  TempDir dir;
  Mock first(dir, "first"), second(dir, "second");
  set_mock_defaults(first, {{"status", "503"}});
  Gateway gw(dir, config_for(first.port(), second.port()));
  HttpClient client(gw.port());
  const auto response = client.post_json("/v1/chat/completions", chat_body("default"));
  ASSERT_EQ(response.status, 200) << response.body;

  const json line = gw.request_log(response.header("x-request-id"));
  EXPECT_TRUE(is_hex(line.value("trace_id", ""), 32)) << line;
  EXPECT_EQ(line["model"], "default");
  EXPECT_EQ(line["route"], "default");
  EXPECT_EQ(line["provider"], "two");
  EXPECT_EQ(line["upstream_model"], "large-v1");
  EXPECT_EQ(line["status"], 200);
  EXPECT_EQ(line["cache"], "bypass");
  ASSERT_EQ(line["attempts"].size(), 2u) << line;
  EXPECT_EQ(line["attempts"][0]["provider"], "one");
  EXPECT_EQ(line["attempts"][0]["status"], 503);
  EXPECT_EQ(line["attempts"][0]["outcome"], "retryable");
  EXPECT_EQ(line["attempts"][1]["outcome"], "ok");
  const json usage = response.json_body()["usage"];
  EXPECT_EQ(line["prompt_tokens"], usage["prompt_tokens"]);
  EXPECT_EQ(line["completion_tokens"], usage["completion_tokens"]);
  EXPECT_GT(line["cost_usd"].get<double>(), 0);
  EXPECT_LE(line["overhead_ms"].get<double>(), line["duration_ms"].get<double>());
  EXPECT_GT(line["first_byte_ms"].get<double>(), 0);
}

TEST(Observability, OverheadLeavesOutTheTimeSpentWaitingOnTheUpstream) {
  TempDir dir;
  Mock slow(dir, "slow"), spare(dir, "spare");
  set_mock_defaults(slow, {{"delay-ms", "300"}});
  Gateway gw(dir, config_for(slow.port(), spare.port()));
  HttpClient client(gw.port());
  const auto response = client.post_json("/v1/chat/completions", chat_body("default"));
  ASSERT_EQ(response.status, 200) << response.body;
  const auto overhead_us = std::stol(response.header("x-switchyard-overhead-us"));
  EXPECT_GE(overhead_us, 0);
  EXPECT_LT(overhead_us, 100'000) << "the upstream's 300 ms counted as the gateway's";
  const json line = gw.request_log(response.header("x-request-id"));
  EXPECT_GE(line["duration_ms"].get<double>(), 300);
  EXPECT_LT(line["overhead_ms"].get<double>(), 100);
  // Every response says it, errors included.
  const auto missing = client.post_json("/v1/chat/completions", chat_body("nope"));
  EXPECT_EQ(missing.status, 404);
  EXPECT_FALSE(missing.header("x-switchyard-overhead-us").empty());
}

TEST(Observability, TheClientsTraceReachesTheUpstreamWithTheAttemptAsParent) {
  TempDir dir;
  Mock first(dir, "first"), second(dir, "second");
  Gateway gw(dir, config_for(first.port(), second.port()));
  HttpClient client(gw.port());
  const std::string trace = "0af7651916cd43dd8448eb211c80319c";
  const auto response = client.post_json(
      "/v1/chat/completions", chat_body("default"),
      {{"traceparent", "00-" + trace + "-b7ad6b7169203331-01"}, {"tracestate", "vendor=abc"}});
  ASSERT_EQ(response.status, 200) << response.body;
  const std::string sent = upstream_traceparent(first);
  ASSERT_EQ(sent.size(), 55u) << sent;
  EXPECT_EQ(sent.substr(0, 36), "00-" + trace + "-");
  EXPECT_NE(sent.substr(36, 16), "b7ad6b7169203331") << "the upstream's parent is the attempt";
  EXPECT_EQ(sent.substr(53), "01");
  EXPECT_EQ(first.requests(1).back()["headers"]["tracestate"], "vendor=abc");
  EXPECT_EQ(gw.request_log(response.header("x-request-id"))["trace_id"], trace);

  // Without one (or with one that does not parse) a trace starts here, and goes upstream too.
  for (const std::string given : {"", "00-zzz-b7ad6b7169203331-01"}) {
    std::vector<std::pair<std::string, std::string>> headers;
    if (!given.empty()) headers.emplace_back("traceparent", given);
    const auto fresh = client.post_json("/v1/chat/completions", chat_body("default"), headers);
    ASSERT_EQ(fresh.status, 200);
    const std::string started = upstream_traceparent(first);
    const std::string logged = gw.request_log(fresh.header("x-request-id"))["trace_id"];
    EXPECT_TRUE(is_hex(logged, 32));
    EXPECT_NE(logged, trace);
    EXPECT_EQ(started.substr(3, 32), logged);
    EXPECT_EQ(started.substr(53), "00") << "not sampled: tracing is off";
    EXPECT_FALSE(first.requests(1).back()["headers"].contains("tracestate"));
  }
}

TEST(Metrics, TheScrapeIsCleanUnderPromtoolAndCountsWhatHappened) {
  TempDir dir;
  Mock first(dir, "first"), second(dir, "second");
  set_mock_defaults(first, {{"status", "500"}});
  Gateway gw(dir, config_for(first.port(), second.port()));
  HttpClient client(gw.port());
  for (int i = 0; i < 3; ++i)
    ASSERT_EQ(client.post_json("/v1/chat/completions", chat_body("default")).status, 200);
  const auto streamed = client.post_json("/v1/chat/completions", chat_body("default", true, true));
  ASSERT_EQ(streamed.status, 200);
  // Whatever the client makes up stays out of the labels.
  EXPECT_EQ(client.post_json("/v1/chat/completions", chat_body("made-up-model-42")).status, 404);
  EXPECT_EQ(client.get("/made/up/path-42").status, 404);

  const std::string metrics = scrape(gw);
  const fs::path file = dir.path() / "metrics.txt";
  std::ofstream(file) << metrics;
  const auto lint = run_program("/bin/sh", {"-c", "promtool check metrics < " + file.string()});
  EXPECT_EQ(lint.exit_code, 0) << lint.out << lint.err;
  EXPECT_EQ(lint.out + lint.err, "");
  EXPECT_EQ(metrics.find("made-up"), std::string::npos);
  EXPECT_EQ(metrics.find("req_"), std::string::npos) << "no request id in a label";

  EXPECT_EQ(sample(metrics,
                   "switchyard_requests_total{endpoint=\"chat\",route=\"default\","
                   "provider=\"two\",model=\"large\",status=\"200\"}"),
            4);
  // Each failed first try moved on to the next target (the breaker and its cooldown may have
  // spared later requests the try).
  const double failed = sample(metrics,
                               "switchyard_upstream_attempts_total{provider=\"one\","
                               "model=\"small\",outcome=\"retryable\"}");
  EXPECT_GE(failed, 1);
  EXPECT_EQ(sample(metrics, "switchyard_failovers_total"), failed);
  EXPECT_EQ(sample(metrics, "switchyard_rejections_total{reason=\"model_not_found\"}"), 1);
  EXPECT_EQ(sample(metrics,
                   "switchyard_time_to_first_token_seconds_count{route=\"default\","
                   "provider=\"two\"}"),
            1);
  EXPECT_GT(sample(metrics,
                   "switchyard_tokens_total{route=\"default\",provider=\"two\","
                   "model=\"large\",type=\"input\"}"),
            0);
  EXPECT_GT(sample(metrics,
                   "switchyard_cost_usd_total{route=\"default\",provider=\"two\","
                   "model=\"large\",key=\"\"}"),
            0);
  EXPECT_EQ(sample(metrics, "switchyard_gateway_overhead_seconds_count{endpoint=\"chat\"}"), 5);
  EXPECT_GE(sample(metrics, "switchyard_breaker_state{provider=\"one\",model=\"small\"}"), 0);
  EXPECT_EQ(sample(metrics, "switchyard_provider_healthy{provider=\"two\"}"), 1);
  EXPECT_EQ(sample(metrics, "switchyard_build_info{version=\"" SWITCHYARD_VERSION "\"}"), 1);
}

TEST(Metrics, ReloadsAreCountedByResult) {
  TempDir dir;
  Mock first(dir, "first"), second(dir, "second");
  Gateway gw(dir, config_for(first.port(), second.port()));
  HttpClient client(gw.port());
  gw.edit_config("routes: [not, a, map]\n", Gateway::Save::in_place);
  EXPECT_EQ(client.post_json("/admin/reload", json::object()).status, 422);
  gw.edit_config(config_for(first.port(), second.port(), "  spare: { targets: [large] }\n"));
  EXPECT_EQ(client.post_json("/admin/reload", json::object()).status, 200);
  const std::string metrics = scrape(gw);
  // The file watcher may have reloaded too: at least the admin's.
  EXPECT_GE(sample(metrics, "switchyard_config_reloads_total{result=\"failed\"}"), 1);
  EXPECT_GE(sample(metrics, "switchyard_config_reloads_total{result=\"ok\"}"), 1);
  EXPECT_EQ(sample(metrics, "switchyard_config_last_reload_success"), 1);
}

TEST(Admin, TheViewsShowConfigRoutesSpendAndCacheWithoutSecrets) {
  TempDir dir;
  Mock first(dir, "first"), second(dir, "second");
  const std::string provider_key = "sk-live-provider-0123456789";
  const std::string admin_key = "sy-admin-key-0123456789";
  const std::string team_key = "sy-team-key-0123456789";
  std::string config = config_for(first.port(), second.port(),
                                  "  capped: { targets: [small], budget: { usd_per_day: 5 } }\n"
                                  "cache: { ttl: 1h }\n"
                                  "keys:\n"
                                  "  ops: { sha256: " +
                                      hash_key(admin_key) +
                                      ", admin: true }\n"
                                      "  team: { sha256: " +
                                      hash_key(team_key) + " }\n");
  config.replace(config.find("/v1\n    forward_headers"), 4,
                 "/v1\n    api_key: " + provider_key + "\n");
  Gateway gw(dir, config);
  HttpClient client(gw.port());
  const std::vector<std::pair<std::string, std::string>> team{
      {"authorization", "Bearer " + team_key}};
  const std::vector<std::pair<std::string, std::string>> ops{
      {"authorization", "Bearer " + admin_key}};
  json ask = chat_body("default");
  ask["temperature"] = 0;
  for (int i = 0; i < 2; ++i)
    ASSERT_EQ(client.post_json("/v1/chat/completions", ask, team).status, 200);

  // A key without `admin: true` may not look; the scrape needs no key.
  EXPECT_EQ(client.request("GET", "/admin/config", "", team).status, 403);
  EXPECT_EQ(client.get("/admin/config").status, 401);
  EXPECT_EQ(client.get("/metrics").status, 200);

  const auto config_view = client.request("GET", "/admin/config", "", ops);
  ASSERT_EQ(config_view.status, 200);
  for (const auto& secret : {provider_key, admin_key, team_key, hash_key(admin_key)})
    EXPECT_EQ(config_view.body.find(secret), std::string::npos) << secret;
  const json summary = config_view.json_body();
  EXPECT_EQ(summary["providers"][0]["api_key"], "set");
  EXPECT_EQ(summary["keys"][1]["name"], "team");
  EXPECT_EQ(summary["routes"][1]["budget_usd"]["usd_per_day"], 5.0);

  const json routes = client.request("GET", "/admin/routes", "", ops).json_body();
  EXPECT_EQ(routes["routes"][0]["name"], "default");
  EXPECT_EQ(routes["routes"][0]["plan"], json::array({"small", "large"}));
  EXPECT_EQ(routes["routes"][0]["targets"][0]["window"]["requests"], 1);
  EXPECT_EQ(routes["routes"][0]["targets"][0]["breaker"], "closed");

  const json spend = client.request("GET", "/admin/spend", "", ops).json_body();
  const double cost = std::stod(client.post_json("/v1/chat/completions", chat_body("capped"), team)
                                    .header("x-switchyard-cost"));
  const json after = client.request("GET", "/admin/spend", "", ops).json_body();
  EXPECT_GT(spend["routes"]["default"].get<double>(), 0);
  EXPECT_NEAR(after["routes"]["capped"].get<double>(), cost, 1e-9);
  EXPECT_NEAR(after["keys"]["team"].get<double>() - spend["keys"]["team"].get<double>(), cost,
              1e-9);
  EXPECT_NEAR(after["providers"]["one"].get<double>(), after["total_usd"].get<double>(), 1e-9);
  EXPECT_EQ(after["budgets"][0]["route"], "capped");
  EXPECT_NEAR(after["budgets"][0]["windows"][0]["spent_usd"].get<double>(), cost, 1e-6);

  const json cache = client.request("GET", "/admin/cache", "", ops).json_body();
  EXPECT_EQ(cache["hits"], 1);
  EXPECT_EQ(cache["misses"], 1);
  EXPECT_EQ(cache["stores"], 1);
  EXPECT_EQ(cache["backend"], "memory");
}

TEST(Logging, TheTextFormatWritesKeyValuePairsToTheConfiguredFile) {
  TempDir dir;
  Mock first(dir, "first"), second(dir, "second");
  const fs::path file = dir.path() / "switchyard.log";
  const int port = closed_port();
  std::string config = config_for(first.port(), second.port(),
                                  "log:\n  format: text\n  file: " + file.string() + "\n");
  config.insert(config.find("  workers"), "  listen: \"127.0.0.1:" + std::to_string(port) + "\"\n");
  write_file(dir.path() / "text.yaml", config);
  Process gw(SWITCHYARD_BIN, {"--config", (dir.path() / "text.yaml").string()},
             dir.path() / "text.out", dir.path() / "text.err");
  auto logged = [&](const std::string& what) {
    for (int i = 0; i < 100; ++i) {
      const std::string text = read_file(file);
      if (text.find(what) != std::string::npos) return text;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return read_file(file);
  };
  const std::string started = logged("event=listening");
  EXPECT_NE(started.find("event=listening level=info message=\"listening on"), std::string::npos)
      << started << gw.err();
  HttpClient client(port);
  const auto response = client.post_json("/v1/chat/completions", chat_body("default"));
  ASSERT_EQ(response.status, 200);
  const std::string id = response.header("x-request-id");
  const std::string text = logged(id);
  const std::regex line(
      "ts=\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z event=request "
      "request_id=" +
      id +
      " trace_id=[0-9a-f]{32} method=POST path=/v1/chat/completions "
      "status=200 .*attempts\\.0\\.provider=one .*");
  EXPECT_TRUE(std::regex_search(text, line)) << text;
  EXPECT_EQ(gw.out(), "") << "everything goes to the file";
  gw.signal(SIGTERM);
  EXPECT_EQ(gw.wait_exit(std::chrono::seconds(10)), 0);
}

}  // namespace
}  // namespace switchyard::testing
