#include "switchyard/telemetry/request_metrics.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <map>

namespace switchyard::telemetry {

namespace {

// Seconds, in microseconds stored: from a fast cache hit to a long reasoning answer.
const std::vector<double> kLatencyBuckets{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
                                          2.5,   5,    10,    30,   60,  120,  300};
// The gateway's own time is tens of microseconds when all is well: finer buckets.
const std::vector<double> kOverheadBuckets{0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025,
                                           0.005,   0.01,   0.025,   0.05,   0.1,   0.25};
constexpr double kMicro = 1e-6;
// Cost is counted in nano-USD: a cheap model's answer costs a few micro-USD, and rounding each
// to whole micro-USD would be off by tens of percent.
constexpr double kNano = 1e-9;

// MCP methods as metric labels: the client names the method, so anything outside this set is
// counted as "other" (notifications as "notification").
constexpr std::array<std::string_view, 14> kMcpMethods{
    "initialize",
    "ping",
    "tools/list",
    "tools/call",
    "prompts/list",
    "prompts/get",
    "resources/list",
    "resources/read",
    "resources/templates/list",
    "resources/subscribe",
    "resources/unsubscribe",
    "completion/complete",
    "logging/setLevel",
    "notification",
};

std::string_view mcp_method_label(std::string_view method) {
  if (method.starts_with("notifications/")) return "notification";
  for (std::string_view known : kMcpMethods)
    if (known == method) return known;
  return "other";
}

std::uint64_t micros(std::chrono::microseconds d) {
  return static_cast<std::uint64_t>(std::max<std::int64_t>(0, d.count()));
}

}  // namespace

RequestMetrics::RequestMetrics(Registry& registry)
    : requests_(
          registry.add({"switchyard_requests_total",
                        "Requests answered, by endpoint, serving route, provider, model alias "
                        "and HTTP status.",
                        MetricType::counter,
                        {"endpoint", "route", "provider", "model", "status"}})),
      duration_(registry.add({"switchyard_request_duration_seconds",
                              "Time from a request's arrival to the end of its response.",
                              MetricType::histogram,
                              {"endpoint", "route", "provider"},
                              kLatencyBuckets,
                              kMicro})),
      first_token_(registry.add({"switchyard_time_to_first_token_seconds",
                                 "Streams: time from the request's arrival to its first event "
                                 "with content reaching the client.",
                                 MetricType::histogram,
                                 {"route", "provider"},
                                 kLatencyBuckets,
                                 kMicro})),
      overhead_(registry.add({"switchyard_gateway_overhead_seconds",
                              "The gateway's own time per request: everything but waiting on "
                              "upstreams and backoff pauses.",
                              MetricType::histogram,
                              {"endpoint"},
                              kOverheadBuckets,
                              kMicro})),
      tokens_(registry.add({"switchyard_tokens_total",
                            "Tokens as the serving provider reported them: input, output, and "
                            "the cached part of the input.",
                            MetricType::counter,
                            {"route", "provider", "model", "type"}})),
      cost_(registry.add({"switchyard_cost_usd_total",
                          "Cost in US dollars from the serving model's prices and the usage.",
                          MetricType::counter,
                          {"route", "provider", "model", "key"},
                          {},
                          kNano})),
      attempts_(registry.add({"switchyard_upstream_attempts_total",
                              "Upstream requests made, by provider, model alias and outcome.",
                              MetricType::counter,
                              {"provider", "model", "outcome"}})),
      cache_(registry.add({"switchyard_cache_requests_total",
                           "Chat completions by what the response cache did: hit, miss or "
                           "bypass.",
                           MetricType::counter,
                           {"result"}})),
      rejections_(registry.add({"switchyard_rejections_total",
                                "Requests the gateway refused before any upstream was asked, by "
                                "error code (rate_limit_exceeded, budget_exceeded, "
                                "invalid_api_key, ...).",
                                MetricType::counter,
                                {"reason"}})),
      in_flight_(registry.add(
          {"switchyard_requests_in_flight", "Requests being served.", MetricType::gauge, {}})),
      streams_(registry.add({"switchyard_streams_in_flight",
                             "Streamed chat completions being served.",
                             MetricType::gauge,
                             {}})),
      mcp_requests_(registry.add({"switchyard_mcp_requests_total",
                                  "MCP requests answered, by JSON-RPC method, server (empty: the "
                                  "gateway answered) and outcome (ok, or the JSON-RPC error code, "
                                  "or the HTTP status of a refusal).",
                                  MetricType::counter,
                                  {"method", "server", "outcome"}})),
      mcp_duration_(registry.add({"switchyard_mcp_request_duration_seconds",
                                  "Time from an MCP request's arrival to the end of its answer.",
                                  MetricType::histogram,
                                  {"method", "server"},
                                  kLatencyBuckets,
                                  kMicro})),
      mcp_tool_calls_(registry.add({"switchyard_mcp_tool_calls_total",
                                    "tools/call by server, tool (as the server names it) and "
                                    "outcome: ok, or the JSON-RPC error code.",
                                    MetricType::counter,
                                    {"server", "tool", "outcome"}})) {}

void RequestMetrics::started(WorkerMetrics& shard) const {
  shard.gauge_add(in_flight_, {}, 1);
}

void RequestMetrics::stream_started(WorkerMetrics& shard) const {
  shard.gauge_add(streams_, {}, 1);
}

void RequestMetrics::finished(WorkerMetrics& shard, const RequestRecord& r) const {
  shard.gauge_add(in_flight_, {}, -1);
  if (r.stream) shard.gauge_add(streams_, {}, -1);
  char digits[8];
  const std::string_view status(digits,
                                std::to_chars(digits, digits + sizeof digits, r.status).ptr);
  shard.add(requests_, {r.endpoint, r.route, r.provider, r.served_model, status});
  const auto now = Clock::now();
  const std::uint64_t took =
      micros(std::chrono::duration_cast<std::chrono::microseconds>(now - r.start));
  shard.observe(duration_, {r.endpoint, r.route, r.provider}, took);
  if (!r.mcp.method.empty()) finished_mcp(shard, r, took);
  shard.observe(overhead_, {r.endpoint}, micros(r.overhead));
  if (r.stream && r.first_byte.count() > 0)
    shard.observe(first_token_, {r.route, r.provider}, micros(r.first_byte));
  if (r.usage_reported) {
    shard.add(tokens_, {r.route, r.provider, r.served_model, "input"}, r.prompt_tokens);
    shard.add(tokens_, {r.route, r.provider, r.served_model, "output"}, r.completion_tokens);
    if (r.cached_tokens > 0)
      shard.add(tokens_, {r.route, r.provider, r.served_model, "cached"}, r.cached_tokens);
    shard.add(cost_, {r.route, r.provider, r.served_model, r.key},
              static_cast<std::uint64_t>(std::llround(std::max(0.0, r.cost_usd) / kNano)));
  }
  for (const auto& a : r.attempts) shard.add(attempts_, {a.provider, a.model, a.outcome});
  if (!r.cache.empty()) shard.add(cache_, {r.cache});
  if (!r.error_code.empty()) shard.add(rejections_, {r.error_code});
}

void RequestMetrics::finished_mcp(WorkerMetrics& shard, const RequestRecord& r,
                                  std::uint64_t took) const {
  const std::string_view method = mcp_method_label(r.mcp.method);
  char digits[12];
  const int code = r.mcp.error_code != 0 ? r.mcp.error_code : (r.status >= 300 ? r.status : 0);
  const std::string_view outcome =
      code == 0 ? std::string_view("ok")
                : std::string_view(digits, std::to_chars(digits, digits + sizeof digits, code).ptr);
  shard.add(mcp_requests_, {method, r.mcp.server, outcome});
  shard.observe(mcp_duration_, {method, r.mcp.server}, took);
  // A name the server did not know (-32602) or no server at all is not a tool: no series for it.
  if (method == "tools/call" && !r.mcp.server.empty() && code != -32602 && code != -32601)
    shard.add(mcp_tool_calls_, {r.mcp.server, r.mcp.name, outcome});
}

SpendTotals RequestMetrics::spend(const Registry& registry) const {
  SpendTotals spend;
  // In the order of the cost family's labels.
  const std::array<std::map<std::string, double>*, 4> by{&spend.routes, &spend.providers,
                                                         &spend.models, &spend.keys};
  for (const auto& series : registry.totals(cost_)) {
    spend.total_usd += series.value;
    for (std::size_t i = 0; i < by.size(); ++i)
      if (!series.labels[i].empty()) (*by[i])[series.labels[i]] += series.value;
  }
  return spend;
}

}  // namespace switchyard::telemetry
